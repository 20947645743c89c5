#!/usr/bin/env python3
"""Writes Tests/SynapseTests/Fixtures/int8_quantization.json: PyTorch's int8 scales, zero points and codes.

Run with a Python that has PyTorch:  python scripts/make_quant_fixtures.py

Scales and zero points come from PyTorch's observers with Synapse's code ranges: absmax is
`MinMaxObserver(qscheme=per_tensor_symmetric, quant_min=-127, quant_max=127)` (scale = max|x| / 127; PyTorch's default
range -128..127 would divide by 127.5), zero point is `per_tensor_affine` over -128..127 (scale = (max - min) / 255),
and the per-channel observers along axis 0. Codes are `torch.quantize_per_tensor` / `quantize_per_channel` followed by
`int_repr()`. One case uses a power-of-two scale so that exact ties (k + 0.5 steps) occur: PyTorch rounds them to even.
"""
import json
import os

import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "int8_quantization.json")


def observe(x, scheme, per_channel):
    qscheme = {
        ("absmax", False): torch.per_tensor_symmetric,
        ("absmax", True): torch.per_channel_symmetric,
        ("zeropoint", False): torch.per_tensor_affine,
        ("zeropoint", True): torch.per_channel_affine,
    }[(scheme, per_channel)]
    low = -127 if scheme == "absmax" else -128
    if per_channel:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=qscheme, quant_min=low, quant_max=127)
    else:
        obs = MinMaxObserver(dtype=torch.qint8, qscheme=qscheme, quant_min=low, quant_max=127)
    obs(x)
    scale, zero_point = obs.calculate_qparams()
    scale = scale.reshape(-1).float()
    zero_point = zero_point.reshape(-1).to(torch.int64)
    if per_channel:
        q = torch.quantize_per_channel(x, scale.double(), zero_point, 0, torch.qint8)
    else:
        q = torch.quantize_per_tensor(x, float(scale[0]), int(zero_point[0]), torch.qint8)
    return scale, zero_point, q.int_repr()


def case(name, x, scheme, per_channel):
    scale, zero_point, codes = observe(x, scheme, per_channel)
    return {
        "name": name,
        "scheme": scheme,
        "granularity": "per-channel" if per_channel else "per-tensor",
        "shape": list(x.shape),
        "x": [float(v) for v in x.reshape(-1).tolist()],
        "scales": [float(v) for v in scale.tolist()],
        "zero_points": [int(v) for v in zero_point.tolist()],
        "codes": [int(v) for v in codes.reshape(-1).tolist()],
    }


def main():
    g = torch.Generator().manual_seed(0)
    rows = torch.randn(6, 40, generator=g) * torch.tensor([0.01, 0.1, 0.5, 1.0, 3.0, 10.0])[:, None]
    skewed = torch.rand(5, 32, generator=g) * 6 - 0.5          # mostly positive, like ReLU outputs
    # max|x| = 31.75 = 127 × 0.25: scale 0.25 exactly, and ±0.125, ±0.375, … are ties.
    ties = torch.tensor([[31.75, 0.125, 0.375, -0.125, -0.375, 0.625, 1.125, -2.875, 0.0, 5.5]])
    cases = []
    for scheme in ("absmax", "zeropoint"):
        for per_channel in (False, True):
            cases.append(case(f"rows-{scheme}-{per_channel}", rows, scheme, per_channel))
            cases.append(case(f"skewed-{scheme}-{per_channel}", skewed, scheme, per_channel))
    cases.append(case("ties-absmax", ties, "absmax", False))
    with open(OUT, "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()

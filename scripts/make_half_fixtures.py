#!/usr/bin/env python3
"""Writes Tests/SynapseTests/Fixtures/half_precision.json: PyTorch's Float32 -> Float16/BFloat16 bit patterns.

Run with a Python that has PyTorch:  python scripts/make_half_fixtures.py

PyTorch's NaN results for bfloat16 depend on the CPU kernel: the scalar c10::BFloat16(float) conversion gives the
canonical 0x7FC0, the AVX2/AVX-512 kernels behind `.bfloat16()` give 0xFFFF. Synapse follows the scalar definition,
so this script pins ATEN_CPU_CAPABILITY=default before importing torch (and checks the result against the
torch.tensor(..., dtype=torch.bfloat16) constructor, which always takes the scalar path). For every value that is not
NaN the vectorised kernels give the same bits. Float16 results are the same on every kernel.
"""
import json
import os
import random
import struct
import sys

os.environ["ATEN_CPU_CAPABILITY"] = "default"
import torch  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "half_precision.json")


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def special_float32_bits():
    values = [
        0x00000000, 0x80000000,                          # ±0
        0x7F800000, 0xFF800000,                          # ±inf
        0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,  # quiet / signalling NaNs
        0x7FA00000, 0x7FFFFFFF, 0xFF812345, 0x7FC0FFFF,  # NaN payloads
        0x00000001, 0x80000001, 0x007FFFFF, 0x00800000,  # float32 subnormals, smallest normal
        0x3F800000, 0xBF800000, 0x40490FDB, 0x3DCCCCCD,  # 1, -1, pi, 0.1
        0x7F7FFFFF, 0xFF7FFFFF,                          # float32 max
    ]
    # Float16 landmarks: max (65504), overflow threshold (65520 rounds to inf), just below it, smallest normal
    # (2^-14), largest and smallest subnormal, the zero/subnormal tie (2^-25) and values beside it.
    for v in [65504.0, 65519.0, 65520.0, 65536.0, 2.0**-14, 2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-14 - 2.0**-24]:
        values += [struct.unpack("<I", struct.pack("<f", v))[0], struct.unpack("<I", struct.pack("<f", -v))[0]]
    values += [0x33000001, 0x32FFFFFF, 0x387FFFFF, 0x477FEFFF, 0x477FF000, 0x477FE000]
    # BFloat16 overflow edge: largest bf16 (0x7F7F0000), halfway to inf (0x7F7F8000), just below.
    values += [0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000, 0x7F7FC000]
    # Round-to-nearest-even ties and near-ties for both formats.
    for base in [0x3F800000, 0x3F810000, 0x40000000, 0x3F802000, 0x3F806000, 0x00010000, 0x00018000]:
        for low in [0x1000, 0x0FFF, 0x1001, 0x3000, 0x8000, 0x7FFF, 0x8001, 0x18000]:
            values.append(base + low)
    return values


def main():
    rng = random.Random(1234)
    inputs = special_float32_bits()
    inputs += [rng.getrandbits(32) for _ in range(120)]                      # any bit pattern
    inputs += [struct.unpack("<I", struct.pack("<f", rng.gauss(0, 1) * 10 ** rng.uniform(-9, 6)))[0]
               for _ in range(100)]                                          # typical magnitudes incl. f16 subnormals

    as_int32 = torch.tensor([b - (1 << 32) if b >= 1 << 31 else b for b in inputs], dtype=torch.int32)
    x = as_int32.view(torch.float32)
    half = (x.half().view(torch.int16).to(torch.int32) & 0xFFFF).tolist()
    bf16 = (x.bfloat16().view(torch.int16).to(torch.int32) & 0xFFFF).tolist()
    bf16_ctor = (torch.tensor([f32(b) for b in inputs], dtype=torch.bfloat16).view(torch.int16).to(torch.int32) & 0xFFFF).tolist()
    if bf16 != bf16_ctor:
        sys.exit("bfloat16 kernel and constructor disagree; is ATEN_CPU_CAPABILITY honoured?")

    # Widening: special half / bfloat16 patterns, including signalling NaNs, payloads and subnormals.
    half_patterns = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                     0x7C01, 0xFC01, 0x7D00, 0x7E00, 0xFE00, 0x7FFF, 0xFFFF, 0x3555, 0x0200]
    half_patterns += [rng.getrandbits(16) for _ in range(40)]
    h = torch.tensor([p - (1 << 16) if p >= 1 << 15 else p for p in half_patterns], dtype=torch.int16)
    half_to_float = (h.view(torch.float16).float().view(torch.int32).to(torch.int64) & 0xFFFFFFFF).tolist()
    bf_to_float = (h.view(torch.bfloat16).float().view(torch.int32).to(torch.int64) & 0xFFFFFFFF).tolist()

    fixture = {
        "generator": "scripts/make_half_fixtures.py",
        "torch": torch.__version__,
        "note": "bit patterns as integers; bfloat16 NaNs from the scalar c10 path (0x7FC0), see the script",
        "float32": inputs,
        "float16": half,
        "bfloat16": bf16,
        "widen_bits": half_patterns,
        "float16_to_float32": half_to_float,
        "bfloat16_to_float32": bf_to_float,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(inputs)} narrowing and {len(half_patterns)} widening cases")


if __name__ == "__main__":
    main()

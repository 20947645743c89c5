#!/usr/bin/env python3
"""Reads a quantized classifier written by `synapse quantize` (or `synapse train mnist --qat int8`) in PyTorch and
measures it on the MNIST test set, to check docs/quantization.md's file layout from the other side.

    python scripts/quant_torch_check.py mlp-int8.safetensors [--data datasets/mnist]

int8 weights are dequantized as documented, w = (q - zero_point) * scale, and the network runs in Float32 (PyTorch's
own int8 kernels are not used), so the accuracy should match `synapse eval` within a few test images: Synapse also
quantizes the activations.
"""
import argparse
import gzip
import os

import numpy as np
import torch
from safetensors import safe_open


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"no {stem}(.gz) in {directory}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--data", default="datasets/mnist")
    args = parser.parse_args()
    with safe_open(args.model, "pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    method = meta.get("synapse.quantization", "float32")
    arch = meta.get("synapse.architecture")
    sizes = {"mlp": [784, 256, 128, 10], "seed": [784, 16, 16, 10]}[arch]
    layers = []
    for i in range(len(sizes) - 1):
        key = str(2 * i)
        w = tensors[key + ".weight"]
        if w.dtype == torch.int8:
            scale = tensors[key + ".weight.scale"].float()
            zp = tensors.get(key + ".weight.zero_point", torch.zeros_like(scale)).float()
            w = (w.float() - zp[:, None]) * scale[:, None]
        linear = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            linear.weight.copy_(w.float())
            linear.bias.copy_(tensors[key + ".bias"].float())
        layers += [linear, torch.nn.ReLU() if arch == "mlp" else torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers[:-1]).eval()
    images = torch.from_numpy(idx(find(args.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255)
    labels = torch.from_numpy(idx(find(args.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == labels).float().mean().item()
    print(f"{args.model}: {method}, {arch}: PyTorch test accuracy {100 * accuracy:.2f}%")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compares the Float32 tensors of two safetensors files (standard library only).

usage: python3 scripts/compare_safetensors.py A B [--tolerance 1e-5]

For every tensor: the largest absolute difference divided by the largest magnitude in A (0 for identical bits).
Exits 1 when the names, shapes or dtypes differ or any tensor's relative difference exceeds the tolerance
(--tolerance 0 asks for identical bits).
"""
import argparse, array, json, struct, sys


def read(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        values = array.array("f")
        if info["dtype"] == "F32":
            values.frombytes(data[begin:end])
            if sys.byteorder != "little":
                values.byteswap()
        tensors[name] = (info["dtype"], info["shape"], values, data[begin:end])
    return tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    a, b = read(args.a), read(args.b)
    if a.keys() != b.keys():
        print(f"different tensors: only in A {sorted(a.keys() - b.keys())}, only in B {sorted(b.keys() - a.keys())}")
        return 1
    worst = (0.0, "")
    for name in sorted(a):
        (da, sa, va, ra), (db, sb, vb, rb) = a[name], b[name]
        if (da, sa) != (db, sb):
            print(f"{name}: {da}{sa} against {db}{sb}")
            return 1
        if ra == rb:
            continue
        if da != "F32":
            print(f"{name}: {da} bytes differ")
            return 1
        scale = max((abs(x) for x in va), default=0.0) or 1.0
        diff = max(abs(x - y) for x, y in zip(va, vb)) / scale
        if diff != diff:  # NaN
            diff = float("inf")
        worst = max(worst, (diff, name))
    print(f"{len(a)} tensors; largest relative difference {worst[0]:.3g}{' (' + worst[1] + ')' if worst[1] else ' (identical bits)'}")
    return 0 if worst[0] <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes Tests/SynapseTests/Fixtures/python_written.safetensors with the reference Python `safetensors` writer.

Needs `pip install safetensors numpy`. Every dtype Synapse supports appears once, plus a zero-size tensor, a scalar
and metadata with non-ASCII text; the Swift test checks the decoded values and that Synapse writes identical bytes.
"""
import os

import numpy as np
import safetensors
from safetensors import TensorSpec, serialize

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "python_written.safetensors")


def bfloat16_bytes(values):
    # The values are exactly representable in bfloat16, so truncating the float32 bits is exact.
    bits = (np.asarray(values, dtype="<f4").view("<u4") >> 16).astype("<u2")
    assert np.array_equal((bits.astype("<u4") << 16).view("<f4"), np.asarray(values, dtype="<f4"))
    return bits.tobytes()


def main():
    arrays = {
        "weight": ("float32", [2, 3], np.array([0, 1.5, -2, 3.25, 1e-3, -7], dtype="<f4").tobytes()),
        "half": ("float16", [3], np.array([1, -0.5, 65504], dtype="<f2").tobytes()),
        "brain": ("bfloat16", [2, 2], bfloat16_bytes([1.0, -2.5, 0.15625, 256.0])),
        "codes": ("int8", [4], np.array([-128, -1, 0, 127], dtype="i1").tobytes()),
        "pixels": ("uint8", [2, 2], np.array([0, 1, 128, 255], dtype="u1").tobytes()),
        "index": ("int32", [3], np.array([-2147483648, 0, 2147483647], dtype="<i4").tobytes()),
        "steps": ("int64", [1], np.array([1234567890123], dtype="<i8").tobytes()),
        "double": ("float64", [2], np.array([0.1, -3], dtype="<f8").tobytes()),
        "empty": ("float32", [0, 3], b""),
        "scalar": ("float32", [], np.array([42], dtype="<f4").tobytes()),
    }
    keep = {}  # the buffers must stay alive while serialize reads them through raw pointers
    specs = {}
    for name, (dtype, shape, data) in arrays.items():
        buffer = np.frombuffer(data, dtype=np.uint8).copy() if data else np.zeros(1, dtype=np.uint8)
        keep[name] = buffer
        specs[name] = TensorSpec(dtype=dtype, shape=shape, data_ptr=buffer.ctypes.data, data_len=len(data))
    data = bytes(serialize(specs, {"format": "pt", "note": "Synapse fixture \u2713 \"quoted\""}))
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {OUT}: {len(data)} bytes with safetensors {safetensors.__version__}")


if __name__ == "__main__":
    main()

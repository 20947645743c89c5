#!/usr/bin/env python3
"""Regenerates the polynomial coefficients in Sources/Synapse/Kernels/VectorMath.swift.

Each reduced function is fitted in double precision on a dense Chebyshev grid by iteratively reweighted least
squares (Lawson's algorithm), which converges towards the minimax (equal-ripple) fit of the chosen error measure.
Coefficients are printed lowest degree first, rounded to float32 as the kernels use them.

    python3 scripts/fit_vectormath.py
"""
from math import erf

import numpy as np


def chebyshev_grid(lo, hi, n=6000):
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)


def lawson(basis, target, error_scale, iterations=60):
    """Coefficients c minimising max |(basis @ c - target) * error_scale|."""
    a = basis * error_scale[:, None]
    b = target * error_scale
    weights = np.full(len(b), 1 / len(b))
    for _ in range(iterations):
        root = np.sqrt(weights)
        c, *_ = np.linalg.lstsq(a * root[:, None], b * root, rcond=None)
        residual = np.abs(a @ c - b)
        weights = weights * residual
        weights /= weights.sum()
    return c, np.max(np.abs(a @ c - b))


def report(name, c, error):
    print(f"{name}: max fit error {error:.3g}")
    print("  " + ", ".join(repr(float(np.float32(v))) for v in c))


# exp: e^r = 1 + r + r^2 P(r), |r| <= ln2/2 (a little margin for the rounding of n), relative error.
r = chebyshev_grid(-np.log(2) / 2 - 1e-3, np.log(2) / 2 + 1e-3)
report("exp P, degree 4", *lawson(np.stack([r ** (2 + k) for k in range(5)], 1), np.exp(r) - 1 - r, np.exp(-r)))

# log: ln(1 + f) = f - f^2/2 + f^3 P(f), f in [sqrt(1/2) - 1, sqrt(2) - 1], relative error.
f = chebyshev_grid(np.sqrt(0.5) - 1, np.sqrt(2) - 1)
report("log P, degree 7", *lawson(np.stack([f ** (3 + k) for k in range(8)], 1),
                                  np.log1p(f) - f + f * f / 2, 1 / np.abs(np.log1p(f))))

# tanh: tanh a = a + a^3 P(a^2) on (0, 0.625], relative error.
a = chebyshev_grid(1e-4, 0.625)
report("tanh P, degree 4 in a^2", *lawson(np.stack([a ** (3 + 2 * k) for k in range(5)], 1),
                                          np.tanh(a) - a, 1 / np.tanh(a)))

# erf, small piece: erf a = a P(a^2) on (0, 1], relative error.
a = chebyshev_grid(1e-4, 1.0)
values = np.array([erf(v) for v in a])
report("erf P, degree 6 in a^2", *lawson(np.stack([a ** (1 + 2 * k) for k in range(7)], 1), values, 1 / values))

# erf, large piece: erf a = Q(a - 2.4) on [0.95, 3.92], absolute error (the result is near 1 there).
a = chebyshev_grid(0.95, 3.92)
values = np.array([erf(v) for v in a])
t = a - 2.4
report("erf Q, degree 14 in a - 2.4", *lawson(np.stack([t ** k for k in range(15)], 1), values, np.ones_like(a)))

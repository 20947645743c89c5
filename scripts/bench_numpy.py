"""NumPy side of `synapse bench sgemm` and `synapse bench elementwise`, with the same sizes and timing rule
(median of repeated runs after one warm-up), and the Synapse/NumPy ratios from one run.

usage: python3 scripts/bench_numpy.py [--synapse .build/release/synapse]
Builds nothing: run `swift build -c release` first. Prints a Markdown table.
"""
import argparse, json, os, subprocess, time
import numpy as np


def median_time(fn, min_runs, min_seconds):
    fn()
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    times.sort()
    return times[len(times) // 2]


def numpy_results():
    rows = []
    rng = np.random.default_rng(1)
    for n in (256, 512, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
        t = median_time(lambda: a @ b, 5, 1.0)
        rows.append(("sgemm", n, t, 2 * n ** 3 / t / 1e9, "GFLOP/s"))
    count = 1 << 24
    x = rng.standard_normal(count, dtype=np.float32); y = rng.standard_normal(count, dtype=np.float32)
    b1, b2 = 2 * count * 4, 3 * count * 4
    cases = [("relu", b1, lambda: np.maximum(x, 0)), ("add", b2, lambda: x + y), ("mul", b2, lambda: x * y),
             ("exp", b1, lambda: np.exp(x)), ("tanh", b1, lambda: np.tanh(x)),
             ("sigmoid", b1, lambda: 1 / (1 + np.exp(-x))), ("sum", count * 4, lambda: x.sum())]
    for name, nbytes, fn in cases:
        t = median_time(fn, 10, 1.0)
        rows.append((name, count, t, nbytes / t / 1e9, "GB/s"))
    return rows


def synapse_results(binary):
    rows = []
    for sub in ("sgemm", "elementwise"):
        out = subprocess.run([binary, "bench", sub, "--json"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            rows.append((r["op"], r["size"], r["ms"] / 1000, r["rate"], r["unit"]))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synapse", default=os.path.join(".build", "release", "synapse"))
    a = p.parse_args()
    syn = synapse_results(a.synapse)
    ref = numpy_results()
    print(f"numpy {np.__version__}")
    print("| op | size | Synapse | NumPy | ratio |")
    print("|---|---|---|---|---|")
    for (name, size, t, rate, unit), (_, _, tn, raten, _) in zip(syn, ref):
        print(f"| {name} | {size} | {rate:.1f} {unit} ({t * 1000:.2f} ms) | {raten:.1f} {unit} ({tn * 1000:.2f} ms) | {rate / raten:.2f}× |")


if __name__ == "__main__":
    main()

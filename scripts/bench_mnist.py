"""Synapse beside PyTorch on the MNIST workloads of shared/bench/WORKLOADS.md, in one run, as ratios.

usage: python3 scripts/bench_mnist.py [--workloads seed-mlp,mlp] [--epochs 1] [--torch-python /tmp/torchenv/bin/python]
Needs a release build (`swift build -c release`) and a Python with torch for the reference side
(python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch). Peak memory is the maximum resident set
size of each process (from wait4). Prints a Markdown table.
"""
import argparse, json, os, subprocess, sys

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="seed-mlp,mlp")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--bench-dir", default=os.path.join(ROOT, "..", "shared", "bench"))
    a = p.parse_args()
    env = dict(os.environ, MNIST_DIR=os.path.join(ROOT, "datasets", "mnist"))
    rows = []
    for w in a.workloads.split(","):
        syn, syn_mb = measured([a.synapse, "bench", "mnist", "--workload", w, "--epochs", str(a.epochs), "--json"])
        ref, ref_mb = measured([a.torch_python, os.path.join(a.bench_dir, "torch_mnist.py"), w, "--epochs", str(a.epochs)], env)
        rows.append((w, syn, ref, syn_mb, ref_mb))
    print(f"| workload | epochs | Synapse samples/s | PyTorch samples/s | ratio | Synapse acc | PyTorch acc | Synapse peak RSS | PyTorch peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w, s, r, smb, rmb in rows:
        print(f"| {w} | {a.epochs} | {s['samples_per_s']:.0f} | {r['samples_per_s']:.0f} | {s['samples_per_s'] / r['samples_per_s']:.2f}× "
              f"| {100 * s['test_acc']:.2f}% | {100 * r['test_acc']:.2f}% | {smb:.0f} MB | {rmb:.0f} MB |")


if __name__ == "__main__":
    main()

"""Synapse beside PyTorch on the char-lstm workload of shared/bench/WORKLOADS.md, in one run, as a ratio.

usage: python3 scripts/bench_text.py [--iters 1000] [--torch-python /tmp/torchenv/bin/python]
Needs a release build (`swift build -c release`) and a Python with torch for the reference side
(python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch). Both sides train on
../shared/data/tinyshakespeare/input.txt. Peak memory is the maximum resident set size of each process (from wait4).
Prints the load average (ratios are only meaningful on a quiet machine) and a Markdown table.
"""
import argparse, json, os, subprocess, sys

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iters", type=int, default=1000)
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--bench-dir", default=os.path.join(ROOT, "..", "shared", "bench"))
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt"))
    a = p.parse_args()
    load_before = os.getloadavg()[0]
    syn, syn_mb = measured([a.synapse, "bench", "text", "--workload", "char-lstm", "--data", a.data,
                            "--iterations", str(a.iters), "--json"])
    ref, ref_mb = measured([a.torch_python, os.path.join(a.bench_dir, "torch_char_lstm.py"), "--iters", str(a.iters)])
    load_after = os.getloadavg()[0]
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after; PyTorch threads: {ref.get('threads')}")
    print("| workload | iters | Synapse ms/iter | PyTorch ms/iter | speed ratio | Synapse val loss | PyTorch val loss "
          "| Synapse peak RSS | PyTorch peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| char-lstm | {a.iters} | {syn['ms_per_iter']:.1f} | {ref['ms_per_iter']:.1f} "
          f"| {ref['ms_per_iter'] / syn['ms_per_iter']:.2f}× | {syn['val_loss']:.4f} | {ref['val_loss']:.4f} "
          f"| {syn_mb:.0f} MB | {ref_mb:.0f} MB |")


if __name__ == "__main__":
    main()

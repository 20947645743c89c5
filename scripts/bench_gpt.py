"""Synapse beside PyTorch on the char-gpt workload of shared/bench/WORKLOADS.md, back to back in one run.

usage: python3 scripts/bench_gpt.py [--iters 2000] [--torch-python /tmp/torchenv/bin/python]
Needs a release build (`swift build -c release`) and a Python with torch. Runs `synapse bench text --workload
char-gpt --json` and shared/bench/torch_char_gpt.py, records each process's peak RSS (wait4), and prints a Markdown
row with ms/iteration, iterations/s ratio, losses and memory. Check `uptime` first: ratios under load are noise.
"""
import argparse, json, os, subprocess, sys

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--bench-dir", default=os.path.join(ROOT, "..", "shared", "bench"))
    a = p.parse_args()
    load = os.getloadavg()[0]
    syn, syn_mb = measured([a.synapse, "bench", "text", "--workload", "char-gpt", "--iterations", str(a.iters), "--json"])
    ref, ref_mb = measured([a.torch_python, os.path.join(a.bench_dir, "torch_char_gpt.py"), "--iters", str(a.iters)])
    ratio = ref["ms_per_iter"] / syn["ms_per_iter"]
    print(f"load average at start: {load:.2f}")
    print("| workload | iters | Synapse ms/iter | PyTorch ms/iter | Synapse it/s ÷ PyTorch it/s | Synapse val loss | PyTorch val loss | Synapse peak RSS | PyTorch peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| char-gpt | {a.iters} | {syn['ms_per_iter']:.1f} | {ref['ms_per_iter']:.1f} | {ratio:.2f}× | {syn['val_loss']:.4f} "
          f"| {ref['val_loss']:.4f} | {syn_mb:.0f} MB | {ref_mb:.0f} MB |")


if __name__ == "__main__":
    main()

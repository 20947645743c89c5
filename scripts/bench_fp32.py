#!/usr/bin/env python3
"""Every Float32 training workload of ../shared/bench/WORKLOADS.md plus MiniLM embeddings, Synapse beside PyTorch,
alternating every repetition, with the share of the sgemm roof each reaches (docs/BENCHMARKS.md, #25).

usage: python3 scripts/bench_fp32.py [--reps 3] [--iters 300] [--workloads seed-mlp,mlp,cnn,char-lstm,char-gpt,minilm]

Each side runs in its own process: Synapse's `synapse bench mnist|text|embed --json`, PyTorch's scripts of
../shared/bench (torch_mnist.py, torch_char_lstm.py, torch_char_gpt.py) and scripts/bench_embed.py's PyTorch side,
with their default threads. MNIST workloads train one epoch, the text ones --iters iterations (WORKLOADS.md times
1000 and 2000; the per-iteration time settles long before). The table gives each side's median, the ratio of the
medians, and the model's FLOPs per second over the median of the roof — `synapse bench sgemm --sizes 2048`, measured
before every repetition — as the share of the roof that workload reaches.

Model FLOPs count a multiply-add as 2, and training as forward + weight gradients + input gradients (none for the
first layer), as PyTorch executes the model; docs/BENCHMARKS.md derives each figure. Needs the release binary,
/tmp/torchenv (torch, transformers) and models/all-MiniLM-L6-v2; check that nothing else runs.
"""
import argparse, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "bench")
SYNAPSE = os.path.join(ROOT, ".build", "release", "synapse")

# Model FLOPs per unit of the figure: per sample, per iteration, per sentence.
FLOPS = {"seed-mlp": 52_672, "mlp": 1_007_104, "cnn": 15.40e6, "char-lstm": 6 * 409_856 * 2048,
         "char-gpt": 5.16e6 * 768, "minilm": 587e6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--workloads", default="seed-mlp,mlp,cnn,char-lstm,char-gpt,minilm")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    a = p.parse_args()
    it = str(a.iters)

    def sides(w):
        if w in ("seed-mlp", "mlp", "cnn"):
            return ([SYNAPSE, "bench", "mnist", "--workload", w, "--epochs", "1", "--json"],
                    [a.torch_python, os.path.join(SHARED, "torch_mnist.py"), w, "--epochs", "1"])
        if w in ("char-lstm", "char-gpt"):
            return ([SYNAPSE, "bench", "text", "--workload", w, "--iterations", it, "--json"],
                    [a.torch_python, os.path.join(SHARED, f"torch_{w.replace('-', '_')}.py"), "--iters", it])
        return ([SYNAPSE, "bench", "embed", "--model", a.model, "--json"],
                [a.torch_python, os.path.join(HERE, "bench_embed.py"), "--torch-side", "--model", a.model,
                 "--sentences", "320", "--batch-size", "32"])

    def rate(w, r):  # units per second
        return 1000 / r["ms_per_iter"] if "ms_per_iter" in r else r.get("samples_per_s") or r["sentences_per_s"]

    def quality(r):
        for key in ("test_acc", "val_loss"):
            if key in r:
                return f"{key} {r[key]}"
        return ""

    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    for w in a.workloads.split(","):
        ours, theirs = sides(w)
        runs = {"synapse": [], "pytorch": [], "roof": []}
        for rep in range(a.reps):
            roof, _ = measured([SYNAPSE, "bench", "sgemm", "--sizes", "2048", "--json"])
            runs["roof"].append(roof["rate"])
            for name, cmd in (("synapse", ours), ("pytorch", theirs)):
                r, rss = measured(cmd)
                runs[name].append((r, rss))
                print(f"{w} rep {rep + 1} {name}: {r} rss {rss:.0f} MB", file=sys.stderr)
        med = {n: statistics.median(rate(w, r) for r, _ in runs[n]) for n in ("synapse", "pytorch")}
        roof = statistics.median(runs["roof"])
        gflops = med["synapse"] * FLOPS[w] / 1e9
        rows.append((w, med["synapse"], med["pytorch"], med["synapse"] / med["pytorch"], gflops, roof,
                     max(m for _, m in runs["synapse"]), max(m for _, m in runs["pytorch"]),
                     quality(runs["synapse"][-1][0]), quality(runs["pytorch"][-1][0])))
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"| workload | Synapse (median of {a.reps}) | PyTorch | ratio | model GFLOP/s | roof GFLOP/s | share of the roof "
          "| peak RSS Synapse / PyTorch | quality Synapse / PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for w, s, t, ratio, g, roof, rs, rt, qs, qt in rows:
        unit = "it/s" if w.startswith("char") else "samples/s" if w != "minilm" else "sentences/s"
        print(f"| {w} | {s:,.1f} {unit} | {t:,.1f} | **{ratio:.2f}×** | {g:.1f} | {roof:.1f} | {100 * g / roof:.0f}% "
              f"| {rs:.0f} / {rt:.0f} MB | {qs} / {qt} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Every benchmark of docs/BENCHMARKS.md, Synapse beside its reference, one after another (run on a quiet machine).
# usage: bash scripts/bench_all.sh [OUTDIR]   — needs `swift build -c release` and /tmp/torchenv (see the scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench}
mkdir -p "$out"
run() { local name=$1; shift; echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/all.txt"; "$@" 2>&1 | tee "$out/$name.txt" | tee -a "$out/all.txt"; }
run kernels python3 scripts/bench_numpy.py
run fp32 python3 scripts/bench_fp32.py --reps 3
run mnist-mlps python3 scripts/bench_mnist.py --workloads seed-mlp,mlp --epochs 5
run mnist-cnn-1 python3 scripts/bench_mnist.py --workloads cnn --epochs 1
run char-lstm python3 scripts/bench_text.py --iters 1000
run char-gpt python3 scripts/bench_gpt.py --iters 2000
run embed python3 scripts/bench_embed.py --model models/all-MiniLM-L6-v2
run quant .build/release/synapse bench quant
run llm python3 scripts/bench_llm.py
run finetune /tmp/torchenv/bin/python scripts/bench_finetune.py   # needs torch, transformers, peft, gguf in /tmp/torchenv
[ -x /tmp/rlenv/bin/python ] && run rl /tmp/rlenv/bin/python scripts/bench_rl.py   # stable-baselines3 in its own venv (see the script)
run mnist-cnn-3 python3 scripts/bench_mnist.py --workloads cnn --epochs 3

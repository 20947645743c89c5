#!/usr/bin/env bash
# Kills real `synapse train` runs with SIGINT, SIGTERM and SIGKILL at several moments, resumes each with --resume,
# and checks that the model written at the end is byte-identical to an uninterrupted run's (docs/RELIABILITY.md).
#   scripts/test_resume.sh [synapse binary]      (default: .build/release/synapse, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/synapse}
[ -x "$bin" ] || swift build -c release --product synapse $(scripts/swift-traits)
work=$(mktemp -d /tmp/synapse-resume.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME "SIGNAL DELAY"... -- COMMAND…: one uninterrupted run, then per case a run killed after DELAY seconds
# (or, with DELAY first-checkpoint, as soon as its first checkpoint is on disk),
# resumed (or restarted if it died before its first checkpoint), and its outputs (COMPARE, default the model)
# compared with the uninterrupted one's.
check() {
    local name=$1; shift
    local files=${COMPARE:-model.safetensors}
    local cases=()
    while [ "$1" != -- ]; do cases+=("$1"); shift; done
    shift
    "$@" --out "$work/$name-whole" > "$work/$name-whole.log" 2>&1
    for case in "${cases[@]}"; do
        local signal=${case% *} delay=${case#* } out="$work/$name-${case/ /-}"
        "$@" --out "$out" > "$out.log" 2>&1 &
        local pid=$!
        if [ "$delay" = first-checkpoint ]; then   # as soon as the first checkpoint exists (for short runs)
            for _ in $(seq 3000); do [ -f "$out/checkpoint.safetensors" ] && break; sleep 0.01; done
        else
            sleep "$delay"
        fi
        kill -s "$signal" "$pid" 2>/dev/null || true
        local status=0; wait "$pid" 2>/dev/null || status=$?
        if [ -f "$out/checkpoint.safetensors" ]; then "$@" --out "$out" --resume >> "$out.log" 2>&1
        else "$@" --out "$out" >> "$out.log" 2>&1; fi
        local how=$([ "$status" = 0 ] && echo "had finished" || echo "resumed")
        local when=$([ "$delay" = first-checkpoint ] && echo "at its first checkpoint" || echo "after ${delay}s")
        local differ=""
        for file in $files; do cmp -s "$work/$name-whole/$file" "$out/$file" || differ+=" $file"; done
        if [ -z "$differ" ]; then
            echo "$name, SIG$signal $when: exit $status ($how), $files identical"
        else
            echo "$name, SIG$signal $when: exit $status ($how), DIFFERS:$differ"; failures=$((failures + 1))
        fi
        if [ "$signal" != KILL ] && [ "$status" != 130 ] && [ "$status" != 0 ]; then
            echo "  expected exit 130 after SIG$signal, got $status"; failures=$((failures + 1))
        fi
        if ls -a "$out" | grep -q '\.tmp$'; then echo "  temporary files left in $out"; failures=$((failures + 1)); fi
    done
}

check mnist "INT 1.0" "INT 1.8" "INT 2.6" "INT 3.4" "TERM 2.2" "KILL 1.4" "KILL 2.2" "KILL 3.0" -- \
    "$bin" train mnist --model mlp --epochs 8 --batch-size 256 --plain
# The text trainer: iteration checkpoints every 20 steps, its two batch generators restored. The corpus is the README,
# so the script needs nothing outside the repository.
check text "INT 1.0" "KILL 1.8" "TERM 2.6" -- \
    "$bin" train text --data README.md --model lstm --embedding 32 --hidden 64 --iterations 1500 --eval-interval 300 --eval-batches 2 \
    --checkpoint-every 20
# The GCN: three seeds, epoch checkpoints carrying the finished seeds' results; killed inside the first, second and
# third seed.
COMPARE="results.csv loss.svg embeddings.svg" check gcn "INT 0.8" "KILL 2.0" "TERM 3.6" -- \
    "$bin" train gcn --graph datasets/karate-club --epochs 60000 --seeds 3 --checkpoint-every 500
# PPO: update checkpoints with every CartPole copy caught mid-episode, the generator and the rollout's episode starts.
COMPARE="policy.safetensors" check rl "INT 1.0" "KILL 1.8" "TERM 2.6" -- \
    "$bin" train rl --timesteps 150000 --eval-episodes 5 --plain
# REINFORCE solves CartPole in about a second: killed at its first checkpoint (after update 1 of ~190).
COMPARE="policy.safetensors" check reinforce "TERM first-checkpoint" "KILL first-checkpoint" -- \
    "$bin" train rl --algorithm reinforce --timesteps 2000000 --eval-episodes 5 --plain --checkpoint-every 1
# LoRA fine-tuning of SmolLM2 on the demonstration's chat data: step checkpoints every 3 steps (the adapters, AdamW's
# moments, the held-out losses so far); the batch order is a function of (seed, epoch).
gguf=${SYNAPSE_SMOLLM2_GGUF:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ -f "$gguf" ]; then
    COMPARE="adapter_model.safetensors history.csv" check finetune "INT 6" "KILL 10" "TERM 14" -- \
        "$bin" finetune --model "$gguf" --data datasets/chat-demo/train.jsonl --held-out datasets/chat-demo/held_out.jsonl \
        --targets q,v --rank 4 --batch-size 4 --steps 16 --eval-interval 8 --checkpoint-every 3 --no-answers
else
    echo "finetune: skipped, no $gguf (scripts/get-models.sh fetches it)"
fi
[ "$failures" = 0 ] && echo "resume: all cases identical" || { echo "resume: $failures failures"; exit 1; }

#!/usr/bin/env bash
# Kills real `synapse train` runs with SIGINT and SIGKILL at several moments, resumes each with --resume, and checks
# that the model written at the end is byte-identical to an uninterrupted run's (docs/RELIABILITY.md).
#   scripts/test_resume.sh [synapse binary]      (default: .build/release/synapse, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/synapse}
[ -x "$bin" ] || swift build -c release --product synapse
work=$(mktemp -d /tmp/synapse-resume.XXXXXX)
trap 'rm -rf "$work"' EXIT
train=("$bin" train mnist --model mlp --epochs 8 --batch-size 256 --plain)

"${train[@]}" --out "$work/whole" > "$work/whole.log" 2>&1
failures=0
for case in "INT 1.0" "INT 1.8" "INT 2.6" "INT 3.4" "TERM 2.2" "KILL 1.4" "KILL 2.2" "KILL 3.0"; do
    set -- $case
    signal=$1 delay=$2 out="$work/$1-$2"
    "${train[@]}" --out "$out" > "$out.log" 2>&1 &
    pid=$!
    sleep "$delay"
    kill -s "$signal" "$pid" 2>/dev/null || true
    status=0; wait "$pid" 2>/dev/null || status=$?
    if [ ! -f "$out/checkpoint.safetensors" ]; then
        echo "$signal after ${delay}s: exit $status before the first checkpoint; starting afresh"
        "${train[@]}" --out "$out" >> "$out.log" 2>&1
    else
        "${train[@]}" --out "$out" --resume >> "$out.log" 2>&1
    fi
    if cmp -s "$work/whole/model.safetensors" "$out/model.safetensors"; then
        echo "$signal after ${delay}s: exit $status ($( [ "$status" = 0 ] && echo "had finished" || echo "resumed")), model identical"
    else
        echo "$signal after ${delay}s: exit $status, resumed, MODEL DIFFERS"; failures=$((failures + 1))
    fi
    if [ "$signal" != KILL ] && [ "$status" != 130 ] && [ "$status" != 0 ]; then
        echo "  expected exit 130 after SIG$signal, got $status"; failures=$((failures + 1))
    fi
    ls -a "$out" | grep -q '\.tmp$' && { echo "  temporary files left in $out"; failures=$((failures + 1)); }
done
# The text trainer: iteration checkpoints every 20 steps, its two batch generators restored.
text=("$bin" train text --model lstm --embedding 32 --hidden 64 --iterations 1500 --eval-interval 300 --eval-batches 2 --checkpoint-every 20)
"${text[@]}" --out "$work/text-whole" > "$work/text-whole.log" 2>&1
for case in "INT 1.0" "KILL 1.8" "TERM 2.6"; do
    set -- $case
    signal=$1 delay=$2 out="$work/text-$1-$2"
    "${text[@]}" --out "$out" > "$out.log" 2>&1 &
    pid=$!
    sleep "$delay"
    kill -s "$signal" "$pid" 2>/dev/null || true
    status=0; wait "$pid" 2>/dev/null || status=$?
    if [ -f "$out/checkpoint.safetensors" ]; then "${text[@]}" --out "$out" --resume >> "$out.log" 2>&1
    else "${text[@]}" --out "$out" >> "$out.log" 2>&1; fi
    if cmp -s "$work/text-whole/model.safetensors" "$out/model.safetensors"; then
        echo "text, $signal after ${delay}s: exit $status, model identical"
    else
        echo "text, $signal after ${delay}s: exit $status, MODEL DIFFERS"; failures=$((failures + 1))
    fi
done
[ "$failures" = 0 ] && echo "resume: all cases identical" || { echo "resume: $failures failures"; exit 1; }

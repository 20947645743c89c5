#!/usr/bin/env bash
# Distributed data-parallel training over Open MPI, tested on real runs of the release binary (docs/distributed.md):
#   - 2 ranks with batch B per rank end with the weights of 1 process with batch 2B after 20 steps (MLP, GPT, LSTM),
#     within 1e-5 relative, and the ranks' weights are bit-identical (each run compares checksums by allgather);
#   - a rank that throws, dies (SIGKILL) or hangs (SIGSTOP) ends the whole job within a bounded time, named;
#   - a job killed in the middle and resumed with --resume ends with the weights of one never interrupted (MNIST
#     epoch checkpoints, text iteration checkpoints).
# The ranks talk over TCP (--mca btl tcp,self), as they would across hosts. The text runs train on README.md, so the
# script needs nothing outside the repository.
#   scripts/test_distributed.sh [synapse binary]     (default: .build/release/synapse, built with the MPI trait)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpirun >/dev/null || { echo "test_distributed: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
bin=${1:-.build/release/synapse}
[ -n "${1:-}" ] || swift build -c release --product synapse $(scripts/swift-traits)
bin=$(realpath "$bin")
work=$(mktemp -d /tmp/synapse-ddp.XXXXXX)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --mca btl tcp,self --oversubscribe)
[ "$(id -u)" != 0 ] || mpi+=(--allow-run-as-root)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
same() {   # same NAME A B TOLERANCE
    local line
    if line=$(python3 scripts/compare_safetensors.py "$2" "$3" --tolerance "$4"); then echo "$1: $line"
    else fail "$1: $line"; fi
}
identical_ranks() {   # the job's own check: every rank's checksum equal (it fails the job otherwise)
    grep -q "weights identical on every rank" "$1" || fail "$2: no identical-weights line in $1"
}

# 1. Equivalence with one process at twice the batch (20 steps each).
mnist=(train mnist --model mlp --train-limit 1422 --epochs 2 --seed 3 --plain)   # 1280 training images: 10 steps of 128
"$bin" "${mnist[@]}" --batch-size 128 --out "$work/mlp-1" > "$work/mlp-1.log" 2>&1
"${mpi[@]}" -np 2 "$bin" "${mnist[@]}" --batch-size 64 --distributed --out "$work/mlp-2" > "$work/mlp-2.log" 2>&1
same "mlp, 2 ranks × 64 against 1 × 128, 20 steps" "$work/mlp-1/model.safetensors" "$work/mlp-2/model.safetensors" 1e-5
identical_ranks "$work/mlp-2.log" mlp
gpt=(train text --data README.md --model gpt --layers 2 --embedding 64 --heads 4 --block 32 --iterations 20 --eval-interval 0 --eval-batches 2 --seed 5)
"$bin" "${gpt[@]}" --batch-size 8 --out "$work/gpt-1" > "$work/gpt-1.log" 2>&1
"${mpi[@]}" -np 2 "$bin" "${gpt[@]}" --batch-size 4 --distributed --out "$work/gpt-2" > "$work/gpt-2.log" 2>&1
same "gpt, 2 ranks × 4 against 1 × 8, 20 steps" "$work/gpt-1/model.safetensors" "$work/gpt-2/model.safetensors" 1e-5
identical_ranks "$work/gpt-2.log" gpt
lstm=(train text --data README.md --model lstm --hidden 64 --iterations 20 --eval-interval 0 --eval-batches 2 --seed 5)
"$bin" "${lstm[@]}" --batch-size 8 --out "$work/lstm-1" > "$work/lstm-1.log" 2>&1
"${mpi[@]}" -np 2 "$bin" "${lstm[@]}" --batch-size 4 --distributed --out "$work/lstm-2" > "$work/lstm-2.log" 2>&1
same "lstm, 2 ranks × 4 against 1 × 8, 20 steps" "$work/lstm-1/model.safetensors" "$work/lstm-2/model.safetensors" 1e-5
identical_ranks "$work/lstm-2.log" lstm
# The validation loss is the same estimate (every rank evaluates the global batch).
v1=$(grep -o "validation loss [0-9.]*" "$work/gpt-1.log"); v2=$(grep -o "validation loss [0-9.]*" "$work/gpt-2.log")
[ "$v1" = "$v2" ] && echo "gpt: $v1 on both" || fail "gpt: $v1 alone, $v2 distributed"

# 2. Faults: the job ends, naming the rank, within a bound.
rank_pid() {   # rank_pid RANK PATTERN: the pid of that rank's process
    local p
    for p in $(pgrep -f "$2"); do
        if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then echo "$p"; return; fi
    done
}
ends_within() {   # ends_within NAME SECONDS PATTERN LOG: waits for the job in $job_pid, checks time, status and message
    local started=$SECONDS status=0
    for _ in $(seq $(($2 * 10))); do kill -0 "$job_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$job_pid" 2>/dev/null; then
        kill -9 -- -"$job_pid" 2>/dev/null || true; fail "$1: the job was still running after $2 s"; return
    fi
    wait "$job_pid" || status=$?
    if [ "$status" = 0 ]; then fail "$1: the job exited 0"
    elif grep -q -- "$3" "$4"; then echo "$1: the job ended in $((SECONDS - started)) s (exit $status): $(grep -m1 -o -- "$3.*" "$4" | cut -c1-110)"
    else fail "$1: no '$3' in $4"; fi
}
long=(train mnist --model mlp --epochs 40 --plain --distributed)
# A rank that throws: rank 1 cannot read its data; rank 0 is already waiting for it in the first broadcast.
job_pid=0
setsid "${mpi[@]}" -np 1 "$bin" "${long[@]}" --out "$work/f1" : -np 1 "$bin" "${long[@]}" --out "$work/f1" --data "$work/none" \
    > "$work/f1.log" 2>&1 & job_pid=$!
ends_within "a rank that throws" 30 "rank 1 of 2 failed" "$work/f1.log"
# A rank that dies: SIGKILL to rank 1 in the middle of training.
setsid "${mpi[@]}" -np 2 "$bin" "${long[@]}" --out "$work/f2" > "$work/f2.log" 2>&1 & job_pid=$!
for _ in $(seq 300); do grep -q "epoch 1/" "$work/f2.log" 2>/dev/null && break; sleep 0.1; done
kill -9 "$(rank_pid 1 "epochs 40.*--out $work/f2")"
ends_within "a rank that dies" 30 "process rank 1" "$work/f2.log"
# A rank that hangs without dying: SIGSTOP to rank 1; rank 0's collective times out (5 s here) and ends the job.
SYNAPSE_COLLECTIVE_TIMEOUT=5 setsid "${mpi[@]}" -x SYNAPSE_COLLECTIVE_TIMEOUT -np 2 "$bin" "${long[@]}" --out "$work/f3" \
    > "$work/f3.log" 2>&1 & job_pid=$!
for _ in $(seq 300); do grep -q "epoch 1/" "$work/f3.log" 2>/dev/null && break; sleep 0.1; done
kill -STOP "$(rank_pid 1 "epochs 40.*--out $work/f3")"
ends_within "a rank that hangs" 40 "rank 0 of 2 failed" "$work/f3.log"

# 3. Killed and resumed: the same weights, bit for bit, as a run never interrupted.
resume_case() {   # resume_case NAME WAIT-FOR-FILE -- ARGS…
    local name=$1 marker=$2; shift 3
    "${mpi[@]}" -np 2 "$bin" "$@" --out "$work/$name-whole" > "$work/$name-whole.log" 2>&1
    setsid "${mpi[@]}" -np 2 "$bin" "$@" --out "$work/$name-cut" > "$work/$name-cut.log" 2>&1 & local pid=$!
    for _ in $(seq 600); do [ -f "$work/$name-cut/$marker" ] && break; sleep 0.05; done
    sleep 0.4
    kill -9 -- -"$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -f "$work/$name-cut/checkpoint.safetensors" ] || { fail "$name: no checkpoint before the kill"; return; }
    if [ -f "$work/$name-cut/model.safetensors" ]; then fail "$name: the run finished before the kill (make it longer)"; return; fi
    "${mpi[@]}" -np 2 "$bin" "$@" --out "$work/$name-cut" --resume >> "$work/$name-cut.log" 2>&1 || { fail "$name: resume failed"; return; }
    same "$name, killed (SIGKILL to the job) and resumed" "$work/$name-whole/model.safetensors" "$work/$name-cut/model.safetensors" 0
}
resume_case mnist checkpoint.safetensors -- train mnist --model mlp --epochs 6 --train-limit 30000 --plain --distributed
resume_case text checkpoint.safetensors -- train text --data README.md --model lstm --embedding 32 --hidden 64 \
    --iterations 600 --eval-interval 200 --eval-batches 2 --checkpoint-every 100 --batch-size 16 --distributed

# 4. Two hosts: two network namespaces joined by a veth pair, mpirun starting the second rank through
#    scripts/mpi_netns_agent.sh as it would through ssh. Needs root (CAP_NET_ADMIN); skipped, and said, without it.
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add synapse-1 2>/dev/null; then
    cleanup_netns() { ip netns del synapse-1 2>/dev/null || true; ip netns del synapse-2 2>/dev/null || true; rm -rf "$work"; }
    trap cleanup_netns EXIT
    ip netns add synapse-2
    ip link add synapse-veth1 type veth peer name synapse-veth2
    for n in 1 2; do
        ip link set "synapse-veth$n" netns "synapse-$n"
        ip -n "synapse-$n" addr add "10.77.0.$n/24" dev "synapse-veth$n"
        ip -n "synapse-$n" link set lo up
        ip -n "synapse-$n" link set "synapse-veth$n" up
    done
    ip netns exec synapse-1 "${mpi[@]}" --mca plm_rsh_agent "$PWD/scripts/mpi_netns_agent.sh" \
        --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 -H 10.77.0.1:1,10.77.0.2:1 -np 2 \
        "$bin" "${gpt[@]}" --batch-size 4 --distributed --out "$work/gpt-hosts" > "$work/gpt-hosts.log" 2>&1 \
        || fail "two hosts: the job failed ($(tail -3 "$work/gpt-hosts.log" | tr '\n' ' '))"
    if [ -f "$work/gpt-hosts/model.safetensors" ]; then
        same "gpt on two hosts (network namespaces over a veth pair) against 1 × 8" "$work/gpt-1/model.safetensors" "$work/gpt-hosts/model.safetensors" 1e-5
        identical_ranks "$work/gpt-hosts.log" "two hosts"
    fi
else
    echo "two hosts: skipped (needs root and ip netns)"
fi

if [ "$failures" = 0 ]; then echo "test_distributed: all passed"; else echo "test_distributed: $failures failed"; exit 1; fi

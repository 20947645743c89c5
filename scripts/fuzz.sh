#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside data (Fuzz/Harnesses.swift) with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh                       # every harness for 600 s, two at a time
#   scripts/fuzz.sh --seconds 15          # the short run CI does
#   scripts/fuzz.sh --seconds 60 gguf csv # some harnesses
#
# The corpus grows in .build-fuzz/corpus/NAME (kept between runs, out of git) from the seeds the harness writes with
# the library's own writers; a finding (crash, leak, timeout, out-of-memory) lands in .build-fuzz/findings/NAME and
# makes the script fail. It prints, per harness, the executions, the coverage reached (libFuzzer's edge count "cov"
# and feature count "ft") and the corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600 jobs=2 targets=()
while (( $# )); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
all=(safetensors modelfile idx image csv graph config vocab expression gguf chat-template text chat-data lora-adapter)
(( ${#targets[@]} )) || targets=("${all[@]}")

SYNAPSE_FUZZ=1 swift build -c release --build-path .build-fuzz --product synapse-fuzz \
    -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -Ev "warning: Cannot export local symbol" | tail -3
binary=.build-fuzz/release/synapse-fuzz
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="allocator_may_return_null=0:detect_leaks=1"
export OPENBLAS_NUM_THREADS=1

run() {
    local name="$1" corpus=".build-fuzz/corpus/$1" findings=".build-fuzz/findings/$1" seeds=".build-fuzz/seeds/$1"
    mkdir -p "$corpus" "$findings"
    rm -rf "$seeds"
    SYNAPSE_FUZZ_TARGET="$name" SYNAPSE_FUZZ_SEEDS="$seeds" "$binary" >/dev/null 2>&1 || true
    # -rss_limit_mb: the promise is memory bounded by the input, so 2 GB for inputs of at most 256 KB is a finding.
    SYNAPSE_FUZZ_TARGET="$name" "$binary" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 -artifact_prefix="$findings/" \
        > ".build-fuzz/$name.log" 2>&1 || true
}
export -f run
export binary seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run {}'

status=0
printf '%-14s %12s %9s %8s %8s %s\n' harness executions exec/s cov ft "corpus/findings"
for name in "${targets[@]}"; do
    log=".build-fuzz/$name.log"
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
    rate=$(( ${executions:-0} / seconds ))
    line=$(grep -E '^#[0-9]+.*(DONE|REDUCE|NEW|pulse|INITED)' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line") ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
    found=$(find ".build-fuzz/findings/$name" -type f | wc -l)
    printf '%-14s %12s %9s %8s %8s %s\n' "$name" "${executions:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
        "$(ls ".build-fuzz/corpus/$name" | wc -l)/$found"
    if (( found )) || ! grep -q 'Done [0-9]* runs' "$log"; then
        status=1
        echo "  $name: finding or abnormal end — see $log and .build-fuzz/findings/$name/" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*error:)' "$log" | head -5 >&2 || true
    fi
done
exit $status

#!/usr/bin/env bash
# The test suite under AddressSanitizer (with LeakSanitizer) and ThreadSanitizer: the parallel kernels and the
# data-parallel shards are where a race or an out-of-bounds access would hide (docs/RELIABILITY.md).
#   scripts/sanitizers.sh [address|thread|both] [swift test arguments…]     (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}; shift || true
status=0
if [ "$which" = address ] || [ "$which" = both ]; then
    echo "== AddressSanitizer"
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp \
        swift test --sanitize=address --scratch-path .build-asan "$@" || status=1
fi
if [ "$which" = thread ] || [ "$which" = both ]; then
    echo "== ThreadSanitizer"
    TSAN_OPTIONS=halt_on_error=1 swift test --sanitize=thread --scratch-path .build-tsan "$@" || status=1
fi
exit $status

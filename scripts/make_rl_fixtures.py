"""Writes Tests/SynapseTests/Fixtures/environments.json: Gymnasium's CartPole-v1 and Acrobot-v1 under fixed action
sequences, and NumPy's default generator for a few seeds, for EnvironmentTests.

Each trajectory starts with reset(seed=S); when an episode ends it is reset without a seed (the generator carries on,
as in a vectorised environment) and the actions continue. Actions come from a seeded generator of their own, or from a
simple balancing controller for CartPole (so the time limit is reached too). Run:
    python3 -m venv /tmp/rlenv && /tmp/rlenv/bin/pip install gymnasium numpy
    /tmp/rlenv/bin/python scripts/make_rl_fixtures.py
"""
import json
import os

import gymnasium
import numpy as np


def trajectory(env_id, seed, steps, policy):
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=seed)
    record = {"env": env_id, "seed": seed, "initial": obs.tolist(), "actions": [], "observations": [],
              "rewards": [], "terminated": [], "truncated": [], "reset_observations": []}
    for t in range(steps):
        action = policy(obs, t)
        obs, reward, terminated, truncated, _ = env.step(action)
        record["actions"].append(int(action))
        record["observations"].append(obs.tolist())
        record["rewards"].append(float(reward))
        record["terminated"].append(bool(terminated))
        record["truncated"].append(bool(truncated))
        if terminated or truncated:
            obs, _ = env.reset()
            record["reset_observations"].append(obs.tolist())
        else:
            record["reset_observations"].append(None)
    return record


def random_policy(count, seed):
    rng = np.random.default_rng(1000 + seed)
    return lambda obs, t: int(rng.integers(count))


def balancing(obs, t):
    # Push towards the side the pole falls to, with a little of the cart's position so it stays on the track.
    return int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.05 * obs[1] > 0)


fixtures = {
    # Raw 64-bit outputs as strings (JSON numbers lose their last bits in some parsers), and the doubles made from them.
    "numpy_random": [{"seed": str(s), "raw": [str(v) for v in np.random.default_rng(s).bit_generator.random_raw(6)],
                      "doubles": np.random.default_rng(s).random(6).tolist()}
                     for s in [0, 1, 42, 123, 2**32 - 1, 2**32 + 7, 2**63 + 11]],
    "trajectories": [
        trajectory("CartPole-v1", 0, 500, random_policy(2, 0)),
        trajectory("CartPole-v1", 42, 1200, balancing),
        trajectory("Acrobot-v1", 0, 500, random_policy(3, 0)),
        trajectory("Acrobot-v1", 7, 600, random_policy(3, 7)),
    ],
}
out = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "environments.json")
with open(out, "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
for t in fixtures["trajectories"]:
    print(f"{t['env']} seed {t['seed']}: {len(t['actions'])} steps, "
          f"{sum(t['terminated'])} terminations, {sum(t['truncated'])} truncations")
print("->", os.path.normpath(out))

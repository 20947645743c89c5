"""Reference trajectories for the optimizers, gradient clipping and learning-rate schedules, computed with PyTorch.

Every optimizer case minimises the same fixed loss over two parameters,

    L(p) = sum_k  sum(c_k * p_k**2) + sum(d_k * p_k) + 0.1 * sum(p_k**4)

(polynomial, so Synapse's autograd reproduces the gradient elementwise), and records the parameters after each of
10 steps. Writes Tests/SynapseTests/Fixtures/optim.json; the Swift tests read it and need no PyTorch.

usage: /tmp/torchenv/bin/python scripts/make_optim_fixtures.py
"""
import json, math, os
import torch

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SynapseTests", "Fixtures", "optim.json")
STEPS = 10

SHAPES = [(3, 4), (5,)]
INIT = [torch.randn(*s) for s in SHAPES]
COEF_C = [torch.rand(*s) * 1.5 + 0.1 for s in SHAPES]
COEF_D = [torch.randn(*s) for s in SHAPES]


def loss_fn(params):
    total = 0
    for p, c, d in zip(params, COEF_C, COEF_D):
        total = total + (c * p * p).sum() + (d * p).sum() + 0.1 * (p ** 4).sum()
    return total


def enc(t):
    return {"shape": list(t.shape), "data": [float(x) for x in t.detach().reshape(-1).tolist()]}


# Warmup-cosine as in /work/shared/bench/torch_char_gpt.py (scaled down to 10 steps).
WARM_LR, WARM_MIN, WARM_STEPS, WARM_TOTAL = 0.02, 0.002, 3, 10


def lr_at(it, iters, lr=WARM_LR, min_lr=WARM_MIN, warmup=WARM_STEPS):
    if it < warmup:
        return lr * (it + 1) / warmup
    ratio = (it - warmup) / max(1, iters - warmup)
    return min_lr + 0.5 * (1 + math.cos(math.pi * min(ratio, 1.0))) * (lr - min_lr)


# name: (optimizer class, constructor kwargs, groups as (parameter indices, lr, weight_decay), extras)
CASES = {
    "sgd_plain": (torch.optim.SGD, {}, [([0, 1], 0.05, 0.0)], {}),
    "sgd_momentum": (torch.optim.SGD, {"momentum": 0.9, "dampening": 0.1}, [([0, 1], 0.03, 0.0)], {}),
    "sgd_nesterov_weight_decay": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}, [([0, 1], 0.03, 0.05)], {}),
    "adam": (torch.optim.Adam, {}, [([0, 1], 0.05, 0.0)], {}),
    "adam_weight_decay": (torch.optim.Adam, {"betas": (0.8, 0.95)}, [([0, 1], 0.05, 0.1)], {}),
    "adam_amsgrad": (torch.optim.Adam, {"amsgrad": True}, [([0, 1], 0.05, 0.0)], {}),
    "adamw": (torch.optim.AdamW, {"betas": (0.9, 0.99)}, [([0, 1], 0.05, 0.1)], {}),
    "rmsprop_plain": (torch.optim.RMSprop, {}, [([0, 1], 0.01, 0.0)], {}),
    "rmsprop_momentum": (torch.optim.RMSprop, {"momentum": 0.9, "alpha": 0.9}, [([0, 1], 0.005, 0.01)], {}),
    "rmsprop_centered": (torch.optim.RMSprop, {"centered": True, "momentum": 0.5}, [([0, 1], 0.005, 0.0)], {}),
    "sgd_groups": (torch.optim.SGD, {"momentum": 0.9}, [([0], 0.05, 0.01), ([1], 0.005, 0.0)], {}),
    "adamw_groups_clip_schedule": (torch.optim.AdamW, {"betas": (0.9, 0.99)}, [([0], WARM_LR, 0.1), ([1], WARM_LR, 0.0)],
                                   {"clip": 1.0, "schedule": "warmup_cosine"}),
}


def run(name, cls, kwargs, groups, extras):
    params = [t.clone().requires_grad_(True) for t in INIT]
    opt = cls([{"params": [params[i] for i in idx], "lr": lr, "weight_decay": wd} for idx, lr, wd in groups], **kwargs)
    trajectory, norms = [], []
    for step in range(STEPS):
        if extras.get("schedule") == "warmup_cosine":
            for g in opt.param_groups:
                g["lr"] = lr_at(step, WARM_TOTAL)
        opt.zero_grad(set_to_none=True)
        loss_fn(params).backward()
        if "clip" in extras:
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, extras["clip"])))
        opt.step()
        trajectory.append([enc(p) for p in params])
    options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    return {"name": name, "optimizer": cls.__name__, "options": options,
            "groups": [{"parameters": idx, "lr": lr, "weight_decay": wd} for idx, lr, wd in groups],
            "extras": extras, "trajectory": trajectory, "clip_norms": norms}


def clipping_case():
    params = [t.clone().requires_grad_(True) for t in INIT]
    loss_fn(params).backward()
    before = [p.grad.clone() for p in params]
    norm = torch.nn.utils.clip_grad_norm_(params, 1.5)
    clipped = [p.grad.clone() for p in params]
    for p, g in zip(params, before):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, 0.75)
    by_value = [p.grad.clone() for p in params]
    for p, g in zip(params, before):
        p.grad = g.clone()
    inf_norm = torch.nn.utils.clip_grad_norm_(params, 0.5, norm_type=float("inf"))
    inf_clipped = [p.grad.clone() for p in params]
    return {"max_norm": 1.5, "norm": float(norm), "clipped": [enc(g) for g in clipped],
            "clip_value": 0.75, "by_value": [enc(g) for g in by_value],
            "inf_max_norm": 0.5, "inf_norm": float(inf_norm), "inf_clipped": [enc(g) for g in inf_clipped]}


def schedules():
    def trace(make, n, base=0.1):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base)
        sched = make(opt)
        lrs = []
        for _ in range(n):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return lrs

    S = torch.optim.lr_scheduler
    return {
        "base_lr": 0.1,
        "step": {"step_size": 3, "gamma": 0.5, "lrs": trace(lambda o: S.StepLR(o, 3, 0.5), 12)},
        "exponential": {"gamma": 0.9, "lrs": trace(lambda o: S.ExponentialLR(o, 0.9), 12)},
        "cosine": {"total_steps": 10, "minimum": 0.001, "lrs": trace(lambda o: S.CosineAnnealingLR(o, 10, 0.001), 11)},
        "warmup_cosine": {"base_lr": 1e-3, "minimum": 1e-4, "warmup": 100, "total": 2000,
                          "steps": [0, 1, 50, 99, 100, 101, 500, 1000, 1999, 2000, 2500],
                          "lrs": [lr_at(s, 2000, 1e-3, 1e-4, 100) for s in [0, 1, 50, 99, 100, 101, 500, 1000, 1999, 2000, 2500]]},
    }


def main():
    with torch.no_grad():
        fixture = {"steps": STEPS, "initial": [enc(t) for t in INIT], "c": [enc(t) for t in COEF_C],
                   "d": [enc(t) for t in COEF_D], "warmup_cosine": {"lr": WARM_LR, "minimum": WARM_MIN,
                                                                    "warmup": WARM_STEPS, "total": WARM_TOTAL}}
    fixture["cases"] = [run(name, *spec) for name, spec in CASES.items()]
    fixture["clipping"] = clipping_case()
    fixture["schedules"] = schedules()
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {len(fixture['cases'])} optimizer cases to {OUT}")


if __name__ == "__main__":
    main()

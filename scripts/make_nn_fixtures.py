"""Reference values for the layers and losses, computed with PyTorch.

Layer cases: the module's configuration, its parameters and buffers before the step (the Swift test copies them in),
the input, the output, and the gradients of sum(output * weight) for the input and every parameter, where weight is a
fixed random tensor of the output's shape. BatchNorm cases also record the buffers after the forward pass.
Loss cases: the inputs, the targets and options, the loss, and the gradient of sum(loss * weight).

Writes Tests/SynapseTests/Fixtures/nn.json, which the Swift tests read (they need no PyTorch).

usage: /tmp/torchenv/bin/python scripts/make_nn_fixtures.py
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SynapseTests", "Fixtures", "nn.json")


def tensor_json(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def perturbed(module):
    """Moves affine parameters away from their 1 / 0 start so their gradients are exercised."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    return module


def layer_cases():
    specs = [
        # name, config for the Swift side, module, input
        ("linear", {"kind": "linear", "in": 5, "out": 3, "bias": True}, nn.Linear(5, 3), torch.randn(4, 5)),
        ("linear_no_bias", {"kind": "linear", "in": 5, "out": 3, "bias": False}, nn.Linear(5, 3, bias=False), torch.randn(4, 5)),
        ("linear_3d_input", {"kind": "linear", "in": 5, "out": 2, "bias": True}, nn.Linear(5, 2), torch.randn(2, 3, 5)),
        ("relu", {"kind": "relu"}, nn.ReLU(), torch.randn(3, 5)),
        ("leaky_relu", {"kind": "leaky_relu", "slope": 0.2}, nn.LeakyReLU(0.2), torch.randn(3, 5)),
        ("sigmoid", {"kind": "sigmoid"}, nn.Sigmoid(), torch.randn(3, 5) * 3),
        ("tanh", {"kind": "tanh"}, nn.Tanh(), torch.randn(3, 5) * 2),
        ("gelu", {"kind": "gelu"}, nn.GELU(), torch.randn(3, 5) * 2),
        ("gelu_tanh", {"kind": "gelu_tanh"}, nn.GELU(approximate="tanh"), torch.randn(3, 5) * 2),
        ("silu", {"kind": "silu"}, nn.SiLU(), torch.randn(3, 5) * 2),
        ("softmax", {"kind": "softmax", "axis": -1}, nn.Softmax(dim=-1), torch.randn(3, 5) * 2),
        ("softmax_axis0", {"kind": "softmax", "axis": 0}, nn.Softmax(dim=0), torch.randn(3, 5) * 2),
        ("flatten", {"kind": "flatten", "start": 1, "end": -1}, nn.Flatten(), torch.randn(2, 3, 4)),
        ("flatten_middle", {"kind": "flatten", "start": 1, "end": 2}, nn.Flatten(1, 2), torch.randn(2, 3, 4, 2)),
        ("identity", {"kind": "identity"}, nn.Identity(), torch.randn(2, 3)),
        ("dropout_eval", {"kind": "dropout_eval", "p": 0.5}, nn.Dropout(0.5).eval(), torch.randn(4, 6)),
        ("layer_norm", {"kind": "layer_norm", "shape": [6], "eps": 1e-5, "affine": True, "bias": True},
         perturbed(nn.LayerNorm(6)), torch.randn(3, 4, 6) * 2 + 1),
        ("layer_norm_2d_shape", {"kind": "layer_norm", "shape": [3, 4], "eps": 1e-5, "affine": True, "bias": True},
         perturbed(nn.LayerNorm([3, 4])), torch.randn(2, 3, 4)),
        ("layer_norm_no_affine", {"kind": "layer_norm", "shape": [5], "eps": 1e-3, "affine": False, "bias": True},
         nn.LayerNorm(5, eps=1e-3, elementwise_affine=False), torch.randn(4, 5)),
        ("layer_norm_no_bias", {"kind": "layer_norm", "shape": [40], "eps": 1e-5, "affine": True, "bias": False},
         perturbed(nn.LayerNorm(40, bias=False)), torch.randn(3, 40) * 3 - 2),
        ("batch_norm_train", {"kind": "batch_norm", "features": 4, "train": True, "steps": 1},
         perturbed(nn.BatchNorm1d(4)), torch.randn(8, 4) * 2 + 1),
        ("batch_norm_train_3d", {"kind": "batch_norm", "features": 3, "train": True, "steps": 1},
         perturbed(nn.BatchNorm1d(3)), torch.randn(4, 3, 5) - 0.5),
        ("sequential_mlp", {"kind": "mlp"}, nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), torch.randn(5, 4)),
    ]
    cases = []
    for name, config, module, x in specs:
        cases.append(run_layer(name, config, module, x))

    # Evaluation mode after a few training batches: the running statistics are what the output depends on.
    bn = perturbed(nn.BatchNorm1d(4))
    for _ in range(3):
        bn(torch.randn(6, 4) * 1.5 + 0.5)
    bn.eval()
    cases.append(run_layer("batch_norm_eval", {"kind": "batch_norm", "features": 4, "train": False, "steps": 0},
                           bn, torch.randn(5, 4)))
    return cases


def run_layer(name, config, module, x):
    state_before = {k: tensor_json(v) for k, v in module.state_dict().items()}
    leaf = x.clone().requires_grad_(True)
    out = module(leaf)
    weight = torch.randn(out.shape)
    (out * weight).sum().backward()
    case = {"name": name, "config": config, "state": state_before, "input": tensor_json(x), "weight": tensor_json(weight),
            "output": tensor_json(out), "grad_input": tensor_json(leaf.grad),
            "grad_params": {k: tensor_json(p.grad) for k, p in module.named_parameters()}}
    if isinstance(module, nn.BatchNorm1d):
        case["state_after"] = {k: tensor_json(v) for k, v in module.state_dict().items()}
    return case


def loss_cases():
    cases = []

    def add(name, config, fn, inputs, targets):
        leaves = [t.clone().requires_grad_(True) for t in inputs]
        out = fn(*leaves)
        weight = torch.randn(out.shape)
        (out * weight).sum().backward()
        cases.append({"name": name, "config": config, "inputs": [tensor_json(t) for t in inputs],
                      "targets": targets.tolist() if targets.dtype == torch.int64 else tensor_json(targets),
                      "weight": tensor_json(weight), "output": tensor_json(out),
                      "grads": [tensor_json(t.grad) for t in leaves]})

    pred, real = torch.randn(4, 3), torch.randn(4, 3)
    for reduction in ["mean", "sum", "none"]:
        add(f"mse_{reduction}", {"kind": "mse", "reduction": reduction},
            lambda p: F.mse_loss(p, real, reduction=reduction), [pred], real)
        add(f"l1_{reduction}", {"kind": "l1", "reduction": reduction},
            lambda p: F.l1_loss(p, real, reduction=reduction), [pred], real)
    add("quadratic_cost", {"kind": "quadratic_cost", "reduction": "mean"},
        lambda p: 0.5 * F.mse_loss(p, real), [pred], real)

    logits = torch.randn(6, 5) * 2
    labels = torch.tensor([0, 3, 4, 1, 3, 2])
    labels_ignored = torch.tensor([0, 3, -100, 1, 3, -100])
    class_weights = torch.rand(5) + 0.5
    ce_configs = [
        ("cross_entropy", {}, {}),
        ("cross_entropy_sum", {"reduction": "sum"}, {"reduction": "sum"}),
        ("cross_entropy_none", {"reduction": "none"}, {"reduction": "none"}),
        ("cross_entropy_weights", {"class_weights": class_weights.tolist()}, {"weight": class_weights}),
        ("cross_entropy_smoothing", {"label_smoothing": 0.1}, {"label_smoothing": 0.1}),
        ("cross_entropy_smoothing_none", {"label_smoothing": 0.2, "reduction": "none"},
         {"label_smoothing": 0.2, "reduction": "none"}),
    ]
    for name, config, kwargs in ce_configs:
        add(name, {"kind": "cross_entropy", **config}, lambda z: F.cross_entropy(z, labels, **kwargs), [logits], labels)
    ignored_configs = [
        ("cross_entropy_ignore", {}, {}),
        ("cross_entropy_ignore_weights_smoothing", {"class_weights": class_weights.tolist(), "label_smoothing": 0.15},
         {"weight": class_weights, "label_smoothing": 0.15}),
        ("cross_entropy_ignore_weights_smoothing_sum",
         {"class_weights": class_weights.tolist(), "label_smoothing": 0.15, "reduction": "sum"},
         {"weight": class_weights, "label_smoothing": 0.15, "reduction": "sum"}),
    ]
    for name, config, kwargs in ignored_configs:
        add(name, {"kind": "cross_entropy", "ignore_index": -100, **config},
            lambda z: F.cross_entropy(z, labels_ignored, ignore_index=-100, **kwargs), [logits], labels_ignored)

    log_probs = F.log_softmax(torch.randn(6, 5), dim=1)
    add("nll", {"kind": "nll"}, lambda lp: F.nll_loss(lp, labels), [log_probs], labels)
    add("nll_weights_ignore", {"kind": "nll", "class_weights": class_weights.tolist(), "ignore_index": -100},
        lambda lp: F.nll_loss(lp, labels_ignored, weight=class_weights, ignore_index=-100), [log_probs], labels_ignored)
    add("nll_none", {"kind": "nll", "reduction": "none", "ignore_index": -100},
        lambda lp: F.nll_loss(lp, labels_ignored, ignore_index=-100, reduction="none"), [log_probs], labels_ignored)

    probs = torch.rand(4, 3) * 0.9 + 0.05
    binary = (torch.rand(4, 3) > 0.5).float()
    soft = torch.rand(4, 3)
    elementwise = torch.rand(4, 3) + 0.5
    add("bce", {"kind": "bce"}, lambda p: F.binary_cross_entropy(p, binary), [probs], binary)
    add("bce_soft_targets_sum", {"kind": "bce", "reduction": "sum"},
        lambda p: F.binary_cross_entropy(p, soft, reduction="sum"), [probs], soft)
    add("bce_weight_none", {"kind": "bce", "reduction": "none", "weight": tensor_json(elementwise)},
        lambda p: F.binary_cross_entropy(p, binary, weight=elementwise, reduction="none"), [probs], binary)
    saturated = torch.tensor([[0.0, 1.0, 1e-30], [1.0, 0.0, 0.5]])
    saturated_targets = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    add("bce_saturated", {"kind": "bce", "reduction": "none"},
        lambda p: F.binary_cross_entropy(p, saturated_targets, reduction="none"), [saturated], saturated_targets)

    z = torch.randn(4, 3) * 3
    add("bce_logits", {"kind": "bce_logits"}, lambda l: F.binary_cross_entropy_with_logits(l, binary), [z], binary)
    add("bce_logits_soft_sum", {"kind": "bce_logits", "reduction": "sum"},
        lambda l: F.binary_cross_entropy_with_logits(l, soft, reduction="sum"), [z], soft)
    add("bce_logits_weight_none", {"kind": "bce_logits", "reduction": "none", "weight": tensor_json(elementwise)},
        lambda l: F.binary_cross_entropy_with_logits(l, binary, weight=elementwise, reduction="none"), [z], binary)
    extreme = torch.tensor([[-80.0, 80.0, 0.0], [40.0, -40.0, 1e-3]])
    add("bce_logits_extreme", {"kind": "bce_logits", "reduction": "none"},
        lambda l: F.binary_cross_entropy_with_logits(l, saturated_targets, reduction="none"), [extreme], saturated_targets)
    return cases


def main():
    fixture = {"generator": "scripts/make_nn_fixtures.py", "torch": torch.__version__,
               "layers": layer_cases(), "losses": loss_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print(f"wrote {len(fixture['layers'])} layer and {len(fixture['losses'])} loss cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()

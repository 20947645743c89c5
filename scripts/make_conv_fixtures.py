"""Reference values for convolution, pooling and batch normalisation, computed with PyTorch.

For each case: the inputs, the output, and the gradients of sum(output * weight) with respect to every input, where
weight is a fixed random tensor of the output's shape. Batch-norm cases also carry the running statistics before and
after the call. Writes Tests/SynapseTests/Fixtures/conv.json (read by Tests/SynapseTests/Ops/ConvolutionTests.swift).

usage: /tmp/torchenv/bin/python scripts/make_conv_fixtures.py
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SynapseTests", "Fixtures", "conv.json")


def r(*shape):
    return torch.randn(*shape)


def explicit_pad_conv(x, w, b):
    # Asymmetric padding (top 1, bottom 0, left 2, right 1) is F.pad followed by an unpadded convolution.
    return F.conv2d(F.pad(x, (2, 1, 1, 0)), w, b, stride=(1, 2))


CASES = {
    "conv2d_basic": (lambda x, w, b: F.conv2d(x, w, b), [r(2, 3, 7, 6), r(4, 3, 3, 3), r(4)]),
    "conv2d_stride2_pad1": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [r(2, 3, 9, 8), r(5, 3, 3, 3), r(5)]),
    "conv2d_rect_kernel_stride_pad": (lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
                                      [r(2, 2, 7, 5), r(3, 2, 3, 2), r(3)]),
    "conv2d_dilation": (lambda x, w, b: F.conv2d(x, w, b, padding=2, dilation=2), [r(2, 2, 8, 9), r(3, 2, 3, 3), r(3)]),
    "conv2d_dilation_stride": (lambda x, w: F.conv2d(x, w, stride=2, dilation=(2, 1)), [r(1, 3, 11, 10), r(2, 3, 3, 3)]),
    "conv2d_groups": (lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), [r(2, 4, 6, 5), r(6, 2, 3, 3), r(6)]),
    "conv2d_depthwise": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=3),
                         [r(2, 3, 7, 7), r(6, 1, 3, 3), r(6)]),
    "conv2d_same_even_kernel": (lambda x, w, b: F.conv2d(x, w, b, padding="same"), [r(2, 2, 5, 6), r(3, 2, 4, 2), r(3)]),
    "conv2d_same_dilated": (lambda x, w: F.conv2d(x, w, padding="same", dilation=2), [r(1, 2, 7, 6), r(2, 2, 3, 3)]),
    "conv2d_pointwise": (lambda x, w, b: F.conv2d(x, w, b), [r(3, 4, 5, 3), r(6, 4, 1, 1), r(6)]),
    "conv2d_pointwise_nobias": (lambda x, w: F.conv2d(x, w), [r(2, 3, 4, 4), r(5, 3, 1, 1)]),
    "conv2d_explicit_padding": (explicit_pad_conv, [r(2, 2, 5, 6), r(3, 2, 3, 3), r(3)]),
    "conv1d_basic": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [r(2, 3, 11), r(4, 3, 3), r(4)]),
    "conv1d_groups_dilation": (lambda x, w: F.conv1d(x, w, padding=2, dilation=2, groups=2), [r(2, 4, 9), r(6, 2, 3)]),
    "conv1d_same": (lambda x, w, b: F.conv1d(x, w, b, padding="same"), [r(1, 2, 8), r(3, 2, 4), r(3)]),
    "max_pool_2": (lambda x: F.max_pool2d(x, 2), [r(2, 3, 8, 6)]),
    "max_pool_odd_floor": (lambda x: F.max_pool2d(x, 2), [r(2, 2, 7, 5)]),
    "max_pool_3_s2_p1": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [r(2, 3, 9, 7)]),
    "max_pool_rect_overlap": (lambda x: F.max_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 1)), [r(1, 2, 6, 7)]),
    "avg_pool_2": (lambda x: F.avg_pool2d(x, 2), [r(2, 3, 8, 6)]),
    "avg_pool_3_s2_p1": (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [r(2, 3, 9, 7)]),
    "avg_pool_3_s2_p1_exclude_pad": (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
                                     [r(2, 3, 9, 7)]),
    "avg_pool_rect_overlap": (lambda x: F.avg_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 1)), [r(1, 2, 6, 7)]),
    "adaptive_avg_pool_3x2": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [r(2, 3, 10, 7)]),
    "adaptive_avg_pool_upsample": (lambda x: F.adaptive_avg_pool2d(x, (5, 4)), [r(1, 2, 3, 3)]),
    "global_avg_pool": (lambda x: F.adaptive_avg_pool2d(x, 1), [r(2, 4, 5, 3)]),
}


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def run_case(fn, inputs):
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    weight = torch.randn(out.shape)
    (out * weight).sum().backward()
    return {
        "inputs": [tensor_json(t) for t in inputs],
        "output": tensor_json(out),
        "weight": tensor_json(weight),
        "grads": [tensor_json(t.grad) for t in leaves],
    }


def batch_norm_cases():
    """Training and eval forms, with and without the affine map, on 4-D and 2-D inputs."""
    cases = []
    specs = [
        ("batch_norm_train", (3, 4, 5, 3), True, True, 0.1),
        ("batch_norm_train_no_affine", (2, 3, 4, 4), True, False, 0.1),
        ("batch_norm_train_2d_input", (6, 5), True, True, 0.3),
        ("batch_norm_eval", (3, 4, 5, 3), False, True, 0.1),
        ("batch_norm_eval_no_affine", (2, 3, 2, 5), False, False, 0.1),
    ]
    for name, shape, training, affine, momentum in specs:
        c = shape[1]
        x = torch.randn(*shape) * 2 + 0.5
        gamma = torch.rand(c) + 0.5
        beta = torch.randn(c)
        running_mean = torch.randn(c) * 0.3
        running_var = torch.rand(c) + 0.5
        rm, rv = running_mean.clone(), running_var.clone()
        leaves = [x.clone().requires_grad_(True)]
        if affine:
            leaves += [gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)]
        out = F.batch_norm(leaves[0], rm, rv, leaves[1] if affine else None, leaves[2] if affine else None,
                           training=training, momentum=momentum, eps=1e-5)
        weight = torch.randn(out.shape)
        (out * weight).sum().backward()
        cases.append({
            "name": name, "training": training, "momentum": momentum, "eps": 1e-5,
            "inputs": [tensor_json(t) for t in ([x, gamma, beta] if affine else [x])],
            "running_mean": tensor_json(running_mean), "running_var": tensor_json(running_var),
            "running_mean_after": tensor_json(rm), "running_var_after": tensor_json(rv),
            "output": tensor_json(out), "weight": tensor_json(weight),
            "grads": [tensor_json(t.grad) for t in leaves],
        })
    return cases


def layer_model_case():
    """A small conv net built from PyTorch's modules: its state dict (PyTorch's key names), the training-mode output
    and gradients for one batch, the running statistics after it, then the eval-mode output for a second batch."""
    torch.manual_seed(1)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, groups=2, bias=False), nn.BatchNorm2d(6, momentum=None), nn.AvgPool2d(2, stride=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    initial = {k: tensor_json(v.float()) for k, v in model.state_dict().items()}
    x = torch.randn(3, 2, 9, 10)
    model.train()
    out = model(x)
    weight = torch.randn(out.shape)
    (out * weight).sum().backward()
    grads = {name: tensor_json(p.grad) for name, p in model.named_parameters()}
    after = {k: tensor_json(v.float()) for k, v in model.state_dict().items()}
    x2 = torch.randn(2, 2, 9, 10)
    model.eval()
    with torch.no_grad():
        eval_out = model(x2)
    return {"state": initial, "input": tensor_json(x), "train_output": tensor_json(out), "weight": tensor_json(weight),
            "grads": grads, "state_after": after, "eval_input": tensor_json(x2), "eval_output": tensor_json(eval_out)}


def main():
    cases = []
    for name, (fn, inputs) in CASES.items():
        case = run_case(fn, inputs)
        case["name"] = name
        cases.append(case)
    document = {"torch_version": torch.__version__, "cases": cases, "batch_norm": batch_norm_cases(),
                "layer_model": layer_model_case()}
    with open(OUT + ".tmp", "w") as f:
        json.dump(document, f)
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {len(cases) + len(document['batch_norm'])} cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()

"""Reference values for the tensor ops, computed with PyTorch.

For each case: the inputs, the output of the op, and the gradients of sum(output * weight) with respect to every
input, where weight is a fixed random tensor of the output's shape. Writes Tests/SynapseTests/Fixtures/ops.json,
which the Swift tests read (they need no PyTorch).

usage: /tmp/torchenv/bin/python scripts/make_op_fixtures.py
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SynapseTests", "Fixtures", "ops.json")


def smooth(*shape):
    """Values in ±[0.2, 2]: away from the kinks of relu, abs, clamp and max."""
    mag = torch.rand(*shape) * 1.8 + 0.2
    return torch.where(torch.rand(*shape) > 0.5, mag, -mag)


def positive(*shape):
    return torch.rand(*shape) * 1.5 + 0.5


CASES = {
    "add_broadcast": (lambda a, b: a + b, [smooth(3, 4), smooth(4)]),
    "sub_broadcast": (lambda a, b: a - b, [smooth(2, 1, 4), smooth(3, 1)]),
    "mul_broadcast": (lambda a, b: a * b, [smooth(3, 4), smooth(3, 1)]),
    "div_broadcast": (lambda a, b: a / b, [smooth(2, 3), positive(3)]),
    "neg": (lambda a: -a, [smooth(5)]),
    "pow_scalar": (lambda a: a ** 3, [smooth(4, 3)]),
    "pow_tensor": (lambda a, b: a ** b, [positive(3, 3), smooth(3, 3)]),
    "sqrt": (lambda a: a.sqrt(), [positive(6)]),
    "exp": (lambda a: a.exp(), [smooth(4, 5)]),
    "log": (lambda a: a.log(), [positive(4, 5)]),
    "abs": (lambda a: a.abs(), [smooth(7)]),
    "clamp": (lambda a: a.clamp(-1.0, 1.0), [smooth(3, 4)]),
    "maximum": (lambda a, b: torch.maximum(a, b), [smooth(4, 3), smooth(3)]),
    "minimum": (lambda a, b: torch.minimum(a, b), [smooth(4, 3), smooth(3)]),
    "where": (lambda a, b: torch.where(a > 0, a, b), [smooth(3, 4), smooth(4)]),
    "relu": (lambda a: F.relu(a), [smooth(3, 5)]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), [smooth(3, 5)]),
    "sigmoid": (lambda a: torch.sigmoid(a), [smooth(3, 5) * 3]),
    "tanh": (lambda a: torch.tanh(a), [smooth(3, 5) * 3]),
    "gelu": (lambda a: F.gelu(a), [smooth(3, 5) * 2]),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), [smooth(3, 5) * 2]),
    "silu": (lambda a: F.silu(a), [smooth(3, 5) * 2]),
    "softmax_last": (lambda a: F.softmax(a, dim=-1), [smooth(3, 5) * 3]),
    "softmax_axis0": (lambda a: F.softmax(a, dim=0), [smooth(3, 5) * 3]),
    "log_softmax_last": (lambda a: F.log_softmax(a, dim=-1), [smooth(4, 6) * 3]),
    "log_softmax_axis1": (lambda a: F.log_softmax(a, dim=1), [smooth(2, 4, 3) * 3]),
    "sum_all": (lambda a: a.sum(), [smooth(3, 4)]),
    "sum_axis1": (lambda a: a.sum(dim=1), [smooth(2, 3, 4)]),
    "sum_axes_keep": (lambda a: a.sum(dim=(0, 2), keepdim=True), [smooth(2, 3, 4)]),
    "mean_axis": (lambda a: a.mean(dim=-1), [smooth(3, 4)]),
    "max_axis": (lambda a: a.max(dim=1).values, [smooth(3, 5)]),
    "min_axis": (lambda a: a.min(dim=0).values, [smooth(3, 5)]),
    "var_axis": (lambda a: a.var(dim=1), [smooth(3, 5)]),
    "var_axis_biased": (lambda a: a.var(dim=0, unbiased=False), [smooth(4, 2)]),
    "reshape": (lambda a: a.reshape(4, 6), [smooth(2, 3, 4)]),
    "permute": (lambda a: a.permute(2, 0, 1), [smooth(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 1), [smooth(3, 5)]),
    "slice": (lambda a: a[:, 1:3], [smooth(3, 5)]),
    "gather_rows": (lambda a: a[[2, 0, 2, 1]], [smooth(3, 4)]),
    "concat": (lambda a, b: torch.cat([a, b], dim=1), [smooth(2, 3), smooth(2, 2)]),
    "stack": (lambda a, b: torch.stack([a, b], dim=0), [smooth(2, 3), smooth(2, 3)]),
    "matmul_2d": (lambda a, b: a @ b, [smooth(3, 4), smooth(4, 5)]),
    "matmul_batched": (lambda a, b: a @ b, [smooth(2, 3, 4), smooth(2, 4, 5)]),
    "matmul_broadcast": (lambda a, b: a @ b, [smooth(2, 1, 3, 4), smooth(3, 4, 2)]),
    "matmul_batch_matrix": (lambda a, b: a @ b, [smooth(2, 3, 4), smooth(4, 2)]),
    "matmul_vector": (lambda a, b: a @ b, [smooth(3, 4), smooth(4)]),
}


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def main():
    cases = []
    for name, (fn, inputs) in CASES.items():
        leaves = [x.clone().requires_grad_(True) for x in inputs]
        out = fn(*leaves)
        weight = torch.randn(out.shape)
        (out * weight).sum().backward()
        cases.append({"name": name, "inputs": [tensor_json(x) for x in inputs], "weight": tensor_json(weight),
                      "output": tensor_json(out), "grads": [tensor_json(x.grad) for x in leaves]})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/make_op_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()

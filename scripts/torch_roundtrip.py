"""Checkpoints between PyTorch and Synapse, both ways, through safetensors.

(a) PyTorch → Synapse: builds nn.Sequential models equivalent to Synapse's, saves their state dicts with
    safetensors.torch.save_file, and writes them with an input and PyTorch's output as test fixtures
    (Tests/SynapseTests/Fixtures/*.safetensors + *.json). The Swift tests load them without PyTorch.
(b) Synapse → PyTorch: runs the Swift checkpoint tests with SYNAPSE_EXPORT_DIR set, so they save their models there,
    then loads each Synapse-saved file into the equivalent PyTorch model with load_state_dict(strict=True) and
    compares key names, dtypes, shapes and outputs.

usage:
  /tmp/torchenv/bin/python scripts/torch_roundtrip.py              # (a), then (b) (runs swift test)
  /tmp/torchenv/bin/python scripts/torch_roundtrip.py fixtures     # (a) only
  /tmp/torchenv/bin/python scripts/torch_roundtrip.py check DIR    # (b) on files already exported to DIR
"""
import json, os, subprocess, sys, tempfile
import torch
import torch.nn as nn
from safetensors.torch import save_file, load_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
FIXTURES = os.path.join(ROOT, "Tests", "SynapseTests", "Fixtures")


def mlp():
    """Synapse: Sequential(Linear(4, 8), ReLU(), Linear(8, 3))"""
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def mlp_bn():
    """Synapse: Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3))"""
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


MODELS = {"mlp_4_8_3": mlp, "mlp_bn_4_8_3": mlp_bn}


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def make_fixtures():
    torch.manual_seed(1)
    for name, build in MODELS.items():
        model = build()
        if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
            # A few training batches so the running statistics and num_batches_tracked are not at their start.
            for _ in range(3):
                model(torch.randn(16, 4) * 2 + 1)
        model.eval()
        x = torch.randn(5, 4)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(FIXTURES, name + ".safetensors")
        save_file(model.state_dict(), path)
        state = load_file(path)
        with open(os.path.join(FIXTURES, name + ".json"), "w") as f:
            json.dump({"generator": "scripts/torch_roundtrip.py", "torch": torch.__version__,
                       "keys": list(model.state_dict().keys()),
                       "dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in state.items()},
                       "input": tensor_json(x), "output": tensor_json(y)}, f)
        print(f"wrote {os.path.relpath(path)} ({len(state)} tensors)")


def check(directory):
    failures = 0
    for name, build in MODELS.items():
        path = os.path.join(directory, "synapse_" + name + ".safetensors")
        if not os.path.exists(path):
            print(f"missing {path}")
            failures += 1
            continue
        with open(os.path.join(directory, "synapse_" + name + ".json")) as f:
            reference = json.load(f)
        model = build()
        state = load_file(path)
        expected = model.state_dict()
        keys_match = sorted(state.keys()) == sorted(expected.keys())
        dtypes_match = all(state[k].dtype == expected[k].dtype for k in expected if k in state)
        shapes_match = all(state[k].shape == expected[k].shape for k in expected if k in state)
        model.load_state_dict(state, strict=True)
        model.eval()
        x = torch.tensor(reference["input"]["data"]).reshape(reference["input"]["shape"])
        y = torch.tensor(reference["output"]["data"]).reshape(reference["output"]["shape"])
        with torch.no_grad():
            out = model(x)
        close = torch.allclose(out, y, rtol=1e-5, atol=1e-6)
        ok = keys_match and dtypes_match and shapes_match and close
        failures += not ok
        print(f"{name}: keys {'ok' if keys_match else 'DIFFER'}, dtypes {'ok' if dtypes_match else 'DIFFER'}, "
              f"shapes {'ok' if shapes_match else 'DIFFER'}, outputs {'match' if close else 'DIFFER'} "
              f"(max |Δ| {float((out - y).abs().max()):.2e})")
    return failures


def main():
    args = sys.argv[1:]
    if args[:1] == ["fixtures"]:
        make_fixtures()
        return 0
    if args[:1] == ["check"] and len(args) == 2:
        return 1 if check(args[1]) else 0
    if args:
        print(__doc__)
        return 2
    make_fixtures()
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, SYNAPSE_EXPORT_DIR=directory)
        subprocess.run(["swift", "test", "--filter", "CheckpointTests"], cwd=ROOT, env=env, check=True)
        return 1 if check(directory) else 0


if __name__ == "__main__":
    sys.exit(main())

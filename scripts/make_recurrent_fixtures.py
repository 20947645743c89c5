"""Reference values for the recurrent layers (RNN, LSTM, GRU) and Embedding, computed with PyTorch.

Each case records the module's configuration, its state dict (the Swift test copies it in), the batch-first input,
an optional initial state, the outputs (every step's output, h_n, and c_n for the LSTM), and the gradients of
    loss = sum(output * w_out) + sum(h_n * w_h) [+ sum(c_n * w_c)]
for the input, the initial state and every parameter, where the w are fixed random tensors.

Writes Tests/SynapseTests/Fixtures/recurrent.json (the Swift tests need no PyTorch).

usage: /tmp/torchenv/bin/python scripts/make_recurrent_fixtures.py
"""
import json, os
import torch
import torch.nn as nn

torch.manual_seed(7)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "SynapseTests", "Fixtures", "recurrent.json")


def tj(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def recurrent_case(name, kind, batch, steps, inp, hidden, layers, bias=True, initial=False, nonlinearity="tanh"):
    if kind == "lstm":
        m = nn.LSTM(inp, hidden, layers, bias=bias, batch_first=True)
    elif kind == "gru":
        m = nn.GRU(inp, hidden, layers, bias=bias, batch_first=True)
    else:
        m = nn.RNN(inp, hidden, layers, bias=bias, batch_first=True, nonlinearity=nonlinearity)
    x = torch.randn(batch, steps, inp, requires_grad=True)
    state = None
    h0 = c0 = None
    if initial:
        h0 = (torch.randn(layers, batch, hidden) * 0.5).requires_grad_()
        if kind == "lstm":
            c0 = (torch.randn(layers, batch, hidden) * 0.5).requires_grad_()
            state = (h0, c0)
        else:
            state = h0
    out, final = m(x, state)
    h_n, c_n = (final if kind == "lstm" else (final, None))
    w_out, w_h = torch.randn_like(out), torch.randn_like(h_n)
    loss = (out * w_out).sum() + (h_n * w_h).sum()
    w_c = None
    if c_n is not None:
        w_c = torch.randn_like(c_n)
        loss = loss + (c_n * w_c).sum()
    loss.backward()
    case = {
        "name": name,
        "config": {"kind": kind, "input": inp, "hidden": hidden, "layers": layers, "bias": bias,
                   "nonlinearity": nonlinearity},
        "state": {k: tj(v) for k, v in m.state_dict().items()},
        "input": tj(x), "output": tj(out), "h_n": tj(h_n),
        "w_out": tj(w_out), "w_h": tj(w_h),
        "grad_input": tj(x.grad),
        "grads": {k: tj(p.grad) for k, p in m.named_parameters()},
    }
    if c_n is not None:
        case.update({"c_n": tj(c_n), "w_c": tj(w_c)})
    if initial:
        case.update({"h0": tj(h0), "grad_h0": tj(h0.grad)})
        if c0 is not None:
            case.update({"c0": tj(c0), "grad_c0": tj(c0.grad)})
    return case


def embedding_case():
    e = nn.Embedding(7, 3, padding_idx=2)
    idx = torch.tensor([[1, 2, 6, 1], [0, 2, 3, 1]])
    out = e(idx)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    return {"indices": idx.reshape(-1).tolist(), "shape": list(idx.shape), "padding": 2, "weight": tj(e.weight),
            "output": tj(out), "w_out": tj(w), "grad_weight": tj(e.weight.grad)}


cases = [
    recurrent_case("lstm_1layer", "lstm", 3, 5, 4, 6, 1),
    recurrent_case("lstm_2layers_initial", "lstm", 2, 4, 3, 5, 2, initial=True),
    recurrent_case("lstm_no_bias", "lstm", 2, 3, 3, 4, 1, bias=False),
    recurrent_case("gru_1layer", "gru", 3, 5, 4, 6, 1),
    recurrent_case("gru_2layers_initial", "gru", 2, 4, 3, 5, 2, initial=True),
    recurrent_case("rnn_tanh", "rnn", 3, 5, 4, 6, 1),
    recurrent_case("rnn_relu_2layers_initial", "rnn", 2, 4, 3, 5, 2, initial=True, nonlinearity="relu"),
]
with open(OUT, "w") as f:
    json.dump({"generator": "scripts/make_recurrent_fixtures.py", "torch": torch.__version__,
               "recurrent": cases, "embedding": embedding_case()}, f)
print(f"wrote {len(cases)} recurrent cases to {os.path.relpath(OUT)}")

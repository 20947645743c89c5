"""PyTorch references for attention and transformer blocks: Tests/SynapseTests/Fixtures/transformer.json.

usage: /tmp/torchenv/bin/python scripts/make_transformer_fixtures.py
Each case stores inputs, parameters (under Synapse's state-dict names), an upstream gradient G, the forward output,
and the gradients of sum(output * G) with respect to the inputs and parameters.
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1)]}


def attention_case(causal, lengths, tq=5, tk=5):
    b, h, d = 2, 2, 4
    c = h * d
    q = torch.randn(b, tq, c, requires_grad=True)
    k = torch.randn(b, tk, c, requires_grad=True)
    v = torch.randn(b, tk, c, requires_grad=True)
    split = lambda z: z.view(b, z.shape[1], h, d).transpose(1, 2)
    mask = None
    if causal or lengths is not None:
        mask = torch.ones(b, 1, tq, tk, dtype=torch.bool)
        if causal:
            mask &= torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
        if lengths is not None:
            for i, n in enumerate(lengths):
                mask[i, :, :, n:] = False
    y = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask)
    y = y.transpose(1, 2).reshape(b, tq, c)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    return {"heads": h, "causal": causal, "lengths": lengths, "q": t(q), "k": t(k), "v": t(v), "g": t(g),
            "out": t(y), "gq": t(q.grad), "gk": t(k.grad), "gv": t(v.grad)}


class Block(nn.Module):
    """Pre-norm block with the layout of Synapse's TransformerBlock (fused qkv, GELU MLP ×4)."""

    def __init__(self, c, heads, bias, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.ln1, self.ln2 = nn.LayerNorm(c, bias=bias), nn.LayerNorm(c, bias=bias)
        self.qkv, self.proj = nn.Linear(c, 3 * c, bias=bias), nn.Linear(c, c, bias=bias)
        self.fc, self.out = nn.Linear(c, 4 * c, bias=bias), nn.Linear(4 * c, c, bias=bias)
        with torch.no_grad():
            for p in self.parameters():
                p.add_(0.1 * torch.randn_like(p))  # LayerNorm gains away from 1, biases away from 0

    def forward(self, x, lengths=None):
        b, n, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, n, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        mask = None
        if lengths is not None:
            mask = torch.ones(b, 1, n, n, dtype=torch.bool)
            for i, m in enumerate(lengths):
                mask[i, :, :, m:] = False
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=self.causal and mask is None)
        x = x + self.proj(y.transpose(1, 2).reshape(b, n, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))

    names = {"ln1": "ln1", "ln2": "ln2", "qkv": "attention.qkv", "proj": "attention.proj", "fc": "mlp.fc", "out": "mlp.out"}


def block_case(bias, causal, lengths):
    c, heads = 8, 2
    block = Block(c, heads, bias, causal)
    x = torch.randn(2, 4, c, requires_grad=True)
    y = block(x, lengths)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    params, grads = {}, {}
    for name, p in block.named_parameters():
        module, kind = name.split(".")
        key = f"{Block.names[module]}.{kind}"
        params[key], grads[key] = t(p), t(p.grad)
    return {"heads": heads, "bias": bias, "causal": causal, "lengths": lengths, "x": t(x), "g": t(g), "out": t(y),
            "gx": t(x.grad), "parameters": params, "grads": grads}


cases = {
    "attention_plain": attention_case(False, None),
    "attention_causal": attention_case(True, None),
    "attention_padding": attention_case(False, [5, 3]),
    "attention_causal_cached": attention_case(True, None, tq=2, tk=5),
    "decoder_block": block_case(False, True, None),
    "encoder_block": block_case(True, False, [4, 2]),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SynapseTests", "Fixtures", "transformer.json")
with open(out, "w") as f:
    json.dump(cases, f)
print("wrote", out)

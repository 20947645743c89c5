"""A Llama-architecture forward pass in NumPy, straight from a GGUF file: the reference Synapse's Llama is checked
against. The `gguf` package (PyPI) reads and dequantises the tensors; the arithmetic is float64 throughout.

    from llama_reference import LlamaReference
    model = LlamaReference("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    logits = model.forward([1, 9690, 198])          # [3, vocab]
    tokens = model.greedy([1, 9690, 198], 64)
"""
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class LlamaReference:
    def __init__(self, path):
        r = GGUFReader(path)
        self.fields = {k: f.contents() for k, f in r.fields.items()}
        f = self.fields
        assert f["general.architecture"] == "llama"
        self.layers = int(f["llama.block_count"])
        self.C = int(f["llama.embedding_length"])
        self.H = int(f["llama.attention.head_count"])
        self.Hkv = int(f.get("llama.attention.head_count_kv", self.H))
        self.D = self.C // self.H
        self.eps = float(f["llama.attention.layer_norm_rms_epsilon"])
        self.base = float(f.get("llama.rope.freq_base", 10000.0))
        self.w = {}
        for t in r.tensors:
            # ggml dimensions run innermost first; NumPy's shape is the reverse: [out, in] for matrices.
            shape = tuple(int(d) for d in reversed(t.shape))
            self.w[t.name] = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])

    def rms(self, x, weight):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x, start):
        # ggml's "normal" RoPE: adjacent pairs (x[2i], x[2i+1]) of each head rotate by pos * base^(-2i/D).
        T = x.shape[0]
        x = x.reshape(T, -1, self.D // 2, 2)
        i = np.arange(self.D // 2, dtype=np.float64)
        theta = (np.arange(start, start + T, dtype=np.float64)[:, None] * self.base ** (-2 * i / self.D))[:, None, :]
        c, s = np.cos(theta), np.sin(theta)
        a, b = x[..., 0], x[..., 1]
        return np.stack([a * c - b * s, a * s + b * c], axis=-1).reshape(T, -1)

    def forward(self, tokens, cache=None, start=0):
        """Logits [T, V] for `tokens` following `start` cached tokens; `cache` is a list of (K, V) per layer."""
        if cache is None:
            cache = [(np.zeros((0, self.Hkv * self.D)), np.zeros((0, self.Hkv * self.D))) for _ in range(self.layers)]
        x = self.w["token_embd.weight"][tokens].astype(np.float64)
        T = len(tokens)
        group = self.H // self.Hkv
        for l in range(self.layers):
            p = f"blk.{l}."
            h = self.rms(x, self.w[p + "attn_norm.weight"])
            q = self.rope(h @ self.w[p + "attn_q.weight"].T, start)
            k = self.rope(h @ self.w[p + "attn_k.weight"].T, start)
            v = h @ self.w[p + "attn_v.weight"].T
            K = np.concatenate([cache[l][0], k]); V = np.concatenate([cache[l][1], v])
            cache[l] = (K, V)
            S = K.shape[0]
            out = np.zeros((T, self.C))
            mask = np.arange(S)[None, :] <= (np.arange(T)[:, None] + start)
            for head in range(self.H):
                kh = head // group
                qh = q[:, head * self.D:(head + 1) * self.D]
                Kh = K[:, kh * self.D:(kh + 1) * self.D]; Vh = V[:, kh * self.D:(kh + 1) * self.D]
                s = qh @ Kh.T / np.sqrt(self.D)
                s = np.where(mask, s, -np.inf)
                s = np.exp(s - s.max(axis=1, keepdims=True)); s /= s.sum(axis=1, keepdims=True)
                out[:, head * self.D:(head + 1) * self.D] = s @ Vh
            x = x + out @ self.w[p + "attn_output.weight"].T
            h = self.rms(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            u = h @ self.w[p + "ffn_up.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * u) @ self.w[p + "ffn_down.weight"].T
        return self.rms(x, self.w["output_norm.weight"]) @ self.out.T, cache

    def logits(self, tokens):
        return self.forward(tokens)[0]

    def greedy(self, tokens, count, stop=None):
        logits, cache = self.forward(tokens)
        out, start = [], len(tokens)
        for _ in range(count):
            nxt = int(np.argmax(logits[-1]))
            out.append(nxt)
            if stop is not None and nxt == stop:
                break
            logits, cache = self.forward([nxt], cache, start)
            start += 1
        return out

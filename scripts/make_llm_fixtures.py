"""Fixtures for Synapse's GGUF reader, block formats, Llama model and BPE tokenizer (Tests/SynapseTests/Fixtures/llm/).

    python3 -m pip install gguf numpy xllamacpp
    bash scripts/get-models.sh
    python3 scripts/make_llm_fixtures.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes:
  blocks.gguf, blocks.json       every metadata value type and a tensor of each block type, with the `gguf` package's
                                 dequantised values (as float bit patterns, for bit-exact comparison)
  tiny_llama.gguf, tiny_llama.json   a random 2-block Llama (Q4_1/Q8_0/F32, GQA) with the NumPy reference's logits
  tokenizer.json                 230 strings and llama.cpp's token ids for them (xllamacpp's /tokenize on the real file)
  smollm2_logits.safetensors, smollm2.json   the real model: logits at every position of a chat prompt, last-position
                                 logits and greedy 64-token continuations of five more prompts (NumPy reference)
"""
import argparse, json, os, random, struct, sys, urllib.request
import numpy as np
import gguf
from gguf import GGUFWriter, GGMLQuantizationType as Q
from gguf.quants import quantize, dequantize

sys.path.insert(0, os.path.dirname(__file__))
from llama_reference import LlamaReference

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "llm")


def bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def write_blocks():
    rng = np.random.default_rng(7)
    path = os.path.join(OUT, "blocks.gguf")
    w = GGUFWriter(path, arch="test")
    w.add_uint8("t.u8", 200); w.add_int8("t.i8", -7); w.add_uint16("t.u16", 65000); w.add_int16("t.i16", -300)
    w.add_uint32("t.u32", 4000000000); w.add_int32("t.i32", -123456); w.add_float32("t.f32", 0.25)
    w.add_bool("t.bool", True); w.add_string("t.str", "héllo ✓"); w.add_uint64("t.u64", 2**40 + 3)
    w.add_int64("t.i64", -(2**40)); w.add_float64("t.f64", -1.5)
    w.add_array("t.ints", [1, 2, 3]); w.add_array("t.strs", ["a", "", "ü"]); w.add_array("t.nested", [[1, 2], [3]])
    expected = {}
    tensors = {
        "q4_0": (Q.Q4_0, (3, 64)), "q4_1": (Q.Q4_1, (3, 64)), "q8_0": (Q.Q8_0, (2, 96)),
        "f16": (Q.F16, (2, 5)), "bf16": (Q.BF16, (2, 5)), "f32": (Q.F32, (7,)),
    }
    for name, (qt, shape) in tensors.items():
        x = (rng.standard_normal(shape) * 2).astype(np.float32)
        x.reshape(-1)[0] = 0.0
        raw = quantize(x, qt)
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qt)
        expected[name] = {"type": qt.name, "shape": list(shape), "bits": bits(dequantize(raw, qt))}
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    meta = {"t.u8": 200, "t.i8": -7, "t.u16": 65000, "t.i16": -300, "t.u32": 4000000000, "t.i32": -123456,
            "t.f32": 0.25, "t.bool": True, "t.str": "héllo ✓", "t.u64": 2**40 + 3, "t.i64": -(2**40), "t.f64": -1.5}
    json.dump({"tensors": expected, "metadata": meta}, open(os.path.join(OUT, "blocks.json"), "w"), indent=0)


def write_tiny_llama():
    rng = np.random.default_rng(11)
    C, F, H, Hkv, L, V = 64, 96, 4, 2, 2, 300
    D = C // H
    path = os.path.join(OUT, "tiny_llama.gguf")
    w = GGUFWriter(path, arch="llama")
    w.add_block_count(L); w.add_context_length(128); w.add_embedding_length(C); w.add_feed_forward_length(F)
    w.add_head_count(H); w.add_head_count_kv(Hkv); w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(D); w.add_vocab_size(V)

    def add(name, shape, qt, scale=0.2):
        x = (rng.standard_normal(shape) * scale).astype(np.float32)
        if qt == Q.F32:
            x = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        raw = quantize(x, qt)
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qt)

    add("token_embd.weight", (V, C), Q.Q8_0, 1.0)
    add("output_norm.weight", (C,), Q.F32)
    for l in range(L):
        p = f"blk.{l}."
        add(p + "attn_norm.weight", (C,), Q.F32)
        add(p + "attn_q.weight", (C, C), Q.Q4_1); add(p + "attn_k.weight", (Hkv * D, C), Q.Q4_1)
        add(p + "attn_v.weight", (Hkv * D, C), Q.Q4_0); add(p + "attn_output.weight", (C, C), Q.Q4_1)
        add(p + "ffn_norm.weight", (C,), Q.F32)
        add(p + "ffn_gate.weight", (F, C), Q.Q4_1); add(p + "ffn_up.weight", (F, C), Q.Q8_0)
        add(p + "ffn_down.weight", (C, F), Q.Q4_1)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    ref = LlamaReference(path)
    tokens = [int(t) for t in rng.integers(0, V, 12)]
    logits = ref.logits(tokens)
    json.dump({"tokens": tokens, "logits": [[float(v) for v in row] for row in logits],
               "greedy": ref.greedy(tokens[:5], 20)}, open(os.path.join(OUT, "tiny_llama.json"), "w"))


def tokenizer_strings():
    fixed = [
        "", " ", "  ", "   ", "\n", "\n\n", "\t", " \t\n ", "Hello", "Hello world", " Hello world", "Hello  world",
        "Hello   world  ", "hello\nworld", "hello\n\nworld\n", "HELLO WORLD", "It's", "it's", "I'm", "we're", "they've",
        "you'll", "he'd", "IT'S", "don't", "'s", "''", "rock'n'roll", "1", "12", "123", "1234567890", "3.14159",
        "-42", "1,000,000", "v2.0.1", "2024-12-02", "10:30pm", "$100", "50%", "0x1F", "1e-5", "3 + 4 = 7",
        "The year 1999 was", "Call 555-0199 now", "a1b2c3", "①②③", "Ⅻ", "٣٤٥", "١٢", "¾",
        "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}", "if x == y:\n        pass",
        "print('hello')", "a->b", "x && y || !z", "#include <stdio.h>", "// comment", "/* block */",
        "<div class=\"a\">text</div>", "{\"key\": [1, 2, 3]}", "SELECT * FROM t WHERE id = 1;", "foo_bar_baz",
        "camelCaseName", "snake_case_42", "https://example.com/path?q=1&r=2#frag", "user@example.com",
        "www.example.org", "C:\\Users\\name", "~/.bashrc", "café", "naïve", "Ångström", "façade", "résumé",
        "e\u0301", "Zürich", "São Paulo", "Dvořák", "Łódź", "Ελληνικά", "Привет, мир!", "שלום", "مرحبا بالعالم",
        "हिन्दी", "ไทย", "日本語のテキスト", "中文字符测试", "한국어 텍스트", "汉字123", "😀", "😀😃😄", "👍🏽",
        "👨‍👩‍👧", "🇫🇷", "I ❤️ NY", "✓ done", "→ arrow", "• bullet", "…", "“quotes”", "‘single’", "—dash—",
        "ﬁ ligature", "\u00a0nbsp", "zero\u200bwidth", "\u3000ideographic space", "tab\tseparated\tvalues",
        "<|im_start|>", "<|im_end|>", "<|im_start|>user\nHi<|im_end|>\n", "text<|im_end|>more",
        "<|endoftext|>", "a<|endoftext|>b", "<|im_start|><|im_end|>", "<|im_start", "im_start|>", "<repo_name>x",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n",
        "!!!", "???", "...", "--", "***bold***", "__init__", "@@ -1,3 +1,4 @@", "a  b   c    d", "   leading",
        "trailing   ", "\n\n\nthree newlines", "mixed \n\t whitespace", "ALL CAPS SENTENCE.", "MiXeD CaSe",
        "Supercalifragilisticexpialidocious", "antidisestablishmentarianism", "the the the the",
        "A quick brown fox jumps over the lazy dog.", "She said, \"Hello!\"", "(parenthetical)", "[brackets]",
        "semi;colon", "col:on", "key=value", "a/b/c", "back\\slash", "pipe|line", "under_score", "hash#tag",
        "Question? Answer!", "Mr. Smith", "U.S.A.", "e.g.", "i.e.,", "etc.", "O'Brien", "Jean-Luc", "1st 2nd 3rd",
        "100km/h", "9am-5pm", "CO2", "H2O", "x²", "√2", "∑∞", "π≈3.14", "±0.5", "°C", "€10", "£5", "¥100",
    ]
    rng = random.Random(1234)
    pool = list("abcXYZ 019.,!?'\n\t-_é日😀") + [" the", "ing", "123", "<|im_end|>", "  "]
    while len(fixed) < 230:
        fixed.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 24))))
    return fixed


class LlamaServer:
    """llama.cpp's own tokenizer, through the server of the `xllamacpp` wheel (a prebuilt llama.cpp) on loopback."""
    def __init__(self, model):
        import xllamacpp as x
        p = x.CommonParams()
        p.model.path = model
        p.n_ctx = 512
        p.cpuparams.n_threads = 2
        self.server = x.Server(p)
        self.addr = self.server.listening_address

    def tokenize(self, text):
        body = json.dumps({"content": text, "parse_special": True}).encode()
        req = urllib.request.Request(self.addr + "/tokenize", data=body, headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req).read())["tokens"]


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)


def chat(system, user):
    s = f"<|im_start|>system\n{system}<|im_end|>\n" if system else \
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    return s + f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def write_real(model):
    server = LlamaServer(model)
    strings = tokenizer_strings()
    cases = [{"text": s, "ids": server.tokenize(s)} for s in strings]
    json.dump({"model": os.path.basename(model), "cases": cases}, open(os.path.join(OUT, "tokenizer.json"), "w"),
              ensure_ascii=False, indent=0)
    ref = LlamaReference(model)
    eos = int(ref.fields["tokenizer.ggml.eos_token_id"])
    chat_prompt = chat("Be brief.", "Hi!")
    chat_ids = server.tokenize(chat_prompt)
    prompts = [chat(None, "What is the capital of France?"), chat(None, "Explain backpropagation in two sentences."),
               chat(None, "What is 12 + 7?"), "The quick brown fox", "def fibonacci(n):"]
    tensors = {"chat": ref.logits(chat_ids)}
    out = {"chat": {"text": chat_prompt, "ids": chat_ids}, "prompts": []}
    for i, p in enumerate(prompts):
        ids = server.tokenize(p)
        logits = ref.logits(ids)
        tensors[f"prompt{i}"] = logits[-1:]
        greedy = ref.greedy(ids, 64, stop=eos)
        out["prompts"].append({"text": p, "ids": ids, "greedy": greedy})
        print(f"prompt {i}: {len(ids)} tokens, greedy {len(greedy)}", flush=True)
    write_safetensors(os.path.join(OUT, "smollm2_logits.safetensors"), tensors)
    json.dump(out, open(os.path.join(OUT, "smollm2.json"), "w"), ensure_ascii=False, indent=0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--skip-real", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    write_blocks()
    write_tiny_llama()
    if not a.skip_real:
        write_real(a.model)

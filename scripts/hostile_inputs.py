#!/usr/bin/env python3
"""Synapse's own hostile-input suite: crafted inputs and faults against the release binary.

    python3 scripts/hostile_inputs.py                 # every case (builds .build/release/synapse first)
    python3 scripts/hostile_inputs.py --only png,cli  # some families
    python3 scripts/hostile_inputs.py --list          # the families and how many cases each has

Every case runs `synapse` with a time limit and records its exit, its standard error and its peak resident memory
(ru_maxrss from wait4). A case fails the suite when the process
  - crashes: dies by a signal, or prints a Swift runtime trap ("Fatal error", "Stack dump");
  - times out;
  - exits non-zero without a message, or with a raw Foundation error dump instead of one ("Error Domain=");
  - exits 0 where the input is invalid by construction (expect="fail");
  - uses more than twice the peak memory of the same command on the valid input it was made from (the family's
    baseline, measured in the same run), plus twice the bytes of the hostile input itself;
  - destroys what it must not: a device node, a FIFO or a directory given as an output path, or a file it was only
    meant to read.
The inputs are made here from the valid files that the first phase produces with the binary itself (a tiny MNIST
classifier, an autoencoder, GPT and LSTM language models, a policy) and from the repository's fixtures (a tiny GGUF
Llama), so the suite needs nothing but the repository's datasets/mnist and the MiniLM folder that scripts/setup.sh
--models fetches (its cases are skipped without it).
"""
import argparse
import gzip
import json
import os
import random
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build/release/synapse")
MNIST = os.environ.get("SYNAPSE_MNIST_DIR", os.path.join(ROOT, "datasets/mnist"))
MINILM = os.environ.get("SYNAPSE_MINILM_DIR", os.path.join(ROOT, "models/all-MiniLM-L6-v2"))
TINY_GGUF = os.path.join(ROOT, "Tests/SynapseTests/Fixtures/llm/tiny_llama.gguf")
KARATE = os.path.join(ROOT, "datasets/karate-club")
PEFT = os.path.join(ROOT, "Tests/SynapseTests/Fixtures/finetune/peft_adapter")


class Case:
    def __init__(self, family, name, argv, expect="any", timeout=60, check=None, budget_bytes=0, baseline=None):
        self.family, self.name, self.argv, self.expect = family, name, argv, expect
        self.baseline = baseline or family
        self.timeout, self.check, self.budget_bytes = timeout, check, budget_bytes
        self.result = None


class Result:
    def __init__(self, code, signal_number, stderr, rss_kb, seconds, timed_out):
        self.code, self.signal, self.stderr, self.rss_kb = code, signal_number, stderr, rss_kb
        self.seconds, self.timed_out = seconds, timed_out


def run(argv, timeout, cwd):
    """Runs the binary and returns its exit, stderr and peak RSS.

    The peak comes from GNU time (`%M`), which forks the binary from its own small process: Linux carries a
    process's RSS high-water mark across exec, so a child forked or vforked from this Python process would report
    at least this process's size."""
    start = time.monotonic()
    err = tempfile.TemporaryFile()
    measured = tempfile.NamedTemporaryFile(delete=False)
    measured.close()
    process = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", measured.name, BINARY] + argv, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                               env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    timed_out = False
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    err.close()
    report = open(measured.name).read().split("\n")
    os.unlink(measured.name)
    sig = None
    for line in report:
        if line.startswith("Command terminated by signal"):
            sig = int(line.split()[-1])
    numbers = [line for line in report if line.strip().isdigit()]
    rss_kb = int(numbers[-1]) if numbers else 0
    code = None if sig is not None or timed_out else process.returncode
    return Result(code, sig, text, rss_kb, time.monotonic() - start, timed_out)


# --- byte-level mutations ------------------------------------------------------------------------------------------

def truncations(data, points):
    for p in sorted(set(points)):
        if 0 <= p < len(data):
            yield f"truncated@{p}", data[:p]


def bitflips(data, rng, count, span=None):
    out = bytearray(data)
    limit = min(len(out), span or len(out))
    for _ in range(count):
        i = rng.randrange(limit)
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def safetensors_parts(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def safetensors_bytes(header, body, pad=True):
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png(width, height, depth=8, color=0, rows=None, interlace=0, extra=b"", idat=None, iend=True):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 1)
    if rows is None:
        row = bytes([0]) + bytes(((x * 37) % 256 for x in range((max(width, 0) * channels * depth + 7) // 8)))
        rows = row * max(height, 0)
    body = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
    body += extra + png_chunk(b"IDAT", zlib.compress(rows) if idat is None else idat)
    return body + (png_chunk(b"IEND", b"") if iend else b"")


def idx(dims, elements, type_byte=8):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + elements


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gpt2_byte_alphabet():
    """GPT-2's byte → printable-character table, the alphabet byte-level BPE tokens are written in."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def gguf_value(kind, value):
    if kind == 8:
        return gguf_string(value)
    if kind == 9:
        item_kind, items = value
        return struct.pack("<IQ", item_kind, len(items)) + b"".join(gguf_value(item_kind, v) for v in items)
    return struct.pack({4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}[kind], value)


def gguf_with_tokenizer(data, vocabulary):
    """The tiny Llama fixture with a byte-level BPE tokenizer and a ChatML template added to its metadata, so
    `generate` and `tokenize` run on it. Re-emits the header; tensor offsets are relative to the data section."""
    version, tensor_count, kv_count = struct.unpack("<IQQ", data[4:24])
    at = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(kind, at):
        if kind == 8:
            return at + 8 + struct.unpack("<Q", data[at:at + 8])[0]
        if kind == 9:
            item_kind, count = struct.unpack("<IQ", data[at:at + 12])
            at += 12
            for _ in range(count):
                at = skip_value(item_kind, at)
            return at
        return at + sizes[kind]

    alignment = 32
    kvs_start = at
    for _ in range(kv_count):
        key_length = struct.unpack("<Q", data[at:at + 8])[0]
        key = data[at + 8:at + 8 + key_length].decode()
        kind = struct.unpack("<I", data[at + 8 + key_length:at + 12 + key_length])[0]
        value_at = at + 12 + key_length
        if key == "general.alignment":
            alignment = struct.unpack("<I", data[value_at:value_at + 4])[0]
        at = skip_value(kind, value_at)
    kvs = data[kvs_start:at]
    tensors_start = at
    for _ in range(tensor_count):
        name_length = struct.unpack("<Q", data[at:at + 8])[0]
        at += 8 + name_length
        rank = struct.unpack("<I", data[at:at + 4])[0]
        at += 4 + 8 * rank + 4 + 8
    tensor_infos = data[tensors_start:at]
    data_start = at + (-at % alignment)
    alphabet = gpt2_byte_alphabet()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    merges = [("h", "i"), ("e", "l"), ("el", "l"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld")]
    tokens = specials + alphabet + ["".join(m) for m in merges]
    tokens += [f"<|extra_{i}|>" for i in range(vocabulary - len(tokens))]
    kinds = [3] * len(specials) + [1] * (len(tokens) - len(specials))
    template = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    extra = [("tokenizer.ggml.model", 8, "gpt2"), ("tokenizer.ggml.pre", 8, "smollm"),
             ("tokenizer.ggml.tokens", 9, (8, tokens)), ("tokenizer.ggml.token_type", 9, (5, kinds)),
             ("tokenizer.ggml.merges", 9, (8, [" ".join(m) for m in merges])),
             ("tokenizer.ggml.bos_token_id", 4, 1), ("tokenizer.ggml.eos_token_id", 4, 2),
             ("tokenizer.chat_template", 8, template)]
    kvs += b"".join(gguf_string(k) + struct.pack("<I", t) + gguf_value(t, v) for k, t, v in extra)
    head = b"GGUF" + struct.pack("<IQQ", version, tensor_count, kv_count + len(extra)) + kvs + tensor_infos
    return head + b"\0" * (-len(head) % alignment) + data[data_start:]


# --- the suite -----------------------------------------------------------------------------------------------------

def message_lines(stderr):
    """The lines of an error message, without ArgumentParser's usage hint that follows a bad option."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return [line for line in lines if not (line.startswith("Usage:") or line.startswith("Help:") or
                                           line.strip().startswith("See '") or line.startswith("  "))]


class Suite:
    def __init__(self, work, jobs):
        self.work, self.jobs = work, jobs
        self.cases, self.baselines = [], {}
        self.rng = random.Random(20261204)

    def path(self, *parts):
        p = os.path.join(self.work, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write(self, name, data):
        p = self.path("inputs", name)
        if os.path.isdir(p):
            shutil.rmtree(p)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def add(self, family, name, argv, **kw):
        self.cases.append(Case(family, name, argv, **kw))

    # Phase 1: valid artefacts, made by the binary itself, and the memory baselines of each command family.
    def prepare(self):
        w = self.work
        # A small corpus from the repository itself (the README), so the suite needs no outside text.
        text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()[:20000]
        self.corpus = self.write("small.txt", text)
        steps = [
            ["train", "mnist", "--model", "seed", "--epochs", "1", "--data", MNIST, "--out", f"{w}/mnist", "--plain"],
            ["train", "autoencoder", "--sizes", "784,32", "--epochs", "1", "--data-dir", MNIST, "--out", f"{w}/ae", "--plain"],
            ["train", "text", "--model", "gpt", "--iterations", "3", "--embedding", "16", "--layers", "1", "--heads", "2",
             "--block", "16", "--batch-size", "4", "--data", self.corpus, "--out", f"{w}/gpt", "--eval-interval", "3",
             "--eval-batches", "1"],
            ["train", "text", "--model", "lstm", "--iterations", "3", "--embedding", "16", "--hidden", "16", "--block", "16",
             "--batch-size", "4", "--data", self.corpus, "--out", f"{w}/lstm", "--eval-interval", "3", "--eval-batches", "1"],
            ["train", "rl", "--timesteps", "2048", "--out", f"{w}/rl", "--plain"],
        ]
        for argv in steps:
            r = run(argv, 300, w)
            if r.code != 0:
                sys.exit(f"setup failed: synapse {' '.join(argv)}\n{r.stderr}")
        self.models = {
            "classifier": f"{w}/mnist/model.safetensors", "autoencoder": f"{w}/ae/model.safetensors",
            "gpt": f"{w}/gpt/model.safetensors", "lstm": f"{w}/lstm/model.safetensors", "policy": f"{w}/rl/policy.safetensors",
        }
        # A small test split (200 images) so eval-family cases stay quick; its IDX files are what the cases mutate.
        self.small_mnist = self.path("inputs", "mnist-small", "x")[:-2]
        for name, count, row in [("t10k-images-idx3-ubyte", 200, 784), ("t10k-labels-idx1-ubyte", 200, 1)]:
            raw = gzip.open(os.path.join(MNIST, name + ".gz")).read()
            head = 16 if row == 784 else 8
            dims = [count, 28, 28] if row == 784 else [count]
            with open(os.path.join(self.small_mnist, name), "wb") as f:
                f.write(idx(dims, raw[head:head + count * row]))
        self.digit = self.write("digit.png", png(28, 28))
        self.gguf = self.write("tiny.gguf", gguf_with_tokenizer(open(TINY_GGUF, "rb").read(), 300))
        self.pgm = self.write("digit.pgm", b"P5\n28 28\n255\n" + bytes((i * 7) % 256 for i in range(784)))

    def baseline(self, family, argv):
        r = run(argv, 300, self.work)
        if r.code != 0:
            sys.exit(f"baseline for {family} failed: synapse {' '.join(argv)}\n{r.stderr}")
        self.baselines[family] = r.rss_kb

    # Phase 2: the cases.
    def build(self):
        m = self.models
        self.baseline("predict", ["predict", m["classifier"], self.digit])
        self.baseline("eval", ["eval", m["classifier"], "--data", self.small_mnist])
        self.baseline("generate", ["generate", m["gpt"], "--prompt", "RO", "--tokens", "8"])
        self.baseline("play", ["play", "--model", m["policy"], "--out", self.path("out", "play.svg")])
        self.baseline("check", ["predict", m["classifier"], self.digit, "--check", m["autoencoder"]])
        self.baseline("quantize", ["quantize", m["classifier"], "--scheme", "int8-absmax", "--out",
                                   self.path("out", "q.safetensors"), "--data", self.small_mnist])
        self.baseline("gguf", ["generate", "--model", self.gguf, "--prompt", "hi", "--tokens", "4"])
        self.baseline("text", ["train", "text", "--model", "gpt", "--iterations", "2", "--embedding", "16", "--layers", "1",
                               "--heads", "2", "--block", "16", "--batch-size", "4", "--data", self.corpus, "--out",
                               self.path("out", "text"), "--eval-interval", "2", "--eval-batches", "1"])
        self.baseline("gcn", ["train", "gcn", "--graph", KARATE, "--epochs", "5", "--seeds", "1", "--out", self.path("out", "gcn")])
        self.baseline("expression", ["graph", "--example", "expression", "--expr", "a*b+c", "--set", "a=1,b=2,c=3",
                                     "--format", "dot", "--out", self.path("out", "g.dot")])
        if os.path.isdir(MINILM):
            self.baseline("embed", ["embed", "--model", MINILM, "hello world"])
        self.chat = self.write("chat.jsonl", b"".join(json.dumps({"messages": [
            {"role": "user", "content": f"What is item {i}?"}, {"role": "assistant", "content": f"Item {i} is red."}]}).encode() + b"\n"
            for i in range(6)))
        self.baseline("finetune", self.finetune_argv(self.chat, "baseline"))
        self.baseline("adapter", ["generate", "--model", self.gguf, "--adapter", PEFT, "--prompt", "hi", "--tokens", "4"])
        self.baseline("cli", ["--help"])
        for make in (self.model_files, self.images, self.idx_files, self.text_files, self.graphs, self.expressions,
                     self.gguf_files, self.bert_folders, self.chat_files, self.adapter_folders, self.cli_values,
                     self.output_paths):
            make()

    def model_cases(self, kind, data, label, expect="any"):
        """The commands that read a model of this kind, each given the hostile file."""
        p = self.write(f"{kind}-{label}.safetensors", data)
        if kind == "classifier":
            self.add("predict", f"{kind}/{label}", ["predict", p, self.digit], expect=expect, budget_bytes=len(data))
            self.add("eval", f"{kind}/{label}", ["eval", p, "--data", self.small_mnist], expect=expect, budget_bytes=len(data))
        elif kind == "autoencoder":
            self.add("check", f"{kind}/{label}", ["predict", self.models["classifier"], self.digit, "--check", p],
                     expect=expect, budget_bytes=len(data))
        elif kind in ("gpt", "lstm"):
            self.add("generate", f"{kind}/{label}", ["generate", p, "--prompt", "RO", "--tokens", "8"], expect=expect,
                     budget_bytes=len(data))
        elif kind == "policy":
            self.add("play", f"{kind}/{label}", ["play", "--model", p, "--out", self.path("out", f"{label}.svg")],
                     expect=expect, budget_bytes=len(data))

    def model_files(self):
        rng = self.rng
        for kind, path in self.models.items():
            data = open(path, "rb").read()
            header, body = safetensors_parts(data)
            n = struct.unpack("<Q", data[:8])[0]
            for label, d in truncations(data, [0, 1, 7, 8, 9, n // 2, n + 7, n + 8, n + 9, len(data) // 2, len(data) - 1]):
                self.model_cases(kind, d, label, expect="fail")
            for count in (1, 4, 32):
                for i in range(2):
                    self.model_cases(kind, bitflips(data, rng, count, span=8 + n), f"header-bitflip{count}-{i}")
            self.model_cases(kind, bitflips(data, rng, 64), "body-bitflips")
            for value, label in [(2 ** 63, "len-2^63"), (2 ** 64 - 1, "len-max"), (len(data), "len-file"), (0, "len-0")]:
                self.model_cases(kind, struct.pack("<Q", value) + data[8:], label, expect="fail")
            tensors = [k for k in header if k != "__metadata__"]
            first = tensors[0]
            for label, edit in [
                ("shape-huge", lambda h: h[first].update(shape=[2 ** 31, 2 ** 31])),
                ("shape-2^62", lambda h: h[first].update(shape=[2 ** 62])),
                ("shape-negative", lambda h: h[first].update(shape=[-1, 4])),
                ("shape-float", lambda h: h[first].update(shape=[1.5])),
                ("shape-string", lambda h: h[first].update(shape="16")),
                ("shape-deep", lambda h: h[first].update(shape=[[1]])),
                ("offsets-beyond", lambda h: h[first].update(data_offsets=[0, 2 ** 40])),
                ("offsets-reversed", lambda h: h[first].update(data_offsets=list(reversed(h[first]["data_offsets"])))),
                ("offsets-overlap", lambda h: [h[t].update(data_offsets=h[first]["data_offsets"]) for t in tensors[1:2]]),
                ("dtype-F64", lambda h: h[first].update(dtype="F64")),
                ("dtype-unknown", lambda h: h[first].update(dtype="Q9")),
                ("dtype-F16", lambda h: h[first].update(dtype="F16")),
                ("tensor-missing", lambda h: h.pop(first)),
                ("tensor-extra", lambda h: h.update(extra={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})),
                ("metadata-not-strings", lambda h: h["__metadata__"].update(format=7)),
                ("metadata-missing", lambda h: h.pop("__metadata__")),
            ]:
                h = json.loads(json.dumps(header))
                edit(h)
                self.model_cases(kind, safetensors_bytes(h, body), label, expect="any" if label in ("dtype-F16", "tensor-extra") else "fail")
            # NaN weights: refused at load, naming the tensor.
            nan_body = bytearray(body)
            start = header[first]["data_offsets"][0]
            nan_body[start:start + 4] = struct.pack("<f", float("nan"))
            self.model_cases(kind, safetensors_bytes(header, bytes(nan_body), pad=False), "nan-weight", expect="fail")
            inf_body = bytearray(body)
            inf_body[start:start + 4] = struct.pack("<f", float("inf"))
            self.model_cases(kind, safetensors_bytes(header, bytes(inf_body), pad=False), "inf-weight", expect="fail")
            # Every metadata key with hostile values.
            for key in sorted(header.get("__metadata__", {})):
                if key in ("format", "synapse.version", "synapse.epochs", "synapse.test_accuracy", "synapse.test_mse"):
                    continue
                for value in ["", "0", "-1", "100000", "100000000", "4611686018427387904", "18446744073709551616",
                              "1e8", "nan", "inf", "abc", "[", "{}", "x" * 5000, "1,2,3", "784,0", "784,100000000"]:
                    h = json.loads(json.dumps(header))
                    h["__metadata__"][key] = value
                    self.model_cases(kind, safetensors_bytes(h, body), f"{key}={value[:20]}")

    def images(self):
        m = self.models["classifier"]

        def case(label, data, expect="fail", ext="png", pixels=0):
            # An image's real size is what decoding it must hold: libpng's grey+alpha bytes and the float pixels.
            p = self.write(f"image-{label}.{ext}", data)
            self.add("predict", f"image/{label}", ["predict", m, p], expect=expect, budget_bytes=len(data) + 6 * pixels)

        good = open(self.digit, "rb").read()
        for label, d in truncations(good, [0, 1, 8, 16, 33, 40, len(good) // 2, len(good) - 12, len(good) - 1]):
            # Without its last 12 bytes the file has lost only IEND, which libpng (like every viewer) does not need.
            case(label, d, expect="any" if len(d) >= len(good) - 12 else "fail")
        for i in range(12):
            case(f"bitflip-{i}", bitflips(good, self.rng, 1 + i), expect="any")
        for w, h in [(100000, 100000), (2 ** 31 - 1, 1), (1, 2 ** 31 - 1), (0, 28), (28, 0), (65536, 65536), (9000, 9000)]:
            case(f"declares-{w}x{h}", png(w, h, rows=b"\x00" * 64))
        case("huge-rows-real", png(4000, 4000), expect="any", pixels=4000 * 4000)
        for depth, color in [(16, 0), (1, 0), (2, 0), (4, 0), (8, 2), (16, 2), (8, 4), (8, 6), (16, 6)]:
            case(f"depth{depth}-color{color}", png(28, 28, depth, color), expect="ok")
        for depth, color in [(3, 0), (8, 1), (8, 7), (0, 0), (32, 0), (16, 3)]:
            case(f"invalid-depth{depth}-color{color}", png(28, 28, depth, color))
        case("palette-without-plte", png(28, 28, 8, 3))
        case("interlaced", png(28, 28, interlace=1), expect="any")
        case("idat-garbage", png(28, 28, idat=b"not zlib at all"))
        case("idat-empty", png(28, 28, idat=b""))
        case("no-iend", png(28, 28, iend=False), expect="any")
        case("bad-crc", good[:29] + b"\0\0\0\0" + good[33:])
        case("text-chunk", png(28, 28, extra=png_chunk(b"tEXt", b"Comment\0" + b"x" * 100000)), expect="ok")
        case("zlib-bomb", png(20000, 20000, rows=b"\x00" * (20001 * 20000)), expect="any")
        pgms = {
            "pgm-ascii": (b"P2\n3 2\n255\n0 128 255\n255 128 0\n", "ok"),
            "pgm-comment": (b"P2\n# hi\n2 2\n# there\n15\n0 5 10 15\n", "ok"),
            "pgm-16bit": (b"P5 2 2 65535\n" + b"\x00\x01" * 4, "ok"),
            "pgm-huge": (b"P5 100000 100000 255\n" + b"\0" * 100, "fail"),
            "pgm-2^62": (b"P5 4611686018427387904 4 255\n\0", "fail"),
            "pgm-negative": (b"P5 -4 4 255\n" + b"\0" * 16, "fail"),
            "pgm-maxval0": (b"P5 2 2 0\n\0\0\0\0", "fail"),
            "pgm-maxval70000": (b"P5 2 2 70000\n" + b"\0" * 8, "fail"),
            "pgm-short": (b"P5 28 28 255\n" + b"\0" * 100, "fail"),
            "pgm-ascii-short": (b"P2 3 3 255\n1 2 3\n", "fail"),
            "pgm-ascii-bad": (b"P2 2 2 255\n1 two 3 4\n", "fail"),
            "pgm-ascii-over": (b"P2 2 2 15\n1 99 3 4\n", "fail"),
            "pgm-empty-header": (b"P5", "fail"),
            "pgm-no-dims": (b"P5\n\n", "fail"),
            "ppm": (b"P6 2 2 255\n" + b"\0" * 12, "fail"),
            "pbm": (b"P4 8 1\n\0", "fail"),
            "pgm-zero": (b"P5 0 0 255\n", "fail"),
            "pgm-long-comment": (b"P2\n#" + b"x" * 1000000 + b"\n2 2 255\n1 2 3 4\n", "any"),
            "pgm-many-digits": (b"P5 " + b"0" * 100000 + b"2 2 255\n\0\0\0\0", "any"),
        }
        for label, (data, expect) in pgms.items():
            case(label, data, expect=expect, ext="pgm")
        for label, data in [("empty", b""), ("text", b"hello"), ("jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 100),
                            ("gzip", gzip.compress(b"x" * 1000)), ("safetensors", open(m, "rb").read()[:4096])]:
            case(f"not-an-image-{label}", data)
        self.add("predict", "image/directory", ["predict", m, self.path("inputs")], expect="fail")
        self.add("predict", "image/missing", ["predict", m, self.path("inputs", "nope.png")], expect="fail")
        self.add("predict", "image/dev-zero", ["predict", m, "/dev/zero"], expect="fail", timeout=20)

    def idx_files(self):
        images = open(os.path.join(self.small_mnist, "t10k-images-idx3-ubyte"), "rb").read()
        labels = open(os.path.join(self.small_mnist, "t10k-labels-idx1-ubyte"), "rb").read()

        def case(label, image_bytes=None, label_bytes=None, expect="fail", compress=False):
            d = self.path("inputs", f"idx-{label}", "x")[:-2]
            for name, data, default in [("t10k-images-idx3-ubyte", image_bytes, images),
                                        ("t10k-labels-idx1-ubyte", label_bytes, labels)]:
                data = default if data is None else data
                if compress:
                    with gzip.open(os.path.join(d, name + ".gz"), "wb") as f:
                        f.write(data)
                else:
                    with open(os.path.join(d, name), "wb") as f:
                        f.write(data)
            size = len(image_bytes or b"") + len(label_bytes or b"")
            self.add("eval", f"idx/{label}", ["eval", self.models["classifier"], "--data", d], expect=expect, budget_bytes=size)

        for label, d in truncations(images, [0, 3, 4, 15, 16, 17, 1000, len(images) - 1]):
            case(f"images-{label}", image_bytes=d)
        for label, d in truncations(labels, [0, 4, 7, 8, 100]):
            case(f"labels-{label}", label_bytes=d)
        body = images[16:]
        for dims, label in [([2 ** 31, 28, 28], "count-2^31"), ([200, 2 ** 20, 2 ** 20], "rows-2^20"), ([200, 28], "rank2"),
                            ([200, 28, 28, 1], "rank4"), ([0, 28, 28], "empty"), ([200, 14, 56], "shape-14x56"),
                            ([100, 28, 28], "fewer-than-labels"), ([2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1], "max")]:
            case(f"images-{label}", image_bytes=idx(dims, body), expect="any" if label == "fewer-than-labels" else "fail")
        for type_byte in (0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF):
            case(f"type-{type_byte:02x}", image_bytes=images[:2] + bytes([type_byte]) + images[3:])
        case("magic", image_bytes=b"\x01\x00" + images[2:])
        case("label-99", label_bytes=labels[:8] + bytes([99]) * 200)
        case("label-count", label_bytes=idx([150], labels[8:158]))
        case("gzip-ok", compress=True, expect="ok")
        case("gzip-bomb", image_bytes=idx([200, 28, 28], body) + b"\0" * 50_000_000, compress=True, expect="any")
        d = self.path("inputs", "idx-gzip-truncated", "x")[:-2]
        gz = gzip.compress(images)
        open(os.path.join(d, "t10k-images-idx3-ubyte.gz"), "wb").write(gz[: len(gz) // 2])
        open(os.path.join(d, "t10k-labels-idx1-ubyte"), "wb").write(labels)
        self.add("eval", "idx/gzip-truncated", ["eval", self.models["classifier"], "--data", d], expect="fail")
        d = self.path("inputs", "idx-gzip-garbage", "x")[:-2]
        open(os.path.join(d, "t10k-images-idx3-ubyte.gz"), "wb").write(b"\x1f\x8b\x08\x00" + os.urandom(64))
        open(os.path.join(d, "t10k-labels-idx1-ubyte"), "wb").write(labels)
        self.add("eval", "idx/gzip-garbage", ["eval", self.models["classifier"], "--data", d], expect="fail")
        for i in range(6):
            case(f"header-bitflip-{i}", image_bytes=bitflips(images, self.rng, 1 + i, span=16), expect="any")
        self.add("eval", "idx/missing-dir", ["eval", self.models["classifier"], "--data", self.path("inputs", "none")], expect="fail")

    def text_files(self):
        def case(label, data, expect="fail", extra=(), vocabulary=0):
            # The model's need grows with the vocabulary: logits and their gradients for 4 × 16 tokens, the embedding
            # with its gradient and two Adam moments (width 16).
            p = self.write(f"text-{label}.txt", data)
            self.add("text", f"text/{label}", ["train", "text", "--model", "gpt", "--iterations", "2", "--embedding", "16",
                                               "--layers", "1", "--heads", "2", "--block", "16", "--batch-size", "4",
                                               "--data", p, "--out", self.path("out", f"text-{label}"),
                                               "--eval-interval", "2", "--eval-batches", "1", *extra],
                     expect=expect, budget_bytes=len(data) * 16 + vocabulary * 4 * (64 * 8 + 16 * 4))

        case("empty", b"")
        case("one-char", b"a")
        case("shorter-than-block", b"abcdefgh")
        case("exactly-block", b"x" * 17, expect="any")
        case("invalid-utf8", b"abc\xff\xfe" * 100)
        case("nul-bytes", b"\0" * 1000, expect="any")
        case("bom", b"\xef\xbb\xbf" + b"hello world " * 100, expect="ok")
        case("crlf", b"hello\r\nworld\r\n" * 100, expect="ok")
        case("emoji", "🙂🙃 " .encode() * 400, expect="ok")
        case("many-distinct", "".join(chr(0x4E00 + i) for i in range(20000)).encode(), expect="any", vocabulary=20000)
        case("utf16", "hello world".encode("utf-16"), expect="any")
        case("surrogates", b"\xed\xa0\x80" * 50)
        case("binary", bytes(self.rng.randrange(256) for _ in range(5000)))
        self.add("text", "text/directory", ["train", "text", "--data", self.path("inputs"), "--iterations", "1",
                                            "--out", self.path("out", "text-dir")], expect="fail")
        self.add("text", "text/dev-zero", ["train", "text", "--data", "/dev/zero", "--iterations", "1",
                                           "--out", self.path("out", "text-zero")], expect="fail", timeout=30)
        good = open(self.corpus, "rb").read()
        for label, extra in [("heads-0", ["--heads", "0"]), ("heads-3", ["--heads", "3"]), ("block-0", ["--block", "0"]),
                             ("block-huge", ["--block", "100000000"]), ("block-data", ["--block", "19999"]),
                             ("batch-0", ["--batch-size", "0"]), ("batch-2^63", ["--batch-size", "9223372036854775807"]),
                             ("iterations-0", ["--iterations", "0"]), ("lr-nan", ["--lr", "nan"]), ("lr-inf", ["--lr", "inf"]),
                             ("lr-1e30", ["--lr", "1e30"]), ("clip-negative", ["--clip", "-1"]),
                             ("embedding-huge", ["--embedding", "1000000"]), ("layers-huge", ["--layers", "100000"]),
                             ("eval-batches-0", ["--eval-batches", "0"]), ("warmup-huge", ["--warmup", "9223372036854775807"]),
                             ("weight-decay-nan", ["--weight-decay", "nan"]), ("min-lr-negative", ["--min-lr", "-1"])]:
            # A warm-up longer than the run is legal (the rate never reaches its peak), as in PyTorch's schedulers.
            expect = "any" if label in ("lr-1e30", "warmup-huge") else "fail"
            p = self.write("text-good.txt", good)
            self.add("text", f"text/{label}", ["train", "text", "--model", "gpt", "--iterations", "2", "--embedding", "16",
                                               "--layers", "1", "--heads", "2", "--block", "16", "--batch-size", "4",
                                               "--data", p, "--out", self.path("out", f"text-{label}"), "--eval-interval", "2",
                                               "--eval-batches", "1", *extra], expect=expect)

    def graphs(self):
        nodes = open(os.path.join(KARATE, "nodes.csv")).read()
        edges = open(os.path.join(KARATE, "edges.csv")).read()

        def case(label, node_text=None, edge_text=None, expect="fail", extra=(), budget_bytes=0):
            d = self.path("inputs", f"graph-{label}", "x")[:-2]
            for name, text, default in [("nodes.csv", node_text, nodes), ("edges.csv", edge_text, edges)]:
                if text is not False:
                    with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
                        f.write(default if text is None else text)
            self.add("gcn", f"graph/{label}", ["train", "gcn", "--graph", d, "--epochs", "5", "--seeds", "1",
                                               "--out", self.path("out", f"gcn-{label}"), *extra],
                     expect=expect, budget_bytes=budget_bytes)

        header, *rows = nodes.strip().split("\n")
        edge_header, *edge_rows = edges.strip().split("\n")
        case("ok", expect="ok")
        case("no-nodes-file", node_text=False)
        case("no-edges-file", edge_text=False)
        case("empty-nodes", node_text="")
        case("header-only", node_text=header + "\n")
        case("empty-edges", edge_text="", expect="any")
        case("edges-header-only", edge_text=edge_header + "\n", expect="any")
        case("unknown-node-in-edge", edge_text=edges + "0,999999\n")
        case("self-loop", edge_text=edges + f"{rows[0].split(',')[0]},{rows[0].split(',')[0]}\n", expect="any")
        case("duplicate-edge", edge_text=edges + edge_rows[0] + "\n", expect="any")
        case("duplicate-node", node_text=nodes + rows[0] + "\n")
        case("short-row", node_text=nodes + "77\n")
        case("long-row", node_text=nodes + rows[0] + ",1,2,3\n")
        case("edge-short-row", edge_text=edges + "1\n")
        case("quoted", node_text=nodes.replace(header, ",".join(f'"{c}"' for c in header.split(","))), expect="any")
        case("unterminated-quote", node_text=nodes + '"abc,1\n')
        case("nan-feature", node_text="\n".join([header] + [rows[0].replace(rows[0].split(",")[1], "nan", 1)] + rows[1:]) + "\n", expect="any")
        case("no-label-column", node_text="\n".join(",".join(r.split(",")[:-1]) for r in [header] + rows) + "\n", expect="any")
        case("no-labelled", node_text="\n".join([header] + [",".join(r.split(",")[:-1] + [""]) for r in rows]) + "\n")
        case("all-labelled", expect="any", extra=["--train-nodes", ",".join(r.split(",")[0] for r in rows)])
        case("train-nodes-unknown", extra=["--train-nodes", "nosuchnode"])
        case("hidden-0", extra=["--hidden", "0"])
        case("hidden-huge", extra=["--hidden", "100000000"])
        case("hidden-garbage", extra=["--hidden", "4,,x"])
        case("epochs-2^63", extra=["--epochs", "9223372036854775807"])
        case("seeds-0", extra=["--seeds", "0"])
        case("lr-nan", extra=["--lr", "nan"])
        case("lr-1e30", extra=["--lr", "1e30"], expect="any")
        case("crlf", node_text=nodes.replace("\n", "\r\n"), edge_text=edges.replace("\n", "\r\n"), expect="any")
        case("bom", node_text="\ufeff" + nodes, expect="any")
        case("nul-in-id", node_text=nodes + "a\0b,0\n", expect="any")
        big = 100_000
        node_lines = ["id,label"] + [f"n{i},{i % 3 if i % 10 == 0 else ''}" for i in range(big)]
        edge_lines = ["source,target"] + [f"n{i},n{(i * 7 + 1) % big}" for i in range(big)]
        nt, et = "\n".join(node_lines) + "\n", "\n".join(edge_lines) + "\n"
        case("100k-nodes-no-features", node_text=nt, edge_text=et, expect="any", extra=["--epochs", "2"],
             budget_bytes=(len(nt) + len(et)) * 40)

    def expressions(self):
        def case(label, expr, bindings="a=1", expect="fail", fmt="dot", timeout=60):
            # Real size: the Value graph and its DOT text, a few hundred bytes per character of the expression; for
            # SVG the peak includes Graphviz's own layout (the reaped child counts), budgeted at 8 KB per character.
            per_character = 512 if fmt == "dot" else 8192
            self.add("expression", f"expr/{label}", ["graph", "--example", "expression", "--expr", expr, "--set", bindings,
                                                     "--format", fmt, "--out", self.path("out", f"expr-{label}.{fmt}")],
                     expect=expect, timeout=timeout, budget_bytes=per_character * (len(expr) + len(bindings)))

        case("ok", "a*2", expect="ok")
        case("empty", "")
        case("spaces", "   ")
        case("unbalanced", "((a)")
        case("closing", "a)")
        case("deep-parens", "(" * 10000 + "a" + ")" * 10000)
        case("deep-unary", "-" * 10000 + "a")
        case("deep-power", "a" + "^a" * 5000)
        case("deep-functions", "exp(" * 5000 + "a" + ")" * 5000)
        case("depth-100", "(" * 100 + "a" + ")" * 100, expect="ok")
        case("depth-101", "(" * 101 + "a" + ")" * 101)
        case("unknown-var", "a*b")
        case("unknown-function", "foo(a)")
        case("variable-exponent", "a^a")
        case("huge-number", "1" * 400 + "*a", expect="any")
        case("nan-literal", "nan*a")
        case("division-by-zero", "a/0", expect="any")
        case("log-negative", "log(-a)", expect="any")
        case("exp-overflow", "exp(1000*a)", expect="any")
        case("unicode", "α*a")
        case("nul", "a\x01b")
        case("long-sum", "+".join(["a"] * 20000), expect="any")
        many = ",".join(f"v{i}={i}" for i in range(8000))
        case("8000-variables-dot", "+".join(f"v{i}" for i in range(8000)), bindings=many, expect="any")
        case("8000-variables-svg", "+".join(f"v{i}" for i in range(8000)), bindings=many, expect="any", fmt="svg", timeout=90)
        for label, bindings in [("binding-empty", ""), ("binding-no-equals", "a"), ("binding-nan", "a=nan"),
                                ("binding-inf", "a=inf"), ("binding-bad-name", "1a=2"), ("binding-huge", "a=1e400"),
                                ("binding-duplicate", "a=1,a=2"), ("binding-garbage", "a=1=2")]:
            case(label, "a+1", bindings=bindings, expect="any" if label in ("binding-huge", "binding-duplicate") else "fail")

    def gguf_files(self):
        data = open(self.gguf, "rb").read()

        def case(label, d, expect="fail", container="fail"):
            # `container`: what inspect and tokenize should do — they need the metadata, not the tensors.
            p = self.write(f"gguf-{label}.gguf", d)
            self.add("gguf", f"gguf/{label}", ["inspect", p], expect=container if expect == "fail" else expect,
                     budget_bytes=len(d))
            self.add("gguf", f"gguf/{label}/generate", ["generate", "--model", p, "--prompt", "hi", "--tokens", "4"],
                     expect=expect, budget_bytes=len(d))
            self.add("gguf", f"gguf/{label}/tokenize", ["tokenize", "--model", p, "hello world"],
                     expect=container if expect == "fail" else expect, budget_bytes=len(d))

        for label, d in truncations(data, [0, 3, 4, 8, 16, 24, 100, 1000, len(data) // 2, len(data) - 1]):
            case(label, d)
        case("bad-magic", b"GGUX" + data[4:])
        for version in (0, 1, 4, 0xFFFFFFFF):
            case(f"version-{version}", data[:4] + struct.pack("<I", version) + data[8:])
        for label, offset in [("tensor-count", 8), ("kv-count", 16)]:
            for value in (2 ** 63, 2 ** 40, 0):
                # No tensors is a valid container (inspect shows it; the tokenizer is all metadata).
                case(f"{label}-{value}", data[:offset] + struct.pack("<Q", value) + data[offset + 8:],
                     container="any" if (label, value) == ("tensor-count", 0) else "fail")
        # The first key's string length, then its value type.
        case("key-length-huge", data[:24] + struct.pack("<Q", 2 ** 62) + data[32:])
        key_len = struct.unpack("<Q", data[24:32])[0]
        value_at = 32 + key_len
        for t in (13, 255, 9):
            case(f"value-type-{t}", data[:value_at] + struct.pack("<I", t) + data[value_at + 4:])
        for i in range(20):
            case(f"bitflip-{i}", bitflips(data, self.rng, 1 + i % 5, span=4096), expect="any")
        for i in range(4):
            case(f"body-bitflip-{i}", bitflips(data, self.rng, 16), expect="any")

        # Hand-made files: a metadata array that declares 2^40 strings, nesting beyond the limit.
        def header(kvs, tensors=0):
            return b"GGUF" + struct.pack("<IQQ", 3, tensors, len(kvs)) + b"".join(kvs)

        case("array-2^40", header([gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2 ** 40)]))
        nested = gguf_string("x") + struct.pack("<I", 9) + b"".join(struct.pack("<IQ", 9, 1) for _ in range(100)) + struct.pack("<IQ", 4, 0)
        case("nested-100", header([nested]))
        case("empty-valid-header", header([]), container="any")
        case("tensor-dims-huge", b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + gguf_string("t") +
             struct.pack("<I", 2) + struct.pack("<QQ", 2 ** 40, 2 ** 40) + struct.pack("<IQ", 0, 0))
        case("tensor-rank-9", b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + gguf_string("t") +
             struct.pack("<I", 9) + struct.pack("<9Q", *[1] * 9) + struct.pack("<IQ", 0, 0))
        self.add("gguf", "gguf/directory", ["inspect", self.path("inputs")], expect="fail")
        self.add("gguf", "gguf/dev-zero", ["inspect", "/dev/zero"], expect="fail", timeout=20)

    def bert_folders(self):
        if not os.path.isdir(MINILM):
            print(f"(no MiniLM folder at {MINILM}: BERT cases skipped; scripts/setup.sh --models fetches it)")
            return
        config = json.load(open(os.path.join(MINILM, "config.json")))
        vocab = open(os.path.join(MINILM, "vocab.txt"), encoding="utf-8").read()

        def case(label, config_text=None, vocab_text=None, expect="fail"):
            d = self.path("inputs", f"bert-{label}", "x")[:-2]
            for name in os.listdir(MINILM):
                src = os.path.join(MINILM, name)
                if name not in ("config.json", "vocab.txt") and not os.path.exists(os.path.join(d, name)):
                    os.symlink(src, os.path.join(d, name))
            with open(os.path.join(d, "config.json"), "w") as f:
                f.write(json.dumps(config) if config_text is None else config_text)
            with open(os.path.join(d, "vocab.txt"), "w", newline="") as f:
                f.write(vocab if vocab_text is None else vocab_text)
            self.add("embed", f"bert/{label}", ["embed", "--model", d, "hello world"], expect=expect)

        case("ok", expect="ok")
        for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
                    "max_position_embeddings", "type_vocab_size"):
            for value in (0, -1, 100000, 2 ** 62, 1.5, "384", None, 1e300):
                c = dict(config)
                c[key] = value
                case(f"{key}={value}", config_text=json.dumps(c))
        # A duplicate key is judged as Python's json (what transformers uses) would: the last wins, or a clear refusal.
        case("config-duplicate-key", config_text=json.dumps(config)[:-1] + ', "hidden_size": 384}', expect="any")
        for label, text in [("empty", ""), ("number", "8.5"), ("array", "[]"), ("truncated", json.dumps(config)[:40]),
                            ("deep", "[" * 100000 + "]" * 100000),
                            ("nan", json.dumps(config).replace(str(config["layer_norm_eps"]), "NaN")),
                            ("huge-string", json.dumps(dict(config, hidden_act="x" * 1000000)))]:
            case(f"config-{label}", config_text=text)
        case("vocab-crlf", vocab_text=vocab.replace("\n", "\r\n"), expect="ok")
        case("vocab-empty", vocab_text="")
        case("vocab-no-unk", vocab_text=vocab.replace("[UNK]", "[UNKNOWN]"))
        case("vocab-short", vocab_text="\n".join(vocab.split("\n")[:100]))

    def finetune_argv(self, data, label, extra=()):
        return ["finetune", "--model", self.gguf, "--data", data, "--steps", "2", "--batch-size", "2", "--rank", "2",
                "--targets", "q,v", "--no-answers", "--out", self.path("out", f"ft-{label}"), *extra]

    def chat_files(self):
        """JSONL chat data for finetune: each bad line named with why, nothing trained on."""
        good = open(self.chat, "rb").read()
        line = lambda messages: json.dumps({"messages": messages}).encode() + b"\n"

        def case(label, data, expect="fail"):
            p = self.write(f"chat-{label}.jsonl", data)
            self.add("finetune", f"chat/{label}", self.finetune_argv(p, label), expect=expect, budget_bytes=len(data) * 16)

        case("empty", b"")
        case("blank-lines", b"\n \n\t\n")
        case("crlf", good.replace(b"\n", b"\r\n"), expect="ok")
        case("no-final-newline", good.rstrip(b"\n"), expect="ok")
        case("extra-keys", line([{"role": "user", "content": "a", "name": "x"}, {"role": "assistant", "content": "b"}]) * 3, expect="ok")
        case("bom", b"\xef\xbb\xbf" + good)
        case("invalid-utf8", good[:40] + b"\xff\xfe" + good[40:])
        case("truncated-line", good + good[:30])
        case("not-json", good + b"hello\n")
        case("array-line", good + b"[1, 2, 3]\n")
        case("no-messages", good + b'{"text": "hi"}\n')
        case("messages-string", good + b'{"messages": "hi"}\n')
        case("messages-empty", good + b'{"messages": []}\n')
        case("no-assistant", good + line([{"role": "user", "content": "a"}]))
        case("unknown-role", good + line([{"role": "tool", "content": "a"}, {"role": "assistant", "content": "b"}]))
        case("content-number", good + b'{"messages": [{"role": "assistant", "content": 3}]}\n')
        case("content-null", good + b'{"messages": [{"role": "assistant", "content": null}]}\n')
        case("role-missing", good + b'{"messages": [{"content": "b"}]}\n')
        case("duplicate-key", good + b'{"messages": [], "messages": []}\n')
        case("nesting-10000", good + b'{"messages": ' + b"[" * 10000 + b"]" * 10000 + b"}\n")
        case("longer-than-context", line([{"role": "user", "content": "word " * 400}, {"role": "assistant", "content": "b"}]))
        case("huge-line", line([{"role": "user", "content": "x" * 2_000_000}, {"role": "assistant", "content": "b"}]))
        case("nul-bytes", b"\0" * 1000)
        case("binary", bytes(self.rng.randrange(256) for _ in range(5000)))
        case("unicode", line([{"role": "user", "content": "héllo 🙂 日本"}, {"role": "assistant", "content": "ok ✓"}]) * 3, expect="ok")
        case("one-conversation", line([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]), expect="ok")
        self.add("finetune", "chat/directory", self.finetune_argv(self.path("inputs"), "dir"), expect="fail")
        self.add("finetune", "chat/dev-zero", self.finetune_argv("/dev/zero", "zero"), expect="fail", timeout=30)
        self.add("finetune", "chat/missing", self.finetune_argv(self.path("inputs", "nope.jsonl"), "missing"), expect="fail")
        self.add("finetune", "chat/held-out-bad", self.finetune_argv(self.chat, "held", ["--held-out", self.write("h.jsonl", b"[]\n")]),
                 expect="fail")
        self.add("finetune", "chat/resume-nothing", self.finetune_argv(self.chat, "never", ["--resume"]), expect="fail")
        self.add("finetune", "chat/model-without-template", ["finetune", "--model", TINY_GGUF, "--data", self.chat, "--steps", "1",
                                                              "--out", self.path("out", "ft-notemplate")], expect="fail")
        for label, extra in [("rank-0", ["--rank", "0"]), ("rank-huge", ["--rank", "100000"]), ("alpha-nan", ["--alpha", "nan"]),
                             ("alpha-0", ["--alpha", "0"]), ("targets-bad", ["--targets", "q,x"]), ("targets-empty", ["--targets", ""]),
                             ("dropout-1", ["--dropout", "1"]), ("lr-inf", ["--lr", "inf"]), ("steps-0", ["--steps", "0"]),
                             ("steps-2^63", ["--steps", "9223372036854775807"]), ("batch-0", ["--batch-size", "0"]),
                             ("accumulate-huge", ["--accumulate", "9223372036854775807"]), ("max-tokens-0", ["--max-tokens", "0"]),
                             ("held-out-1", ["--held-out-fraction", "1"]), ("warmup-negative", ["--warmup", "-1"]),
                             ("base-nosuch", ["--base", "nosuch"]), ("lr-1e30", ["--lr", "1e30"])]:
            # lr 1e30 is legal: its first step makes B ~1e30, RMSNorm then flattens the overflowing residual stream
            # and the loss stays finite (log V), as in the text family; a non-finite loss would stop the run.
            self.add("finetune", f"option/{label}", self.finetune_argv(self.chat, label, extra),
                     expect="any" if label == "lr-1e30" else "fail")

    def adapter_folders(self):
        """PEFT adapter folders for chat/generate --adapter and export: refused before anything runs, one line each."""
        config = json.load(open(os.path.join(PEFT, "adapter_config.json")))
        weights = open(os.path.join(PEFT, "adapter_model.safetensors"), "rb").read()
        header, body = safetensors_parts(weights)

        def case(label, cfg, data, expect="fail"):
            folder = self.path("inputs", f"adapter-{label}", "x")[:-2]
            with open(os.path.join(folder, "adapter_config.json"), "w") as f:
                f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
            with open(os.path.join(folder, "adapter_model.safetensors"), "wb") as f:
                f.write(data)
            self.add("adapter", f"adapter/{label}", ["generate", "--model", self.gguf, "--adapter", folder, "--prompt", "hi",
                                                      "--tokens", "2"], expect=expect, budget_bytes=len(data))
            self.add("adapter", f"adapter/{label}/export", ["export", "--model", self.gguf, "--adapter", folder, "--out",
                                                             self.path("out", f"merged-{label}.gguf")], expect=expect,
                     budget_bytes=len(data))

        case("valid", config, weights, expect="ok")
        for label, d in truncations(weights, [0, 7, 8, 100, len(weights) // 2, len(weights) - 1]):
            case(label, config, d)
        for key, value in [("r", 8), ("r", 0), ("r", -1), ("r", 2 ** 62), ("r", 1.5), ("r", "4"), ("lora_alpha", "x"),
                           ("lora_alpha", 1e300), ("use_dora", True), ("use_rslora", True), ("bias", "all"),
                           ("peft_type", "IA3"), ("lora_dropout", 2), ("rank_pattern", {"q_proj": 2}), ("fan_in_fan_out", True)]:
            cfg = dict(config)
            cfg[key] = value
            case(f"config-{key}-{value}"[:60], cfg, weights)
        case("config-not-json", "{r: 4", weights)
        case("config-array", "[]", weights)
        case("config-missing-r", {k: v for k, v in config.items() if k != "r"}, weights)
        first = sorted(k for k in header if k != "__metadata__")[0]
        for label, mutate in [("missing-B", lambda h: h.pop(first.replace("lora_A", "lora_B"), None)),
                              ("layer-99", lambda h: h.__setitem__(first.replace("layers.0.", "layers.99."), h.pop(first))),
                              ("unknown-module", lambda h: h.__setitem__(first.replace("down_proj", "mystery"), h.pop(first))),
                              ("wrong-shape", lambda h: h[first].__setitem__("shape", [h[first]["shape"][1], h[first]["shape"][0]]))]:
            h = json.loads(json.dumps(header))
            mutate(h)
            case(label, config, safetensors_bytes(h, body))
        nan_body = bytearray(body)
        nan_body[header[first]["data_offsets"][0]:header[first]["data_offsets"][0] + 4] = struct.pack("<f", float("nan"))
        case("nan-weight", config, safetensors_bytes(header, bytes(nan_body), pad=False))
        self.add("adapter", "adapter/missing", ["chat", "--model", self.gguf, "--adapter", self.path("inputs", "none")], expect="fail")
        self.add("adapter", "adapter/export-type-bad", ["export", "--model", self.gguf, "--adapter", PEFT, "--type", "q3_k",
                                                         "--out", self.path("out", "m.gguf")], expect="fail")
        self.add("adapter", "adapter/export-into-dir", ["export", "--model", self.gguf, "--adapter", PEFT,
                                                         "--out", self.path("inputs")], expect="fail")
        self.add("adapter", "adapter/for-a-char-model", ["generate", self.models["gpt"], "--adapter", PEFT], expect="fail")

    def cli_values(self):
        m = self.models
        hostile = ["0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "nan", "inf",
                   "-inf", "1e308", "abc", "", "0x10", "1.5"]
        commands = [
            ("train-mnist", ["train", "mnist", "--model", "seed", "--data", self.small_mnist, "--out", self.path("out", "cli-mnist")],
             ["--epochs", "--batch-size", "--lr", "--seed", "--checkpoint-every"]),
            ("train-ae", ["train", "autoencoder", "--data-dir", self.small_mnist, "--out", self.path("out", "cli-ae")],
             ["--epochs", "--batch-size", "--lr", "--noise", "--checkpoint-every"]),
            ("train-rl", ["train", "rl", "--out", self.path("out", "cli-rl")], ["--timesteps", "--envs", "--lr", "--eval-episodes"]),
            ("generate", ["generate", m["gpt"], "--prompt", "RO"], ["--tokens", "--temperature", "--top-k"]),
            ("gguf-generate", ["generate", "--model", self.gguf, "--prompt", "hi"],
             ["--tokens", "--temperature", "--top-p", "--min-p", "--repeat-penalty", "--top-k"]),
            ("quantize", ["quantize", m["classifier"], "--scheme", "int8-absmax", "--data", self.small_mnist, "--out",
                          self.path("out", "cli-q.safetensors")], ["--calibrate", "--percentile"]),
            ("inspect", ["inspect", self.gguf], ["--array-limit"]),
            # Outside mpirun the flag fails with how to launch; the values are checked before that.
            ("bench-ddp", ["bench", "ddp", "--distributed"], ["--epochs", "--iterations", "--bucket-mb"]),
            ("train-mnist-limit", ["train", "mnist", "--model", "seed", "--data", self.small_mnist, "--epochs", "1",
                                   "--out", self.path("out", "cli-limit")], ["--train-limit"]),
            # The server's model file does not exist, so a value the options accept ends in a load error, never in a
            # server that waits for requests.
            ("serve", ["serve", "--llm", self.path("inputs", "none.gguf")],
             ["--port", "--streams", "--queue", "--max-tokens", "--max-body-bytes", "--timeout"]),
        ]
        for family, base, options in commands:
            for option in options:
                for value in hostile:
                    # Values that are valid for some options (0 top-k, 1.5 temperature) may succeed; the rest must fail
                    # fast. Either way: no crash, no hang, a message.
                    self.add("cli", f"{family}{option}={value}", base + [option, value], timeout=60)
        for argv in (["train", "mnist", "--model", "nosuch"], ["train", "mnist", "--optimizer", "nosuch"],
                     ["train", "text", "--model", "nosuch"], ["quantize", m["classifier"], "--scheme", "int3", "--out", "x"],
                     ["nosuchcommand"], ["predict"], ["predict", m["classifier"]], ["eval"],
                     ["generate", "--prompt", "x"], ["lesson", "nosuch"], ["play", "--env", "nosuch"],
                     ["train", "rl", "--env", "nosuch"], ["train", "rl", "--algorithm", "nosuch"],
                     ["embed", "--model", self.path("inputs")], ["similarity", "--model", self.path("inputs"), "a", "b"],
                     ["tokenize", "--model", self.gguf, "x", "--format", "nosuch"],
                     ["serve"], ["serve", "--adapter", PEFT], ["serve", "--host", "0.0.0.0", "--llm", self.gguf],
                     ["serve", "--classifier", self.gguf], ["serve", "--embedder", self.path("inputs")],
                     ["serve", "--llm", m["gpt"]], ["serve", "--llm", self.gguf, "--adapter", self.path("inputs")],
                     ["train", "mnist", "--data", self.path("inputs", "none")],
                     ["train", "mnist", "--distributed", "--out", self.path("out", "not-launched")],
                     ["train", "text", "--distributed", "--out", self.path("out", "not-launched")],
                     ["bench", "ddp", "--workload", "nosuch"],
                     ["train", "mnist", "--precision", "fp8"], ["generate", "--model", self.gguf, "--precision", "int3", "--prompt", "x"],
                     ["train", "mnist", "--resume", "--out", self.path("out", "never-ran")],
                     ["train", "text", "--resume", "--out", self.path("out", "never-ran")],
                     ["train", "text", "--init", m["classifier"], "--iterations", "1", "--out", self.path("out", "init-wrong")],
                     ["train", "mnist", "--from", m["gpt"], "--epochs", "1", "--data", self.small_mnist, "--out", self.path("out", "from-wrong")],
                     ["train", "mnist", "--from", m["classifier"], "--model", "mlp", "--epochs", "1", "--data", self.small_mnist,
                      "--out", self.path("out", "from-mismatch")]):
            self.add("cli", "argv/" + " ".join(argv[:3]), argv, expect="fail")

    def output_paths(self):
        """Output paths that are not regular files: written into (devices) or refused, never replaced."""
        def node(label, kind):
            p = self.path("outputs", label)
            if os.path.lexists(p):
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.remove(p)
            if kind == "chardev":
                os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null twin
            elif kind == "fifo":
                os.mkfifo(p)
            elif kind == "dir":
                os.makedirs(p)
            elif kind == "symlink-dir":
                os.symlink(self.path("outputs"), p)
            elif kind == "dangling":
                os.symlink(self.path("outputs", "nowhere", "x"), p)
            return p

        def kept(p, kind):
            def check():
                mode = os.lstat(p).st_mode
                expected = {"chardev": stat.S_ISCHR, "fifo": stat.S_ISFIFO, "dir": stat.S_ISDIR,
                            "symlink-dir": stat.S_ISLNK, "dangling": stat.S_ISLNK}[kind]
                return None if expected(mode) else f"{kind} at the output path was replaced"
            return check

        m = self.models
        baselines = {"graph": "expression", "graph-svg": "expression", "quantize": "quantize", "embed": "embed",
                     "play": "play", "anomaly-histogram": "eval", "train-mnist-out": "eval", "train-text-out": "text"}
        writers = [
            ("graph", lambda p: ["graph", "--example", "neuron", "--format", "dot", "--out", p]),
            ("graph-svg", lambda p: ["graph", "--example", "neuron", "--format", "svg", "--out", p]),
            ("quantize", lambda p: ["quantize", m["classifier"], "--scheme", "fp16", "--data", self.small_mnist, "--out", p]),
            ("embed", lambda p: ["embed", "--model", MINILM, "hello", "--output", p]),
            ("play", lambda p: ["play", "--model", m["policy"], "--out", p]),
            ("anomaly-histogram", lambda p: ["anomaly", m["autoencoder"], "--normal-dir", self.small_mnist, "--test-dir",
                                             self.small_mnist, "--histogram", p]),
            ("train-mnist-out", lambda p: ["train", "mnist", "--model", "seed", "--epochs", "1", "--data", self.small_mnist,
                                           "--out", p]),
            ("train-text-out", lambda p: ["train", "text", "--model", "gpt", "--iterations", "2", "--embedding", "16",
                                          "--layers", "1", "--heads", "2", "--block", "16", "--batch-size", "4", "--data",
                                          self.corpus, "--eval-interval", "2", "--eval-batches", "1", "--out", p]),
        ]
        for writer, make in writers:
            if writer == "embed" and not os.path.isdir(MINILM):
                continue
            for kind in ("chardev", "dir", "symlink-dir", "dangling"):
                label = f"{writer}-{kind}"
                p = node(label, kind)
                expect = "any"
                self.add("outputs", f"out/{label}", make(p), expect=expect, check=kept(p, kind), baseline=baselines[writer])
            # A path below a regular file, and a file we must not touch when the run fails early.
            blocker = self.path("outputs", f"{writer}-file")
            open(blocker, "w").write("keep me")
            self.add("outputs", f"out/{writer}-below-file", make(os.path.join(blocker, "x")), expect="fail",
                     baseline=baselines[writer], check=lambda b=blocker: None if open(b).read() == "keep me" else f"{b} changed")
        # FIFO outputs with a reader: the bytes go into the pipe.
        # (Without a reader an open for writing blocks, as it does for any program; the suite does not test that.)

    # Phase 3: run and report.
    def execute(self, only):
        cases = [c for c in self.cases if not only or c.family in only]

        def go(case):
            case.result = run(case.argv, case.timeout, self.work)
            return case

        with ThreadPoolExecutor(self.jobs) as pool:
            done = 0
            for _ in pool.map(go, cases):
                done += 1
                if sys.stderr.isatty():
                    print(f"\r{done}/{len(cases)}", end="", file=sys.stderr)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        return cases

    def judge(self, case):
        r = case.result
        problems = []
        last = [line for line in r.stderr.splitlines() if line.strip()]
        if r.timed_out:
            problems.append("timeout")
        elif r.signal is not None:
            problems.append(f"crash (signal {r.signal})")
        elif "Fatal error" in r.stderr or "Stack dump" in r.stderr or "Illegal instruction" in r.stderr:
            problems.append("crash (runtime trap)")
        elif r.code != 0 and not last:
            problems.append("non-zero exit without a message")
        elif r.code != 0 and ("Error Domain=" in r.stderr or "UserInfo=" in r.stderr):
            problems.append("raw Foundation error")
        elif r.code != 0 and len(message_lines(r.stderr)) > 1:
            problems.append("message of more than one line")
        elif r.code == 0 and case.expect == "fail":
            problems.append("exit 0 on invalid input")
        elif r.code != 0 and case.expect == "ok":
            problems.append("refused valid input")
        baseline = self.baselines.get(case.baseline, self.baselines["cli"])
        budget = 2 * baseline + 2 * case.budget_bytes // 1024
        if r.rss_kb > budget:
            problems.append(f"peak memory {r.rss_kb // 1024} MB > budget {budget // 1024} MB")
        if case.check:
            problem = case.check()
            if problem:
                problems.append(problem)
        return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated families")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print every case's last stderr line")
    args = parser.parse_args()
    if not args.no_build:
        traits = subprocess.run([os.path.join(ROOT, "scripts/swift-traits")], capture_output=True, text=True).stdout.split()
        subprocess.run(["swift", "build", "-c", "release", "--product", "synapse"] + traits, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="synapse-hostile-")
    os.chdir(work)
    if not os.path.exists("/usr/bin/time"):
        sys.exit("the suite measures peak memory with GNU time: apt-get install time")
    suite = Suite(work, args.jobs)
    try:
        started = time.monotonic()
        suite.prepare()
        suite.build()
        if args.list:
            families = {}
            for c in suite.cases:
                families[c.family] = families.get(c.family, 0) + 1
            for family, count in families.items():
                print(f"{family:12} {count}")
            print(f"{'total':12} {len(suite.cases)}")
            return 0
        only = set(filter(None, args.only.split(",")))
        cases = suite.execute(only)
        failures, counts = [], {}
        for case in cases:
            problems = suite.judge(case)
            for p in problems:
                key = p.split(" (")[0] if not p.startswith("peak memory") else "memory over budget"
                counts[key] = counts.get(key, 0) + 1
            if problems:
                failures.append((case, problems))
            if args.verbose:
                last = [line for line in case.result.stderr.splitlines() if line.strip()]
                print(f"{case.result.code!s:>4} {case.result.rss_kb // 1024:5} MB {case.result.seconds:6.2f} s  "
                      f"{case.family}/{case.name[:60]}: {last[0][:140] if last else ''}")
        peak = max(cases, key=lambda c: c.result.rss_kb)
        families = sorted({c.family for c in cases})
        print(f"\nhostile-input suite: {len(cases)} cases in {len(families)} families "
              f"({', '.join(families)}), {time.monotonic() - started:.0f} s")
        for label in ("crash", "timeout", "non-zero exit without a message", "raw Foundation error",
                      "message of more than one line",
                      "exit 0 on invalid input", "refused valid input", "memory over budget"):
            print(f"  {label:34} {counts.get(label, 0)}")
        others = {k: v for k, v in counts.items() if k not in ("crash", "timeout", "non-zero exit without a message",
                                                              "message of more than one line",
                                                              "raw Foundation error", "exit 0 on invalid input",
                                                              "refused valid input", "memory over budget")}
        for label, count in others.items():
            print(f"  {label:34} {count}")
        print(f"  peak memory: {peak.result.rss_kb // 1024} MB ({peak.family}/{peak.name}); "
              f"baselines (MB): " + ", ".join(f"{k} {v // 1024}" for k, v in sorted(suite.baselines.items())))
        for case, problems in failures:
            last = [line for line in case.result.stderr.splitlines() if line.strip()]
            print(f"FAIL {case.family}/{case.name}: {'; '.join(problems)}\n     synapse {' '.join(a[:80] for a in case.argv)}"
                  f"\n     {last[-1][:300] if last else '(no stderr)'}")
        return 1 if failures else 0
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

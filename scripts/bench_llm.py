"""Synapse beside llama.cpp on the same GGUF file, back to back in one run: load time, prompt tokens/s, generated tokens/s.

usage: python3 scripts/bench_llm.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf] [--prompt-tokens 128] [--generate 64]

The llama.cpp side (this file run with --llama-side) is the `xllamacpp` wheel (a prebuilt llama.cpp; `pip install
xllamacpp`) serving the file on loopback with 2 threads, as llama-server does: the same prompt token ids (the first N
tokens of tiny Shakespeare), greedy, the end-of-text token ignored, no prompt cache; its own `timings` give the
prompt and generation rates. Both sides report the fastest of 3 repetitions and their peak RSS (wait4).
Needs `swift build -c release`; check `uptime` first.
"""
import argparse, json, os, sys, time, urllib.request

from benchutil import measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt")


def post(addr, path, body):
    req = urllib.request.Request(addr + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())


def llama_side(a):
    import xllamacpp as x
    start = time.perf_counter()
    p = x.CommonParams()
    p.model.path = a.model
    p.n_ctx = a.prompt_tokens + a.generate + 16
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    server = x.Server(p)
    addr = server.listening_address
    ids = post(addr, "/tokenize", {"content": open(TEXT, encoding="utf-8").read()[:a.prompt_tokens * 8]})["tokens"]
    load = time.perf_counter() - start
    prompt = ids[:a.prompt_tokens]
    best_p, best_g = 0.0, 0.0
    for _ in range(a.repetitions):
        r = post(addr, "/completion", {"prompt": prompt, "n_predict": a.generate, "temperature": 0, "top_k": 1,
                                       "ignore_eos": True, "cache_prompt": False, "seed": 1})
        t = r["timings"]
        best_p = max(best_p, t["prompt_per_second"])
        best_g = max(best_g, t["predicted_per_second"])
    print(json.dumps({"workload": "llm", "impl": "llama.cpp", "load_s": round(load, 3), "prompt_tokens": len(prompt),
                      "prompt_tokens_per_s": round(best_p, 1), "generated_tokens": a.generate,
                      "generation_tokens_per_s": round(best_g, 1), "system": x.get_system_info().strip()}))
    sys.stdout.flush()
    os._exit(0)   # the server's threads would keep the interpreter alive


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--prompt-tokens", type=int, default=512)
    p.add_argument("--generate", type=int, default=128)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--llama-side", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.llama_side:
        return llama_side(a)
    load = os.getloadavg()[0]
    args = ["--model", a.model, "--prompt-tokens", str(a.prompt_tokens), "--generate", str(a.generate),
            "--repetitions", str(a.repetitions)]
    syn, syn_mb = measured([a.synapse, "bench", "llm", *args, "--json"])
    ref, ref_mb = measured([sys.executable, os.path.abspath(__file__), "--llama-side", *args])
    print(f"load average at start: {load:.2f}")
    print(f"llama.cpp: {ref['system']}")
    print("| model | side | load | prompt tokens/s | generated tokens/s | peak RSS |")
    print("|---|---|---|---|---|---|")
    name = os.path.basename(a.model)
    for side, r, mb in (("Synapse", syn, syn_mb), ("llama.cpp", ref, ref_mb)):
        print(f"| {name} | {side} | {r['load_s']:.2f} s | {r['prompt_tokens_per_s']:.1f} ({r['prompt_tokens']} tokens) "
              f"| {r['generation_tokens_per_s']:.1f} ({r['generated_tokens']} tokens) | {mb:.0f} MB |")
    print(f"| | ratio | | {syn['prompt_tokens_per_s'] / ref['prompt_tokens_per_s']:.2f}× "
          f"| {syn['generation_tokens_per_s'] / ref['generation_tokens_per_s']:.2f}× | {syn_mb / ref_mb:.2f}× the memory |")


if __name__ == "__main__":
    main()

"""Synapse beside llama.cpp on the same GGUF file, back to back in one run: prompt processing (a 512-token prompt) and
generation (128 tokens after it) in tokens/s at 1 and 2 threads, load time and peak RSS, as ratios.

usage: python3 scripts/bench_llm.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf] [--prompt-tokens 512]
                                    [--generate 128] [--repetitions 3] [--threads 1,2] [--no-wheel]

Two llama.cpp sides:
  native  llama.cpp's own llama-bench, built with -DGGML_NATIVE=ON (every instruction set of this CPU) by
          scripts/build_llama_bench.sh from the llama.cpp that the PyPI source package llama-cpp-python vendors (cached
          outside the repository). Prompt = its pp512 at depth 0, generation = its tg128 at depth 512 (`-d 512`: 128
          tokens after a 512-token context, as Synapse measures it); the best of its repetitions' samples. Its threads
          are OpenMP's with the default (spinning) wait policy, its fastest setting here: OMP_WAIT_POLICY=passive
          makes generation at 2 threads several times slower.
  wheel   the prebuilt xllamacpp wheel (AVX2 only; `pip install xllamacpp`), serving the file on loopback as
          llama-server does, fed the same prompt token ids (the first N tokens of tiny Shakespeare), greedy, the
          end-of-text token ignored, no prompt cache; its own `timings` give the rates. 2 threads.
Every side reports the fastest of its repetitions and its peak RSS (wait4). Needs `swift build -c release`; check
that nothing else runs (the load average is printed).
"""
import argparse, json, os, subprocess, sys, time, urllib.request

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


def llama_bench(binary, a, threads):
    """llama-bench's best prompt and generation rates (the same shapes as Synapse's) and its peak RSS."""
    cmd = [binary, "-m", a.model, "-p", str(a.prompt_tokens), "-n", str(a.generate), "-d", f"0,{a.prompt_tokens}",
           "-t", str(threads), "-r", str(a.repetitions), "-o", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"{' '.join(cmd)} exited with status {status}")
    tests = json.loads(out)
    best = lambda p, g, d: max(max(t["samples_ts"]) for t in tests if (t["n_prompt"], t["n_gen"], t["n_depth"]) == (p, g, d))
    return {"prompt_tokens_per_s": best(a.prompt_tokens, 0, 0),
            "generation_tokens_per_s": best(0, a.generate, a.prompt_tokens),
            "generation_at_depth_0": best(0, a.generate, 0), "load_s": float("nan")}, usage.ru_maxrss / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--prompt-tokens", type=int, default=512)
    p.add_argument("--generate", type=int, default=128)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--llama-bench", help="a llama-bench binary (default: built by scripts/build_llama_bench.sh)")
    p.add_argument("--no-wheel", action="store_true", help="skip the xllamacpp side")
    p.add_argument("--llama-side", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.llama_side:
        return llama_side(a)
    binary = a.llama_bench or subprocess.run(["bash", os.path.join(HERE, "build_llama_bench.sh")], check=True,
                                             stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    load = os.getloadavg()
    args = ["--model", a.model, "--prompt-tokens", str(a.prompt_tokens), "--generate", str(a.generate),
            "--repetitions", str(a.repetitions)]
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        syn, syn_mb = measured([a.synapse, "bench", "llm", *args, "--threads", str(threads), "--json"])
        ref, ref_mb = llama_bench(binary, a, threads)
        rows.append((threads, "Synapse", syn, syn_mb))
        rows.append((threads, "llama.cpp native (llama-bench)", ref, ref_mb))
        rows.append((threads, "ratio", {k: syn[k] / ref[k] for k in ("prompt_tokens_per_s", "generation_tokens_per_s")},
                     syn_mb / ref_mb))
    if not a.no_wheel:
        wheel, wheel_mb = measured([sys.executable, os.path.abspath(__file__), "--llama-side", *args])
        rows.append((2, "llama.cpp wheel (xllamacpp, AVX2)", wheel, wheel_mb))
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; now: {os.getloadavg()[0]:.2f}")
    print(f"model: {os.path.basename(a.model)}; prompt {a.prompt_tokens} tokens, generation {a.generate} tokens after it")
    print("| threads | side | prompt tokens/s | generation tokens/s | peak RSS |")
    print("|---|---|---|---|---|")
    for threads, side, r, mb in rows:
        if side == "ratio":
            print(f"| {threads} | **Synapse ÷ llama.cpp native** | **{r['prompt_tokens_per_s']:.2f}×** "
                  f"| **{r['generation_tokens_per_s']:.2f}×** | {mb:.2f}× |")
        else:
            print(f"| {threads} | {side} | {r['prompt_tokens_per_s']:.1f} | {r['generation_tokens_per_s']:.1f} | {mb:.0f} MB |")


if __name__ == "__main__":
    main()

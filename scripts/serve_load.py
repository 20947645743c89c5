"""Load and robustness of `synapse serve`, beside what people would use instead, in one run:

  1. /v1/classify (the MNIST mlp, one prepared test digit as 784 pixels) and /v1/embeddings (MiniLM, one sentence)
     with wrk at concurrency 1, 8 and 64: requests/s, p50 and p99 latency, errors — Synapse, then the same models
     served the Python way (FastAPI + uvicorn + PyTorch, scripts/serve_fastapi.py), alternately;
  2. chat: aggregate generated tokens/s with 1, 4 and 8 concurrent streams (128 tokens each after the same prompt,
     greedy, the end-of-text token ignored) — Synapse, then llama.cpp's server on the same GGUF file (the xllamacpp
     wheel, 8 parallel slots, continuous batching, 2 threads);
  3. abuse: 1,000 connections opened and dropped, 200 slow clients trickling a body, 500 truncated bodies and 50
     declared 10 GB bodies, while /health is asked every 20 ms: its worst latency, and the server's memory before,
     during and after.

usage: /tmp/torchenv/bin/python scripts/serve_load.py [--seconds 10] [--only classify,embeddings,chat,abuse]
Needs wrk (Debian), fastapi, uvicorn, torch, transformers and xllamacpp (pip), `swift build -c release`, the models
(scripts/get-models.sh) and an MNIST classifier (trained here when --classifier is not given). Run it on a quiet machine.
"""
import argparse, gzip, json, os, re, socket, subprocess, sys, tempfile, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=120):
    for _ in range(seconds * 20):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{url} did not answer")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wrk(url, body, concurrency, seconds):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[' + body + ']==]\n')
    script.close()
    out = subprocess.run(["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{seconds}s", "--latency",
                          "-s", script.name, url], capture_output=True, text=True).stdout
    os.unlink(script.name)

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)] if m else float("nan")

    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0)}


def digit():
    images = gzip.open(os.path.join(ROOT, "datasets/mnist/t10k-images-idx3-ubyte.gz")).read()[16:16 + 784]
    return [round(b / 255, 4) for b in images]


def throughput(a, servers):
    bodies = {"classify": json.dumps({"pixels": digit()}),
              "embeddings": json.dumps({"input": "A cat sits on the mat while the dog sleeps by the door."})}
    rows = []
    for endpoint in [e for e in ("classify", "embeddings") if e in a.only]:
        for concurrency in (1, 8, 64):
            results = {}
            for name, base in servers.items():
                wrk(f"{base}/v1/{endpoint}", bodies[endpoint], concurrency, 1)                     # warm-up
                results[name] = wrk(f"{base}/v1/{endpoint}", bodies[endpoint], concurrency, a.seconds)
            rows.append((endpoint, concurrency, results))
            s, f = results["Synapse"], results["FastAPI"]
            print(f"{endpoint} c={concurrency}: Synapse {s['rps']:.0f} req/s p50 {s['p50']:.2f} ms p99 {s['p99']:.2f} ms "
                  f"errors {s['errors']} | FastAPI {f['rps']:.0f} req/s p50 {f['p50']:.2f} ms p99 {f['p99']:.2f} ms errors "
                  f"{f['errors']} | ratio {s['rps'] / f['rps']:.2f}×", flush=True)
    return rows


def chat_rate(base, streams, prompt, tokens, model=None):
    """Aggregate generated tokens/s of `streams` concurrent completions."""
    results = [0] * streams

    def one(i):
        body = {"prompt": prompt, "max_tokens": tokens, "temperature": 0, "ignore_eos": True}
        if model:
            body["model"] = model
        req = urllib.request.Request(f"{base}/v1/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        results[i] = json.loads(urllib.request.urlopen(req, timeout=600).read())["usage"]["completion_tokens"]

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(results) / (time.perf_counter() - start), sum(results)


def llama_server(a, port):
    """Runs in a child process: llama.cpp's server on the GGUF file."""
    import xllamacpp as x
    p = x.CommonParams()
    p.model.path = a.llm
    p.n_parallel = 8
    p.n_ctx = 8 * 512
    p.cpuparams.n_threads = 2
    p.cpuparams_batch.n_threads = 2
    p.port = port
    p.hostnames = ["127.0.0.1"]
    server = x.Server(p)
    print("listening", server.listening_address, flush=True)
    while True:
        time.sleep(3600)


def chat(a, synapse_base):
    prompt = open(TEXT, encoding="utf-8").read()[:160]
    port = free_port()
    llama = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--llama-server", str(port), "--llm", a.llm],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = llama.stdout.readline().split()[-1]
    wait_for(f"{address}/health")
    rows = []
    try:
        for streams in (1, 4, 8):
            chat_rate(synapse_base, 1, prompt, 8)
            chat_rate(address, 1, prompt, 8)
            s, sn = chat_rate(synapse_base, streams, prompt, 128)
            l, ln = chat_rate(address, streams, prompt, 128)
            rows.append((streams, s, l))
            print(f"chat, {streams} streams: Synapse {s:.1f} tokens/s ({sn} tokens) | llama.cpp server {l:.1f} tokens/s "
                  f"({ln} tokens) | ratio {s / l:.2f}×", flush=True)
    finally:
        llama.kill()
    return rows


def abuse(base, pid):
    host, port = base.replace("http://", "").split(":")
    port = int(port)
    worst = {"value": 0.0}
    stop = threading.Event()

    def monitor():
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                urllib.request.urlopen(f"{base}/health", timeout=5).read()
                worst["value"] = max(worst["value"], (time.perf_counter() - t0) * 1000)
            except Exception:
                worst["value"] = float("inf")
            time.sleep(0.02)

    def opened_and_dropped(n):
        for _ in range(n):
            s = socket.create_connection((host, port))
            s.close()

    def slow_client(seconds):
        s = socket.create_connection((host, port))
        s.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        end = time.time() + seconds
        try:
            while time.time() < end:
                s.sendall(b" ")
                time.sleep(0.5)
        except OSError:
            pass
        s.close()

    def truncated():
        s = socket.create_connection((host, port))
        s.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"input\": \"abc")
        s.close()

    def huge():
        s = socket.create_connection((host, port))
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{")
        s.settimeout(5)
        try:
            answer = s.recv(200)
        except OSError:
            answer = b""
        s.close()
        return answer

    baseline = rss_mb(pid)
    watcher = threading.Thread(target=monitor)
    watcher.start()
    phases = []

    def phase(name, work):
        worst["value"] = 0.0
        t0 = time.perf_counter()
        result = work()
        phases.append((name, time.perf_counter() - t0, worst["value"], rss_mb(pid), result))
        count = f" ({result} in all)" if isinstance(result, int) else ""
        print(f"abuse, {name}{count}: {time.perf_counter() - t0:.1f} s, worst /health {worst['value']:.1f} ms, "
              f"RSS {rss_mb(pid):.0f} MB", flush=True)

    def run_threads(target, count, *args):
        threads = [threading.Thread(target=target, args=args) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def rounds_of_drops(seconds):
        # 1,000 connections per round (10 threads of 100), rounds until `seconds` have passed: one round alone is
        # over before the /health monitor asks twice.
        end, rounds = time.perf_counter() + seconds, 0
        while time.perf_counter() < end:
            run_threads(opened_and_dropped, 10, 100)
            rounds += 1
        return rounds * 1000

    phase("connections opened and dropped, 1,000 per round for 3 s", lambda: rounds_of_drops(3))
    phase("200 slow clients, 1 byte per 0.5 s for 10 s", lambda: run_threads(slow_client, 200, 10))
    phase("500 truncated bodies", lambda: run_threads(truncated, 500))
    answers = []
    phase("50 declared 10 GB bodies", lambda: answers.extend(huge() for _ in range(50)))
    time.sleep(3)
    stop.set()
    watcher.join()
    after = rss_mb(pid)
    refused = sum(a.startswith(b"HTTP/1.1 413") for a in answers)
    print(f"abuse: RSS {baseline:.0f} MB before, {after:.0f} MB 3 s after; 10 GB bodies refused with 413: {refused}/50")
    return baseline, after, phases, refused


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--classifier")
    p.add_argument("--embedder", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    p.add_argument("--llm", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--only", default="classify,embeddings,chat,abuse")
    p.add_argument("--fastapi-workers", type=int, default=1)
    p.add_argument("--llama-server", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.llama_server:
        return llama_server(a, a.llama_server)
    a.only = a.only.split(",")
    work = tempfile.mkdtemp(prefix="synapse-load-")
    if a.classifier is None:
        subprocess.run([a.synapse, "train", "mnist", "--epochs", "2", "--out", os.path.join(work, "mlp"), "--plain"],
                       check=True, stdout=subprocess.DEVNULL)
        a.classifier = os.path.join(work, "mlp", "model.safetensors")
    load = os.getloadavg()
    sport, fport = free_port(), free_port()
    synapse = subprocess.Popen([a.synapse, "serve", "--classifier", a.classifier, "--embedder", a.embedder, "--llm", a.llm,
                                "--port", str(sport)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fastapi = None
    try:
        wait_for(f"http://127.0.0.1:{sport}/health")
        servers = {"Synapse": f"http://127.0.0.1:{sport}"}
        if "classify" in a.only or "embeddings" in a.only:
            fastapi = subprocess.Popen([sys.executable, os.path.join(HERE, "serve_fastapi.py"), "--classifier", a.classifier,
                                        "--embedder", a.embedder, "--port", str(fport), "--workers", str(a.fastapi_workers)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(f"http://127.0.0.1:{fport}/health")
            servers["FastAPI"] = f"http://127.0.0.1:{fport}"
            print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; Synapse RSS {rss_mb(synapse.pid):.0f} MB, "
                  f"FastAPI RSS {rss_mb(fastapi.pid):.0f} MB ({a.fastapi_workers} uvicorn worker)", flush=True)
            throughput(a, servers)
            fastapi.kill()
            fastapi = None
        if "chat" in a.only:
            chat(a, servers["Synapse"])
        if "abuse" in a.only:
            abuse(servers["Synapse"], synapse.pid)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        synapse.kill()
        if fastapi:
            fastapi.kill()


if __name__ == "__main__":
    main()

"""`synapse serve` through a client nobody here wrote: the official `openai` Python package pointed at the server's
base URL, with an API key, for chat (whole and streamed), completions, embeddings (the client asks for base64 by
default), the model list and the errors it raises.

usage: python3 scripts/serve_openai_client.py [--synapse .build/release/synapse] [--llm models/SmolLM2-135M-Instruct.Q4_1.gguf]
                                              [--embedder models/all-MiniLM-L6-v2]
Needs `pip install openai`. Exits 1 when a check fails.
"""
import argparse, os, socket, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--llm", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--embedder", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    a = p.parse_args()
    import openai
    port, key = free_port(), "test-key-0123456789"
    server = subprocess.Popen([a.synapse, "serve", "--llm", a.llm, "--embedder", a.embedder, "--port", str(port), "--api-key", key],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    failures = []

    def check(name, condition, detail=""):
        print(f"{'ok  ' if condition else 'FAIL'} {name}{': ' + detail if detail else ''}")
        if not condition:
            failures.append(name)

    try:
        for _ in range(300):
            if server.stdout.readline().startswith("serving on"):
                break
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0)
        models = [m.id for m in client.models.list()]
        llm = next(m for m in models if "SmolLM2" in m)
        check("models.list", llm in models and "all-MiniLM-L6-v2" in models, ", ".join(models))

        chat = client.chat.completions.create(model=llm, messages=[{"role": "user", "content": "What is the capital of France?"}],
                                              temperature=0, max_tokens=24, seed=1)
        text = chat.choices[0].message.content
        check("chat.completions", "Paris" in text and chat.usage.completion_tokens > 0 and chat.choices[0].finish_reason in ("stop", "length"),
              repr(text))

        pieces = []
        for chunk in client.chat.completions.create(model=llm, messages=[{"role": "user", "content": "What is the capital of France?"}],
                                                    temperature=0, max_tokens=24, seed=1, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        check("chat.completions, streamed", "".join(pieces) == text, f"{len(pieces)} chunks, same text as unstreamed")

        completion = client.completions.create(model=llm, prompt="The quick brown fox", max_tokens=8, temperature=0)
        check("completions", len(completion.choices[0].text) > 0, repr(completion.choices[0].text))

        stopped = client.chat.completions.create(model=llm, messages=[{"role": "user", "content": "Count from 1 to 10."}],
                                                 temperature=0, max_tokens=60, stop=["5"])
        check("stop sequence", "5" not in stopped.choices[0].message.content and stopped.choices[0].finish_reason == "stop",
              repr(stopped.choices[0].message.content))

        embeddings = client.embeddings.create(model="all-MiniLM-L6-v2", input=["A cat sits on the mat.", "A kitten lies on a rug.",
                                                                               "Stock prices fell sharply."])
        vectors = [e.embedding for e in embeddings.data]
        cos = lambda u, v: sum(x * y for x, y in zip(u, v)) / (sum(x * x for x in u) ** 0.5 * sum(y * y for y in v) ** 0.5)
        check("embeddings (base64, the client's default)", len(vectors) == 3 and len(vectors[0]) == 384 and
              cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]),
              f"cat/kitten {cos(vectors[0], vectors[1]):.3f} > cat/stocks {cos(vectors[0], vectors[2]):.3f}")
        floats = client.embeddings.create(model="all-MiniLM-L6-v2", input="A cat sits on the mat.", encoding_format="float")
        check("embeddings (float)", max(abs(x - y) for x, y in zip(floats.data[0].embedding, vectors[0])) < 1e-6)

        try:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
            check("unknown model → NotFoundError", False)
        except openai.NotFoundError as e:
            check("unknown model → NotFoundError", e.status_code == 404, str(e.body.get("message"))[:60])
        try:
            client.chat.completions.create(model=llm, messages=[{"role": "user", "content": "hi"}], temperature=9)
            check("bad temperature → BadRequestError", False)
        except openai.BadRequestError as e:
            check("bad temperature → BadRequestError", e.status_code == 400)
        try:
            openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong-key-123", max_retries=0).models.list()
            check("wrong key → AuthenticationError", False)
        except openai.AuthenticationError as e:
            check("wrong key → AuthenticationError", e.status_code == 401)
    finally:
        server.terminate()
        server.wait()
    print("all checks passed" if not failures else f"{len(failures)} checks FAILED: {failures}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

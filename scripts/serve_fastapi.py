"""What a Python user would write to serve the same models: FastAPI + uvicorn + PyTorch, with the same two endpoints
and answers as `synapse serve` — /v1/classify (784 pixels → probabilities, label and every layer's activations, from
the same safetensors file) and /v1/embeddings (MiniLM with transformers, mean pooling, L2 normalisation, as
sentence-transformers does) — for scripts/serve_load.py to measure beside Synapse.

usage: python3 scripts/serve_fastapi.py --classifier runs/mnist/model.safetensors --embedder models/all-MiniLM-L6-v2 --port 8090
       [--workers 1]
"""
import argparse, os


def build_app(classifier, embedder):
    import torch
    from fastapi import FastAPI, HTTPException, Request
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    state = load_file(classifier)
    weights = [(state[f"{i}.weight"], state[f"{i}.bias"]) for i in range(0, 10, 2) if f"{i}.weight" in state]
    layers = []
    activation = torch.nn.Sigmoid if len(weights) == 3 and weights[0][0].shape[0] == 16 else torch.nn.ReLU
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        linear.weight.data, linear.bias.data = w, b
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(activation())
    net = torch.nn.Sequential(*layers).eval()
    tokenizer = AutoTokenizer.from_pretrained(embedder)
    model = AutoModel.from_pretrained(embedder).eval()
    app = FastAPI()

    @app.post("/v1/classify")
    def classify(body: dict):
        pixels = body.get("pixels")
        if not isinstance(pixels, list) or len(pixels) != 784:
            raise HTTPException(400, "'pixels' must hold 784 values")
        with torch.no_grad():
            x = torch.tensor([pixels], dtype=torch.float32)
            outputs = []
            for layer in net:
                x = layer(x)
                outputs.append({"kind": type(layer).__name__, "activations": x[0].tolist()})
            p = torch.softmax(x, dim=1)[0]
        return {"label": int(p.argmax()), "probabilities": p.tolist(), "layers": outputs}

    @app.post("/v1/embeddings")
    def embeddings(body: dict):
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        with torch.no_grad():
            batch = tokenizer(inputs, padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=1)
        return {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(pooled)]}

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--classifier", required=True)
    p.add_argument("--embedder", required=True)
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args()
    import uvicorn
    os.environ["SYNAPSE_FASTAPI_CLASSIFIER"], os.environ["SYNAPSE_FASTAPI_EMBEDDER"] = a.classifier, a.embedder
    uvicorn.run("serve_fastapi:app_from_environment", factory=True, host="127.0.0.1", port=a.port, workers=a.workers,
                log_level="warning", app_dir=os.path.dirname(os.path.abspath(__file__)))


def app_from_environment():
    return build_app(os.environ["SYNAPSE_FASTAPI_CLASSIFIER"], os.environ["SYNAPSE_FASTAPI_EMBEDDER"])


if __name__ == "__main__":
    main()

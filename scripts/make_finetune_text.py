"""A small text in another register for the fine-tuning experiment of docs/transformers.md.

usage: python3 scripts/make_finetune_text.py OUT.txt [SOURCE]
SOURCE defaults to /usr/share/common-licenses/GPL-3 (present on Debian/Ubuntu). Characters outside tiny
Shakespeare's vocabulary (digits, brackets, slashes, ...) become spaces, so a Shakespeare model's tokenizer covers
the text; runs of spaces collapse to one.
"""
import os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAKESPEARE = os.path.join(HERE, "..", "..", "shared", "data", "tinyshakespeare", "input.txt")

out = sys.argv[1]
source = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/common-licenses/GPL-3"
vocabulary = set(open(SHAKESPEARE, encoding="utf-8").read())
text = open(source, encoding="utf-8").read()
text = "".join(c if c in vocabulary else " " for c in text)
text = re.sub(r"[ ]+", " ", text)
open(out, "w", encoding="utf-8").write(text)
print(f"wrote {len(text)} characters to {out}")

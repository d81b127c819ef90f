#!/usr/bin/env python3
"""Compare `typofix model fill-mask` with transformers' fill-mask pipeline.

Run by hand (needs torch and transformers; CI does not install them):

    python3 scripts/compare_fill_mask.py [--model DIR] [--text TEXT] [--top-k K]

Without --model it uses ../shared/fixtures/tiny-distilbert, copied to a
temporary directory with a synthetic 1000-token BERT vocabulary (the fixture
has none): [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, and w<i>
for every other id i. Exits 1 unless every mask gets the same ids and
probabilities within 1e-4.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "..", "shared", "fixtures", "tiny-distilbert")
SPECIAL = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}


def fixture_with_vocab(tmp):
    for name in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(FIXTURE, name), tmp)
    with open(os.path.join(tmp, "vocab.txt"), "w") as f:
        for i in range(1000):
            f.write(SPECIAL.get(i, f"w{i}") + "\n")
    with open(os.path.join(tmp, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "DistilBertTokenizer", "do_lower_case": True}, f)
    return tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--text", default="w5 w17 [MASK] w300 [MASK] w42")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--typofix", default=os.path.join(ROOT, "target", "release", "typofix"))
    args = ap.parse_args()

    import torch
    import transformers

    tmp = tempfile.mkdtemp()
    model_dir = args.model or fixture_with_vocab(tmp)
    pipe = transformers.pipeline("fill-mask", model=model_dir, tokenizer=model_dir, device="cpu")
    theirs = pipe(args.text, top_k=args.top_k)
    if isinstance(theirs[0], dict):  # one mask: the pipeline drops a level
        theirs = [theirs]
    ours = json.loads(subprocess.check_output(
        [args.typofix, "model", "fill-mask", "--model", model_dir, "--top-k", str(args.top_k), "--json", args.text]))

    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    print(f"text: {args.text!r}")
    worst, same_ids = 0.0, True
    for m, (t, o) in enumerate(zip(theirs, ours)):
        print(f"mask {m} (token {o['position']}):")
        print(f"  {'transformers id':>16} {'probability':>12}   {'typofix id':>10} {'probability':>12}   {'|diff|':>8}")
        for a, b in zip(t, o["candidates"]):
            diff = abs(a["score"] - b["probability"])
            worst = max(worst, diff)
            same_ids &= a["token"] == b["id"]
            print(f"  {a['token']:>16} {a['score']:>12.6f}   {b['id']:>10} {b['probability']:>12.6f}   {diff:>8.1e}")
    same_ids &= len(theirs) == len(ours)
    verdict = same_ids and worst <= 1e-4
    print(f"same ids: {same_ids}; max |probability difference|: {worst:.2e}; {'PASS' if verdict else 'FAIL'}")
    shutil.rmtree(tmp)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())

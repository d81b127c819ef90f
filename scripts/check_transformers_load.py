#!/usr/bin/env python3
"""Check that transformers loads a checkpoint that typofix saved.

Run by hand (needs torch and transformers; CI does not install them):

    python3 scripts/check_transformers_load.py [--typofix target/release/typofix]

It has typofix re-save ../shared/fixtures/tiny-distilbert (`typofix export
safetensors`), loads the result with DistilBertForMaskedLM.from_pretrained, and
compares its logits with the fixture's reference logits. Exits 1 on a load
warning about missing or unexpected weights, or a difference above 1e-4.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "..", "shared", "fixtures", "tiny-distilbert")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--typofix", default=os.path.join(ROOT, "target", "release", "typofix"))
    args = ap.parse_args()

    import torch
    import transformers
    from safetensors.torch import load_file

    out = tempfile.mkdtemp()
    subprocess.check_call([args.typofix, "export", "safetensors", "--model", FIXTURE, "--out", out])
    model, info = transformers.DistilBertForMaskedLM.from_pretrained(out, output_loading_info=True)
    model.eval()
    ref = load_file(os.path.join(FIXTURE, "reference_io.safetensors"))
    with torch.no_grad():
        logits = model(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"]).logits
    diff = (logits - ref["logits"]).abs().max().item()
    problems = {k: v for k, v in info.items() if v}
    print(f"transformers {transformers.__version__}: loaded {out}; loading problems: {problems or 'none'}")
    print(f"logits max |difference| from the fixture's reference: {diff:.2e}")
    ok = not problems and diff <= 1e-4
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Turns `typofix eval --json` output into the Markdown tables of docs/EVAL.md."""
import json
import sys

# The sets the corrector's settings were tuned on (docs/EVAL.md, Tuning):
# typofix's figures on them are in-sample.
TUNED_ON = {"bea322", "ewt_typos_train", "ewt_clean_train"}


def pct(x):
    return f"{100 * x:.2f}%"

for path in sys.argv[1:]:
    for s in json.load(open(path)):
        first = s["systems"][0]
        print(f"\n### {s['set']} ({s['references']} texts, {first['gold_blocks']} error blocks, "
              f"{first['reference_words']} words; typofix "
              f"{'in-sample' if s['set'] in TUNED_ON else 'out-of-sample'})\n")
        print("| system | token acc | correction | broken | precision | recall | F1 | exact | words/s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in s["systems"]:
            print(f"| {r['system']} | {pct(r['token_accuracy'])} | {pct(r['correction_rate'])} | "
                  f"{pct(r['broken_rate'])} | {pct(r['precision'])} | {pct(r['recall'])} | "
                  f"{pct(r['f1'])} | {pct(r['exact_match'])} | {r['words_per_second']:.0f} |")
        kinds = sorted(first["per_kind"].keys())
        if kinds:
            print("\nCorrection rate per error kind:\n")
            print("| system | " + " | ".join(kinds) + " |")
            print("|---|" + "---:|" * len(kinds))
            for r in s["systems"]:
                cells = []
                for k in kinds:
                    c = r["per_kind"][k]
                    cells.append(f"{pct(c['fixed'] / max(c['errors'], 1))} ({c['fixed']}/{c['errors']})")
                print(f"| {r['system']} | " + " | ".join(cells) + " |")

#!/usr/bin/env bash
# F1 and broken rate of each engine on every dev set (the first 500 texts
# of the two Wikipedia sets), to check that int8 and bf16 stay within 0.2
# points of f32. Usage: scripts/engine-accuracy.sh [TYPOFIX] (default: the
# release build); ENGINES overrides the list, THREADS the thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
typofix=${1:-target/release/typofix}
engines=${ENGINES:-fused int8 bf16}
threads=${THREADS:-2}
dev=../shared/data/eval-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for engine in $engines; do
    "$typofix" eval --threads "$threads" --engine "$engine" --baselines none --json \
        "$dev/bea322.jsonl" "$dev/ewt_typos_train.jsonl" "$dev/ewt_clean_train.jsonl" \
        "$dev/norvig1_words.jsonl" "$dev/norvig2_words.jsonl" >"$work/$engine.sets.json"
    "$typofix" eval --threads "$threads" --engine "$engine" --baselines none --json --limit 500 \
        "$dev/wikidump_realistic_dev.jsonl" "$dev/wiki_typos_wsc_dev.jsonl" >"$work/$engine.wiki.json"
done
python3 - "$work" $engines <<'PY'
import json, sys
work, engines = sys.argv[1], sys.argv[2:]
runs = {e: json.load(open(f"{work}/{e}.sets.json")) + json.load(open(f"{work}/{e}.wiki.json")) for e in engines}
print("| set | " + " | ".join(f"{e} F1 | {e} broken" for e in engines) + " |")
print("|---|" + "---:|---:|" * len(engines))
for i, s in enumerate(runs[engines[0]]):
    cells = []
    for e in engines:
        ours = runs[e][i]["systems"][0]
        cells += [f"{100 * ours['f1']:.2f}%", f"{100 * ours['broken_rate']:.3f}%"]
    print(f"| {s['set']} | " + " | ".join(cells) + " |")
PY

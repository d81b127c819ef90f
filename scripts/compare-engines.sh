#!/usr/bin/env bash
# Runs `typofix fix --json` with the standard and the ANE engine on the
# corrupted side of each dev set and counts the lines whose corrections
# differ. Usage: scripts/compare-engines.sh [TYPOFIX] (default: the release
# build).
set -euo pipefail
cd "$(dirname "$0")/.."
typofix=${1:-target/release/typofix}
dev=../shared/data/eval-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total=0
differing=0
for set in bea322 ewt_clean_train ewt_typos_train wiki_typos_wsc_dev wikidump_realistic_dev \
           norvig1_words norvig2_words; do
    python3 -c 'import json,sys; [print(json.loads(l)["corrupted"].replace("\n"," ")) for l in open(sys.argv[1])]' \
        "$dev/$set.jsonl" >"$work/$set.txt"
    for engine in standard ane; do
        start=$(date +%s.%N)
        "$typofix" fix --json --engine "$engine" --file "$work/$set.txt" >"$work/$set.$engine.jsonl"
        end=$(date +%s.%N)
        printf '%s %s: %.1f s\n' "$set" "$engine" "$(echo "$end - $start" | bc)"
    done
    lines=$(wc -l <"$work/$set.txt")
    diff_lines=$(paste -d '\n' "$work/$set.standard.jsonl" "$work/$set.ane.jsonl" |
        python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
pairs = zip(rows[0::2], rows[1::2])
strip = lambda r: (r["text"], [(e["start"], e["end"], e["replacement"]) for e in r["edits"]])
print(sum(strip(a) != strip(b) for a, b in pairs))')
    echo "$set: $diff_lines of $lines lines differ"
    total=$((total + lines))
    differing=$((differing + diff_lines))
done
echo "all dev sets: $differing of $total lines differ between the engines"

#!/usr/bin/env bash
# Runs `typofix fix --json` with two engines (default: standard and ane) on
# the corrupted side of each dev set and counts the lines whose corrections
# differ. Usage: scripts/compare-engines.sh [TYPOFIX [ENGINE ENGINE]]
# (default: the release build); LIMIT=N reads each set's first N lines.
set -euo pipefail
cd "$(dirname "$0")/.."
typofix=${1:-target/release/typofix}
first=${2:-standard}
second=${3:-ane}
limit=${LIMIT:-0}
dev=../shared/data/eval-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total=0
differing=0
for set in bea322 ewt_clean_train ewt_typos_train wiki_typos_wsc_dev wikidump_realistic_dev \
           norvig1_words norvig2_words; do
    python3 -c '
import json, sys
lines = open(sys.argv[1]).readlines()
for l in lines[: int(sys.argv[2]) or None]:
    print(json.loads(l)["corrupted"].replace("\n", " "))' "$dev/$set.jsonl" "$limit" >"$work/$set.txt"
    for engine in "$first" "$second"; do
        start=$(date +%s.%N)
        "$typofix" fix --json --engine "$engine" --file "$work/$set.txt" >"$work/$set.$engine.jsonl"
        end=$(date +%s.%N)
        printf '%s %s: %.1f s\n' "$set" "$engine" "$(echo "$end - $start" | bc)"
    done
    lines=$(wc -l <"$work/$set.txt")
    diff_lines=$(paste -d '\n' "$work/$set.$first.jsonl" "$work/$set.$second.jsonl" |
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
echo "all dev sets: $differing of $total lines differ between $first and $second"

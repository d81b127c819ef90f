#!/usr/bin/env bash
# Times `typofix data generate` on one core against a peer run side by side:
# merely decompressing the same corpus file (`zcat`), the floor for any tool
# that reads it. Prints examples/min and the ratio to the peer.
# Usage: scripts/bench-data.sh [CORPUS_FILE] [EXAMPLES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/data/corpus/wikipedia_2015_en/wiki_AA.txt.gz}
examples=${2:-200000}
runs=${3:-3}
cargo build --release -q
bin=target/release/typofix
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }
for run in $(seq "$runs"); do
    t0=$(now)
    zcat "$corpus" >/dev/null
    t1=$(now)
    "$bin" data generate --corpus "$corpus" --examples "$examples" --threads 1 \
        --out "$out/train.jsonl" --force 2>"$out/log"
    t2=$(now)
    bytes=$(wc -c <"$out/train.jsonl")
    awk -v z="$(echo "$t1 - $t0" | bc)" -v g="$(echo "$t2 - $t1" | bc)" -v n="$examples" -v run="$run" -v b="$bytes" \
        'BEGIN { printf "run %d: zcat whole file %.2fs | generate %d examples %.2fs = %.0f examples/min (%.1f MB out) | generate/zcat time %.2f\n", run, z, n, g, n / g * 60, b / 1e6, g / z }'
done

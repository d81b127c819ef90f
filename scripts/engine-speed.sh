#!/usr/bin/env bash
# The corrector's words/s with each engine, beside hunspell in the same
# run, on one thread and on two: `typofix eval --json` over ewt_clean_train
# and ewt_typos_train, once per engine and thread count, with the accuracy
# of each run beside its speed. Usage: scripts/engine-speed.sh [TYPOFIX]
# (default: the release build); ENGINES and THREADS override the lists.
# An engine written ENGINE@KERNEL runs on that kernel: int8@amx,
# int8@avx512-vnni, int8@avx2, int8@portable, bf16@amx, bf16@avx512-bf16,
# bf16@widened (TYPOFIX_INT8_KERNEL and TYPOFIX_BF16_KERNEL, in
# docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
typofix=${1:-target/release/typofix}
engines=${ENGINES:-standard fused int8}
threads=${THREADS:-1 2}
dev=../shared/data/eval-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in $threads; do
    for spec in $engines; do
        kernel=
        [[ $spec == *@* ]] && kernel=${spec#*@}
        TYPOFIX_INT8_KERNEL=$kernel TYPOFIX_BF16_KERNEL=$kernel "$typofix" eval --threads "$t" --engine "${spec%@*}" \
            --baselines hunspell --json "$dev/ewt_clean_train.jsonl" "$dev/ewt_typos_train.jsonl" \
            >"$work/$spec.$t.json"
    done
done
python3 - "$work" $threads -- $engines <<'PY'
import json, sys
work, rest = sys.argv[1], sys.argv[2:]
split = rest.index("--")
threads, engines = rest[:split], rest[split + 1:]
print("| set | threads | engine | typofix words/s | hunspell words/s | typofix / hunspell | F1 | broken |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for t in threads:
    for engine in engines:
        for s in json.load(open(f"{work}/{engine}.{t}.json")):
            ours, hun = s["systems"][0], next(x for x in s["systems"] if x["system"] == "hunspell")
            print(f"| {s['set']} | {t} | {engine} | {ours['words_per_second']:,.0f} | "
                  f"{hun['words_per_second']:,.0f} | {ours['words_per_second'] / hun['words_per_second']:.2f} | "
                  f"{100 * ours['f1']:.2f}% | {100 * ours['broken_rate']:.3f}% |")
PY

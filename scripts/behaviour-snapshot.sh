#!/usr/bin/env bash
# Records what a typofix binary does, so that a refactor can be shown to
# change nothing: generated data, its statistics, a lexicon, word pairs and a
# tokenizer built from a corpus, the Hugging Face, ANE and Core ML exports, a
# model package and what it corrects, the shipped model's corrections with
# their edits, and `typofix eval` on every dev set (scores, not timings).
#
#   scripts/behaviour-snapshot.sh OLD-BINARY /tmp/snap/before
#   scripts/behaviour-snapshot.sh NEW-BINARY /tmp/snap/after
#   scripts/behaviour-snapshot.sh --compare /tmp/snap/before /tmp/snap/after
#
# Run from the repository root; takes about 6 minutes on two cores.
set -uo pipefail

if [ "${1:-}" = "--compare" ]; then
    a=$2 b=$3 status=0
    for f in synth.jsonl synth.valid.jsonl stats.txt lex.tsv.gz bi.tsv.gz pkg.fix.txt \
        sample.safetensors bea322.fix.json ewt_typos_train.fix.json; do
        if cmp -s <(sed "s#$a#OUT#g" "$a/$f") <(sed "s#$b#OUT#g" "$b/$f"); then
            echo "same       $f"
        else
            echo "DIFFERENT  $f"; status=1
        fi
    done
    for d in T.mlpackage hf ane pkg tok; do
        if diff -r "$a/$d" "$b/$d" > /dev/null; then
            echo "same       $d/"
        else
            echo "DIFFERENT  $d/"; status=1
        fi
    done
    python3 - "$a" "$b" <<'PY' || status=1
import json, sys
a, b = sys.argv[1:]
def scores(path):
    sets = json.load(open(path))
    for s in sets:
        for r in s["systems"]:
            r.pop("seconds", None)
            r.pop("words_per_second", None)
    return sets
bad = 0
for f in ["eval-a.json", "eval-b.json", "eval-c.json"]:
    same = scores(f"{a}/{f}") == scores(f"{b}/{f}")
    print(("same      " if same else "DIFFERENT ") + f" {f} (every score of every system)")
    bad |= not same
sys.exit(bad)
PY
    exit $status
fi

BIN=$1 OUT=$2
mkdir -p "$OUT"
D=../shared/data/eval-dev
EX=$(ls $D/*.jsonl)
WIKI=../shared/data/corpus/wikipedia_2015_en
EWT=../shared/data/corpus/ewt_train
run() { local log=$1; shift; "$@" > "$OUT/$log.log" 2>&1 || echo "failed ($log): $*"; }

run gen $BIN data generate --corpus $WIKI --exclude $EX --examples 100000 --seed 7 \
    --valid-fraction 0.02 --out "$OUT/synth.jsonl" --force
$BIN data stats "$OUT/synth.jsonl" > "$OUT/stats.txt"
run lex $BIN data build-lexicon --corpus $EWT --exclude $EX --min-count 2 \
    --out "$OUT/lex.tsv.gz" --bigrams "$OUT/bi.tsv.gz"
run tok $BIN train tokenizer --corpus $EWT --exclude $EX --vocab-size 2000 --out "$OUT/tok"
run coreml $BIN export coreml --out "$OUT/T.mlpackage" --force
run hf $BIN export safetensors --out "$OUT/hf" --dtype f16
run ane $BIN export ane --out "$OUT/ane"
run sample $BIN export sample-io --out "$OUT/sample.safetensors"
run pkg $BIN model package --mlm "$OUT/hf" --lexicon "$OUT/lex.tsv.gz" --bigrams "$OUT/bi.tsv.gz" \
    --data "$OUT/synth.jsonl" --out "$OUT/pkg"
for s in bea322 ewt_typos_train; do
    python3 -c "import json,sys; [print(json.loads(l)['corrupted']) for l in open('$D/$s.jsonl')]" \
        > "$OUT/$s.in.txt"
    $BIN fix --json --file "$OUT/$s.in.txt" > "$OUT/$s.fix.json"
done
$BIN fix --model "$OUT/pkg" --file "$OUT/bea322.in.txt" > "$OUT/pkg.fix.txt"
$BIN eval $D/bea322.jsonl $D/ewt_typos_train.jsonl $D/ewt_clean_train.jsonl $D/norvig1_words.jsonl \
    $D/norvig2_words.jsonl --baselines identity,nearest-edit --json > "$OUT/eval-a.json"
$BIN eval $D/wikidump_realistic_dev.jsonl $D/wiki_typos_wsc_dev.jsonl --limit 500 \
    --baselines identity,nearest-edit --json > "$OUT/eval-b.json"
$BIN eval "$OUT/synth.valid.jsonl" --baselines identity,nearest-edit --json > "$OUT/eval-c.json"
echo "snapshot of $BIN in $OUT"

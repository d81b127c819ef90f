#!/usr/bin/env bash
# Lines per second of the Ray Data example (bindings/python/examples/
# ray_correct.py) with 1 and 2 workers, beside one plain Python process
# running fix_batch over the same lines, in the same run. The corpus is
# the first $LINES lines of ../shared/data/corpus/ewt_train/sentences.txt.
# Makes target/ray-venv (Ray Data, and typofix built with `pip install`,
# a release build) unless $TYPOFIX_RAY_VENV names one that has both.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${TYPOFIX_RAY_VENV:-target/ray-venv}
if ! "$venv/bin/python" -c 'import ray.data, typofix' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "ray[data]==2.60.0" ./bindings/python
fi
lines=${LINES:-3000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -n "$lines" ../shared/data/corpus/ewt_train/sentences.txt > "$work/corpus.txt"

echo "== one process, no Ray (fix_batch, 256 lines a call)"
"$venv/bin/python" - "$work/corpus.txt" <<'PY'
import json, sys, time
import typofix
lines = open(sys.argv[1]).read().splitlines()
corrector = typofix.Corrector()
start = time.monotonic()
for at in range(0, len(lines), 256):
    corrector.fix_batch(lines[at:at + 256])
seconds = time.monotonic() - start
print(json.dumps({"lines": len(lines), "seconds": round(seconds, 1),
                  "lines_per_second": round(len(lines) / seconds, 1)}))
PY
for workers in 1 2; do
    echo "== Ray Data, $workers worker(s), 1 CPU each"
    "$venv/bin/python" bindings/python/examples/ray_correct.py \
        "$work/corpus.txt" "$work/out-$workers" --workers "$workers"
done

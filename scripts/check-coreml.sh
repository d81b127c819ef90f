#!/usr/bin/env bash
# Exports Core ML packages and checks them with coremltools' own Linux
# loaders (../shared/tools/validate_mlpackage.py) and the numpy executor
# (../shared/tools/mil_numpy_exec.py, through check_coreml_numerics.py):
#   - the tiny fixture, fp32: logits within 1e-3 of transformers';
#   - the tiny fixture, fp16: PSNR >= 50 dB, argmax agreement >= 99% on
#     real tokens;
#   - the shipped model, fp16: the same bounds, against our standard
#     engine's logits (which match transformers' within 2e-5).
# Needs python3 with venv; the environment is made once in target/.
set -euo pipefail
cd "$(dirname "$0")/.."

shared=../shared
venv=${TYPOFIX_COREML_VENV:-target/coreml-venv}
if ! "$venv/bin/python" -c 'import coremltools, numpy, safetensors' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$shared/tools/requirements.txt"
fi
py() { "$venv/bin/python" "$@" 2> >(grep -v '^Failed to load' >&2); }

cargo build --locked -q --bin typofix
typofix=target/debug/typofix
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tiny=$shared/fixtures/tiny-distilbert
$typofix export coreml --model "$tiny" --precision fp32 --out "$out/tiny-fp32.mlpackage"
$typofix export coreml --model "$tiny" --precision fp16 --out "$out/tiny-fp16.mlpackage"
$typofix export coreml --precision fp16 --out "$out/default-fp16.mlpackage"
$typofix export sample-io --out "$out/default-io.safetensors"

for pkg in tiny-fp32 tiny-fp16 default-fp16; do
    echo "== validate_mlpackage.py $pkg"
    py "$shared/tools/validate_mlpackage.py" -q "$out/$pkg.mlpackage"
done

echo "== numerics"
py scripts/check_coreml_numerics.py "$out/tiny-fp32.mlpackage" "$tiny/reference_io.safetensors" \
    --max-abs 1e-3
py scripts/check_coreml_numerics.py "$out/tiny-fp16.mlpackage" "$tiny/reference_io.safetensors" \
    --min-psnr 50 --min-argmax 0.99
py scripts/check_coreml_numerics.py "$out/default-fp16.mlpackage" "$out/default-io.safetensors" \
    --min-psnr 50 --min-argmax 0.99
echo "coreml: 3 passed, 0 failed"

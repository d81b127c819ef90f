#!/usr/bin/env bash
# Standard input against --file on the same lines, side by side:
#   scripts/stdin-vs-file.sh FILE [TYPOFIX...]
# For each binary (default target/release/typofix), prints the wall time of
# `typofix fix --file FILE` and of `cat FILE | typofix fix`, twice each, and
# checks that both give the same bytes.
set -euo pipefail
file=$1; shift
bins=("${@:-target/release/typofix}")
words=$(wc -w < "$file")
for bin in "${bins[@]}"; do
  for round in 1 2; do
    for how in file stdin; do
      start=$(date +%s.%N)
      if [ $how = file ]; then
        "$bin" fix --threads 2 --file "$file" > /tmp/stdin-vs-file.$how
      else
        cat "$file" | "$bin" fix --threads 2 > /tmp/stdin-vs-file.$how
      fi
      end=$(date +%s.%N)
      python3 -c "import sys; t=$end-$start; print(f'{sys.argv[1]:40} {sys.argv[2]:6} round $round: {t:6.1f} s, {int(sys.argv[3])/t:5.0f} words/s')" "$bin" $how "$words"
    done
    cmp /tmp/stdin-vs-file.file /tmp/stdin-vs-file.stdin
  done
done

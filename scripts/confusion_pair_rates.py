#!/usr/bin/env python3
"""What a per-pair confusion prior would say, from data typofix ships.

For each ordered pair of a built-in confusion set (observed word, meant
word), the misspelling tables' count of people writing the meant word as
the observed one (mostly Freiburg's counts), over the meant word's count
in the shipped lexicon: a rate up to one constant. Printed in nats against
the mean over all pairs, which is what a per-pair prior would add to
today's single confusion prior. Usage, from the repository root:
    python3 scripts/confusion_pair_rates.py [OBSERVED,MEANT ...]
"""
import collections
import gzip
import math
import sys

LEXICON = "crates/typofix/model/lexicon.tsv.gz"
MISSPELLINGS = "crates/typofix/assets/misspellings.tsv.gz"
SETS = "crates/typofix/assets/confusion_sets.txt"

counts = {}
for line in gzip.open(LEXICON, "rt"):
    word, count = line.rstrip("\n").split("\t")
    if word != "#total":
        counts[word] = int(count)

written_as = collections.defaultdict(dict)
for line in gzip.open(MISSPELLINGS, "rt"):
    if not line.startswith("#"):
        meant, observed, weight = line.rstrip("\n").split("\t")
        written_as[meant][observed] = int(weight)

rates = {}
for line in open(SETS):
    if line.strip() and not line.startswith("#"):
        words = line.strip().split(",")
        for observed in words:
            for meant in words:
                if meant != observed:
                    seen = written_as.get(meant, {}).get(observed, 0)
                    # Half a count for pairs the tables never saw.
                    rates[observed, meant] = math.log((seen + 0.5) / max(counts.get(meant, 1), 1))

mean = sum(rates.values()) / len(rates)
pairs = [tuple(a.split(",")) for a in sys.argv[1:]] or [
    ("their", "they're"), ("its", "it's"), ("it's", "its"), ("your", "you're"),
    ("to", "too"), ("too", "to"), ("then", "than"), ("a", "an"), ("off", "of")]
print(f"{len(rates)} ordered pairs; seen in the tables: "
      f"{sum(1 for (o, m) in rates if written_as.get(m, {}).get(o))}")
print("observed -> meant: nats above the mean pair")
for observed, meant in pairs:
    print(f"  {observed} -> {meant}: {rates[observed, meant] - mean:+.2f}")

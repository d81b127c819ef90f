#!/usr/bin/env python3
"""How many of typofix's built-in confusion sets are After the Deadline's.

A set counts as AtD's when every pair of its words is in one of AtD's
merged sets. Usage, from the repository root:
    python3 scripts/confusion_provenance.py
"""
import itertools
import pathlib

OURS = pathlib.Path("crates/typofix/assets/confusion_sets.txt")
ATD = pathlib.Path("../shared/data/confusion_sets/atd_confusion_sets_merged.tsv")


def words(line):
    return sorted({w.strip().lower() for w in line.split(",") if w.strip()})


atd_pairs = set()
for line in ATD.read_text().splitlines()[1:]:
    atd_pairs.update(itertools.combinations(words(line.split("\t")[0]), 2))

ours = [l for l in OURS.read_text().splitlines() if l.strip() and not l.startswith("#")]
from_atd = [l for l in ours if set(itertools.combinations(words(l), 2)) <= atd_pairs]
print(f"{len(from_atd)} of {len(ours)} built-in sets are After the Deadline's")
for line in sorted(set(ours) - set(from_atd)):
    print("  not in AtD:", line)

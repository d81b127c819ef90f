#!/usr/bin/env bash
# Tests .pre-commit-hooks.yaml with the real pre-commit tool (pinned, from
# PyPI) on a scratch git repository:
#   scripts/check-pre-commit.sh [TYPOFIX_BINARY]   (default target/release/typofix)
# The check hook must fail on a file with typos and name it in its diff,
# pass on clean files, and leave files alone; the fix hook must correct the
# file in place (pre-commit reports that as "files were modified"); after
# it, the check hook must pass.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$repo/target/release/typofix}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pre-commit==4.7.0
mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/typofix"
export PATH="$work/bin:$work/venv/bin:$PATH" PRE_COMMIT_HOME="$work/cache"

cd "$work" && git init --quiet project && cd project
git config user.email ci@example.com && git config user.name ci
printf 'Teh quick brown fox.\n' > notes.md
printf 'The quick brown fox.\n' > clean.txt
printf 'teh code is not checked\n' > code.py
git add . && git commit --quiet -m scratch

fail() { echo "check-pre-commit: $*" >&2; exit 1; }

# try-repo runs the hooks of the repository's HEAD (it commits uncommitted
# changes to a scratch copy first).
if out=$(pre-commit try-repo "$repo" typofix --all-files 2>&1); then
  fail "the check hook passed on a file with typos: $out"
fi
grep -q -- '-Teh quick brown fox.' <<<"$out" || fail "no diff for notes.md: $out"
grep -q -- '+The quick brown fox.' <<<"$out" || fail "no correction in the diff: $out"
grep -q 'code.py' <<<"$out" && fail "a Python file was checked: $out"
[ "$(cat notes.md)" = "Teh quick brown fox." ] || fail "the check hook changed notes.md"

if pre-commit try-repo "$repo" typofix --files clean.txt >/dev/null 2>&1; then :; else
  fail "the check hook failed on a clean file"
fi

if out=$(pre-commit try-repo "$repo" typofix-fix --all-files 2>&1); then
  fail "the fix hook did not report the modified file: $out"
fi
grep -q 'files were modified by this hook' <<<"$out" || fail "unexpected fix output: $out"
[ "$(cat notes.md)" = "The quick brown fox." ] || fail "notes.md not corrected: $(cat notes.md)"
[ "$(cat code.py)" = "teh code is not checked" ] || fail "code.py was changed"

pre-commit try-repo "$repo" typofix --all-files >/dev/null 2>&1 \
  || fail "the check hook still fails after the fix hook"
echo "pre-commit: both hooks behave (pre-commit 4.7.0, $("$bin" --version))"

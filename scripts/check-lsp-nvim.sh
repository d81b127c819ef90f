#!/usr/bin/env bash
# `typofix lsp` under a real editor: Neovim's built-in LSP client, headless.
# It opens a file with typos, waits for the diagnostics, applies the first
# code action (the quick fix of the first typo), writes the file, and the
# result is compared with the expected text. Run by CI (.ci/run).
# Needs nvim (Debian's neovim, 0.7 or later); installed with apt-get when
# missing and this runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvim >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q neovim >/dev/null
    else
        echo "check-lsp-nvim: nvim is missing; install neovim (apt-get install neovim)" >&2
        exit 1
    fi
fi

cargo build --locked -q --bin typofix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'The quikc brown fox.\n\nIt jumps over teh lazy dog.\n' > "$work/notes.txt"

(cd "$work" && TYPOFIX="$OLDPWD/target/debug/typofix" timeout 180 \
    nvim --headless --clean -u "$OLDPWD/crates/typofix-lsp/tests/nvim/check.lua" notes.txt)

expected=$'The quick brown fox.\n\nIt jumps over teh lazy dog.'
if [ "$(cat "$work/notes.txt")" != "$expected" ]; then
    echo "check-lsp-nvim: notes.txt after the code action:" >&2
    cat "$work/notes.txt" >&2
    exit 1
fi
echo "check-lsp-nvim: passed (nvim $(nvim --version | head -1 | cut -d' ' -f2))"

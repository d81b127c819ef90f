#!/usr/bin/env bash
# Builds the Python wheel (bindings/python) with maturin, installs it into
# a fresh virtual environment, and checks it there:
#   - pytest bindings/python/tests: the API, offsets, threads, processes,
#     pickling and damaged models;
#   - mypy's stubtest: typofix.pyi describes what the module really has.
# Needs python3 with venv. maturin is installed once into target/; the
# test environment is made again each run, so that only the wheel is in it.
# The wheel is built with the dev profile, which shares the test suite's
# compiled dependencies; `pip install ./bindings/python` builds a release.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/python-tools
if ! "$tools/bin/maturin" --version >/dev/null 2>&1; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q maturin==1.16.0
fi

wheels=target/python-wheels
rm -rf "$wheels"
"$tools/bin/maturin" build --locked --manifest-path bindings/python/Cargo.toml \
    --profile dev --strip --out "$wheels"

venv=target/python-test
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "$wheels"/typofix-*.whl -r bindings/python/requirements-test.txt

# From the tests' folder, where no typofix sources sit, so that `import
# typofix` is the installed wheel.
cd bindings/python/tests
../../../"$venv"/bin/python -m pytest -q -p no:cacheprovider .
../../../"$venv"/bin/python -m mypy.stubtest typofix --allowlist stubtest-allowlist.txt

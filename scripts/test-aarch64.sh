#!/usr/bin/env bash
# Tests the fused engine's kernels for aarch64 on an x86-64 machine: the
# typofix library is cross-compiled, linted, and its `model::fused` tests
# run under qemu-user twice, as two CPUs:
#   - `-cpu max`, which has FEAT_DotProd: the neon-dotprod, neon and
#     portable int8 kernels;
#   - `-cpu cortex-a53`, which has not: neon and portable only, so that
#     dispatch is seen to leave `sdot` out.
# Each run names the int8 kernels it tested. qemu gives no timings worth
# reading: speed on aarch64 is measured on a real machine, not here.
#
# Needs the Rust target aarch64-unknown-linux-gnu, Debian's
# gcc-aarch64-linux-gnu (the linker, and the C compiler for mimalloc) and
# qemu-user. With INSTALL=1 it installs what is missing; without them it
# says what is missing and exits 0, so that CI shows the skip. On an
# aarch64 machine, `cargo test -p typofix --lib model::fused` does it
# natively.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
find_missing() {
    missing=()
    rustup target list --installed 2>/dev/null | grep -qx "$target" || missing+=("rust target $target")
    command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
    command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
}
find_missing
if ((${#missing[@]})) && [[ ${INSTALL:-0} == 1 ]]; then
    rustup target add "$target" || true
    if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
        sudo=$( ((EUID == 0)) || echo sudo)
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
            gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null || true
    fi
    find_missing
fi
if ((${#missing[@]})); then
    echo "aarch64 kernels NOT tested: missing ${missing[*]} (INSTALL=1 $0 installs them)"
    exit 0
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
# The aarch64-only code is lint-clean too.
cargo clippy --locked --target "$target" -p typofix --lib -- -D warnings
for cpu in max cortex-a53; do
    echo "aarch64, qemu -cpu $cpu:"
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu" \
        cargo test --locked --target "$target" -p typofix --lib model::fused -- --nocapture 2>&1 \
        | tee "target/aarch64-tests-$cpu.log" \
        | grep -E '^test result|FAILED|panicked' || true
    grep -o '^[a-z0-9]* kernel tested: [a-z0-9-]*' "target/aarch64-tests-$cpu.log" | sort -u
    grep -q '^test result: ok' "target/aarch64-tests-$cpu.log" || {
        echo "aarch64 tests failed under qemu -cpu $cpu: see target/aarch64-tests-$cpu.log"
        exit 1
    }
done

#!/usr/bin/env bash
# Runs every test of the project: system packages first (scripts/setup.sh is idempotent), then
# the Swift tests (all modules), the live loop's malloc benchmark (0 allocations), the disassembly check of the SIMD kernels (x86_64; aarch64
# cross-compiled, its kernels also run under qemu-user), the live tests in a QEMU guest with the
# real ALSA sequencer, and the Python tests of Training/. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

bash scripts/setup.sh --system --test
status=0

echo "== Swift tests" >&2
# Progress lines of the build and of passing test cases are left out; failures, skips and the
# summaries are printed.
if ! swift test 2>&1 | grep --line-buffered -Ev "^\[[0-9]+/[0-9]+\]|^Test Case '.*' (started|passed)|^Test Suite '.*' (started|passed)"; then
    status=1
fi

echo "== The live loop allocates nothing (package-benchmark malloc counts, threshold 0)" >&2
bash scripts/check-malloc.sh || status=1

echo "== SIMD kernels: vector FMAs, no fmaf calls" >&2
bash scripts/check-fma.sh || status=1

echo "== SIMD kernels on aarch64: cross-compiled, NEON FMAs, SIMD vs scalar twins under qemu-aarch64" >&2
bash scripts/check-aarch64.sh || status=1

echo "== systemd units: exposure (systemd-analyze security, offline)" >&2
# Exposure scores are out of 10 (lower is safer); the thresholds are the measured scores, so a
# change that weakens the hardening fails here.
if command -v systemd-analyze >/dev/null; then
    systemd-analyze security --offline=yes --threshold=12 systemd/accompanist-system.service | tail -1 || status=1
    systemd-analyze security --offline=yes --threshold=58 systemd/accompanist.service | tail -1 || status=1
fi

echo "== Live tests: the daemon against the real ALSA sequencer, in a QEMU guest" >&2
bash Tests/LiveVM/run.sh || status=1

echo "== Python tests (Training/)" >&2
bash Training/setup.sh
bash Training/run_tests.sh || status=1

exit $status

#!/usr/bin/env bash
# Runs every test of the project: system packages first (scripts/setup.sh is idempotent), then
# the Swift tests (all modules), the live loop's malloc benchmark (0 allocations), the disassembly check of the SIMD kernels (x86_64; aarch64
# cross-compiled, its kernels also run under qemu-user), the live tests in a QEMU guest with the
# real ALSA sequencer, and the Python tests of Training/. Exits non-zero if anything fails.
#
#   scripts/test.sh          everything (what CI runs; apt only for a package that is missing)
#   scripts/test.sh --fast   the development loop: the Swift tests of every module in release mode
#                            (with -enable-testing), no package install, no VM, no Python;
#                            extra arguments go to `swift test` (e.g. --filter MemoryTests)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

# The Swift tests of every module, in release mode as users run it (with -enable-testing for the
# tests' @testable imports): 264 XCTests run in about 20 s here, against 11 minutes in a debug
# build. A scratch path of their own keeps these flags from rebuilding the release binary that
# setup.sh builds in .build. Progress lines of the build and of passing test cases are left out;
# failures, skips and the summaries are printed.
swiftTests() {
    swift test -c release -Xswiftc -enable-testing --scratch-path .build-fast "$@" 2>&1 \
        | grep --line-buffered -Ev "^\[[0-9]+/[0-9]+\]|^Test Case '.*' (started|passed)|^Test Suite '.*' (started|passed)"
    return "${PIPESTATUS[0]}"
}

if [[ "${1:-}" == "--fast" ]]; then
    shift
    swiftTests "$@"
    exit $?
fi

bash scripts/setup.sh --system --test
status=0

echo "== Swift tests (release)" >&2
swiftTests || status=1

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

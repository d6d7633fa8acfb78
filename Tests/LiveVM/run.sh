#!/usr/bin/env bash
# Runs the live tests against the real ALSA sequencer: builds the release binaries, boots a
# throw-away QEMU guest with the Debian kernel's sound modules (run-in-alsa-vm.sh) and runs
# guest-tests.sh in it. Artefacts and logs: $LIVE_VM_OUT (default .build/live-vm).
# Needs: qemu-system-x86 linux-image-amd64 busybox-static xz-utils cpio (scripts/setup.sh --test).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
out="${LIVE_VM_OUT:-$PWD/.build/live-vm}"
rm -rf "$out"; mkdir -p "$out"
# A failed build must stop here: the binaries left from an earlier build would be tested instead.
for product in accompanist seq-probe; do
    if ! log=$(swift build -c release --product $product 2>&1); then
        echo "$log" | grep -E "error|warning: " >&2
        echo "live tests: the release build of $product failed" >&2
        exit 1
    fi
    echo "$log" | grep -E "warning: " || true
done
test -x .build/release/accompanist && test -x .build/release/seq-probe || { echo "live tests: release build failed" >&2; exit 1; }
# The guest's ALSA libraries look for their config where the host keeps it; the whole host root
# is shared read-only, so the release binaries run there unchanged.
# The tests wait on conditions with timeouts sized for an emulated CPU on a busy host (the model
# replay alone may take minutes): a run took 9.5 minutes (549 s in the guest) on a shared 2-core
# host, 12 minutes (708 s) with a busy loop on the other core. The VM timeout leaves room for a
# wait to time out and say so rather than the whole VM being killed.
Tests/LiveVM/run-in-alsa-vm.sh --timeout 1800 --files "$out" -- "$PWD/Tests/LiveVM/guest-tests.sh" "$out"

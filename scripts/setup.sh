#!/usr/bin/env bash
# Sets up Accompanist on Debian 12 (idempotent): the system packages the project needs, the
# Python training environment, and a release build of `accompanist`.
#
#   scripts/setup.sh            everything
#   scripts/setup.sh --system   only the system packages
#   scripts/setup.sh --no-python   skip Training/.venv (the Swift parts need no Python)
#   scripts/setup.sh --system --test   also what the tests need: QEMU, a Debian kernel with the
#                                      sound modules, busybox (the live tests boot a VM); aarch64
#                                      glibc headers, cross linker, qemu-user (check-aarch64.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want_python=1
only_system=0
for_tests=0
for arg in "$@"; do
    case "$arg" in
        --system) only_system=1 ;;
        --no-python) want_python=0 ;;
        --test) for_tests=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option $arg" >&2; exit 64 ;;
    esac
done

# System packages: libraries and headers for the Swift targets (ALSA sequencer, FluidSynth), a
# General MIDI soundfont for audio, ALSA tools (aconnect, aplaymidi) for the live daemon, Python's
# venv for Training/.
packages=(pkg-config libasound2-dev libfluidsynth-dev fluidsynth timgm6mb-soundfont alsa-utils python3-venv)
# The live tests run the daemon against the real sequencer in a QEMU guest (Tests/LiveVM).
((for_tests)) && packages+=(qemu-system-x86 linux-image-amd64 busybox-static xz-utils cpio)
# scripts/check-aarch64.sh cross-compiles the kernels for aarch64 against Debian's aarch64 glibc
# headers, links a static test with the cross gcc and runs it under qemu-aarch64.
((for_tests)) && packages+=(libc6-dev-arm64-cross gcc-aarch64-linux-gnu qemu-user)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    echo "setup.sh: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
((only_system)) && exit 0

command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "setup.sh: swift not found (expected on PATH or in /opt/swift/usr/bin)" >&2; exit 1; }

if ((want_python)); then
    bash Training/setup.sh
fi

echo "setup.sh: building accompanist (release)" >&2
swift build -c release --product accompanist 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|^Building|^Fetching|^Computing|^Working copy|^Creating' || true
test -x .build/release/accompanist || { echo "setup.sh: the release build failed" >&2; exit 1; }
echo "setup.sh: ready: .build/release/accompanist" >&2

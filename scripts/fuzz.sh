#!/usr/bin/env bash
# Fuzzes what Accompanist reads from outside with libFuzzer (Fuzz/, a separate package):
#   midi     MIDI files as `render` takes them: read, render (rules engine), write, read back
#   config   the daemon's TOML config (DaemonConfig.parse)
#   weights  safetensors weights files: validate, load as a model, one encoder and decoder step;
#            inputs starting "CFG" edit the tiny fixture's config instead (the cache sizes)
#
#   scripts/fuzz.sh [TARGET...] [--seconds N]   (default: all three, 60 s each)
#   scripts/fuzz.sh --replay TARGET FILE...     runs inputs once through a plain (replay) build
#
# Seeds come from the repository (Examples/*.mid, Configs/accompanist.toml, the tiny model
# fixture); the growing corpus and any crash (crash-<sha1>) go to .build-fuzz/<target>/, which is
# git-ignored. A crash found here becomes a regression test in the module's test target. Not run by
# scripts/test.sh: a fuzzer's findings depend on time and luck, the tests must not.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

seconds=60
targets=()
replay=""
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --replay) replay="$2"; shift 2; break ;;
        midi|config|weights) targets+=("$1"); shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done
((${#targets[@]})) || targets=(midi config weights)
product() { case "$1" in midi) echo FuzzMIDI ;; config) echo FuzzConfig ;; weights) echo FuzzWeights ;; *) echo "fuzz.sh: unknown target $1" >&2; exit 64 ;; esac; }

if [[ -n "$replay" ]]; then
    p="$(product "$replay")"
    swift build --package-path Fuzz --scratch-path .build-fuzz/replay --product "$p" 2>&1 | grep -E "error|warning: |Compiling|Build complete" | grep -v "^\[" || true
    exec .build-fuzz/replay/debug/"$p" "$@"
fi

# One build with the fuzzer and AddressSanitizer for every target; -DFUZZING leaves libFuzzer's
# driver in charge (Fuzz/Sources/FuzzSupport). Release with debug info: fast enough to explore,
# symbols for the reports. lld (the toolchain's): gold fails on the sanitizer runtime's debug info.
swift build --package-path Fuzz --scratch-path .build-fuzz/build -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -g \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld 2>&1 \
    | grep -E "error|warning: |Build complete" || true
bin=".build-fuzz/build/release"
status=0
for t in "${targets[@]}"; do
    p="$(product "$t")"
    [[ -x "$bin/$p" ]] || { echo "fuzz.sh: $bin/$p was not built" >&2; exit 2; }
    corpus=".build-fuzz/$t/corpus"; seeds=".build-fuzz/$t/seeds"
    mkdir -p "$corpus" "$seeds"
    case "$t" in
        midi) cp Examples/*.mid "$seeds/" ;;
        config) cp Configs/accompanist.toml "$seeds/"; printf '[tempo]\nbpm = 92.0\n' >"$seeds/small.toml" ;;
        weights) cp Tests/Fixtures/model/tiny.safetensors "$seeds/"
                 # Config edits of the tiny fixture (FuzzWeights.swift): n_heads 6, self_window 10^12.
                 printf 'CFG\x80\x00\x00\x00\x00\x00\x00\x00\x06' >"$seeds/config-edit"
                 printf 'CFG\x0a\x00\x00\x00\xe8\xd4\xa5\x10\x00' >"$seeds/config-edit-window" ;;
    esac
    echo "== fuzz $t for $seconds s" >&2
    rc=0
    "$bin/$p" "$corpus" "$seeds" -max_total_time="$seconds" -artifact_prefix=".build-fuzz/$t/" \
        -max_len=$([[ $t == weights ]] && echo 200000 || echo 65536) -rss_limit_mb=4096 -timeout=10 \
        -print_final_stats=1 2>".build-fuzz/$t/log" || rc=$?
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" ".build-fuzz/$t/log" >&2 || true
    if ((rc)); then
        status=1
        echo "fuzz.sh: $t FAILED (exit $rc); the input is in .build-fuzz/$t/ (crash-*, timeout-*, oom-*), the report:" >&2
        grep -E "ERROR|Fatal error|SUMMARY|#[0-9]+ 0x" ".build-fuzz/$t/log" | head -20 >&2
    fi
done
exit $status

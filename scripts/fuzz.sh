#!/usr/bin/env bash
# Fuzzes what Accompanist reads from outside with libFuzzer (Fuzz/, a separate package):
#   midi     MIDI files as `render` takes them: read, render (rules engine), write, read back
#   config   the daemon's TOML config (DaemonConfig.parse)
#   weights  safetensors weights files: validate, load as a model, one encoder and decoder step;
#            inputs starting "CFG" edit the tiny fixture's config instead (the cache sizes)
#   chart    chord chart files: the UTF-8 check, ChordChart, the chord stream in 3/4 and 4/4
#   take     rehearsal-memory take files: MemoryStore.read, save, read back equal
#
#   scripts/fuzz.sh [TARGET...] [--seconds N] [--merge]
#                                      fuzz each target N s (default: all five, 60 s each);
#                                      --merge then minimizes the grown corpus into Fuzz/corpus;
#                                      --seconds 0 --merge only merges what earlier runs grew
#   scripts/fuzz.sh --replay TARGET FILE...   runs inputs once through a plain (replay) build
#   scripts/fuzz.sh --totals                  executions and CPU time per target, from Fuzz/runs.tsv
#
# Inputs: the committed corpus Fuzz/corpus/<target>/ (minimized, small files) and the seeds: the
# hand-written Fuzz/seeds/<target>/ and files of the repository (Examples/*.mid,
# Configs/accompanist.toml, the tiny model fixture). The corpus grows in .build-fuzz/<target>/corpus
# (git-ignored), reused by the next run; a crash (crash-<sha1>) goes to .build-fuzz/<target>/.
# Each run appends one line to Fuzz/runs.tsv (kept in git), so executions add up across sessions.
# A crash found here becomes a regression test in the module's test target. Not run by
# scripts/test.sh: a fuzzer's findings depend on time and luck, the tests must not.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

all=(midi config weights chart take)
runs="Fuzz/runs.tsv"
header=$'date\ttarget\tseconds\tcpu_seconds\texecutions\tpeak_rss_mb\tcorpus_files\tcoverage\tresult'
seconds=60
targets=()
replay=""
merge=0
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --merge) merge=1; shift ;;
        --replay) replay="$2"; shift 2; break ;;
        --totals)
            [[ -s "$runs" ]] || { echo "fuzz.sh: no runs logged in $runs yet" >&2; exit 0; }
            # Columns by name, so that the file may gain columns.
            awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                { t = $col["target"]; n[t]++; wall[t] += $col["seconds"]; cpu[t] += $col["cpu_seconds"]
                  ex[t] += $col["executions"]; if ($col["result"] != "ok") bad[t]++
                  if (!(t in first)) { first[t] = $col["date"]; order[++k] = t }; last[t] = $col["date"] }
                END { printf "%-8s %5s %10s %10s %14s %10s %8s  %s\n", "target", "runs", "wall_s", "cpu_s",
                             "executions", "exec/cpu_s", "failed", "from - to"
                      for (j = 1; j <= k; j++) { t = order[j]
                          printf "%-8s %5d %10d %10.0f %14d %10.0f %8d  %s - %s\n", t, n[t], wall[t], cpu[t], ex[t],
                                 (cpu[t] > 0 ? ex[t] / cpu[t] : 0), bad[t], first[t], last[t] } }' "$runs"
            exit 0 ;;
        midi|config|weights|chart|take) targets+=("$1"); shift ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done
((${#targets[@]})) || targets=("${all[@]}")
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds takes a whole number, not $seconds" >&2; exit 64; }
product() {
    case "$1" in
        midi) echo FuzzMIDI ;; config) echo FuzzConfig ;; weights) echo FuzzWeights ;;
        chart) echo FuzzChart ;; take) echo FuzzTake ;;
        *) echo "fuzz.sh: unknown target $1" >&2; exit 64 ;;
    esac
}

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
# The Swift runtime's backtracer, run inside an ASan process, trips ASan itself (a bogus
# "unknown-crash" in CrashHandlerLinux.cpp after the real report); libFuzzer's own stack is enough.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

# The longest input fuzzed, and the largest file the committed corpus keeps (weights: small
# inputs only; the fixture's mutations are 100 KB each and stay in the local corpus).
maxLen() { [[ $1 == weights ]] && echo 200000 || echo 65536; }
keepBytes() { [[ $1 == weights ]] && echo 16384 || echo 65536; }
# The committed corpus of a target stays under this many bytes.
corpusBudget=$((2 * 1024 * 1024))

seedsOf() {   # fills $2 with the target's seeds
    local t="$1" seeds="$2"
    rm -rf "$seeds"; mkdir -p "$seeds"
    [[ -d "Fuzz/seeds/$t" ]] && cp Fuzz/seeds/"$t"/* "$seeds/" 2>/dev/null || true
    case "$t" in
        midi) cp Examples/*.mid "$seeds/" ;;
        config) cp Configs/accompanist.toml "$seeds/"; printf '[tempo]\nbpm = 92.0\n' >"$seeds/small.toml" ;;
        weights) cp Tests/Fixtures/model/tiny.safetensors "$seeds/"
                 # Config edits of the tiny fixture (FuzzWeights.swift): n_heads 6, self_window 10^12.
                 printf 'CFG\x80\x00\x00\x00\x00\x00\x00\x00\x06' >"$seeds/config-edit"
                 printf 'CFG\x0a\x00\x00\x00\xe8\xd4\xa5\x10\x00' >"$seeds/config-edit-window" ;;
    esac
}

# Seconds of CPU from bash's `time` output ("%U %S").
cpuSeconds() { awk '{ printf "%.1f", $1 + $2 }' "$1" 2>/dev/null || echo 0; }

# Minimizes the committed corpus and the grown one into Fuzz/corpus/<t>: libFuzzer's -merge=1
# over the seeds (which count as covered and are not copied) keeps the fewest, smallest files
# that reach the same coverage; files over keepBytes are left out, and the smallest files are
# kept up to corpusBudget.
mergeTarget() {
    local t="$1" p="$2" committed="Fuzz/corpus/$1" work=".build-fuzz/$1/merge"
    local seeds=".build-fuzz/$t/seeds"
    seedsOf "$t" "$seeds"
    rm -rf "$work"; mkdir -p "$work/out" "$work/candidates" "$committed"
    cp "$seeds"/* "$work/out/"
    local keep; keep=$(keepBytes "$t")
    find "$committed" ".build-fuzz/$t/corpus" -maxdepth 1 -type f -size -"$((keep + 1))"c \
        -exec cp -t "$work/candidates/" {} + 2>/dev/null || true
    local before; before=$(find "$committed" -maxdepth 1 -type f | wc -l)
    echo "== merge $t: $(ls "$work/candidates" | wc -l) candidates (committed $before + grown, each ≤ $keep bytes)" >&2
    local rc=0
    "$bin/$p" -merge=1 -max_len="$(maxLen "$t")" -rss_limit_mb=4096 -timeout=10 \
        -artifact_prefix="$work/" "$work/out" "$work/candidates" 2>"$work/log" || rc=$?
    grep -E "^MERGE-OUTER: [0-9]+ new files" "$work/log" >&2 || true
    if ((rc)); then
        echo "fuzz.sh: merge of $t FAILED (exit $rc), Fuzz/corpus/$t unchanged; the log: $work/log" >&2
        return 1
    fi
    # The seeds are in the repository already.
    local s; for s in "$seeds"/*; do rm -f "$work/out/$(basename "$s")"; done
    rm -rf "$committed.new"; mkdir -p "$committed.new"
    local total=0 size f
    while read -r size f; do
        ((total + size <= corpusBudget)) || { echo "fuzz.sh: $t corpus over $((corpusBudget / 1024)) KB; left out $f and larger" >&2; break; }
        cp "$f" "$committed.new/"
        total=$((total + size))
    done < <(find "$work/out" -maxdepth 1 -type f -printf '%s %p\n' | sort -n)
    rm -rf "$committed"; mv "$committed.new" "$committed"
    echo "   Fuzz/corpus/$t: $before -> $(ls "$committed" | wc -l) files, $((total / 1024)) KB" >&2
}

[[ -s "$runs" ]] || echo "$header" >"$runs"
status=0
for t in "${targets[@]}"; do
    p="$(product "$t")"
    [[ -x "$bin/$p" ]] || { echo "fuzz.sh: $bin/$p was not built" >&2; exit 2; }
    corpus=".build-fuzz/$t/corpus"; seeds=".build-fuzz/$t/seeds"
    mkdir -p "$corpus" "Fuzz/corpus/$t"
    seedsOf "$t" "$seeds"
    if ((seconds > 0)); then
        echo "== fuzz $t for $seconds s" >&2
        rc=0
        started=$(date +%s)
        # libFuzzer writes new inputs into the first directory only; the others are read.
        TIMEFORMAT='%U %S'
        { time "$bin/$p" "$corpus" "Fuzz/corpus/$t" "$seeds" -max_total_time="$seconds" -artifact_prefix=".build-fuzz/$t/" \
            -max_len="$(maxLen "$t")" -rss_limit_mb=4096 -timeout=10 \
            -print_final_stats=1 2>".build-fuzz/$t/log" || rc=$?; } 2>".build-fuzz/$t/time"
        wall=$(($(date +%s) - started))
        log=".build-fuzz/$t/log"
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$log" >&2 || true
        execs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log" | tail -1)
        rss=$(awk '/^stat::peak_rss_mb:/ { print $2 }' "$log" | tail -1)
        cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1 | awk '{ print $2 }' || true)
        artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | awk '{ print $5 }' || true)
        if ((rc == 0)); then result=ok
        elif [[ -n "$artifact" ]]; then result="$(basename "$artifact")"
        else result="failed(exit $rc)"; fi
        cpu=$(cpuSeconds ".build-fuzz/$t/time")
        ((wall > 0)) && echo "   $t: ${execs:-?} executions in $wall s ($(( ${execs:-0} / wall )) exec/s), $cpu s CPU" >&2
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" "$wall" "$cpu" "${execs:-0}" \
            "${rss:-0}" "$(find "$corpus" -maxdepth 1 -type f | wc -l)" "${cov:-0}" "$result" >>"$runs"
        if ((rc)); then
            status=1
            echo "fuzz.sh: $t FAILED (exit $rc); the input is in .build-fuzz/$t/ (crash-*, timeout-*, oom-*), the report:" >&2
            grep -E "ERROR|Fatal error|SUMMARY|#[0-9]+ 0x" "$log" | head -24 | swift demangle --simplified >&2 || true
        fi
    fi
    if ((merge)); then mergeTarget "$t" "$p" || status=1; fi
done
exit $status

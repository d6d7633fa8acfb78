#!/usr/bin/env bash
# The live loop must not allocate: runs the package-benchmark malloc benchmarks of the live loop
# (Benchmarks/Malloc, target LiveLoop: the reader, the engine loop with the neural engine, count-in,
# panic, a vanished keyboard, an external clock's Start/Stop, shutdown) and fails unless every
# "Malloc (total)" figure of every benchmark, p0 to p100, is 0.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks/Malloc"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift package --allow-writing-to-package-directory benchmark --filter "Live loop.*" --no-progress > "$log" 2>&1; then
    tail -30 "$log" >&2
    echo "check-malloc: the benchmark did not run" >&2
    exit 1
fi
# Each benchmark's name and its malloc row, printed (to stderr, with the rest of the suite's log),
# then judged. (Not `tee /dev/stderr`: tee would truncate a log file that stderr points to.)
rows=$(awk '/^Live loop/ {name=$0} /Malloc \(total\)/ {print name " |" $0}' "$log")
echo "$rows" >&2
echo "$rows" | awk -F'│' '
    NF > 1 { n++; for (i = 3; i <= 9; i++) { v = $i; gsub(/ /, "", v); if (v != "0") { bad++; print "check-malloc: allocation in: " $0; break } } }
    END { if (n < 3) { print "check-malloc: expected 3 live-loop benchmarks, found " n; exit 1 }
          if (bad) exit 1
          print "check-malloc: 0 allocations in " n " live-loop benchmarks" }' >&2

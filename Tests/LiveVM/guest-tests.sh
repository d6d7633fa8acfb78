#!/bin/bash
# The live tests, run INSIDE the QEMU guest by Tests/LiveVM/run.sh (the guest has the real ALSA
# sequencer: snd-seq, snd-seq-dummy, snd-virmidi). Artefacts and logs go to $1.
set -u
cd "$(dirname "$0")/../.."
OUT=$1
BIN=.build/release/accompanist
PROBE=.build/release/seq-probe
PY="python3 Tests/LiveVM/analyze.py"
fail=0
section() { echo; echo "=== $* ($(cut -d' ' -f1 /proc/uptime) s)"; }
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi; }
wait_for_port() { for _ in $(seq 300); do aconnect -l | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$1/status; }

section "no sequencer here? (the guest has one; the host test checks the error)"
$BIN ports > "$OUT/ports.txt"; check "accompanist ports lists Midi Through" 'grep -q "Midi Through" "$OUT/ports.txt"'

section "replay: a melody played live gives what render gives, at grid times"
song=Examples/ode_to_joy.mid; bpm=108; seed=5
$BIN render "$song" -o "$OUT/render.mid" --events "$OUT/render.jsonl" --seed $seed --engine rules 2>/dev/null
$BIN run --engine rules --no-sound --bpm $bpm --seed $seed --input none > "$OUT/replay-daemon.log" 2>&1 & daemon=$!
check "daemon ports visible" 'wait_for_port "accompaniment out"'
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/replay.jsonl" 2>>"$OUT/replay-daemon.log" & rec=$!
sleep 1
aplaymidi -p Accompanist:0 "$song"
sleep 1
kill -TERM $daemon; wait $daemon; status=$?
check "SIGTERM: daemon exits 0 ($status)" '[ $status -eq 0 ]'
sleep 0.3; kill -INT $rec; wait $rec
cat "$OUT/replay-daemon.log"
# The budget on real hardware is p99 < 1 ms. Under software emulation the guest kernel's queue
# timer itself fires late when the host is busy (whole steps arrive 3-5 ms late together, with
# every event of the step already queued; measured p99 0.2 ms on an idle host, 3-5 ms with a
# training job on both cores), so the VM check allows 10 ms: still far below what sending notes
# when they are computed (up to half a step, 30 ms) or computing them late would give.
$PY replay --render "$OUT/render.jsonl" --recorded "$OUT/replay.jsonl" --bpm $bpm --channel 1 --max-p99-ms 10 || fail=1
$PY balanced --recorded "$OUT/replay.jsonl" || fail=1

section "replay with the shipped model (the default engine): live equals render, note for note"
song=Examples/ode_to_joy.mid; bpm=108; seed=11
$BIN render "$song" -o "$OUT/render-model.mid" --events "$OUT/render-model.jsonl" --seed $seed 2>/dev/null
$BIN run --no-sound --bpm $bpm --seed $seed --input none > "$OUT/replay-model-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/replay-model.jsonl" 2>/dev/null & rec=$!
sleep 1
aplaymidi -p Accompanist:0 "$song"
sleep 1
kill -TERM $daemon; wait $daemon; status=$?
check "model engine: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
sleep 0.3; kill -INT $rec; wait $rec
grep -E "engine|stopped" "$OUT/replay-model-daemon.log"
check "the daemon ran the shipped model by default" 'grep -q "engine model .*accompanist.safetensors" "$OUT/replay-model-daemon.log"'
# Equality only: the guest's CPU is emulated (TCG), and emulated AVX2 vector FMAs make a step of
# the real model take longer than a step of music, so the notes come late here; on real hardware a
# step takes 0.1-0.6 ms (docs/bench.md). The timing is reported.
$PY replay --render "$OUT/render-model.jsonl" --recorded "$OUT/replay-model.jsonl" --bpm $bpm --channel 1 --max-p99-ms 0 || fail=1
$PY balanced --recorded "$OUT/replay-model.jsonl" || fail=1

section "SIGTERM while notes sound: every note gets its note-off"
$BIN run --engine rules --no-sound --bpm 120 --input none --pattern block > "$OUT/sigterm-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/sigterm.jsonl" 2>/dev/null & rec=$!
sleep 0.5
$PROBE play --to Accompanist:melody --pitch 72 --seconds 3 &
sleep 2.2
kill -TERM $daemon; wait $daemon; status=$?
check "SIGTERM mid-chord: exit 0 ($status)" '[ $status -eq 0 ]'
sleep 0.3; kill -INT $rec; wait $rec
check "notes were playing when the signal came" '[ $(grep -c "\"on\"" "$OUT/sigterm.jsonl") -gt 0 ]'
$PY balanced --recorded "$OUT/sigterm.jsonl" || fail=1

section "a keyboard that goes away and comes back"
$BIN run --engine rules --no-sound --bpm 120 --input TestKeys --melody-passthrough > "$OUT/unplug-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/unplug.jsonl" 2>/dev/null & rec=$!
sleep 0.5
$PROBE keyboard --name TestKeys --hold 72 --seconds 2
sleep 0.5
$PROBE keyboard --name TestKeys --hold 74 --seconds 2
sleep 0.5
kill -TERM $daemon; wait $daemon
sleep 0.3; kill -INT $rec; wait $rec
cat "$OUT/unplug-daemon.log"
check "connected twice by name" '[ $(grep -c "input: connected .*TestKeys" "$OUT/unplug-daemon.log") -eq 2 ]'
check "logged going away twice" '[ $(grep -c "TestKeys.*went away" "$OUT/unplug-daemon.log") -eq 2 ]'
check "the held note ended when its keyboard went" 'grep -q "\"off\", \"channel\": 0, \"pitch\": 72" "$OUT/unplug.jsonl"'
$PY balanced --recorded "$OUT/unplug.jsonl" || fail=1

section "panic: the configured controller ends every note at once"
$BIN run --engine rules --no-sound --bpm 120 --input none --pattern block > "$OUT/panic-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/panic.jsonl" 2>/dev/null & rec=$!
sleep 0.5
$PROBE play --to Accompanist:melody --pitch 72 --seconds 1.5
$PROBE cc --to Accompanist:melody --controller 120 --value 0
sleep 0.5
kill -INT $rec; wait $rec
check "panic logged" 'sleep 0.3; grep -q "panic: all notes off" "$OUT/panic-daemon.log"'
# At the panic, every sounding note gets its own note-off before the All Notes Off.
$PY balanced --recorded "$OUT/panic.jsonl" --until-cc 123 || fail=1
kill -TERM $daemon; wait $daemon

section "count-in: one bar of clicks on channel 10 before beat 1"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/countin.jsonl" 2>/dev/null & rec=$!
sleep 0.5
$BIN run --engine rules --no-sound --bpm 60 --input none --count-in 1 > "$OUT/countin-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
sleep 6  # 4 clicks at 60 BPM, from half a beat after the start
kill -TERM $daemon; wait $daemon
sleep 0.3; kill -INT $rec; wait $rec
check "four clicks on channel 10" '[ $(grep -c "\"on\", \"channel\": 9" "$OUT/countin.jsonl") -eq 4 ]'

section "external MIDI clock: Start, clock at 132 BPM, a melody note, Stop"
$BIN run --engine rules --no-sound --tempo-source midi-clock --input none > "$OUT/clock-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
$PROBE record --from "Accompanist:accompaniment" --out "$OUT/clock.jsonl" 2>/dev/null & rec=$!
sleep 0.5
$PROBE clock --to Accompanist:melody --bpm 132 --seconds 6
sleep 0.5
kill -TERM $daemon; wait $daemon
sleep 0.3; kill -INT $rec; wait $rec
cat "$OUT/clock-daemon.log"
check "tempo from the clock logged" 'grep -q "tempo source: MIDI clock, 13[12]\.[0-9] BPM" "$OUT/clock-daemon.log"'
check "stopped by the clock logged" 'grep -q "stopped by the external clock" "$OUT/clock-daemon.log"'
check "the accompaniment played" '[ $(grep -c "\"on\"" "$OUT/clock.jsonl") -gt 2 ]'
$PY balanced --recorded "$OUT/clock.jsonl" || fail=1

section "FluidSynth through the file driver"
$BIN run --engine rules --bpm 120 --input none --audio-driver file --audio-file /tmp/live.wav > "$OUT/synth-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
sleep 0.5
$PROBE play --to Accompanist:melody --pitch 67 --seconds 3
kill -TERM $daemon; wait $daemon
cat "$OUT/synth-daemon.log"
cp /tmp/live.wav "$OUT/live.wav" 2>/dev/null
$PY wav --file /tmp/live.wav --min-rms 0.002 || fail=1

section "systemd notify protocol: READY=1, WATCHDOG=1 while the engine runs, STOPPING=1"
python3 - "$OUT/notify.txt" <<'PY' & listener=$!
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0accompanist-test-notify")  # abstract: sockets on the guest's overlay /tmp do not connect
s.settimeout(30)
open("/tmp/notify.ready", "w").close()
with open(sys.argv[1], "w") as f:
    while True:
        try:
            data = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(f"{time.monotonic():.3f} {data.replace(chr(10), '|')}\n")
        f.flush()
        if "STOPPING=1" in data:
            break
PY
for _ in $(seq 200); do [ -e /tmp/notify.ready ] && break; sleep 0.1; done  # python starts slowly under emulation
NOTIFY_SOCKET=@accompanist-test-notify WATCHDOG_USEC=1000000 $BIN run --engine rules --no-sound --bpm 120 --input none > "$OUT/notify-daemon.log" 2>&1 & daemon=$!
sleep 4
kill -TERM $daemon; wait $daemon; status=$?
wait $listener
cat "$OUT/notify.txt"
check "notify: exit 0 ($status)" '[ $status -eq 0 ]'
check "notify: READY=1 first" 'head -1 "$OUT/notify.txt" | grep -q "READY=1"'
check "notify: WATCHDOG=1 while running" '[ $(grep -c "WATCHDOG=1" "$OUT/notify.txt") -ge 3 ]'
check "notify: STOPPING=1 last" 'tail -1 "$OUT/notify.txt" | grep -q "STOPPING=1"'

section "a flood of 10,000 events/s for 10 s"
$BIN run --engine rules --no-sound --bpm 120 --input none > "$OUT/flood-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
sleep 1
before=$(rss_kb $daemon)
$PROBE flood --to Accompanist:melody --rate 10000 --seconds 10 2>&1 | tee -a "$OUT/flood-daemon.log"
sleep 1
after=$(rss_kb $daemon)
check "daemon survived the flood" 'kill -0 $daemon'
echo "RSS before ${before} kB, after ${after} kB"
check "memory bounded (RSS grew $((after - before)) kB, under 8 MB)" '[ $((after - before)) -lt 8192 ]'
kill -TERM $daemon; wait $daemon; status=$?
cat "$OUT/flood-daemon.log" | tail -5
check "clean exit after the flood ($status)" '[ $status -eq 0 ]'
check "the daemon reported what it dropped or that it kept up" 'grep -q "events dropped" "$OUT/flood-daemon.log"'

echo
[ $fail = 0 ] && echo "ALL LIVE CHECKS PASSED" || echo "SOME LIVE CHECKS FAILED"
exit $fail

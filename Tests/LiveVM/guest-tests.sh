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
LATENCY_P50_MS=${LATENCY_P50_MS:-2}    # the passthrough latency bounds, see their section
LATENCY_P99_MS=${LATENCY_P99_MS:-100}
# Each section's daemons get an empty rehearsal memory of their own (the default directory is
# $XDG_STATE_HOME/accompanist/memory): a daemon follows the takes its memory keeps, so one that
# remembered an earlier section's performance of the same song would differ from a plain render.
sections=0
section() { echo; echo "=== $* ($(cut -d' ' -f1 /proc/uptime) s)"; sections=$((sections + 1)); export XDG_STATE_HOME="$OUT/state-$sections"; }
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
# Uptime in centiseconds, without a fork (the guest's CPU is emulated: forks are slow).
now_cs() { local up _; read -r up _ < /proc/uptime; up=${up/./}; echo $((10#$up)); }

# No test waits with `sleep` for work to finish: it waits on a condition, polling, with a timeout
# sized for an emulated CPU on a busy host (minutes, not seconds).
#   wait_until DESCRIPTION TIMEOUT_S CONDITION [DETAIL]
# CONDITION and DETAIL are evaluated (eval) each poll / at a timeout; DETAIL prints what was seen.
# With WATCH=PID set, it gives up at once (and fails) when that process has exited.
wait_until() {
    local what=$1 limit=$2 cond=$3 detail=${4:-} t0 t; t0=$(now_cs)
    while ! eval "$cond"; do
        t=$(now_cs)
        if [ -n "${WATCH:-}" ] && exited "$WATCH"; then
            echo "FAIL: process $WATCH exited after $(( (t - t0) / 100 )) s while waiting for $what"
            [ -n "$detail" ] && echo "  seen: $(eval "$detail" 2>&1)"
            fail=1; return 1
        fi
        if [ $((t - t0)) -ge $((limit * 100)) ]; then
            echo "FAIL: timed out after $limit s waiting for $what"
            [ -n "$detail" ] && echo "  seen: $(eval "$detail" 2>&1)"
            fail=1; return 1
        fi
        sleep 0.1
    done
    t=$(now_cs)
    echo "  waited $(( (t - t0) / 100 )).$(printf %02d $(( (t - t0) % 100 ))) s for $what"
}
# A wait that is itself a check: PASS on success (the FAIL line comes from wait_until).
check_wait() { wait_until "$@" && echo "PASS: $1"; }
# Gone, or a zombie waiting to be reaped (kill -0 succeeds on those).
exited() { [ ! -e /proc/$1 ] || grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
wait_for_port() { wait_until "port \"$1\" to appear" 300 "aconnect -l | grep -q '$1'" "aconnect -l | grep client | tr '\n' ' '"; }
# stop_proc PID SIGNAL NAME [TIMEOUT_S]: signal it, wait (polling, with a timeout, default 120 s)
# until it has exited, reap it; sets $status to its exit status (137 if it had to be killed).
stop_proc() {
    kill -"$2" "$1" 2>/dev/null
    if ! wait_until "$3 (pid $1) to exit after SIG$2" "${4:-120}" "exited $1"; then kill -KILL "$1" 2>/dev/null; fi
    wait "$1"; status=$?
}
# Recorded note events: count_events FILE CHANNEL [on|off|on\|off]
count_events() { if [ -e "$1" ]; then grep -c "\"type\": \"\(${3:-on\|off}\)\", \"channel\": $2," "$1"; else echo 0; fi; }
# start_recorder FILE [seq-probe record options]: sets $rec; it creates $REC_READY once subscribed.
REC_READY=/tmp/recorder.ready
start_recorder() {
    local out=$1; shift
    rm -f "$REC_READY"
    $PROBE record --out "$out" --ready "$REC_READY" "$@" 2>>"$OUT/recorder.log" & rec=$!
}
await_recorder() { WATCH=$rec wait_until "the recorder to be subscribed" 300 "[ -e $REC_READY ]" "tail -2 '$OUT/recorder.log' | tr '\n' ' '"; }
# The recorder drains what is queued for it before it exits, so it can stop right after the daemon.
stop_recorder() { stop_proc $rec INT recorder; }
log_has() { grep -q "$2" "$1" 2>/dev/null; }
suite_t0=$(now_cs)

section "no sequencer here? (the guest has one; the host test checks the error)"
$BIN ports > "$OUT/ports.txt"; check "accompanist ports lists Midi Through" 'grep -q "Midi Through" "$OUT/ports.txt"'

section "replay: a melody played live gives what render gives, at grid times"
song=Examples/ode_to_joy.mid; bpm=108; seed=5
$BIN render "$song" -o "$OUT/render.mid" --events "$OUT/render.jsonl" --seed $seed --engine rules 2>/dev/null
want=$($PY expected --render "$OUT/render.jsonl" --render-mid "$OUT/render.mid")
$BIN run --engine rules --no-sound --bpm $bpm --seed $seed --input none > "$OUT/replay-daemon.log" 2>&1 & daemon=$!
check "daemon ports visible" 'wait_for_port "accompaniment out"'
start_recorder "$OUT/replay.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
# Every event the render has before its end step must have come out before the daemon is stopped.
WATCH=$daemon wait_until "the render's $want note events (steps before its end) on channel 1" 300 \
    '[ $(count_events "$OUT/replay.jsonl" 1) -ge $want ]' 'echo "$(count_events "$OUT/replay.jsonl" 1) recorded"'
stop_proc $daemon TERM daemon
check "SIGTERM: daemon exits 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
cat "$OUT/replay-daemon.log"
# The budget on real hardware is p99 < 1 ms, measured by benchmarks, not here. Under software
# emulation the guest kernel's queue timer itself fires late when the host is busy: whole steps
# arrive late together, with every event of the step already queued (p99 0.2 ms on an idle host,
# 3-5 ms with a training job on both cores, 126 ms once with a busy loop and a build beside the
# VM). So the check bounds the median, which such bursts do not move (0.04-0.09 ms in all of
# those runs): 5 ms is still far below what sending notes when they are computed (up to half a
# step, 30 ms at this tempo) would give. The p99 is reported.
$PY replay --render "$OUT/render.jsonl" --render-mid "$OUT/render.mid" --recorded "$OUT/replay.jsonl" --bpm $bpm --channel 1 --max-p50-ms 5 || fail=1
$PY balanced --recorded "$OUT/replay.jsonl" || fail=1

section "the shipped model is the daemon's default engine, and plays"
# Live equals render for the shipped model is proven on the host, on a simulated clock
# (Tests/LiveTests/EngineLoopTests, testReplayWithTheShippedModelIncludesNoteOffs), where a step's
# time does not depend on the machine. Here, where the CPU is emulated (TCG) and a step of the
# real model takes longer than a step of music, a full replay ran minutes behind the clock; the
# guest only checks that the real daemon loads it by default and plays it through the real
# sequencer. The replays below use the fixtures' tiny models, which keep up.
song=Examples/twinkle.mid; bpm=108; seed=11
$BIN run --no-sound --bpm $bpm --seed $seed --input none > "$OUT/model-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/model.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
WATCH=$daemon wait_until "the shipped model's first notes on channel 1" 300 \
    '[ $(count_events "$OUT/model.jsonl" 1 on) -gt 0 ]' 'echo "$(count_events "$OUT/model.jsonl" 1) recorded"'
stop_proc $daemon TERM daemon 600
check "model engine: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
grep -E "engine|stopped" "$OUT/model-daemon.log"
check "the daemon ran the shipped model by default" 'grep -q "engine model .*accompanist.safetensors" "$OUT/model-daemon.log"'
$PY balanced --recorded "$OUT/model.jsonl" || fail=1

section "repeats within the take (memory.repeats, the default): live equals render, event for event"
# Ode to Joy's phrases come back: the daemon's memory thread recognizes them a beat ahead and the
# model hears the chords hindsight estimated for their first occurrence, estimates made by the
# worker thread a bar ahead, as render makes them. The tiny models of the test fixtures keep up
# with the clock on the emulated CPU (the shipped ones do not, above); what they hear still
# changes what they play.
song=Examples/ode_to_joy.mid; bpm=108; seed=13
tiny=Tests/Fixtures/model/tiny.safetensors; tiny_hindsight=Tests/Fixtures/hindsight/tiny.safetensors
$BIN render "$song" -o "$OUT/render-repeats.mid" --events "$OUT/render-repeats.jsonl" --seed $seed --model $tiny --hindsight-model $tiny_hindsight 2>"$OUT/render-repeats.log"
cat "$OUT/render-repeats.log"
check "render recognizes the repeated phrases" 'grep -q "within the take recognized: bar [0-9]* repeats bar" "$OUT/render-repeats.log"'
$BIN render "$song" -o "$OUT/render-no-repeats.mid" --events "$OUT/render-no-repeats.jsonl" --seed $seed --model $tiny --no-repeats 2>/dev/null
check "following the repeats changes the render" '! cmp -s "$OUT/render-repeats.jsonl" "$OUT/render-no-repeats.jsonl"'
want=$($PY expected --render "$OUT/render-repeats.jsonl" --render-mid "$OUT/render-repeats.mid")
ACCOMPANIST_HINDSIGHT_MODEL=$tiny_hindsight $BIN run --model $tiny --no-sound --bpm $bpm --seed $seed --input none > "$OUT/repeats-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/replay-repeats.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
WATCH=$daemon wait_until "the render's $want note events (steps before its end) on channel 1, following repeats" 300 \
    '[ $(count_events "$OUT/replay-repeats.jsonl" 1) -ge $want ]' 'echo "$(count_events "$OUT/replay-repeats.jsonl" 1) recorded"'
stop_proc $daemon TERM daemon 300
check "repeats: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
grep -E "memory|engine" "$OUT/repeats-daemon.log"
check "the daemon follows repeats" 'grep -q "memory: repetition within a take is followed" "$OUT/repeats-daemon.log"'
check "the daemon logged the repeats it recognized" 'grep -q "memory: bar [0-9]* repeats bar [0-9]* of this take" "$OUT/repeats-daemon.log"'
check "no beat was planned too late" '! grep -q "planned too late" "$OUT/repeats-daemon.log"'
$PY replay --render "$OUT/render-repeats.jsonl" --render-mid "$OUT/render-repeats.mid" --recorded "$OUT/replay-repeats.jsonl" --bpm $bpm --channel 1 --max-p99-ms 0 || fail=1
$PY balanced --recorded "$OUT/replay-repeats.jsonl" || fail=1

section "replay with a left hand below a split (harmony.split_note): live equals render"
# The melody file with a left hand added to its track, as a keyboard with a split sends both hands
# on one channel; the daemon reads keys below G3 as chords (its config file), render --split G3.
# Rules engine, as the first replay: the timing is checked too. --melody-passthrough lets the
# recording show that the left hand's keys are not passed through.
song=$OUT/ode-left-hand.mid; bpm=108; seed=5
$PY left-hand --in Examples/ode_to_joy.mid --out "$song" --chords "D A D A D A D A,D A,D A,D A,D G,A D A D A,D"
printf '[harmony]\nsplit_note = "G3"\n' > "$OUT/split.toml"
$BIN render "$song" -o "$OUT/render-split.mid" --events "$OUT/render-split.jsonl" --seed $seed --engine rules --split G3 2>/dev/null
check "the left hand changes the render (so the replay can tell it was heard)" '! cmp -s "$OUT/render-split.jsonl" "$OUT/render.jsonl"'
want=$($PY expected --render "$OUT/render-split.jsonl" --render-mid "$OUT/render-split.mid")
$BIN run --config "$OUT/split.toml" --engine rules --no-sound --melody-passthrough --bpm $bpm --seed $seed --input none > "$OUT/split-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/replay-split.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
WATCH=$daemon wait_until "the render's $want note events (steps before its end) on channel 1, with a left hand" 300 \
    '[ $(count_events "$OUT/replay-split.jsonl" 1) -ge $want ]' 'echo "$(count_events "$OUT/replay-split.jsonl" 1) recorded"'
stop_proc $daemon TERM daemon
check "split: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
cat "$OUT/split-daemon.log"
check "the daemon logged its left hand" 'grep -q "harmony: left hand below G3 (55)" "$OUT/split-daemon.log"'
check "the summary counts the left hand's chords" 'grep -q "left hand: [1-9][0-9]* chord changes" "$OUT/split-daemon.log"'
check "the melody was passed through (channel 0)" '[ $(count_events "$OUT/replay-split.jsonl" 0 on) -gt 0 ]'
check "the left hand's keys (below G3) were not" '! grep -q "\"channel\": 0, \"pitch\": \([0-4][0-9]\|5[0-4]\)," "$OUT/replay-split.jsonl"'
$PY replay --render "$OUT/render-split.jsonl" --render-mid "$OUT/render-split.mid" --recorded "$OUT/replay-split.jsonl" --bpm $bpm --channel 1 --max-p50-ms 5 || fail=1
$PY balanced --recorded "$OUT/replay-split.jsonl" || fail=1

section "replay with a chord chart (harmony.chart, 8 bars; the song has 16): live equals render"
# Bar 1 of the chart is the first note (fixed tempo, no count-in), as step 0 of render is the
# file's start. Past the chart the chords come from the melody again, and the daemon says so once.
song=Examples/ode_to_joy.mid; bpm=108; seed=5
cat > "$OUT/ode.chart" <<'CHART'
# Ode to Joy, the first eight bars, reharmonised
| D | Bm | G | A7 |
| D/F# | Em7 | G A | D |
CHART
printf '[harmony]\nchart = "%s"\n[memory]\ndirectory = "%s"\n' "$OUT/ode.chart" "$OUT/memory" > "$OUT/chart.toml"
$BIN render "$song" -o "$OUT/render-chart.mid" --events "$OUT/render-chart.jsonl" --seed $seed --engine rules --chart "$OUT/ode.chart" 2>"$OUT/render-chart.log"
check "the chart changes the render" '! cmp -s "$OUT/render-chart.jsonl" "$OUT/render.jsonl"'
check "render says where the chart ends" 'grep -q "past the chart.s end (bar 9)" "$OUT/render-chart.log"'
want=$($PY expected --render "$OUT/render-chart.jsonl" --render-mid "$OUT/render-chart.mid")
$BIN run --config "$OUT/chart.toml" --engine rules --no-sound --bpm $bpm --seed $seed --input none > "$OUT/chart-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/replay-chart.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
WATCH=$daemon wait_until "the render's $want note events (steps before its end) on channel 1, with a chart" 300 \
    '[ $(count_events "$OUT/replay-chart.jsonl" 1) -ge $want ]' 'echo "$(count_events "$OUT/replay-chart.jsonl" 1) recorded"'
WATCH=$daemon wait_until "the daemon to say the song ran past the chart" 60 'log_has "$OUT/chart-daemon.log" "past the chart.s end"' 'tail -3 "$OUT/chart-daemon.log"'
stop_proc $daemon TERM daemon
check "chart: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
cat "$OUT/chart-daemon.log"
check "the daemon logged its chart" 'grep -q "harmony: chart $OUT/ode.chart (8 bars, bar 1 at the first key played)" "$OUT/chart-daemon.log"'
check "the daemon said once that the song ran past the chart's end (bar 9)" '[ $(grep -c "ran past the chart.s end (bar 9): from there the chords come from the melody" "$OUT/chart-daemon.log") -eq 1 ]'
$PY replay --render "$OUT/render-chart.jsonl" --render-mid "$OUT/render-chart.mid" --recorded "$OUT/replay-chart.jsonl" --bpm $bpm --channel 1 --max-p50-ms 5 || fail=1
$PY balanced --recorded "$OUT/replay-chart.jsonl" || fail=1
# The rehearsal memory (docs/memory.md, "Live"): the performance was stored as a take with the
# chart's chords, and a render of the same song with that memory recognizes it.
check "the daemon stored the performance as a take" 'grep -q "memory: stored take .*chords from chart" "$OUT/chart-daemon.log"'
$BIN memory list --memory "$OUT/memory" > "$OUT/memory-list.txt" 2>&1; cat "$OUT/memory-list.txt"
check "one live take in the memory, with the chart's chords" '[ $(grep -c " live .*chords from chart" "$OUT/memory-list.txt") -eq 1 ]'
# (On a copy: a render with a memory stores itself in it as a take.)
cp -r "$OUT/memory" "$OUT/memory-check"
$BIN render "$song" -o "$OUT/render-memory.mid" --engine rules --memory "$OUT/memory-check" 2>"$OUT/render-memory.log"
check "a render with that memory recognizes the live take" 'grep -q "recognized as take" "$OUT/render-memory.log"'

section "replay with the rehearsal memory: the song again without the chart, live equals render --memory"
# The daemon recognizes the take the chart performance left and follows its chords, each beat
# planned a beat ahead by its memory thread, as render --memory plans them (rendered first, from a
# copy of the memory: a render stores itself as a take too).
song=Examples/ode_to_joy.mid; bpm=108; seed=5
cp -r "$OUT/memory" "$OUT/memory-render"
$BIN render "$song" -o "$OUT/render-follow.mid" --events "$OUT/render-follow.jsonl" --seed $seed --engine rules --memory "$OUT/memory-render" 2>"$OUT/render-follow.log"
check "render --memory recognizes the chart's take" 'grep -q "recognized as take" "$OUT/render-follow.log"'
check "following the memory changes the render" '! cmp -s "$OUT/render-follow.jsonl" "$OUT/render.jsonl"'
want=$($PY expected --render "$OUT/render-follow.jsonl" --render-mid "$OUT/render-follow.mid")
printf '[memory]\ndirectory = "%s"\n' "$OUT/memory" > "$OUT/follow.toml"
$BIN run --config "$OUT/follow.toml" --engine rules --no-sound --bpm $bpm --seed $seed --input none > "$OUT/follow-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/replay-follow.jsonl" --from "Accompanist:accompaniment"; await_recorder
aplaymidi -p Accompanist:0 "$song"
WATCH=$daemon wait_until "the render's $want note events (steps before its end) on channel 1, following the memory" 300 \
    '[ $(count_events "$OUT/replay-follow.jsonl" 1) -ge $want ]' 'echo "$(count_events "$OUT/replay-follow.jsonl" 1) recorded"'
stop_proc $daemon TERM daemon
check "memory: SIGTERM exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
cat "$OUT/follow-daemon.log"
check "the daemon followed one take" 'grep -q "memory: following 1 take with chords" "$OUT/follow-daemon.log"'
check "the daemon logged where it recognized the take" 'grep -q "memory: bar [0-9]* recognized as take" "$OUT/follow-daemon.log"'
check "no beat was planned too late" '! grep -q "planned too late" "$OUT/follow-daemon.log"'
$PY replay --render "$OUT/render-follow.jsonl" --render-mid "$OUT/render-follow.mid" --recorded "$OUT/replay-follow.jsonl" --bpm $bpm --channel 1 --max-p50-ms 5 || fail=1
$PY balanced --recorded "$OUT/replay-follow.jsonl" || fail=1
$BIN memory list --memory "$OUT/memory" > "$OUT/memory-list2.txt" 2>&1; cat "$OUT/memory-list2.txt"
check "two live takes in the memory now" '[ $(grep -c " live " "$OUT/memory-list2.txt") -eq 2 ]'

section "SIGTERM while notes sound: every note gets its note-off"
$BIN run --engine rules --no-sound --bpm 120 --input none --pattern block > "$OUT/sigterm-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/sigterm.jsonl" --from "Accompanist:accompaniment"; await_recorder
$PROBE play --to Accompanist:melody --pitch 72 --seconds 600 & player=$!  # held until stopped
WATCH=$daemon wait_until "a note-on of the accompaniment (channel 1)" 120 '[ $(count_events "$OUT/sigterm.jsonl" 1 on) -gt 0 ]'
stop_proc $daemon TERM daemon
check "SIGTERM mid-chord: exit 0 ($status)" '[ $status -eq 0 ]'
stop_recorder
stop_proc $player INT "the melody player"
check "notes were playing when the signal came" '[ $(grep -c "\"on\"" "$OUT/sigterm.jsonl") -gt 0 ]'
$PY balanced --recorded "$OUT/sigterm.jsonl" || fail=1

section "a keyboard that goes away and comes back"
$BIN run --engine rules --no-sound --bpm 120 --input TestKeys --melody-passthrough > "$OUT/unplug-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/unplug.jsonl" --from "Accompanist:accompaniment"; await_recorder
# Each keyboard waits until the daemon connects it, holds its note 2 s and vanishes.
$PROBE keyboard --name TestKeys --hold 72 --seconds 2
WATCH=$daemon wait_until "the daemon to log the first keyboard going away" 120 \
    '[ $(grep -c "TestKeys.*went away" "$OUT/unplug-daemon.log") -ge 1 ]' 'tail -3 "$OUT/unplug-daemon.log"'
$PROBE keyboard --name TestKeys --hold 74 --seconds 2
WATCH=$daemon wait_until "the daemon to log the second keyboard going away" 120 \
    '[ $(grep -c "TestKeys.*went away" "$OUT/unplug-daemon.log") -ge 2 ]' 'tail -3 "$OUT/unplug-daemon.log"'
stop_proc $daemon TERM daemon
stop_recorder
cat "$OUT/unplug-daemon.log"
check "connected twice by name" '[ $(grep -c "input: connected .*TestKeys" "$OUT/unplug-daemon.log") -eq 2 ]'
check "logged going away twice" '[ $(grep -c "TestKeys.*went away" "$OUT/unplug-daemon.log") -eq 2 ]'
check "the held note ended when its keyboard went" 'grep -q "\"off\", \"channel\": 0, \"pitch\": 72" "$OUT/unplug.jsonl"'
$PY balanced --recorded "$OUT/unplug.jsonl" || fail=1

section "panic: the configured controller ends every note at once"
$BIN run --engine rules --no-sound --bpm 120 --input none --pattern block > "$OUT/panic-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/panic.jsonl" --from "Accompanist:accompaniment"; await_recorder
$PROBE play --to Accompanist:melody --pitch 72 --seconds 600 & player=$!  # held until stopped
WATCH=$daemon wait_until "a note-on of the accompaniment (channel 1) before the panic" 120 '[ $(count_events "$OUT/panic.jsonl" 1 on) -gt 0 ]'
$PROBE cc --to Accompanist:melody --controller 120 --value 0
WATCH=$daemon wait_until "the All Notes Off (controller 123) on the output" 120 'grep -q "\"controller\": 123" "$OUT/panic.jsonl"'
check_wait "panic logged" 60 'log_has "$OUT/panic-daemon.log" "panic: all notes off"' 'tail -3 "$OUT/panic-daemon.log"'
stop_proc $player INT "the melody player"
stop_proc $daemon TERM daemon
stop_recorder
# At the panic, every sounding note gets its own note-off before the All Notes Off.
$PY balanced --recorded "$OUT/panic.jsonl" --until-cc 123 || fail=1

section "count-in: one bar of clicks on channel 10 before beat 1"
# The daemon connects its output to the recorder as it starts (--output), before the first click.
start_recorder "$OUT/countin.jsonl"
wait_for_port "probe-recorder"
$BIN run --engine rules --no-sound --bpm 60 --input none --count-in 1 --output probe-recorder:record > "$OUT/countin-daemon.log" 2>&1 & daemon=$!
await_recorder
WATCH=$daemon wait_until "4 clicks on channel 10 (4 s at 60 BPM)" 120 '[ $(count_events "$OUT/countin.jsonl" 9 on) -ge 4 ]' \
    'echo "$(count_events "$OUT/countin.jsonl" 9 on) clicks"'
stop_proc $daemon TERM daemon
stop_recorder
check "four clicks on channel 10" '[ $(grep -c "\"on\", \"channel\": 9" "$OUT/countin.jsonl") -eq 4 ]'

section "external MIDI clock: Start, clock at 132 BPM, a melody note, Stop"
$BIN run --engine rules --no-sound --tempo-source midi-clock --input none > "$OUT/clock-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
start_recorder "$OUT/clock.jsonl" --from "Accompanist:accompaniment"; await_recorder
$PROBE clock --to Accompanist:melody --bpm 132 --seconds 6  # returns once its queue sent the Stop
WATCH=$daemon wait_until "the daemon to log the clock's Stop" 120 'log_has "$OUT/clock-daemon.log" "stopped by the external clock"' 'tail -3 "$OUT/clock-daemon.log"'
stop_proc $daemon TERM daemon
stop_recorder
cat "$OUT/clock-daemon.log"
check "tempo from the clock logged" 'grep -q "tempo source: MIDI clock, 13[12]\.[0-9] BPM" "$OUT/clock-daemon.log"'
check "stopped by the clock logged" 'grep -q "stopped by the external clock" "$OUT/clock-daemon.log"'
check "the accompaniment played" '[ $(grep -c "\"on\"" "$OUT/clock.jsonl") -gt 2 ]'
$PY balanced --recorded "$OUT/clock.jsonl" || fail=1

section "FluidSynth through the file driver"
$BIN run --engine rules --bpm 120 --input none --audio-driver file --audio-file /tmp/live.wav > "$OUT/synth-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
WATCH=$daemon wait_until "the daemon's engine to run (its \"ALSA client\" log line)" 120 'log_has "$OUT/synth-daemon.log" "ALSA client"'
$PROBE play --to Accompanist:melody --pitch 67 --seconds 3
stop_proc $daemon TERM daemon
cat "$OUT/synth-daemon.log"
cp /tmp/live.wav "$OUT/live.wav" 2>/dev/null
$PY wav --file /tmp/live.wav --min-rms 0.002 || fail=1

section "melody passthrough latency, measured with the kernel's timestamps"
# seq-probe sends each note both to the daemon's melody input and to its own timestamping input
# port, which also receives the daemon's output: the loop-back copy's timestamp is the send time,
# the echo's the time it left the daemon (one queue, one clock). Channel index 0: the
# accompaniment is on index 1. The file audio driver makes the synth path run too.
# First the reference: a trivial client in this guest that echoes each note as it reads it (poll,
# read, send, like the daemon's reader), measured the same way, under the same load.
$PROBE echo --name probe-echo 2>"$OUT/echo-probe.log" & echo_pid=$!
wait_for_port "probe-echo"
$PROBE latency --to probe-echo:echo --from probe-echo:echo --count 100 --channel 0 --pitch 60 --out "$OUT/latency-echo.jsonl" 2>>"$OUT/echo-probe.log"
echo_status=$?
stop_proc $echo_pid TERM "the echo client"
check "the echo client echoed every note" '[ $echo_status -eq 0 ]'
$BIN run --engine rules --melody-passthrough --bpm 120 --input none --audio-driver file --audio-file /tmp/latency.wav > "$OUT/latency-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
WATCH=$daemon wait_until "the daemon's engine to run (its \"ALSA client\" log line)" 120 'log_has "$OUT/latency-daemon.log" "ALSA client"'
$PROBE latency --to Accompanist:melody --from Accompanist:accompaniment --count 100 --channel 0 --pitch 60 --out "$OUT/latency.jsonl" 2>"$OUT/latency-probe.log"
probe_status=$?
cat "$OUT/latency-probe.log"
check "every passthrough note came out of the daemon" '[ $probe_status -eq 0 ]'
# Measured in this guest (TCG, one vCPU), the daemon that forwarded the melody from its engine
# thread, which sleeps up to 5 ms between looks, gave p50 4.0-5.0 ms (p99 31-48 ms: FluidSynth
# rendering in the one vCPU); the echo client and the daemon's reader give 0.3-0.5 ms on a
# lightly loaded host. But when the host is very busy every wake-up in the guest is late (p50
# 40 ms once, for the daemon as for anything else), so the bounds are max(absolute, 3x the echo
# client's figure): p50 <= max(2 ms, 3x echo p50) tells a direct forward from one that waits for
# the engine thread whenever the guest is fast enough to tell; p99 <= max(100 ms, 3x echo p99)
# guards against a forward that stalls.
$PY latency --recorded "$OUT/latency.jsonl" --reference "$OUT/latency-echo.jsonl" --max-p50-ms $LATENCY_P50_MS --max-p99-ms $LATENCY_P99_MS || fail=1
stop_proc $daemon TERM daemon
check "latency run: exit 0 ($status)" '[ $status -eq 0 ]'
echo "the daemon's own latency report:"
grep "latency" "$OUT/latency-daemon.log"
# The daemon reports at stop: "latency melody → synth …", "latency melody → output port …",
# "latency accompaniment at the synth …".
check "the daemon reports its melody → synth latency at stop" 'grep -q "latency melody → synth" "$OUT/latency-daemon.log"'

section "systemd notify protocol: READY=1, WATCHDOG=1 while the engine runs, STATUS=, STOPPING=1"
rm -f /tmp/notify.ready
python3 - "$OUT/notify.txt" <<'PY' & listener=$!
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0accompanist-test-notify")  # abstract: sockets on the guest's overlay /tmp do not connect
s.settimeout(300)  # only a guard against a daemon that never says STOPPING=1
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
WATCH=$listener wait_until "the notify listener to bind its socket" 120 '[ -e /tmp/notify.ready ]'  # python starts slowly under emulation
NOTIFY_SOCKET=@accompanist-test-notify WATCHDOG_USEC=1000000 $BIN run --engine rules --no-sound --bpm 120 --input none > "$OUT/notify-daemon.log" 2>&1 & daemon=$!
WATCH=$daemon wait_until "3 WATCHDOG=1 messages (one each 0.5 s)" 120 '[ $(grep -c "WATCHDOG=1" "$OUT/notify.txt") -ge 3 ]' 'cat "$OUT/notify.txt"'
# The daemon sends STATUS= (state, tempo, counts) at READY and at least every 2 s.
WATCH=$daemon check_wait "notify: a STATUS= line with the tempo (BPM)" 30 'grep -q "STATUS=[^|]*BPM" "$OUT/notify.txt"' 'grep -o "STATUS=[^|]*" "$OUT/notify.txt" | sort | uniq -c'
stop_proc $daemon TERM daemon
wait_until "the notify listener to receive STOPPING=1 and exit" 120 "exited $listener" 'tail -2 "$OUT/notify.txt"'
wait $listener
head -2 "$OUT/notify.txt"; echo "  ... $(grep -c "WATCHDOG=1" "$OUT/notify.txt") WATCHDOG=1 in all ..."; tail -1 "$OUT/notify.txt"
check "notify: exit 0 ($status)" '[ $status -eq 0 ]'
check "notify: READY=1 first" 'head -1 "$OUT/notify.txt" | grep -q "READY=1"'
check "notify: WATCHDOG=1 while running" '[ $(grep -c "WATCHDOG=1" "$OUT/notify.txt") -ge 3 ]'
check "notify: STOPPING=1 last" 'tail -1 "$OUT/notify.txt" | grep -q "STOPPING=1"'

section "a flood of 10,000 events/s for 10 s"
# settled PID: true once its RSS has not changed over the last 10 polls (1 s): a count that
# stopped growing.
rss_last=0; rss_same=0
settled() { local r; r=$(rss_kb $1); if [ "$r" = "$rss_last" ]; then rss_same=$((rss_same + 1)); else rss_same=0; rss_last=$r; fi; [ $rss_same -ge 10 ]; }
$BIN run --engine rules --no-sound --bpm 120 --input none > "$OUT/flood-daemon.log" 2>&1 & daemon=$!
wait_for_port "accompaniment out"
WATCH=$daemon wait_until "the daemon's engine to run (its \"ALSA client\" log line)" 120 'log_has "$OUT/flood-daemon.log" "ALSA client"'
rss_last=0; rss_same=0
WATCH=$daemon wait_until "the daemon's memory to settle before the flood (RSS unchanged for 1 s)" 120 'settled $daemon' 'echo "RSS $rss_last kB"'
before=$(rss_kb $daemon)
$PROBE flood --to Accompanist:melody --rate 10000 --seconds 10 2>&1 | tee -a "$OUT/flood-daemon.log"
rss_last=0; rss_same=0
WATCH=$daemon wait_until "the daemon's memory to settle after the flood (RSS unchanged for 1 s)" 120 'settled $daemon' 'echo "RSS $rss_last kB"'
after=$(rss_kb $daemon)
check "daemon survived the flood" '! exited $daemon'
echo "RSS before ${before} kB, after ${after} kB"
check "memory bounded (RSS grew $((after - before)) kB, under 8 MB)" '[ $((after - before)) -lt 8192 ]'
stop_proc $daemon TERM daemon
cat "$OUT/flood-daemon.log" | tail -5
check "clean exit after the flood ($status)" '[ $status -eq 0 ]'
check "the daemon reported what it dropped or that it kept up" 'grep -q "events dropped" "$OUT/flood-daemon.log"'

t=$(now_cs)
echo
echo "live tests took $(( (t - suite_t0) / 100 )) s in the guest"
[ $fail = 0 ] && echo "ALL LIVE CHECKS PASSED" || echo "SOME LIVE CHECKS FAILED"
exit $fail

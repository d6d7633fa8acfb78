// ALSA sequencer API for Swift. ALSA's snd_seq_ev_set_* helpers are function-like macros that
// Swift cannot call, so the ones we use are wrapped here as static inline functions.
#ifndef ACCOMPANIST_CALSA_SHIM_H
#define ACCOMPANIST_CALSA_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <alsa/asoundlib.h>

/* Names the calling thread (15 bytes at most), for top -H and the journal. Not ALSA, but the
 * Live module's only other C need. */
static inline int acc_set_thread_name(const char *name) {
    char shortName[16];
    snprintf(shortName, sizeof shortName, "%s", name);
    return pthread_setname_np(pthread_self(), shortName);
}

/* libasound prints its own errors on stderr; ours already say what failed, in one line. */
static void acc_alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void acc_silence_alsa_errors(void) { snd_lib_error_set_handler(acc_alsa_quiet); }

static inline void acc_seq_ev_clear(snd_seq_event_t *ev) { snd_seq_ev_clear(ev); }
static inline void acc_seq_ev_set_source(snd_seq_event_t *ev, int port) { snd_seq_ev_set_source(ev, port); }
static inline void acc_seq_ev_set_subs(snd_seq_event_t *ev) { snd_seq_ev_set_subs(ev); }
static inline void acc_seq_ev_set_direct(snd_seq_event_t *ev) { snd_seq_ev_set_direct(ev); }
static inline void acc_seq_ev_set_dest(snd_seq_event_t *ev, int client, int port) { snd_seq_ev_set_dest(ev, client, port); }
static inline void acc_seq_ev_schedule_tick(snd_seq_event_t *ev, int q, int relative, snd_seq_tick_time_t tick) {
    snd_seq_ev_schedule_tick(ev, q, relative, tick);
}
static inline void acc_seq_ev_schedule_real(snd_seq_event_t *ev, int q, int relative, unsigned int sec, unsigned int nsec) {
    snd_seq_real_time_t t = { sec, nsec };
    snd_seq_ev_schedule_real(ev, q, relative, &t);
}
static inline void acc_seq_ev_set_noteon(snd_seq_event_t *ev, int ch, int key, int vel) { snd_seq_ev_set_noteon(ev, ch, key, vel); }
static inline void acc_seq_ev_set_noteoff(snd_seq_event_t *ev, int ch, int key, int vel) { snd_seq_ev_set_noteoff(ev, ch, key, vel); }
static inline void acc_seq_ev_set_controller(snd_seq_event_t *ev, int ch, int cc, int val) { snd_seq_ev_set_controller(ev, ch, cc, val); }
static inline void acc_seq_ev_set_pgmchange(snd_seq_event_t *ev, int ch, int val) { snd_seq_ev_set_pgmchange(ev, ch, val); }
#endif

// ALSA sequencer API for Swift. ALSA's snd_seq_ev_set_* helpers are function-like macros that
// Swift cannot call, so the ones we use are wrapped here as static inline functions.
#ifndef ACCOMPANIST_CALSA_SHIM_H
#define ACCOMPANIST_CALSA_SHIM_H
#include <alsa/asoundlib.h>

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

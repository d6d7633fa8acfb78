// ALSA sequencer API for Swift. ALSA's snd_seq_ev_set_* helpers are function-like macros that
// Swift cannot call, so the ones we use are wrapped here as static inline functions.
#ifndef ACCOMPANIST_CALSA_SHIM_H
#define ACCOMPANIST_CALSA_SHIM_H
#include <pthread.h>
#include <alsa/asoundlib.h>

/* libasound prints its own errors on stderr; ours already say what failed, in one line. */
static void acc_alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void acc_silence_alsa_errors(void) { snd_lib_error_set_handler(acc_alsa_quiet); }

/* Drives a queue from the high-resolution timer (snd-hrtimer) instead of the system timer, whose
 * resolution is a jiffy (1-4 ms). Returns 0, or a negative error when there is no hrtimer. */
static inline int acc_seq_use_hrtimer(snd_seq_t *seq, int queue) {
    snd_seq_queue_timer_t *qt;
    snd_timer_id_t *id;
    int err;
    if ((err = snd_seq_queue_timer_malloc(&qt)) < 0) return err;
    if ((err = snd_timer_id_malloc(&id)) < 0) { snd_seq_queue_timer_free(qt); return err; }
    snd_timer_id_set_class(id, SND_TIMER_CLASS_GLOBAL);
    snd_timer_id_set_sclass(id, SND_TIMER_SCLASS_NONE);
    snd_timer_id_set_card(id, -1);
    snd_timer_id_set_device(id, SND_TIMER_GLOBAL_HRTIMER);
    snd_timer_id_set_subdevice(id, 0);
    err = snd_seq_get_queue_timer(seq, queue, qt);
    if (err >= 0) {
        snd_seq_queue_timer_set_type(qt, SND_SEQ_TIMER_ALSA);
        snd_seq_queue_timer_set_id(qt, id);
        snd_seq_queue_timer_set_resolution(qt, 1000000000 / 10000); /* 0.1 ms */
        err = snd_seq_set_queue_timer(seq, queue, qt);
    }
    snd_timer_id_free(id);
    snd_seq_queue_timer_free(qt);
    return err;
}

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

// ALSA sequencer API for Swift. ALSA's snd_seq_ev_set_* helpers are function-like macros that
// Swift cannot call, so the ones we use are wrapped here as static inline functions.
#ifndef ACCOMPANIST_CALSA_SHIM_H
#define ACCOMPANIST_CALSA_SHIM_H
#include <pthread.h>
#include <alsa/asoundlib.h>

/* glibc declares this only under _GNU_SOURCE, which would change fd_set for every module that
 * imports this one; declare it alone instead. */
extern int pthread_setname_np(pthread_t thread, const char *name);
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/resource.h>
static inline long acc_gettid(void) { return syscall(SYS_gettid); }

/* Relaxed atomics on plain 64-bit cells (LatencyHistogram's buckets): one thread writes, any
 * thread reads a count that is never torn. Swift's Atomic cannot live in an allocated array. */
#include <stdint.h>
static inline void acc_atomic_add(int64_t *cell, int64_t value) { __atomic_fetch_add(cell, value, __ATOMIC_RELAXED); }
static inline void acc_atomic_store(int64_t *cell, int64_t value) { __atomic_store_n(cell, value, __ATOMIC_RELAXED); }
static inline int64_t acc_atomic_load(const int64_t *cell) { return __atomic_load_n(cell, __ATOMIC_RELAXED); }

#include <errno.h>
#include <sys/mman.h>
/* Locks the process's memory (current and future) so that no page fault on the real-time
 * threads waits for the disk. Returns 0 or an errno. */
static inline int acc_lock_memory(void) { return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno; }
/* RLIMIT_MEMLOCK's soft limit in bytes; -1 for unlimited. */
static inline long long acc_memlock_limit(void) {
    struct rlimit l;
    if (getrlimit(RLIMIT_MEMLOCK, &l) != 0) return 0;
    return l.rlim_cur == RLIM_INFINITY ? -1 : (long long)l.rlim_cur;
}
/* RLIMIT_RTTIME (microseconds of real-time CPU without a blocking call), which rtkit requires. */
static inline int acc_set_rttime_limit(unsigned long usec) {
    struct rlimit l = { usec, usec };
    return setrlimit(RLIMIT_RTTIME, &l);
}

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

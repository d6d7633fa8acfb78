// The few C calls the real-time module needs that Swift cannot make directly: a thread's kernel
// id and name, relaxed atomics on allocated cells, and the process's memory and real-time limits.
// Header only (static inline), so the module links nothing.
#ifndef ACCOMPANIST_CREALTIME_SHIM_H
#define ACCOMPANIST_CREALTIME_SHIM_H
#include <pthread.h>
#include <stdio.h>

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

/* Names the calling thread (15 bytes at most), for top -H and the journal. */
static inline int acc_set_thread_name(const char *name) {
    char shortName[16];
    snprintf(shortName, sizeof shortName, "%s", name);
    return pthread_setname_np(pthread_self(), shortName);
}
#endif

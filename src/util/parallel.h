/* parallel.h -- fork-join helpers for the stages after parsing (cp_run_finish,
 * the report stages): run one function on nt threads over parts of a range,
 * and the stable parallel sorts built on it (sort.h).
 *
 * Results never depend on the number of threads: every helper splits work
 * into parts whose outputs are disjoint, or combines per-part results in part
 * order on one thread.  When a thread cannot be started its part runs on the
 * caller after the caller's own part, so code run through cp_parallel_run()
 * must not wait for another part (no barriers inside a part).
 *
 * Thread-safe: the helpers keep no state between calls. */
#ifndef CLICKPATH_PARALLEL_H
#define CLICKPATH_PARALLEL_H

#include <stddef.h>

/* The most threads any stage uses (--threads accepts 0..64). */
#define CP_MAX_THREADS 64

/* --threads as given (0 = all online cores) to a count in 1..CP_MAX_THREADS. */
unsigned cp_threads_resolve(unsigned requested);

/* Threads worth using on n items when each thread should get at least `grain`
 * of them: min(nt, n / grain), at least 1. */
unsigned cp_threads_for(unsigned nt, size_t n, size_t grain);

/* Calls fn(arg, part, n_parts) for part = 0 .. n_parts-1, part 0 on the
 * calling thread and the others on new threads, and returns when all are
 * done.  n_parts 0 is taken as 1. */
void cp_parallel_run(unsigned n_parts, void (*fn)(void *arg, unsigned part, unsigned n_parts), void *arg);

/* The half-open range [*lo, *hi) of part `part` of n_parts over n items:
 * equal parts in order, so part 0 holds the first items. */
static inline void cp_part_range(size_t n, unsigned part, unsigned n_parts, size_t *lo, size_t *hi) {
    *lo = (size_t)((unsigned __int128)n * part / n_parts);
    *hi = (size_t)((unsigned __int128)n * (part + 1) / n_parts);
}

#endif

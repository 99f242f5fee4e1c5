/* parallel.c -- see parallel.h. */
#include "util/parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

unsigned cp_threads_resolve(unsigned requested) {
    if (requested == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        requested = cpus > 0 ? (unsigned)(cpus < CP_MAX_THREADS ? cpus : CP_MAX_THREADS) : 1;
    }
    return requested < CP_MAX_THREADS ? requested : CP_MAX_THREADS;
}

unsigned cp_threads_for(unsigned nt, size_t n, size_t grain) {
    if (grain == 0) grain = 1;
    size_t most = n / grain;
    if (nt > most) nt = (unsigned)most;
    return nt ? nt : 1;
}

typedef struct part_arg {
    void (*fn)(void *, unsigned, unsigned);
    void *arg;
    unsigned part, n_parts;
} part_arg;

static void *part_main(void *p) {
    part_arg *a = p;
    a->fn(a->arg, a->part, a->n_parts);
    return NULL;
}

void cp_parallel_run(unsigned n_parts, void (*fn)(void *arg, unsigned part, unsigned n_parts), void *arg) {
    if (n_parts <= 1) {
        fn(arg, 0, 1);
        return;
    }
    if (n_parts > CP_MAX_THREADS) n_parts = CP_MAX_THREADS;
    pthread_t tid[CP_MAX_THREADS];
    part_arg pa[CP_MAX_THREADS];
    bool started[CP_MAX_THREADS] = {false};
    for (unsigned t = 1; t < n_parts; t++) {
        pa[t] = (part_arg){fn, arg, t, n_parts};
        started[t] = pthread_create(&tid[t], NULL, part_main, &pa[t]) == 0;
    }
    fn(arg, 0, n_parts);
    for (unsigned t = 1; t < n_parts; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else fn(arg, t, n_parts);
    }
}


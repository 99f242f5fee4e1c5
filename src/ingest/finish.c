/* finish.c -- turns loaded rows into the store every report reads.
 *
 * R1.6  rows sorted by ts_ms with an LSD radix sort, which is stable, so equal
 *       timestamps keep input order (first file first, then line).
 * R2.1  identity = customer; else the customer its visitor is first seen with
 *       (R1.6 order, anywhere in the input) unless --no-stitch; else visitor.
 * R1.3  orders: one entry per order id; purchase/return lines without an id
 *       share one synthetic order per (identity, ts_ms).
 * Then the by-identity permutation (identity, ts, input order) by a counting
 * sort over identity ids, stable over the time-sorted rows.
 *
 * Threads (--threads, cp_ingest_options.threads): the sort, the column
 * gathers, R2.1 and the by-identity sort split the rows into equal parts, one
 * per thread (util/parallel.h, util/sort.h).  Parts write disjoint outputs or
 * combine in part order, so the store is the same for any thread count.  The
 * orders pass (R1.3) is serial: it numbers orders in row order.
 *
 * The R1.6 sort (cp_sort_by_time) packs (ts_ms - min ts) and the row into
 * one 64-bit key and sorts on the time bits only; the sorted keys give the
 * permutation and the sorted ts_ms column at once.  Input already in R1.6
 * order is detected and not moved.  The other columns are then gathered
 * through the permutation, one column at a time (one column's worth of extra
 * memory), prefetching ahead of the scattered reads.
 *
 * Sub columns (tag, click_id, order, units, rating: clickpath/events.h) hold
 * the non-impression rows only, at their rank.  The ranks of the rows as
 * loaded are taken before the sort, those of the sorted rows after the type
 * column is gathered (cp_events.sub), and each sub row is fetched from its
 * loaded row's rank.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/run.h"
#include "util/parallel.h"
#include "util/rowmask.h"
#include "util/sort.h"

/* -DCP_FINISH_DEBUG prints "finish PHASE SECONDS" lines to stderr. */
#ifdef CP_FINISH_DEBUG
#include <time.h>
static double phase_clock(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#define PHASE_START() double phase_t0 = phase_clock()
#define PHASE(name)                                                                     \
    do {                                                                                \
        double phase_t1 = phase_clock();                                                \
        fprintf(stderr, "finish %s %.3f\n", name, phase_t1 - phase_t0);                  \
        phase_t0 = phase_t1;                                                            \
    } while (0)
#else
#define PHASE_START() ((void)0)
#define PHASE(name) ((void)0)
#endif

/* ---- the parallel parts ---------------------------------------------------- */

/* Rows per thread at least: about parallel_min_bytes of input, as for
 * parsing (a line is some 256 bytes). */
static size_t finish_grain(const cp_run *run) {
    size_t bytes = run->opt.parallel_min_bytes ? run->opt.parallel_min_bytes : (size_t)1 << 20;
    return bytes / 256 ? bytes / 256 : 1;
}

/* ts_ms: min, max and whether each part is in order. */
typedef struct scan_job {
    const int64_t *ts;
    size_t n;
    int64_t min[CP_MAX_THREADS], max[CP_MAX_THREADS];
    bool sorted[CP_MAX_THREADS];
} scan_job;

static void scan_part(void *arg, unsigned part, unsigned n_parts) {
    scan_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    bool sorted = true;
    for (size_t i = lo; i < hi; i++) {
        int64_t t = j->ts[i];
        if (t < mx) sorted = false; /* mx is the previous row's ts while sorted */
        if (t < mn) mn = t;
        if (t > mx) mx = t;
    }
    j->min[part] = mn;
    j->max[part] = mx;
    j->sorted[part] = sorted;
}

/* col_new[k] = col_old[perm[k]] for one column of `elem` bytes. */
typedef struct gather_job {
    const void *old;
    void *nc;
    size_t elem, n;
    const uint32_t *perm;
} gather_job;

/* The reads are scattered: prefetching this far ahead keeps several misses
 * in flight per thread. */
#define GATHER_AHEAD 64

#define GATHER_LOOP(T)                                                                      do {                                                                                        const T *o = j->old;                                                                    T *d = j->nc;                                                                           size_t pf_end = hi > GATHER_AHEAD ? hi - GATHER_AHEAD : 0;                              size_t k = lo;                                                                          for (; k < pf_end; k++) {                                                                   __builtin_prefetch(&o[p[k + GATHER_AHEAD]]);                                            d[k] = o[p[k]];                                                                     }                                                                                       for (; k < hi; k++) d[k] = o[p[k]];                                                 } while (0)

static void gather_part(void *arg, unsigned part, unsigned n_parts) {
    gather_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    const uint32_t *p = j->perm;
    switch (j->elem) {
    case 1: GATHER_LOOP(uint8_t); break;
    case 2: GATHER_LOOP(uint16_t); break;
    case 4: GATHER_LOOP(uint32_t); break;
    default: GATHER_LOOP(uint64_t); break;
    }
}

/* Column buffers that are free for reuse, by element size (1, 2, 4, 8
 * bytes), each holding at least n elements.  Fresh memory costs a page fault
 * per 4 KiB on first touch (and, in a VM, the host's own fault); a buffer
 * that was just freed by one gather serves the next column of its size. */
#define SPARES 2
typedef struct spares {
    void *p[4][SPARES];
} spares;

static int size_class(size_t elem) { return elem == 1 ? 0 : elem == 2 ? 1 : elem == 4 ? 2 : 3; }

/* A spare of this element size, or NULL when there is none. */
static void *spare_pop(spares *s, size_t elem) {
    void **c = s->p[size_class(elem)];
    for (int k = SPARES - 1; k >= 0; k--)
        if (c[k]) {
            void *p = c[k];
            c[k] = NULL;
            return p;
        }
    return NULL;
}

/* A spare of this element size, else a new buffer of n elements. */
static void *spare_take(spares *s, size_t elem, size_t n) {
    void *p = spare_pop(s, elem);
    return p ? p : malloc((n ? n : 1) * elem);
}

static void spare_give(spares *s, size_t elem, void *p) {
    void **c = s->p[size_class(elem)];
    for (int k = 0; k < SPARES; k++)
        if (!c[k]) {
            c[k] = p;
            return;
        }
    free(p);
}

static void spares_free(spares *s) {
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < SPARES; k++) free(s->p[c][k]);
    memset(s, 0, sizeof *s);
}

/* Replaces the column at *slot (read and written with memcpy: the columns
 * have different pointer types) by its gather through perm, into a spare
 * buffer when there is one; the old buffer becomes a spare.  false when out
 * of memory (the column is left as it was). */
static bool gather_column(void *slot, size_t elem, const uint32_t *perm, size_t n, unsigned n_parts,
                          spares *sp) {
    gather_job j = {.elem = elem, .n = n, .perm = perm};
    void *old;
    memcpy(&old, slot, sizeof old);
    j.old = old;
    j.nc = spare_take(sp, elem, n);
    if (!j.nc) return false;
    cp_parallel_run(n_parts, gather_part, &j);
    spare_give(sp, elem, old);
    memcpy(slot, &j.nc, sizeof j.nc);
    return true;
}

/* ---- sub rows: the ranks of the non-impression rows ------------------------ */

/* The masks of the non-impression rows, 64 rows a block, in parallel
 * (disjoint blocks), then the counts before each block on one thread (one
 * add a block). */
typedef struct sub_job {
    const uint8_t *type;
    size_t n, n_blocks;
    cp_sub_block *block;
} sub_job;

static void sub_masks(void *arg, unsigned part, unsigned n_parts) {
    const sub_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n_blocks, part, n_parts, &lo, &hi);
    cp_rows r = cp_rows_not(j->type, j->n, CP_IMPRESSION);
    for (size_t b = lo; b < hi; b++) j->block[b].mask = cp_rows_block(&r, b * 64);
}

/* The ranks of the rows of type[0, n) that are not impressions; NULL when
 * out of memory.  *n_sub: how many there are. */
static cp_sub_block *sub_build(const uint8_t *type, size_t n, unsigned nt, size_t *n_sub) {
    size_t n_blocks = (n + 63) / 64;
    cp_sub_block *block = malloc((n_blocks ? n_blocks : 1) * sizeof *block);
    if (!block) return NULL;
    sub_job j = {.type = type, .n = n, .n_blocks = n_blocks, .block = block};
    cp_parallel_run(cp_threads_for(nt, n_blocks, 4096), sub_masks, &j);
    uint64_t before = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        block[b].before = before;
        before += (uint64_t)__builtin_popcountll(block[b].mask);
    }
    *n_sub = (size_t)before;
    return block;
}

/* A sub column in the sorted order: sorted sub row k (rank k of the sorted
 * rows, `sorted`) is loaded sub row cp_sub_rank(loaded, perm[i]) of the row
 * i it ranks.  Parts are runs of 64-row blocks. */
typedef struct sub_gather_job {
    const cp_sub_block *sorted, *loaded;
    const uint32_t *perm;
    size_t n_blocks, elem;
    const void *old;
    void *nc;
} sub_gather_job;

#define SUB_GATHER_LOOP(T)                                                                  \
    do {                                                                                    \
        const T *o = j->old;                                                                \
        T *d = j->nc;                                                                       \
        for (size_t b = lo; b < hi; b++) {                                                  \
            size_t k = (size_t)j->sorted[b].before;                                         \
            for (uint64_t m = j->sorted[b].mask; m; m &= m - 1)                             \
                d[k++] = o[cp_sub_rank(j->loaded, p[b * 64 + (size_t)__builtin_ctzll(m)])]; \
        }                                                                                   \
    } while (0)

static void sub_gather_part(void *arg, unsigned part, unsigned n_parts) {
    const sub_gather_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n_blocks, part, n_parts, &lo, &hi);
    const uint32_t *p = j->perm;
    switch (j->elem) {
    case 1: SUB_GATHER_LOOP(uint8_t); break;
    default: SUB_GATHER_LOOP(uint32_t); break;
    }
}

/* Replaces the sub column at *slot (elem 1 or 4 bytes, n_sub rows) by its
 * sorted order; false when out of memory (the column is left as it was). */
static bool gather_sub_column(void *slot, size_t elem, const cp_events *e, const cp_sub_block *loaded,
                              const uint32_t *perm, unsigned nt) {
    sub_gather_job j = {.sorted = e->sub.block, .loaded = loaded, .perm = perm, .n_blocks = (e->n + 63) / 64,
                        .elem = elem};
    void *old;
    memcpy(&old, slot, sizeof old);
    j.old = old;
    j.nc = malloc((e->sub.n ? e->sub.n : 1) * elem);
    if (!j.nc) return false;
    cp_parallel_run(cp_threads_for(nt, j.n_blocks, 4096), sub_gather_part, &j);
    free(old);
    memcpy(slot, &j.nc, sizeof j.nc);
    return true;
}

/* R2.1 on the rows as loaded, before the R1.6 sort: a visitor's first
 * customer is the one on its least (ts_ms, row) row, since the sort is
 * stable and rows are loaded in input order.  Found in two passes, so that
 * each minimum fits one atomic word: first_ts[v], the least ts_ms of v's rows
 * with a customer; then first[v], (row << 32 | customer) least over v's rows
 * at that time.  Parts take the minima with compare-and-swap, so the result
 * does not depend on the threads.  Doing it here lets the raw visitor and
 * customer columns go before the sort: only identity is sorted. */
typedef struct stitch_job {
    const cp_str *visitor, *customer;
    const int64_t *ts;
    int64_t *first_ts; /* NULL: --no-stitch */
    uint64_t *first;
    cp_str *identity;
    size_t n;
} stitch_job;

static void stitch_ts_part(void *arg, unsigned part, unsigned n_parts) {
    stitch_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    for (size_t k = lo; k < hi; k++) {
        cp_str v = j->visitor[k];
        if (!v || !j->customer[k]) continue;
        int64_t t = j->ts[k];
        int64_t cur = __atomic_load_n(&j->first_ts[v], __ATOMIC_RELAXED);
        while (t < cur &&
               !__atomic_compare_exchange_n(&j->first_ts[v], &cur, t, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
    }
}

static void stitch_row_part(void *arg, unsigned part, unsigned n_parts) {
    stitch_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    for (size_t k = lo; k < hi; k++) {
        cp_str v = j->visitor[k], c = j->customer[k];
        if (!v || !c || j->ts[k] != j->first_ts[v]) continue;
        uint64_t mine = (uint64_t)k << 32 | c;
        uint64_t cur = __atomic_load_n(&j->first[v], __ATOMIC_RELAXED);
        while (mine < cur &&
               !__atomic_compare_exchange_n(&j->first[v], &cur, mine, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
    }
}

static void identity_part(void *arg, unsigned part, unsigned n_parts) {
    stitch_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    for (size_t k = lo; k < hi; k++) {
        cp_str v = j->visitor[k], id = j->customer[k];
        if (!id && j->first && v && j->first[v] != UINT64_MAX) id = (cp_str)j->first[v];
        if (!id) id = v;
        j->identity[k] = id;
    }
}

/* Makes room for index n - 1 in the synthetic-key array. */
static bool grow_syn_ts(int64_t **a, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    size_t c = *cap ? *cap : 1024;
    while (c < n) c *= 2;
    int64_t *p = realloc(*a, c * sizeof *p);
    if (!p) return false;
    *a = p;
    *cap = c;
    return true;
}

cp_result cp_run_finish(cp_run *run, cp_error *err) {
    cp_events *e = &run->ev;
    size_t n = e->n;
    uint32_t *perm = NULL;
    uint32_t *rows_buf = NULL; /* a raw id column's room for n row numbers: perm, or by_identity */
    uint64_t *first = NULL;
    int64_t *first_ts = NULL;
    uint32_t *order_of_str = NULL;
    spares sp = {0};
    int64_t *syn_ts = NULL; /* per order index: the synthetic key's ts */
    cp_sub_block *loaded = NULL; /* the sub rows' ranks as loaded (before the sort) */
    if (run->finished) return CP_OK;
    if (n >= UINT32_MAX) {
        if (err) { err->code = CP_EUSAGE; snprintf(err->msg, sizeof err->msg, "more than 4294967294 events in one run"); }
        return CP_EUSAGE;
    }
    PHASE_START();
    unsigned nt = cp_threads_for(cp_threads_resolve(run->opt.threads), n, finish_grain(run));

    /* R1.6: is the input in order already?  Then nothing moves. */
    scan_job scan = {.ts = e->ts_ms, .n = n};
    cp_parallel_run(nt, scan_part, &scan);
    bool sorted = true;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (unsigned p = 0; p < nt; p++) {
        size_t lo, hi;
        cp_part_range(n, p, nt, &lo, &hi);
        if (lo == hi) continue;
        if (!scan.sorted[p] || (lo > 0 && e->ts_ms[lo - 1] > e->ts_ms[lo])) sorted = false;
        if (scan.min[p] < tmin) tmin = scan.min[p];
        if (scan.max[p] > tmax) tmax = scan.max[p];
    }
    PHASE("scan");

    /* R2.1 identity, on the rows as loaded (stitch_job) */
    size_t n_str = (size_t)cp_strings_count(run->str) + 1;
    stitch_job sj = {.visitor = e->visitor, .customer = e->customer, .ts = e->ts_ms, .n = n};
    sj.identity = malloc((n ? n : 1) * sizeof *sj.identity);
    if (!sj.identity) goto oom;
    if (!run->opt.no_stitch) {
        first = malloc(n_str * sizeof *first);
        first_ts = malloc(n_str * sizeof *first_ts);
        if (!first || !first_ts) { free(sj.identity); goto oom; }
        memset(first, 0xff, n_str * sizeof *first); /* UINT64_MAX: no customer seen */
        for (size_t v = 0; v < n_str; v++) first_ts[v] = INT64_MAX;
        sj.first = first;
        sj.first_ts = first_ts;
        cp_parallel_run(nt, stitch_ts_part, &sj);
        cp_parallel_run(nt, stitch_row_part, &sj);
    }
    cp_parallel_run(nt, identity_part, &sj);
    free(first);
    free(first_ts);
    first = NULL;
    first_ts = NULL;
    e->identity = sj.identity;
    /* reports read identity only: the raw ids' buffers (8 bytes an event)
     * become the permutation and the sort's scratch, memory with its pages
     * already (a fresh page costs a fault: 0.3-1 s per GB here) */
    void *scratch = NULL;      /* n sort keys' room */
    if (!run->opt.keep_raw_ids) {
        rows_buf = e->visitor;
        if (!sorted && n) {
            scratch = realloc(e->customer, n * sizeof(uint64_t)); /* grows in place or moves its pages */
            if (!scratch) free(e->customer);
        } else {
            free(e->customer);
        }
        e->visitor = e->customer = NULL;
    }
    PHASE("identity");
    if (!sorted) {
        size_t n_loaded;
        loaded = sub_build(e->type, n, nt, &n_loaded);
        if (!loaded) {
            free(scratch);
            goto oom;
        }
        assert(n_loaded == e->sub.n); /* commit_part counted them */
        (void)n_loaded;
        int64_t *sorted_ts, *spare_ts;
        perm = rows_buf ? rows_buf : malloc(n * sizeof *perm);
        rows_buf = NULL;
        if (!perm) {
            free(scratch);
            goto oom;
        }
        if (cp_sort_by_time(e->ts_ms, n, tmin, tmax, 64, nt, perm, scratch, &sorted_ts, &spare_ts) != 0) goto oom;
        e->ts_ms = sorted_ts;
        spare_give(&sp, sizeof *e->ts_ms, spare_ts);
        PHASE("sort");
        /* money first, into the sort's spare: then no 8-byte buffer is
         * kept while the narrower columns are gathered; the one money
         * leaves, cut to 4 bytes a row, takes the first of them */
        if (!gather_column(&e->money_micros, sizeof *e->money_micros, perm, n, nt, &sp)) goto oom;
        void *wide = spare_pop(&sp, sizeof *e->money_micros);
        spares_free(&sp);
        if (wide) {
            void *narrow = n ? realloc(wide, n * sizeof(uint32_t)) : NULL; /* shrinking never moves it */
            if (narrow) spare_give(&sp, sizeof(uint32_t), narrow);
            else free(wide);
        }
    }
    if (!sorted) {
        /* every other column in the sorted order, one column at a time (one
         * column's worth of extra memory), its rows split over the threads */
        struct { void *slot; size_t elem; } cols[] = {
            {&e->identity, 4}, {&e->visitor, 4}, {&e->customer, 4}, {&e->ip, 4}, {&e->ua, 4},
            {&e->referrer, 4}, {&e->asin, 4}, {&e->placement, 4}, {&e->line, 4}, {&e->file, 2},
            {&e->type, 1}, {&e->flags, 1}};
        for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
            void *p;
            memcpy(&p, cols[c].slot, sizeof p);
            if (p && !gather_column(cols[c].slot, cols[c].elem, perm, n, nt, &sp)) goto oom;
        }
    }
    spares_free(&sp);
    {
        /* the sorted rows' ranks; the sub columns follow their rows */
        size_t n_sub;
        e->sub.block = sub_build(e->type, n, nt, &n_sub);
        if (!e->sub.block) goto oom;
        assert(n_sub == e->sub.n);
        (void)n_sub;
        if (!sorted) {
            struct { void *slot; size_t elem; } cols[] = {
                {&e->tag, 4}, {&e->click_id, 4}, {&e->order, 4}, {&e->units, 4}, {&e->rating, 1}};
            for (size_t c = 0; c < sizeof cols / sizeof *cols; c++)
                if (!gather_sub_column(cols[c].slot, cols[c].elem, e, loaded, perm, nt)) goto oom;
        }
        free(loaded);
        loaded = NULL;
    }
    {
        /* reused and kept buffers still have the loading capacity: give the
         * tail back (shrinking never moves a buffer's rows) */
        struct { void *slot; size_t elem; bool sub; } cols[] = {
            {&e->ts_ms, 8, false}, {&e->money_micros, 8, false}, {&e->identity, 4, false},
            {&e->visitor, 4, false}, {&e->customer, 4, false}, {&e->ip, 4, false}, {&e->ua, 4, false},
            {&e->referrer, 4, false}, {&e->asin, 4, false}, {&e->placement, 4, false}, {&e->line, 4, false},
            {&e->file, 2, false}, {&e->type, 1, false}, {&e->flags, 1, false}, {&e->tag, 4, true},
            {&e->click_id, 4, true}, {&e->order, 4, true}, {&e->units, 4, true}, {&e->rating, 1, true}};
        for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
            size_t rows = cols[c].sub ? e->sub.n : n;
            void *p;
            memcpy(&p, cols[c].slot, sizeof p);
            if (!p || !rows) continue;
            void *q = realloc(p, rows * cols[c].elem);
            if (q) memcpy(cols[c].slot, &q, sizeof q);
        }
    }
    run->cap = n;
    run->sub_cap = e->sub.n;
    PHASE("gather");

    /* R1.3 orders.  order column holds the order string id until here. */
    order_of_str = calloc(n_str, sizeof *order_of_str); /* string id -> order index + 1 */
    if (!order_of_str) goto oom;
    size_t cap_orders = 1024;
    run->orders = malloc(cap_orders * sizeof *run->orders);
    if (!run->orders) goto oom;
    run->n_orders = 0;
    /* synthetic orders: (identity, ts) -> index, open addressing over rows */
    size_t cap_syn_ts = 0;
    size_t syn_cap = 1024;
    uint32_t *syn = calloc(syn_cap, sizeof *syn);
    size_t n_syn = 0;
    if (!syn) goto oom;
    for (cp_rows rw = cp_rows_not(e->type, n, CP_IMPRESSION); cp_rows_next(&rw);) {
        size_t i = rw.i, sk = rw.k; /* the order column is a sub column: row i's entry is sk */
        uint8_t t = e->type[i];
        if (t != CP_PURCHASE && t != CP_RETURN && t != CP_FEEDBACK) { e->order[sk] = CP_NONE; continue; }
        cp_str os = e->order[sk];
        uint32_t oi;
        if (os) {
            oi = order_of_str[os];
            if (!oi) {
                if (run->n_orders == cap_orders) {
                    cap_orders *= 2;
                    cp_order *no = realloc(run->orders, cap_orders * sizeof *no);
                    if (!no) { free(syn); goto oom; }
                    run->orders = no;
                }
                run->orders[run->n_orders] = (cp_order){os, e->identity[i], INT64_MAX};
                oi = order_of_str[os] = (uint32_t)++run->n_orders;
            }
        } else if (t == CP_FEEDBACK) {
            e->order[sk] = CP_NONE; /* cannot happen: R1.3 rejects it */
            continue;
        } else {
            if (n_syn * 2 >= syn_cap) {
                size_t ncap = syn_cap * 2;
                uint32_t *ns = calloc(ncap, sizeof *ns);
                if (!ns) { free(syn); goto oom; }
                for (size_t k = 0; k < syn_cap; k++) {
                    uint32_t v = syn[k];
                    if (!v) continue;
                    cp_order *o = &run->orders[v - 1];
                    uint64_t h = cp_hash_u64(((uint64_t)o->identity << 32) ^ (uint64_t)syn_ts[v - 1]);
                    size_t j = h & (ncap - 1);
                    while (ns[j]) j = (j + 1) & (ncap - 1);
                    ns[j] = v;
                }
                free(syn);
                syn = ns;
                syn_cap = ncap;
            }
            uint64_t h = cp_hash_u64(((uint64_t)e->identity[i] << 32) ^ (uint64_t)e->ts_ms[i]);
            size_t j = h & (syn_cap - 1);
            oi = 0;
            for (;; j = (j + 1) & (syn_cap - 1)) {
                uint32_t v = syn[j];
                if (!v) break;
                cp_order *o = &run->orders[v - 1];
                if (o->identity == e->identity[i] && syn_ts[v - 1] == e->ts_ms[i]) { oi = v; break; }
            }
            if (!oi) {
                if (run->n_orders == cap_orders) {
                    cap_orders *= 2;
                    cp_order *no = realloc(run->orders, cap_orders * sizeof *no);
                    if (!no) { free(syn); goto oom; }
                    run->orders = no;
                }
                run->orders[run->n_orders] = (cp_order){CP_STR_NONE, e->identity[i], INT64_MAX};
                oi = (uint32_t)++run->n_orders;
                if (!grow_syn_ts(&syn_ts, &cap_syn_ts, oi)) { free(syn); goto oom; }
                syn_ts[oi - 1] = e->ts_ms[i]; /* the synthetic key: every line shares it */
                syn[j] = oi;
                n_syn++;
            }
        }
        e->order[sk] = oi - 1;
        cp_order *o = &run->orders[oi - 1];
        /* R10.6: an order's time is its first purchase line; an order made
         * only of returns (or feedback) has none and was never placed */
        if (t == CP_PURCHASE && e->ts_ms[i] < o->first_ts_ms) o->first_ts_ms = e->ts_ms[i];
    }
    free(syn);
    free(syn_ts);
    syn_ts = NULL;
    free(order_of_str);
    order_of_str = NULL;

    PHASE("orders");
    /* by-identity permutation: counting sort over identity ids (stable) */
    run->by_identity = perm ? perm : rows_buf ? rows_buf : malloc((n ? n : 1) * sizeof *run->by_identity);
    perm = rows_buf = NULL;
    if (!run->by_identity || cp_counting_sort_rows(e->identity, n, (uint32_t)n_str, run->by_identity, nt) != 0)
        goto oom;
    PHASE("by_identity");

    run->finished = true;
    return CP_OK;
oom:
    spares_free(&sp);
    free(loaded);
    free(syn_ts);
    free(perm);
    free(rows_buf);
    free(first);
    free(first_ts);
    free(order_of_str);
    if (err) { err->code = CP_ENOMEM; snprintf(err->msg, sizeof err->msg, "out of memory while sorting events"); }
    return CP_ENOMEM;
}

/* sort.c -- see sort.h. */
#include "util/sort.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/parallel.h"

#define DIGIT_BITS_MAX 11

/* One LSD pass: src -> dst by the digit (key >> shift) & mask. */
typedef struct radix_job {
    const uint64_t *src;
    uint64_t *dst;
    size_t m;
    unsigned shift;
    uint64_t mask;
    size_t buckets;
    size_t *count; /* n_parts x buckets: counts, then each part's cursors */
} radix_job;

static void radix_count(void *arg, unsigned part, unsigned n_parts) {
    radix_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->m, part, n_parts, &lo, &hi);
    size_t *c = j->count + (size_t)part * j->buckets;
    memset(c, 0, j->buckets * sizeof *c);
    const uint64_t *src = j->src;
    unsigned shift = j->shift;
    uint64_t mask = j->mask;
    for (size_t i = lo; i < hi; i++) c[(src[i] >> shift) & mask]++;
}

static void radix_scatter(void *arg, unsigned part, unsigned n_parts) {
    radix_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->m, part, n_parts, &lo, &hi);
    size_t *c = j->count + (size_t)part * j->buckets;
    const uint64_t *src = j->src;
    uint64_t *dst = j->dst;
    unsigned shift = j->shift;
    uint64_t mask = j->mask;
    for (size_t i = lo; i < hi; i++) {
        uint64_t k = src[i];
        dst[c[(k >> shift) & mask]++] = k;
    }
}

uint64_t *cp_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t m, unsigned lo_bit, unsigned hi_bit,
                            unsigned nt) {
    if (hi_bit > 64) hi_bit = 64;
    if (m < 2 || hi_bit <= lo_bit) return keys;
    unsigned bits = hi_bit - lo_bit;
    unsigned passes = (bits + DIGIT_BITS_MAX - 1) / DIGIT_BITS_MAX;
    unsigned width = (bits + passes - 1) / passes; /* equal digits: 34 bits = 4 x 9 */
    unsigned n_parts = cp_threads_for(nt, m, 1);
    size_t buckets = (size_t)1 << width;
    size_t *count = malloc((size_t)n_parts * buckets * sizeof *count);
    if (!count) return NULL;
    radix_job j = {.m = m, .buckets = buckets, .count = count};
    for (unsigned shift = lo_bit; shift < hi_bit; shift += width) {
        unsigned w = hi_bit - shift < width ? hi_bit - shift : width;
        j.src = keys;
        j.dst = tmp;
        j.shift = shift;
        j.mask = ((uint64_t)1 << w) - 1;
        cp_parallel_run(n_parts, radix_count, &j);
        /* offsets in (digit, part) order: part p's keys of digit d follow
         * those of parts < p, as in one stable pass over all keys */
        size_t sum = 0;
        bool one_digit = false;
        for (size_t d = 0; d < buckets && !one_digit; d++) {
            size_t in_d = 0;
            for (unsigned p = 0; p < n_parts; p++) {
                size_t c = count[(size_t)p * buckets + d];
                count[(size_t)p * buckets + d] = sum;
                sum += c;
                in_d += c;
            }
            one_digit = in_d == m; /* every key has this digit: nothing moves */
        }
        if (one_digit) continue;
        cp_parallel_run(n_parts, radix_scatter, &j);
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    free(count);
    return keys;
}

uint64_t *cp_sort_by_identity(uint64_t *keys, uint64_t *tmp, size_t m, uint32_t max_id, unsigned nt) {
    unsigned bits = 0;
    while (bits < 32 && (max_id >> bits)) bits++;
    return cp_radix_sort_u64(keys, tmp, m, 32, 32 + bits, nt);
}

/* ---- R1.6: rows by time ------------------------------------------------------ */

typedef struct time_job {
    const int64_t *ts;     /* the times (may be the memory keys are built in) */
    int64_t tmin;
    size_t n;
    unsigned row_bits, lo, width;
    const uint32_t *prev;  /* the previous stage's order; NULL = rows in order */
    uint64_t *keys;        /* stage keys, then sorted keys */
    uint32_t *perm;        /* the order made */
    int64_t *sorted_ts;    /* output of the ts gather */
} time_job;

static void time_keys(void *arg, unsigned part, unsigned n_parts) {
    time_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    uint64_t mask = j->width < 64 ? ((uint64_t)1 << j->width) - 1 : ~(uint64_t)0;
    for (size_t k = lo; k < hi; k++) {
        size_t row = j->prev ? j->prev[k] : k;
        uint64_t t = (((uint64_t)j->ts[row] - (uint64_t)j->tmin) >> j->lo) & mask;
        j->keys[k] = t << j->row_bits | k;
    }
}

static void time_perm(void *arg, unsigned part, unsigned n_parts) {
    time_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    uint64_t row_mask = ((uint64_t)1 << j->row_bits) - 1;
    for (size_t k = lo; k < hi; k++) {
        uint32_t at = (uint32_t)(j->keys[k] & row_mask);
        j->perm[k] = j->prev ? j->prev[at] : at;
    }
}

/* One stage that covered every time bit: the sorted keys hold the times. */
static void time_unkey(void *arg, unsigned part, unsigned n_parts) {
    time_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    for (size_t k = lo; k < hi; k++) j->sorted_ts[k] = (int64_t)((uint64_t)j->tmin + (j->keys[k] >> j->row_bits));
}

static void time_gather(void *arg, unsigned part, unsigned n_parts) {
    time_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    for (size_t k = lo; k < hi; k++) j->sorted_ts[k] = j->ts[j->perm[k]];
}

/* One stage, large inputs: most significant digit first.  The keys are
 * scattered once by their top time bits into buckets of some ten thousand
 * keys, then each bucket is sorted on the remaining bits by LSD passes that
 * stay in the cache, and its permutation and times are written while it is
 * there: two passes over memory instead of a read and a write per digit.
 * The buckets are disjoint ranges of the output, so threads take whole
 * buckets and the result is the one-thread sort's. */
#define MSD_MIN_KEYS 2048
#define BUCKET_DIGIT_BITS 9
/* A bucket this large (skewed times: most keys in a few buckets) fits no
 * cache: it is sorted by cp_radix_sort_u64 on every thread instead. */
#define MSD_BIG_BUCKET ((size_t)1 << 20)

typedef struct msd_job {
    uint64_t *a, *b;       /* a: the keys; b: the buckets, then the sorted keys */
    size_t m;
    unsigned row_bits, lo_bit, shift; /* bucket digit: key >> shift; sort bits [lo_bit, shift) */
    const size_t *start;   /* bucket d holds b[start[d], start[d + 1]) */
    size_t n_buckets;
    int64_t tmin;
    uint32_t *perm;
} msd_job;

static void msd_buckets(void *arg, unsigned part, unsigned n_parts) {
    msd_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->m, part, n_parts, &lo, &hi);
    /* this part's buckets: those that start in [lo, hi) */
    size_t d = 0;
    while (d < j->n_buckets && j->start[d] < lo) d++;
    uint64_t row_mask = ((uint64_t)1 << j->row_bits) - 1;
    unsigned bits = j->shift - j->lo_bit;
    unsigned passes = (bits + BUCKET_DIGIT_BITS - 1) / BUCKET_DIGIT_BITS;
    unsigned width = passes ? (bits + passes - 1) / passes : 0;
    for (; d < j->n_buckets && j->start[d] < hi; d++) {
        size_t s = j->start[d], e = j->start[d + 1];
        uint64_t *x = j->b + s, *y = j->a + s;
        size_t len = e - s;
        if (len > MSD_BIG_BUCKET) continue; /* msd_sort's own */
        for (unsigned sh = j->lo_bit; len > 1 && sh < j->shift; sh += width) {
            unsigned w = j->shift - sh < width ? j->shift - sh : width;
            uint64_t mask = ((uint64_t)1 << w) - 1;
            size_t cnt[1u << BUCKET_DIGIT_BITS] = {0};
            for (size_t i = 0; i < len; i++) cnt[(x[i] >> sh) & mask]++;
            size_t sum = 0;
            for (size_t k = 0; k <= mask; k++) {
                size_t c = cnt[k];
                cnt[k] = sum;
                sum += c;
            }
            for (size_t i = 0; i < len; i++) y[cnt[(x[i] >> sh) & mask]++] = x[i];
            uint64_t *t = x;
            x = y;
            y = t;
        }
        /* the bucket's permutation, and its times into b in place */
        uint64_t *out = j->b + s;
        for (size_t i = 0; i < len; i++) {
            uint64_t k = x[i];
            j->perm[s + i] = (uint32_t)(k & row_mask);
            out[i] = (uint64_t)j->tmin + (k >> j->row_bits);
        }
    }
}

/* The keys a (built by time_keys over ts_bits time bits) sorted into b: the
 * permutation in perm and the times in b.  -1 when out of memory. */
static int msd_sort(uint64_t *a, uint64_t *b, size_t n, unsigned row_bits, unsigned ts_bits, int64_t tmin,
                    unsigned nt, uint32_t *perm) {
    unsigned log_n = 0;
    while (log_n < 40 && (n >> (log_n + 1))) log_n++;
    unsigned msd_bits = log_n > 15 ? log_n - 13 : 2; /* buckets of ~8k keys (64 KiB) */
    if (msd_bits > DIGIT_BITS_MAX) msd_bits = DIGIT_BITS_MAX;
    if (msd_bits > ts_bits) msd_bits = ts_bits;
    unsigned shift = row_bits + ts_bits - msd_bits;
    size_t n_buckets = (size_t)1 << msd_bits;
    unsigned n_parts = cp_threads_for(nt, n, 1);
    size_t *count = malloc((size_t)n_parts * n_buckets * sizeof *count);
    size_t *start = malloc((n_buckets + 1) * sizeof *start);
    if (!count || !start) {
        free(count);
        free(start);
        return -1;
    }
    radix_job r = {.src = a, .dst = b, .m = n, .shift = shift, .mask = n_buckets - 1, .buckets = n_buckets,
                   .count = count};
    cp_parallel_run(n_parts, radix_count, &r);
    size_t sum = 0;
    for (size_t d = 0; d < n_buckets; d++) {
        start[d] = sum;
        for (unsigned p = 0; p < n_parts; p++) {
            size_t c = count[(size_t)p * n_buckets + d];
            count[(size_t)p * n_buckets + d] = sum;
            sum += c;
        }
    }
    start[n_buckets] = sum;
    cp_parallel_run(n_parts, radix_scatter, &r);
    msd_job j = {.a = a, .b = b, .m = n, .row_bits = row_bits, .lo_bit = row_bits, .shift = shift,
                 .start = start, .n_buckets = n_buckets, .tmin = tmin, .perm = perm};
    cp_parallel_run(n_parts, msd_buckets, &j);
    int rc = 0;
    uint64_t row_mask = ((uint64_t)1 << row_bits) - 1;
    for (size_t d = 0; d < n_buckets && !rc; d++) {
        size_t s = start[d], len = start[d + 1] - s;
        if (len <= MSD_BIG_BUCKET) continue;
        const uint64_t *x = cp_radix_sort_u64(b + s, a + s, len, row_bits, shift, nt);
        if (!x) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < len; i++) { /* as msd_buckets ends a bucket */
            uint64_t k = x[i];
            perm[s + i] = (uint32_t)(k & row_mask);
            b[s + i] = (uint64_t)tmin + (k >> row_bits);
        }
    }
    free(count);
    free(start);
    return rc;
}

int cp_sort_by_time(int64_t *ts, size_t n, int64_t tmin, int64_t tmax, unsigned key_bits, unsigned nt,
                    uint32_t *perm, void *scratch, int64_t **sorted_ts, int64_t **spare) {
    *sorted_ts = *spare = NULL;
    unsigned row_bits = 1, ts_bits = 0;
    while (row_bits < 32 && n > 1 && ((n - 1) >> row_bits)) row_bits++;
    uint64_t span = tmax > tmin ? (uint64_t)tmax - (uint64_t)tmin : 0;
    while (ts_bits < 64 && (span >> ts_bits)) ts_bits++;
    if (key_bits > 64) key_bits = 64;
    if (key_bits <= row_bits) {
        free(scratch);
        return -1;
    }
    unsigned stage_bits = key_bits - row_bits;
    bool one_stage = ts_bits <= stage_bits;
    /* the keys are built over ts itself (each row's key replaces its time);
     * with several stages every stage reads the times, so they are kept */
    uint64_t *a = (uint64_t *)ts, *b = scratch ? scratch : malloc((n ? n : 1) * sizeof *b);
    int64_t *times = one_stage ? ts : malloc((n ? n : 1) * sizeof *times);
    if (!b || !times) {
        free(b);
        if (times != ts) free(times);
        return -1;
    }
    if (times != ts) memcpy(times, ts, n * sizeof *ts);
    nt = cp_threads_for(nt, n, 1);
    time_job j = {.ts = times, .tmin = tmin, .n = n, .row_bits = row_bits, .perm = perm};
    if (one_stage && n >= MSD_MIN_KEYS && ts_bits > 0) {
        j.lo = 0;
        j.width = ts_bits;
        j.keys = a;
        cp_parallel_run(nt, time_keys, &j);
        if (msd_sort(a, b, n, row_bits, ts_bits, tmin, nt, perm) != 0) goto oom;
        *sorted_ts = (int64_t *)b;
        *spare = (int64_t *)a;
        return 0;
    }
    unsigned lo = 0;
    do {
        j.lo = lo;
        j.width = ts_bits - lo < stage_bits ? ts_bits - lo : stage_bits;
        j.keys = a;
        cp_parallel_run(nt, time_keys, &j);
        uint64_t *sorted = cp_radix_sort_u64(a, b, n, row_bits, row_bits + j.width, nt);
        if (!sorted) goto oom;
        if (sorted == b) { b = a; a = sorted; } /* a: the sorted keys; b: free */
        j.keys = a;
        if (j.prev) { /* this stage sorted positions of the previous order */
            memcpy(b, perm, n * sizeof *perm);
            j.prev = (const uint32_t *)b;
        }
        cp_parallel_run(nt, time_perm, &j);
        j.prev = perm; /* the next stage's keys read the order made here */
        lo += j.width;
    } while (lo < ts_bits);
    j.sorted_ts = (int64_t *)a;
    if (one_stage) { /* the keys hold every time bit: they become the times, in place */
        cp_parallel_run(nt, time_unkey, &j);
    } else {
        cp_parallel_run(nt, time_gather, &j);
        free(times);
    }
    *sorted_ts = (int64_t *)a;
    *spare = (int64_t *)b;
    return 0;
oom:
    if (times != ts) free(times);
    if (b != (uint64_t *)ts) free(b);
    else free(a);
    return -1;
}

/* ---- counting sort of rows by bucket ------------------------------------- */

typedef struct csort_job {
    const uint32_t *bucket;
    size_t n;
    size_t n_buckets;
    uint32_t *count; /* n_parts x n_buckets */
    uint32_t *out;
} csort_job;

static void csort_count(void *arg, unsigned part, unsigned n_parts) {
    csort_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    uint32_t *c = j->count + (size_t)part * j->n_buckets;
    const uint32_t *b = j->bucket;
    for (size_t i = lo; i < hi; i++) c[b[i]]++;
}

static void csort_scatter(void *arg, unsigned part, unsigned n_parts) {
    csort_job *j = arg;
    size_t lo, hi;
    cp_part_range(j->n, part, n_parts, &lo, &hi);
    uint32_t *c = j->count + (size_t)part * j->n_buckets;
    const uint32_t *b = j->bucket;
    uint32_t *out = j->out;
    for (size_t i = lo; i < hi; i++) out[c[b[i]]++] = (uint32_t)i;
}

int cp_counting_sort_rows(const uint32_t *bucket, size_t n, uint32_t n_buckets, uint32_t *out, unsigned nt) {
    if (n == 0) return 0;
    if (n_buckets == 0) n_buckets = 1;
    unsigned n_parts = cp_threads_for(nt, n, 1);
    /* each part has a count per bucket: keep them within ~2 words per row */
    while (n_parts > 1 && (size_t)n_parts * n_buckets > 2 * n + 65536) n_parts--;
    uint32_t *count = calloc((size_t)n_parts * n_buckets, sizeof *count);
    if (!count) return -1;
    csort_job j = {bucket, n, n_buckets, count, out};
    cp_parallel_run(n_parts, csort_count, &j);
    uint32_t sum = 0;
    for (size_t b = 0; b < n_buckets; b++)
        for (unsigned p = 0; p < n_parts; p++) {
            uint32_t c = count[(size_t)p * n_buckets + b];
            count[(size_t)p * n_buckets + b] = sum;
            sum += c;
        }
    cp_parallel_run(n_parts, csort_scatter, &j);
    free(count);
    return 0;
}

/* rowmask.h -- the rows of one event type (or of every type but one), in row
 * order, for the report stages' passes over the event columns.
 *
 * Impressions are some 96% of a typical input and most stages read only the
 * other rows (clicks, page views, purchases...).  A test of every row's type
 * costs a few instructions a row and, with the types in no order a branch
 * predictor can learn, mispredictions besides.  Instead the type column is
 * compared 16 bytes at a time (SSE2, every x86-64; a plain loop elsewhere)
 * into a mask of 64 rows, and the loop visits the set bits only:
 *
 *     for (cp_rows r = cp_rows_not(ev->type, n, CP_IMPRESSION); cp_rows_next(&r);) {
 *         size_t i = r.i;
 *         ...
 *     }
 *
 * `continue` and `break` work as in a plain loop over the rows.  r.k counts
 * the rows visited before r.i: over cp_rows_not(type, n, CP_IMPRESSION) it
 * is r.i's rank, the index of its entry in the store's sub columns
 * (clickpath/events.h) and the report stages' per-sub-row columns
 * (clickpath/report.h).  Stateless but for the iterator; thread-safe.
 */
#ifndef CLICKPATH_ROWMASK_H
#define CLICKPATH_ROWMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bit j set when row base + j exists (base + j < n) and its type is t. */
static inline uint64_t cp_rows_mask(const uint8_t *type, size_t n, size_t base, uint8_t t) {
    const uint8_t *p = type + base;
    size_t avail = n - base;
    uint64_t m = 0;
    if (avail >= 64) {
#if defined(__SSE2__)
        const __m128i vt = _mm_set1_epi8((char)t);
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
            m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vt)) << (16 * k);
        }
#else
        for (int k = 0; k < 64; k++) m |= (uint64_t)(p[k] == t) << k;
#endif
        return m;
    }
    for (size_t k = 0; k < avail; k++) m |= (uint64_t)(p[k] == t) << k;
    return m;
}

/* An iterator over rows 0..n-1 whose type is t (or is not t). */
typedef struct cp_rows {
    const uint8_t *type;
    size_t n, next_base; /* the first row of the next mask */
    uint64_t bits;       /* rows of the current mask not yet visited */
    uint8_t t;
    bool negate;
    size_t i;            /* the current row, after cp_rows_next() returned true */
    size_t k;            /* rows visited before i (SIZE_MAX before the first) */
} cp_rows;

/* The rows whose type is t. */
static inline cp_rows cp_rows_of(const uint8_t *type, size_t n, uint8_t t) {
    return (cp_rows){.type = type, .n = n, .t = t, .k = SIZE_MAX};
}

/* The rows whose type is not t. */
static inline cp_rows cp_rows_not(const uint8_t *type, size_t n, uint8_t t) {
    return (cp_rows){.type = type, .n = n, .t = t, .negate = true, .k = SIZE_MAX};
}

/* The mask of the 64 rows from base on (bits past n clear). */
static inline uint64_t cp_rows_block(const cp_rows *r, size_t base) {
    uint64_t m = cp_rows_mask(r->type, r->n, base, r->t);
    if (r->negate) {
        size_t avail = r->n - base;
        m = ~m & (avail >= 64 ? UINT64_MAX : (UINT64_C(1) << avail) - 1);
    }
    return m;
}

/* How many rows r visits (r as made by cp_rows_of or cp_rows_not). */
static inline size_t cp_rows_count(cp_rows r) {
    size_t c = 0;
    for (size_t base = 0; base < r.n; base += 64) c += (size_t)__builtin_popcountll(cp_rows_block(&r, base));
    return c;
}

/* Moves to the next such row (r->i); false when there is none. */
static inline bool cp_rows_next(cp_rows *r) {
    while (!r->bits) {
        size_t base = r->next_base;
        if (base >= r->n) return false;
        r->bits = cp_rows_block(r, base);
        r->next_base = base + 64;
    }
    r->i = r->next_base - 64 + (size_t)__builtin_ctzll(r->bits);
    r->bits &= r->bits - 1;
    r->k++;
    return true;
}

#endif

/* rowmap.h -- one row per key: an open-addressing map from a key of one to
 * three uint32 values (a report day cast to uint32, then ids such as a tag,
 * a placement or an ASIN) to the index of a zeroed row of a caller-chosen
 * type.  This is the "one row per (day, key...)" table of the report stages
 * (ads.c, attribution.c, business.c).
 *
 * A row type begins with its key: n_keys 32-bit members (int32_t day,
 * uint32_t, cp_str) in key order, which the map fills in when it makes the
 * row and compares when it probes.  Keeping the key in the row, not in the
 * slots, keeps the slots at 4 bytes and touches on a hit only the row the
 * caller is about to update anyway.
 *
 * Rows are numbered 0..n-1 in creation order and keep their index and
 * contents for the life of the map; the row array itself moves when it
 * grows, so take row pointers again after every cp_rowmap_get().
 *
 * Ownership: the map owns its rows and slots; cp_rowmap_free() releases
 * both.  Out of memory sets m->oom (sticky): cp_rowmap_get() then returns
 * CP_ROWMAP_OOM and the rows made so far stay valid until the free.
 * Not thread-safe: one map per thread. */
#ifndef CLICKPATH_ROWMAP_H
#define CLICKPATH_ROWMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_ROWMAP_OOM UINT32_MAX

typedef struct cp_rowmap {
    void *rows;       /* n rows of row_size bytes, owned by the map */
    size_t n, cap, row_size;
    uint32_t *slots;  /* row index + 1, 0 = empty; n_slots a power of two
                       * (0 before the first get), at most half full */
    size_t n_slots;
    unsigned n_keys;  /* 1..3 */
    bool oom;
} cp_rowmap;

/* An empty map of rows of row_size bytes, each beginning with n_keys (1..3)
 * 32-bit key members; allocates nothing. */
void cp_rowmap_init(cp_rowmap *m, size_t row_size, unsigned n_keys);
/* Index of the row of key (k0, k1, k2) -- parts past n_keys must be 0 --
 * made zeroed with its key filled in when missing (*created, when not NULL,
 * says which); CP_ROWMAP_OOM when out of memory (m->oom set, nothing
 * changed). */
uint32_t cp_rowmap_get(cp_rowmap *m, uint32_t k0, uint32_t k1, uint32_t k2, bool *created);
/* Row i (i < m->n) as `type`, the row type of the map; valid until the next
 * cp_rowmap_get() or the free. */
#define CP_ROWMAP_AT(m, type, i) ((type *)(m)->rows + (i))
/* Frees rows and slots; the map is empty (as after init) afterwards.
 * Accepts an already freed map. */
void cp_rowmap_free(cp_rowmap *m);

#endif

/* sort.h -- the stable sorts of the stages after parsing: an LSD radix sort
 * of 64-bit keys (R1.6 order in cp_run_finish, identity order in the
 * per-identity stages) and a counting sort of rows by a 32-bit bucket id
 * (cp_run_by_identity).  Both run on up to nt threads (parallel.h) and give
 * the same result for any nt: each pass counts per part, takes the offsets in
 * (bucket, part) order on one thread, and each part then scatters its own
 * keys, so every key lands where the one-thread sort puts it. */
#ifndef CLICKPATH_SORT_H
#define CLICKPATH_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts keys[0..m) stably by their bits [lo_bit, hi_bit) (hi_bit <= 64):
 * LSD radix sort with digits of at most 11 bits; a digit that is the same in
 * every key is skipped.  tmp holds m keys.  Returns the sorted array, keys or
 * tmp; the other holds garbage.  Returns NULL only when out of memory (the
 * per-part counts), with keys unchanged. */
uint64_t *cp_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t m, unsigned lo_bit, unsigned hi_bit,
                            unsigned nt);

/* Sorts keys (identity << 32 | row) by identity, stably, over the bits max_id
 * needs.  Keys that start in row order end in (identity, row) order, i.e.
 * cp_run_by_identity's order (identity, ts, input order) restricted to these
 * rows.  tmp holds m keys.  Returns the sorted array (keys or tmp), or NULL
 * when out of memory. */
uint64_t *cp_sort_by_identity(uint64_t *keys, uint64_t *tmp, size_t m, uint32_t max_id, unsigned nt);

/* R1.6: perm[k] = the row with the k-th smallest ts, equal timestamps in row
 * order, for ts[0..n) within [tmin, tmax] and n < 2^32.
 *
 * ts is consumed: its buffer holds the sort keys.  `scratch` (from malloc,
 * at least n int64, or NULL to allocate one) is the sort's other buffer:
 * memory already in use has its pages, where a new buffer takes a page
 * fault per 4 KiB.  On success *sorted_ts is the times in that order and
 * *spare a free buffer of n int64; they are ts's buffer and the scratch, in
 * either order, and the caller frees both (or reuses *spare).  On failure
 * (-1: out of memory, or key_bits <= row_bits) ts holds garbage, the
 * scratch is freed and nothing is returned.
 *
 * Keys are (ts - tmin) << row_bits | position, key_bits wide (64; tests pass
 * less), sorted on their time bits only: the position bits are in order
 * already and every pass is stable.  One sort when the time span fits beside
 * the positions (a span of 2^40 ms, 35 years, beside 2^24 rows) -- from 2048
 * rows on, most significant digit first: one scatter by the top time bits
 * into buckets of ~8k keys, each then sorted in the cache; else one
 * stable sort per key_bits - row_bits time bits, lowest first, each on the
 * order the previous one made (LSD over the stages; the times are then
 * copied first). */
int cp_sort_by_time(int64_t *ts, size_t n, int64_t tmin, int64_t tmax, unsigned key_bits, unsigned nt,
                    uint32_t *perm, void *scratch, int64_t **sorted_ts, int64_t **spare);

/* out[0..n) = the rows 0..n-1 stably sorted by bucket[row] (every bucket id
 * < n_buckets).  Returns 0, or -1 when out of memory (out untouched). */
int cp_counting_sort_rows(const uint32_t *bucket, size_t n, uint32_t n_buckets, uint32_t *out, unsigned nt);

#endif

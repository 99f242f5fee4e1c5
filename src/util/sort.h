/* sort.h -- the radix sort the per-identity stages share. */
#ifndef CLICKPATH_SORT_H
#define CLICKPATH_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts keys (identity << 32 | row) by identity, stably: LSD radix sort,
 * 11-bit digits over the bits max_id needs.  Keys that start in row order
 * end in (identity, row) order, i.e. cp_run_by_identity's order (identity,
 * ts, input order) restricted to these rows.  tmp holds m keys.  Returns the
 * sorted array: keys or tmp. */
uint64_t *cp_sort_by_identity(uint64_t *keys, uint64_t *tmp, size_t m, uint32_t max_id);

#endif

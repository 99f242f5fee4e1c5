/* sort.c -- see sort.h. */
#include "util/sort.h"

#include <string.h>

uint64_t *cp_sort_by_identity(uint64_t *keys, uint64_t *tmp, size_t m, uint32_t max_id) {
    enum { BITS = 11, RADIX = 1 << BITS };
    size_t count[RADIX];
    for (unsigned shift = 32; shift < 64 && (max_id >> (shift - 32)); shift += BITS) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < m; i++) count[(keys[i] >> shift) & (RADIX - 1)]++;
        size_t sum = 0;
        for (size_t d = 0; d < RADIX; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) tmp[count[(keys[i] >> shift) & (RADIX - 1)]++] = keys[i];
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    return keys;
}

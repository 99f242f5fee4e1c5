/* rowmap.c -- the one-row-per-key map of rowmap.h: linear probing over
 * row index + 1 slots, keys compared in the rows themselves. */
#include "util/rowmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/strings.h"

#define FIRST_SLOTS 1024
#define FIRST_ROWS 1024

void cp_rowmap_init(cp_rowmap *m, size_t row_size, unsigned n_keys) {
    memset(m, 0, sizeof *m);
    m->row_size = row_size;
    m->n_keys = n_keys;
}

/* The key at the head of row i: n_keys uint32 (int32_t and cp_str members
 * may be read as uint32_t). */
static inline const uint32_t *key_of(const cp_rowmap *m, size_t i) {
    return (const uint32_t *)(const void *)((const char *)m->rows + i * m->row_size);
}

static inline size_t slot_of(uint32_t k0, uint32_t k1, uint32_t k2, size_t mask) {
    return (size_t)cp_hash_u64(((uint64_t)k0 << 32 | k1) ^ cp_hash_u64(k2)) & mask;
}

static size_t slot_of_row(const cp_rowmap *m, size_t i, size_t mask) {
    const uint32_t *k = key_of(m, i);
    return slot_of(k[0], m->n_keys > 1 ? k[1] : 0, m->n_keys > 2 ? k[2] : 0, mask);
}

static bool grow_slots(cp_rowmap *m) {
    size_t ns = m->n_slots ? m->n_slots * 2 : FIRST_SLOTS;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return false;
    for (size_t i = 0; i < m->n; i++) {
        size_t h = slot_of_row(m, i, ns - 1);
        while (s[h]) h = (h + 1) & (ns - 1);
        s[h] = (uint32_t)i + 1;
    }
    free(m->slots);
    m->slots = s;
    m->n_slots = ns;
    return true;
}

uint32_t cp_rowmap_get(cp_rowmap *m, uint32_t k0, uint32_t k1, uint32_t k2, bool *created) {
    if (created) *created = false;
    if (m->oom) return CP_ROWMAP_OOM;
    /* at most half full, so probes stay short and one slot is always free */
    if ((m->n + 1) * 2 > m->n_slots && !grow_slots(m)) { m->oom = true; return CP_ROWMAP_OOM; }
    size_t mask = m->n_slots - 1, h = slot_of(k0, k1, k2, mask);
    unsigned nk = m->n_keys;
    for (; m->slots[h]; h = (h + 1) & mask) {
        const uint32_t *k = key_of(m, m->slots[h] - 1);
        if (k[0] == k0 && (nk < 2 || k[1] == k1) && (nk < 3 || k[2] == k2)) return m->slots[h] - 1;
    }
    /* indices and slot values must fit uint32 with CP_ROWMAP_OOM left over */
    if (m->n >= UINT32_MAX - 1) { m->oom = true; return CP_ROWMAP_OOM; }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : FIRST_ROWS;
        if (nc > SIZE_MAX / m->row_size) { m->oom = true; return CP_ROWMAP_OOM; }
        void *nr = realloc(m->rows, nc * m->row_size);
        if (!nr) { m->oom = true; return CP_ROWMAP_OOM; }
        m->rows = nr;
        m->cap = nc;
    }
    size_t i = m->n++;
    uint32_t *k = memset((char *)m->rows + i * m->row_size, 0, m->row_size);
    uint32_t key[3] = {k0, k1, k2};
    memcpy(k, key, nk * sizeof *key);
    m->slots[h] = (uint32_t)i + 1;
    if (created) *created = true;
    return (uint32_t)i;
}

void cp_rowmap_free(cp_rowmap *m) {
    free(m->rows);
    free(m->slots);
    cp_rowmap_init(m, m->row_size, m->n_keys);
}

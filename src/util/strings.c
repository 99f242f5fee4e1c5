/* strings.c -- intern table (see strings.h).  Open addressing with linear
 * probing over a power-of-two slot array of ids; each id keeps its hash so
 * that growing never rehashes bytes and most probes never touch them. */
#include "util/strings.h"

#include <stdlib.h>
#include <string.h>

struct cp_strings {
    uint64_t *off;    /* [id] offset of the bytes in data */
    uint32_t *len;    /* [id] */
    uint32_t *hash;   /* [id] low 32 bits of the hash */
    uint32_t n;       /* ids used: 1..n */
    uint32_t cap_ids;
    uint32_t *slots;  /* id or 0 */
    uint32_t mask;
    char *data;
    uint64_t data_len, data_cap;
};

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint64_t cp_hash_bytes(const void *vp, size_t len) {
    const unsigned char *p = vp;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (len * UINT64_C(0xbf58476d1ce4e5b9));
    while (len >= 8) {
        h = (h ^ load64(p)) * UINT64_C(0x94d049bb133111eb);
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    h = (h ^ tail) * UINT64_C(0x94d049bb133111eb);
    return cp_hash_u64(h);
}

cp_strings *cp_strings_new(void) {
    cp_strings *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->mask = 1023;
    s->slots = calloc(s->mask + 1, sizeof *s->slots);
    s->cap_ids = 1024;
    s->off = malloc(s->cap_ids * sizeof *s->off);
    s->len = malloc(s->cap_ids * sizeof *s->len);
    s->hash = malloc(s->cap_ids * sizeof *s->hash);
    s->data_cap = 1 << 16;
    s->data = malloc(s->data_cap);
    if (!s->slots || !s->off || !s->len || !s->hash || !s->data) {
        cp_strings_free(s);
        return NULL;
    }
    /* id 0: the empty string */
    s->off[0] = 0;
    s->len[0] = 0;
    s->hash[0] = 0;
    s->data[0] = '\0';
    s->data_len = 1;
    return s;
}

void cp_strings_free(cp_strings *s) {
    if (!s) return;
    free(s->off);
    free(s->len);
    free(s->hash);
    free(s->slots);
    free(s->data);
    free(s);
}

static int grow_slots(cp_strings *s) {
    uint32_t cap = (s->mask + 1) * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    uint32_t mask = cap - 1;
    for (uint32_t id = 1; id <= s->n; id++) {
        uint32_t i = s->hash[id] & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = id;
    }
    free(s->slots);
    s->slots = slots;
    s->mask = mask;
    return 0;
}

static inline int same(const cp_strings *s, uint32_t id, uint32_t h, const char *p, size_t len) {
    return s->hash[id] == h && s->len[id] == len && memcmp(s->data + s->off[id], p, len) == 0;
}

cp_str cp_strings_find(const cp_strings *s, const char *p, size_t len) {
    if (len == 0) return CP_STR_NONE;
    uint32_t h = (uint32_t)cp_hash_bytes(p, len);
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t id = s->slots[i];
        if (!id) return CP_STR_NONE;
        if (same(s, id, h, p, len)) return id;
    }
}

cp_str cp_strings_intern(cp_strings *s, const char *p, size_t len, int *oom) {
    if (len == 0) return CP_STR_NONE;
    return cp_strings_intern_h(s, p, len, cp_hash_bytes(p, len), oom);
}

cp_str cp_strings_intern_h(cp_strings *s, const char *p, size_t len, uint64_t hash, int *oom) {
    if (len == 0) return CP_STR_NONE;
    uint32_t h = (uint32_t)hash;
    uint32_t i = h & s->mask;
    for (;; i = (i + 1) & s->mask) {
        uint32_t id = s->slots[i];
        if (!id) break;
        if (same(s, id, h, p, len)) return id;
    }
    /* insert */
    if (s->n + 1 >= UINT32_MAX - 1 || len > UINT32_MAX - 1) goto nomem;
    if (s->n + 1 >= s->cap_ids) {
        uint32_t cap = s->cap_ids * 2;
        uint64_t *off = realloc(s->off, cap * sizeof *off);
        if (off) s->off = off;
        uint32_t *ln = realloc(s->len, cap * sizeof *ln);
        if (ln) s->len = ln;
        uint32_t *hs = realloc(s->hash, cap * sizeof *hs);
        if (hs) s->hash = hs;
        if (!off || !ln || !hs) goto nomem;
        s->cap_ids = cap;
    }
    if (s->data_len + len + 1 > s->data_cap) {
        uint64_t cap = s->data_cap * 2;
        while (cap < s->data_len + len + 1) cap *= 2;
        char *d = realloc(s->data, cap);
        if (!d) goto nomem;
        s->data = d;
        s->data_cap = cap;
    }
    uint32_t id = ++s->n;
    s->off[id] = s->data_len;
    s->len[id] = (uint32_t)len;
    s->hash[id] = h;
    memcpy(s->data + s->data_len, p, len);
    s->data[s->data_len + len] = '\0';
    s->data_len += len + 1;
    s->slots[i] = id;
    /* keep the load factor under 1/2 */
    if ((uint64_t)s->n * 2 > s->mask && grow_slots(s) != 0) goto nomem;
    return id;
nomem:
    if (oom) *oom = 1;
    return CP_STR_NONE;
}

const char *cp_strings_get(const cp_strings *s, cp_str id, size_t *len) {
    if (id == CP_STR_NONE || id > s->n) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = s->len[id];
    return s->data + s->off[id];
}

const char *cp_str_c(const cp_strings *s, cp_str id) { return cp_strings_get(s, id, NULL); }

int cp_strings_cmp(const cp_strings *s, cp_str a, cp_str b) {
    if (a == b) return 0;
    size_t la, lb;
    const char *pa = cp_strings_get(s, a, &la), *pb = cp_strings_get(s, b, &lb);
    size_t n = la < lb ? la : lb;
    int c = memcmp(pa, pb, n);
    if (c) return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

uint32_t cp_strings_count(const cp_strings *s) { return s->n; }

size_t cp_strings_memory_bytes(const cp_strings *s) {
    return (size_t)s->cap_ids * (8 + 4 + 4) + (size_t)(s->mask + 1) * 4 + (size_t)s->data_cap;
}

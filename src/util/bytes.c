/* bytes.c -- see bytes.h. */
#include "util/bytes.h"

#include <stdlib.h>
#include <string.h>

void cp_bytes_free(cp_bytes *b) {
    free(b->p);
    *b = (cp_bytes){0};
}

void cp_bytes_put(cp_bytes *b, const void *data, size_t len) {
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    if (len) memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_le(cp_bytes *b, uint64_t v, int width) {
    uint8_t t[8];
    for (int i = 0; i < width; i++) t[i] = (uint8_t)(v >> (8 * i));
    cp_bytes_put(b, t, (size_t)width);
}

void cp_bytes_u8(cp_bytes *b, uint8_t v) { cp_bytes_put(b, &v, 1); }
void cp_bytes_u32(cp_bytes *b, uint32_t v) { put_le(b, v, 4); }
void cp_bytes_u64(cp_bytes *b, uint64_t v) { put_le(b, v, 8); }
void cp_bytes_i64(cp_bytes *b, int64_t v) { put_le(b, (uint64_t)v, 8); }
void cp_bytes_f64(cp_bytes *b, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_le(b, u, 8);
}
void cp_bytes_str(cp_bytes *b, const char *s, size_t len) {
    if (len > UINT32_MAX) { b->oom = true; return; }
    put_le(b, len, 4);
    cp_bytes_put(b, s, len);
}

cp_bytes_reader cp_bytes_reader_of(const void *data, size_t len) {
    return (cp_bytes_reader){.p = data, .n = len};
}

const void *cp_bytes_get(cp_bytes_reader *r, size_t len) {
    if (r->bad || len > r->n - r->at) {
        r->bad = true;
        return NULL;
    }
    const void *p = r->p + r->at;
    r->at += len;
    return p;
}

static uint64_t get_le(cp_bytes_reader *r, int width) {
    const uint8_t *t = cp_bytes_get(r, (size_t)width);
    if (!t) return 0;
    uint64_t v = 0;
    for (int i = 0; i < width; i++) v |= (uint64_t)t[i] << (8 * i);
    return v;
}

uint8_t cp_bytes_get_u8(cp_bytes_reader *r) { return (uint8_t)get_le(r, 1); }
uint32_t cp_bytes_get_u32(cp_bytes_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t cp_bytes_get_u64(cp_bytes_reader *r) { return get_le(r, 8); }
int64_t cp_bytes_get_i64(cp_bytes_reader *r) { return (int64_t)get_le(r, 8); }
double cp_bytes_get_f64(cp_bytes_reader *r) {
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

const char *cp_bytes_get_str(cp_bytes_reader *r, size_t *len) {
    size_t n = get_le(r, 4);
    const char *s = cp_bytes_get(r, n);
    *len = s ? n : 0;
    return s ? s : "";
}

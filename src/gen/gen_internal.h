/* gen_internal.h -- pieces of `clickpath gen` shared by its files and its
 * tests: the buffered writer and the user-agent tables.  Not public API. */
#ifndef CLICKPATH_GEN_INTERNAL_H
#define CLICKPATH_GEN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gen/gen.h"

/* User agents the generator writes.  NULL-terminated.  Every human one must
 * match no entry of cp_builtin_bot_list (tests/test_gen.c checks it); every
 * bot one matches at least one.  The truth is computed with
 * cp_gen_ua_is_bot(), never with the table a UA came from, so a change of the
 * bot list cannot make the truth wrong, only the traffic mix unrealistic. */
extern const char *const cp_gen_human_uas[];
extern const char *const cp_gen_bot_uas[];

/* R3.1.1: true when ua contains an entry of cp_builtin_bot_list, compared
 * case-insensitively.  An empty ua is NOT reported here (the caller knows
 * whether the input carries user agents). */
bool cp_gen_ua_is_bot(const char *ua);

/* A file written through one large buffer.  The first failure sticks in
 * `failed`/`errno_saved`; later writes are dropped.
 *
 * An async gen_out (gen_out_open_async) owns a writer thread and a second
 * buffer: a flush hands the full buffer to the thread and goes on filling the
 * other, so formatting overlaps the kernel's copy.  Only the thread touches
 * `wbuf` between a hand-over and its completion; `failed` is owned by the
 * caller's thread and picks up the writer's failure at the next flush. */
typedef struct gen_out {
    FILE *f;
    char *buf;
    size_t len;
    size_t cap;
    bool failed;
    int errno_saved;
    char path[4096];
    /* async only */
    bool async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *wbuf;
    size_t wlen;
    bool wbusy, wstop, wfailed;
    int werrno;
} gen_out;

/* Room every caller may assume after gen_out_reserve(): one formatted line
 * of the generator is far below it. */
#define GEN_OUT_SLACK ((size_t)64 * 1024)

bool gen_out_open(gen_out *o, const char *dir, const char *name, size_t cap);
bool gen_out_open_async(gen_out *o, const char *dir, const char *name, size_t cap);
void gen_out_flush(gen_out *o);
/* Flushes, closes, frees; returns false when any write or the close failed. */
bool gen_out_close(gen_out *o);

static inline void gen_out_reserve(gen_out *o) {
    if (o->cap - o->len < GEN_OUT_SLACK)
        gen_out_flush(o);
}

static inline void gen_put(gen_out *o, const char *s, size_t n) {
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static inline void gen_putc(gen_out *o, char c) { o->buf[o->len++] = c; }

static inline void gen_put_u64(gen_out *o, uint64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    gen_put(o, tmp + i, sizeof tmp - i);
}

/* R1.5: money as a plain decimal from micro-units, at least two decimals and
 * no trailing zeros beyond them ("0.87", "0.0035", "19.99"). */
static inline void gen_put_money(gen_out *o, int64_t micros) {
    if (micros < 0) {
        gen_putc(o, '-');
        micros = -micros;
    }
    gen_put_u64(o, (uint64_t)micros / 1000000u);
    uint32_t frac = (uint32_t)((uint64_t)micros % 1000000u);
    char d[6];
    for (int i = 5; i >= 0; i--) {
        d[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    size_t n = 6;
    while (n > 2 && d[n - 1] == '0')
        n--;
    gen_putc(o, '.');
    gen_put(o, d, n);
}

#endif

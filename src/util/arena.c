/* arena.c -- bump allocator (see arena.h). */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cp_arena_block {
    cp_arena_block *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64u * 1024u)

void *cp_arena_alloc(cp_arena *a, size_t n) {
    n = (n + 15u) & ~(size_t)15u;
    cp_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK_MIN ? n : ARENA_BLOCK_MIN;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        /* Keep the fuller block at the head only if the new one is a
         * one-off large allocation; small requests keep filling the head. */
        if (a->head && n > ARENA_BLOCK_MIN) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_bytes += n;
    return p;
}

char *cp_arena_strndup(cp_arena *a, const char *s, size_t len) {
    char *p = cp_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *cp_arena_strdup(cp_arena *a, const char *s) { return cp_arena_strndup(a, s, strlen(s)); }

void cp_arena_free(cp_arena *a) {
    cp_arena_block *b = a->head;
    while (b) {
        cp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}

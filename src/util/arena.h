/* arena.h -- a bump allocator for per-run data.  Everything allocated from an
 * arena lives until cp_arena_free(); nothing is freed one by one.  Not
 * thread-safe: one arena per thread or per run. */
#ifndef CLICKPATH_ARENA_H
#define CLICKPATH_ARENA_H

#include <stddef.h>

typedef struct cp_arena_block cp_arena_block;
typedef struct cp_arena {
    cp_arena_block *head;
    size_t used_bytes; /* for --stats */
} cp_arena;

/* Returns 16-byte aligned memory of n bytes, or NULL when out of memory. */
void *cp_arena_alloc(cp_arena *a, size_t n);
/* Copies s[0..len) and NUL-terminates it. */
char *cp_arena_strndup(cp_arena *a, const char *s, size_t len);
char *cp_arena_strdup(cp_arena *a, const char *s);
/* Frees every block.  The arena may be reused afterwards. */
void cp_arena_free(cp_arena *a);

#endif

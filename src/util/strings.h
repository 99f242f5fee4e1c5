/* strings.h -- the intern table behind cp_strings (events.h): identical byte
 * strings get one uint32 id, 1..n; 0 is "absent".  Bytes live in one growing
 * buffer addressed by offset, so ids stay valid while the table grows.
 * Not thread-safe while interning; read-only use is. */
#ifndef CLICKPATH_STRINGS_H
#define CLICKPATH_STRINGS_H

#include <stddef.h>
#include <stdint.h>

#include "clickpath/events.h"

cp_strings *cp_strings_new(void);
void cp_strings_free(cp_strings *s); /* accepts NULL */
/* Interns p[0..len); len 0 gives CP_STR_NONE.  Returns CP_STR_NONE with
 * *oom set when out of memory. */
cp_str cp_strings_intern(cp_strings *s, const char *p, size_t len, int *oom);
/* The same with the hash already computed (cp_hash_bytes(p, len)), so that
 * parsing threads can hash and the committing thread only probes. */
cp_str cp_strings_intern_h(cp_strings *s, const char *p, size_t len, uint64_t hash, int *oom);
/* Looks up without inserting; CP_STR_NONE if absent. */
cp_str cp_strings_find(const cp_strings *s, const char *p, size_t len);
size_t cp_strings_memory_bytes(const cp_strings *s);
/* A fast 64-bit hash of bytes (not cryptographic). */
uint64_t cp_hash_bytes(const void *p, size_t len);
static inline uint64_t cp_hash_u64(uint64_t x) {
    x ^= x >> 33; x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33; x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

#endif

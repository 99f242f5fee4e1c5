/* bytes.h -- a growable byte buffer and a bounds-checked reader, for
 * accumulators sent between processes (report/partial.h, `--mpi`).
 *
 * Numbers are written little-endian, fixed width; strings as a u32 length
 * and the bytes.  The writer records out-of-memory in `oom` and the reader
 * a short or damaged buffer in `bad`, so a sequence of puts or gets is
 * checked once at its end. */
#ifndef CLICKPATH_BYTES_H
#define CLICKPATH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cp_bytes {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} cp_bytes;

void cp_bytes_free(cp_bytes *b);
void cp_bytes_put(cp_bytes *b, const void *data, size_t len);
void cp_bytes_u8(cp_bytes *b, uint8_t v);
void cp_bytes_u32(cp_bytes *b, uint32_t v);
void cp_bytes_u64(cp_bytes *b, uint64_t v);
void cp_bytes_i64(cp_bytes *b, int64_t v);
void cp_bytes_f64(cp_bytes *b, double v); /* the exact bits */
void cp_bytes_str(cp_bytes *b, const char *s, size_t len);

typedef struct cp_bytes_reader {
    const uint8_t *p;
    size_t n, at;
    bool bad;
} cp_bytes_reader;

cp_bytes_reader cp_bytes_reader_of(const void *data, size_t len);
/* The next len bytes (NULL and bad when fewer remain). */
const void *cp_bytes_get(cp_bytes_reader *r, size_t len);
uint8_t cp_bytes_get_u8(cp_bytes_reader *r);
uint32_t cp_bytes_get_u32(cp_bytes_reader *r);
uint64_t cp_bytes_get_u64(cp_bytes_reader *r);
int64_t cp_bytes_get_i64(cp_bytes_reader *r);
double cp_bytes_get_f64(cp_bytes_reader *r);
/* A string written by cp_bytes_str: its bytes in the buffer (not
 * NUL-terminated) and its length. */
const char *cp_bytes_get_str(cp_bytes_reader *r, size_t *len);

#endif

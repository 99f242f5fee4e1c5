/* reader.h -- one small byte-stream interface with three backends, chosen by
 * the input's magic bytes, never its name (R1.1): plain, gzip (every member of
 * a multi-member file, read to its end) and zstd (every frame).  Standard
 * input is "-".  In the style of redis' ae.c: one interface, several
 * implementations. */
#ifndef CLICKPATH_READER_H
#define CLICKPATH_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clickpath/clickpath.h"

typedef struct cp_reader cp_reader;

typedef enum cp_compression { CP_COMP_NONE = 0, CP_COMP_GZIP, CP_COMP_ZSTD } cp_compression;

/* Opens path ("-" = stdin) and detects compression.  On failure fills err
 * (code CP_EIO, naming the file) and returns NULL. */
cp_reader *cp_reader_open(const char *path, cp_error *err);
/* A reader over bytes in memory (not copied: they must outlive the reader);
 * compression is detected the same way.  `name` is used in messages. */
cp_reader *cp_reader_open_mem(const char *name, const void *data, size_t len, cp_error *err);
cp_compression cp_reader_compression(const cp_reader *r);
/* Size in bytes of an uncompressed regular file, else 0. */
uint64_t cp_reader_plain_size(const cp_reader *r);
/* Reads up to cap decompressed bytes into buf.  Returns the count, 0 at the
 * end, or -1 with err filled (CP_EIO for read errors, CP_EFORMAT for data
 * that cannot be decompressed). */
ssize_t cp_reader_read(cp_reader *r, void *buf, size_t cap, cp_error *err);
/* Decompresses ahead on a thread of its own (gzip and zstd files only; a
 * no-op returning false otherwise, or when the thread cannot start): later
 * cp_reader_read() calls copy out of a ring of 4 MiB chunks, so that
 * decompression overlaps parsing and committing.  The same bytes and the
 * same errors as without; after it, use the reader from one thread only. */
bool cp_reader_prefetch(cp_reader *r);
/* The same with chunks of chunk_bytes (allocation), the first head_room of
 * which are left free for the caller (cp_reader_take()). */
bool cp_reader_prefetch_chunks(cp_reader *r, size_t chunk_bytes, size_t head_room);
/* With prefetching on: hands over the next filled chunk whole, where
 * cp_reader_read() would copy it.  *data is its first byte, *len the bytes
 * (the next ones of the input), *chunk the allocation (head room before
 * *data, from malloc), which becomes the caller's.  Returns 1 when it did, 0
 * at the end, -1 on error (err), 2 when it cannot: no prefetching, a chunk
 * partly read by cp_reader_read(), or one taken and not yet given back;
 * read with cp_reader_read() then.  The ring is a chunk short until
 * cp_reader_give(). */
int cp_reader_take(cp_reader *r, void **chunk, char **data, size_t *len, cp_error *err);
/* Gives the ring a chunk in place of the one taken: `chunk` from malloc and
 * at least cp_reader_chunk_size() bytes.  Without a taken chunk it frees
 * `chunk`. */
void cp_reader_give(cp_reader *r, void *chunk);
/* The allocation size of a prefetch chunk; 0 without prefetching. */
size_t cp_reader_chunk_size(const cp_reader *r);
/* The whole input as bytes in place of cp_reader_read(), when it is
 * uncompressed and either in memory or a regular file that can be mapped
 * (not one larger than half the memory, read with its page cache dropped
 * behind): *len bytes valid until cp_reader_close(); else NULL.  Saves the
 * copy of every byte that read() makes.  A mapped file cut shorter by
 * another process while mapped would fault (SIGBUS), as with any mapping. */
const char *cp_reader_map(cp_reader *r, size_t *len);
void cp_reader_close(cp_reader *r); /* accepts NULL (stops the thread) */

#endif

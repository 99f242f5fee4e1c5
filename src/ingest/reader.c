/* reader.c -- plain, gzip and zstd backends of cp_reader (see reader.h). */
#include "ingest/reader.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CAP (1u << 20)

struct cp_reader {
    const unsigned char *mem; /* in-memory input, or NULL */
    size_t mem_len, mem_pos;
    int fd;
    bool own_fd;
    const char *path;
    cp_compression comp;
    unsigned char *raw;   /* compressed input buffer */
    size_t raw_cap;       /* RAW_CAP, or less for a small input */
    size_t raw_len, raw_pos;
    bool raw_eof;
    z_stream z;
    bool z_init, z_ended; /* z_ended: the last member ended exactly at EOF */
    ZSTD_DCtx *zd;
    size_t zstd_last;     /* last ZSTD_decompressStream hint; 0 = frame done */
    struct prefetch *pf;  /* cp_reader_prefetch(): a thread decompresses ahead */
    bool drop_behind;     /* a file larger than half the memory: see cp_reader_open */
    uint64_t read_off, dropped; /* bytes read from fd; page cache dropped below */
    void *map;            /* cp_reader_map(): the file mapped whole, or NULL */
    size_t map_len;
};

static bool detect(cp_reader *r, cp_error *err);

static void set_err(cp_error *err, cp_result code, const char *path, const char *what) {
    if (!err) return;
    err->code = code;
    err->file = path;
    err->line = 0;
    err->field = NULL;
    snprintf(err->msg, sizeof err->msg, "%s: %s", path, what);
}

/* Fills raw from the fd; returns -1 on error. */
static ssize_t fd_read(cp_reader *r, void *buf, size_t cap) {
    if (r->mem) {
        size_t n = r->mem_len - r->mem_pos;
        if (n > cap) n = cap;
        memcpy(buf, r->mem + r->mem_pos, n);
        r->mem_pos += n;
        return (ssize_t)n;
    }
    ssize_t n = read(r->fd, buf, cap);
    if (n > 0 && r->drop_behind) {
        r->read_off += (uint64_t)n;
        if (r->read_off - r->dropped >= (UINT64_C(64) << 20)) {
            (void)posix_fadvise(r->fd, (off_t)r->dropped, (off_t)(r->read_off - r->dropped), POSIX_FADV_DONTNEED);
            r->dropped = r->read_off;
        }
    }
    return n;
}

static int raw_fill(cp_reader *r, cp_error *err) {
    if (r->raw_pos < r->raw_len || r->raw_eof) return 0;
    for (;;) {
        ssize_t n = fd_read(r, r->raw, r->raw_cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            set_err(err, CP_EIO, r->path, strerror(errno));
            return -1;
        }
        r->raw_len = (size_t)n;
        r->raw_pos = 0;
        if (n == 0) r->raw_eof = true;
        return 0;
    }
}

cp_reader *cp_reader_open(const char *path, cp_error *err) {
    cp_reader *r = calloc(1, sizeof *r);
    if (!r) {
        set_err(err, CP_ENOMEM, path, "out of memory");
        return NULL;
    }
    r->path = path;
    if (strcmp(path, "-") == 0) {
        r->fd = 0;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            char what[200];
            snprintf(what, sizeof what, "cannot open: %s", strerror(errno));
            set_err(err, CP_EIO, path, what);
            free(r);
            return NULL;
        }
        r->own_fd = true;
    }
    /* a small regular file needs no 1 MiB buffer */
    struct stat st;
    r->raw_cap = RAW_CAP;
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size + 16 < RAW_CAP) r->raw_cap = (size_t)st.st_size + 16;
        /* One pass front to back: ask for a larger read-ahead.  A file larger
         * than half the machine's memory cannot stay in the page cache for
         * the next run anyway; its pages are dropped behind the reader, so
         * that they do not push the run's own memory (the event store) out. */
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0 && (uint64_t)st.st_size > (uint64_t)pages * (uint64_t)page / 2)
            r->drop_behind = true;
    }
    r->raw = malloc(r->raw_cap);
    if (!r->raw) {
        set_err(err, CP_ENOMEM, path, "out of memory");
        cp_reader_close(r);
        return NULL;
    }
    return detect(r, err) ? r : NULL;
}

cp_reader *cp_reader_open_mem(const char *name, const void *data, size_t len, cp_error *err) {
    cp_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->raw_cap = len + 16 < RAW_CAP ? len + 16 : RAW_CAP;
        r->raw = malloc(r->raw_cap);
    }
    if (!r || !r->raw) {
        free(r);
        set_err(err, CP_ENOMEM, name, "out of memory");
        return NULL;
    }
    r->path = name;
    r->fd = -1;
    r->mem = data;
    r->mem_len = len;
    return detect(r, err) ? r : NULL;
}

/* Peeks at the magic bytes and starts the decoder.  On failure closes r. */
static bool detect(cp_reader *r, cp_error *err) {
    const char *path = r->path;
    while (r->raw_len < 4 && !r->raw_eof) {
        ssize_t n = fd_read(r, r->raw + r->raw_len, r->raw_cap - r->raw_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            char what[200];
            snprintf(what, sizeof what, "cannot read: %s", strerror(errno));
            set_err(err, CP_EIO, path, what);
            cp_reader_close(r);
            return false;
        }
        if (n == 0) r->raw_eof = true;
        r->raw_len += (size_t)n;
    }
    const unsigned char *m = r->raw;
    if (r->raw_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        r->comp = CP_COMP_GZIP;
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
            set_err(err, CP_ENOMEM, path, "cannot start gzip decoder");
            cp_reader_close(r);
            return false;
        }
        r->z_init = true;
    } else if (r->raw_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        r->comp = CP_COMP_ZSTD;
        r->zd = ZSTD_createDCtx();
        if (!r->zd) {
            set_err(err, CP_ENOMEM, path, "cannot start zstd decoder");
            cp_reader_close(r);
            return false;
        }
    }
    return true;
}

cp_compression cp_reader_compression(const cp_reader *r) { return r->comp; }

uint64_t cp_reader_plain_size(const cp_reader *r) {
    struct stat st;
    if (r->comp != CP_COMP_NONE) return 0;
    if (r->mem) return r->mem_len;
    if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    return (uint64_t)st.st_size;
}

static ssize_t read_plain(cp_reader *r, unsigned char *buf, size_t cap, cp_error *err) {
    if (r->raw_pos < r->raw_len) { /* bytes peeked at open */
        size_t n = r->raw_len - r->raw_pos;
        if (n > cap) n = cap;
        memcpy(buf, r->raw + r->raw_pos, n);
        r->raw_pos += n;
        return (ssize_t)n;
    }
    if (r->raw_eof) return 0;
    for (;;) {
        ssize_t n = fd_read(r, buf, cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            set_err(err, CP_EIO, r->path, strerror(errno));
            return -1;
        }
        if (n == 0) r->raw_eof = true;
        return n;
    }
}

static ssize_t read_gzip(cp_reader *r, unsigned char *buf, size_t cap, cp_error *err) {
    size_t out = 0;
    while (out < cap) {
        if (raw_fill(r, err) != 0) return -1;
        if (r->raw_pos == r->raw_len) { /* end of input */
            if (!r->z_ended) {
                set_err(err, CP_EFORMAT, r->path, "cannot decompress: gzip data ends early");
                return -1;
            }
            break;
        }
        if (r->z_ended) { /* another member follows */
            if (inflateReset(&r->z) != Z_OK) {
                set_err(err, CP_EFORMAT, r->path, "cannot decompress gzip member");
                return -1;
            }
            r->z_ended = false;
        }
        r->z.next_in = r->raw + r->raw_pos;
        r->z.avail_in = (uInt)(r->raw_len - r->raw_pos);
        r->z.next_out = buf + out;
        size_t want = cap - out;
        if (want > UINT32_MAX) want = UINT32_MAX;
        r->z.avail_out = (uInt)want;
        int rc = inflate(&r->z, Z_NO_FLUSH);
        size_t used_in = (size_t)(r->z.next_in - (r->raw + r->raw_pos));
        r->raw_pos += used_in;
        out += want - r->z.avail_out;
        if (rc == Z_STREAM_END) {
            r->z_ended = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            char what[200];
            snprintf(what, sizeof what, "cannot decompress gzip: %s", r->z.msg ? r->z.msg : "corrupt data");
            set_err(err, CP_EFORMAT, r->path, what);
            return -1;
        } else if (rc == Z_BUF_ERROR && used_in == 0 && r->z.avail_out == want) {
            /* no progress: needs more input */
            if (r->raw_eof) {
                set_err(err, CP_EFORMAT, r->path, "cannot decompress: gzip data ends early");
                return -1;
            }
        }
        if (out > 0 && r->raw_pos == r->raw_len) break; /* hand back what we have */
    }
    return (ssize_t)out;
}

static ssize_t read_zstd(cp_reader *r, unsigned char *buf, size_t cap, cp_error *err) {
    ZSTD_outBuffer ob = {buf, cap, 0};
    while (ob.pos < ob.size) {
        if (raw_fill(r, err) != 0) return -1;
        if (r->raw_pos == r->raw_len) {
            if (r->zstd_last != 0) {
                set_err(err, CP_EFORMAT, r->path, "cannot decompress: zstd data ends early");
                return -1;
            }
            break;
        }
        ZSTD_inBuffer ib = {r->raw, r->raw_len, r->raw_pos};
        size_t rc = ZSTD_decompressStream(r->zd, &ob, &ib);
        r->raw_pos = ib.pos;
        if (ZSTD_isError(rc)) {
            char what[200];
            snprintf(what, sizeof what, "cannot decompress zstd: %s", ZSTD_getErrorName(rc));
            set_err(err, CP_EFORMAT, r->path, what);
            return -1;
        }
        r->zstd_last = rc;
        if (ob.pos > 0 && r->raw_pos == r->raw_len) break;
    }
    return (ssize_t)ob.pos;
}

static ssize_t read_direct(cp_reader *r, void *buf, size_t cap, cp_error *err) {
    switch (r->comp) {
    case CP_COMP_GZIP: return read_gzip(r, buf, cap, err);
    case CP_COMP_ZSTD: return read_zstd(r, buf, cap, err);
    default: return read_plain(r, buf, cap, err);
    }
}

/* ---- decompressing ahead on a thread of its own --------------------------- */

#define PF_CHUNKS 4
#define PF_CHUNK_BYTES (4u << 20)

/* A ring of PF_CHUNKS chunks: the filler thread decompresses into the free
 * ones, cp_reader_read() copies out of the filled ones in order, or
 * cp_reader_take() hands a filled one over whole (its slot then waits for
 * cp_reader_give()).  A chunk is `room` bytes of head room, then up to
 * `bytes` of data.  A chunk belongs to the filler while it is free and to
 * the reader while it is filled, so only the counters need the lock. */
typedef struct prefetch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    unsigned char *chunk[PF_CHUNKS]; /* allocations; NULL: taken, not given back yet */
    size_t len[PF_CHUNKS];
    size_t room, bytes;   /* head room and data bytes of every chunk */
    unsigned taken;       /* the slot whose chunk was taken last (cp_reader_give) */
    bool has_taken;
    unsigned head, count; /* filled chunks: head .. head + count - 1 */
    size_t off;           /* bytes of chunk[head] already read */
    bool done;            /* the filler reached the end, or failed */
    bool stop;            /* cp_reader_close(): the filler must quit */
    ssize_t end_rc;       /* once done: 0 at the end, -1 on error (err) */
    cp_error err;
} prefetch;

static void *prefetch_run(void *arg) {
    cp_reader *r = arg;
    prefetch *pf = r->pf;
    for (;;) {
        pthread_mutex_lock(&pf->mu);
        unsigned slot = (pf->head + pf->count) % PF_CHUNKS;
        while ((pf->count == PF_CHUNKS || !pf->chunk[slot]) && !pf->stop) {
            pthread_cond_wait(&pf->freed, &pf->mu);
            slot = (pf->head + pf->count) % PF_CHUNKS;
        }
        bool stop = pf->stop;
        unsigned char *dst = pf->chunk[slot] + pf->room;
        pthread_mutex_unlock(&pf->mu);
        if (stop) return NULL;
        /* a whole chunk (a decompressor hands back less at the end of its
         * input buffer), so that a chunk taken whole is a full block */
        cp_error e = {0};
        size_t got = 0;
        ssize_t n = 1;
        while (got < pf->bytes && (n = read_direct(r, dst + got, pf->bytes - got, &e)) > 0) got += (size_t)n;
        pthread_mutex_lock(&pf->mu);
        if (got > 0) {
            pf->len[slot] = got;
            pf->count++;
        }
        if (n <= 0) {
            pf->done = true;
            pf->end_rc = n < 0 ? -1 : 0;
            if (n < 0) pf->err = e;
        }
        pthread_cond_signal(&pf->filled);
        pthread_mutex_unlock(&pf->mu);
        if (n <= 0) return NULL;
    }
}

bool cp_reader_prefetch(cp_reader *r) { return cp_reader_prefetch_chunks(r, PF_CHUNK_BYTES, 0); }

bool cp_reader_prefetch_chunks(cp_reader *r, size_t chunk_bytes, size_t head_room) {
    if (r->pf || r->mem || r->comp == CP_COMP_NONE || chunk_bytes <= head_room) return false;
    prefetch *pf = calloc(1, sizeof *pf);
    if (!pf) return false;
    pf->room = head_room;
    pf->bytes = chunk_bytes - head_room;
    for (int k = 0; k < PF_CHUNKS; k++) {
        pf->chunk[k] = malloc(chunk_bytes);
        if (!pf->chunk[k]) {
            for (int j = 0; j < k; j++) free(pf->chunk[j]);
            free(pf);
            return false;
        }
    }
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->filled, NULL);
    pthread_cond_init(&pf->freed, NULL);
    r->pf = pf;
    if (pthread_create(&pf->thread, NULL, prefetch_run, r) != 0) {
        r->pf = NULL;
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->filled);
        pthread_cond_destroy(&pf->freed);
        for (int k = 0; k < PF_CHUNKS; k++) free(pf->chunk[k]);
        free(pf);
        return false;
    }
    return true;
}

static ssize_t read_prefetched(prefetch *pf, unsigned char *buf, size_t cap, cp_error *err) {
    size_t out = 0;
    pthread_mutex_lock(&pf->mu);
    while (pf->count == 0 && !pf->done) pthread_cond_wait(&pf->filled, &pf->mu);
    if (pf->count == 0) { /* done, nothing left */
        ssize_t rc = pf->end_rc;
        if (rc < 0 && err) *err = pf->err;
        pthread_mutex_unlock(&pf->mu);
        return rc;
    }
    /* copy out of every filled chunk there is, up to cap */
    while (out < cap && pf->count > 0) {
        unsigned h = pf->head;
        size_t n = pf->len[h] - pf->off;
        if (n > cap - out) n = cap - out;
        pthread_mutex_unlock(&pf->mu);
        memcpy(buf + out, pf->chunk[h] + pf->room + pf->off, n);
        pthread_mutex_lock(&pf->mu);
        out += n;
        pf->off += n;
        if (pf->off == pf->len[h]) {
            pf->off = 0;
            pf->head = (h + 1) % PF_CHUNKS;
            pf->count--;
            pthread_cond_signal(&pf->freed);
        }
    }
    pthread_mutex_unlock(&pf->mu);
    return (ssize_t)out;
}

int cp_reader_take(cp_reader *r, void **chunk, char **data, size_t *len, cp_error *err) {
    prefetch *pf = r->pf;
    if (!pf) return 2;
    pthread_mutex_lock(&pf->mu);
    if (pf->has_taken || pf->off > 0) { /* one at a time; a chunk partly read is copied */
        pthread_mutex_unlock(&pf->mu);
        return 2;
    }
    while (pf->count == 0 && !pf->done) pthread_cond_wait(&pf->filled, &pf->mu);
    if (pf->count == 0) {
        int rc = pf->end_rc < 0 ? -1 : 0;
        if (rc < 0 && err) *err = pf->err;
        pthread_mutex_unlock(&pf->mu);
        return rc;
    }
    unsigned h = pf->head;
    *chunk = pf->chunk[h];
    *data = (char *)pf->chunk[h] + pf->room;
    *len = pf->len[h];
    pf->chunk[h] = NULL; /* the filler waits for cp_reader_give() */
    pf->taken = h;
    pf->has_taken = true;
    pf->head = (h + 1) % PF_CHUNKS;
    pf->count--;
    pthread_mutex_unlock(&pf->mu);
    return 1;
}

void cp_reader_give(cp_reader *r, void *chunk) {
    prefetch *pf = r->pf;
    if (!pf || !pf->has_taken) {
        free(chunk);
        return;
    }
    pthread_mutex_lock(&pf->mu);
    pf->chunk[pf->taken] = chunk;
    pf->has_taken = false;
    pthread_cond_signal(&pf->freed);
    pthread_mutex_unlock(&pf->mu);
}

size_t cp_reader_chunk_size(const cp_reader *r) {
    return r->pf ? r->pf->room + r->pf->bytes : 0;
}

ssize_t cp_reader_read(cp_reader *r, void *buf, size_t cap, cp_error *err) {
    if (r->pf) return read_prefetched(r->pf, buf, cap, err);
    return read_direct(r, buf, cap, err);
}

const char *cp_reader_map(cp_reader *r, size_t *len) {
    if (r->map) { *len = r->map_len; return r->map; }
    if (r->comp != CP_COMP_NONE || r->pf) return NULL;
    if (r->mem) {
        if (!r->mem_len) return NULL;
        *len = r->mem_len;
        return (const char *)r->mem;
    }
    /* not standard input: it may start past the file's beginning */
    struct stat st;
    if (!r->own_fd || r->drop_behind || fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > SIZE_MAX)
        return NULL;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
    if (m == MAP_FAILED) return NULL;
    (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL); /* one pass front to back */
    r->map = m;
    r->map_len = (size_t)st.st_size;
    *len = r->map_len;
    return m;
}

void cp_reader_close(cp_reader *r) {
    if (!r) return;
    if (r->map) munmap(r->map, r->map_len);
    if (r->pf) {
        prefetch *pf = r->pf;
        pthread_mutex_lock(&pf->mu);
        pf->stop = true;
        pthread_cond_signal(&pf->freed);
        pthread_mutex_unlock(&pf->mu);
        pthread_join(pf->thread, NULL);
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->filled);
        pthread_cond_destroy(&pf->freed);
        for (int k = 0; k < PF_CHUNKS; k++) free(pf->chunk[k]);
        free(pf);
        r->pf = NULL;
    }
    if (r->z_init) inflateEnd(&r->z);
    if (r->zd) ZSTD_freeDCtx(r->zd);
    if (r->own_fd) close(r->fd);
    free(r->raw);
    free(r);
}

/* log.c -- the collector's durable log (issue 9): JSON Lines segments in DIR
 * with group commit, rotation, compression and crash recovery.
 *
 * Files: DIR/events-NNNNNNNN.jsonl is the segment being written (and any a
 * crash left behind); a closed segment is compressed to
 * events-NNNNNNNN.jsonl.zst (one zstd frame) by writing .jsonl.zst.tmp,
 * fsync, rename, fsync DIR, and only then unlinking the .jsonl.  Both are
 * read by `clickpath report` as they are (R1.1 tells zstd by its magic).
 *
 * Group commit: appends from any thread go into one pending buffer; the
 * writer thread swaps it out, write()s it, fdatasync()s once, and only then
 * calls done(waiter) for every append of that batch.  So an acknowledged
 * event is on disk, and one fsync covers all requests that arrived while the
 * previous one ran.
 *
 * Crash recovery (cp_log_open): stale .tmp files are removed; a .jsonl whose
 * .jsonl.zst exists is removed (the rename was the commit point); every other
 * .jsonl is cut after its last '\n' -- a record torn by kill -9 or power loss
 * was never acknowledged -- and queued for compression.  A new run always
 * starts a new segment.  A torn record that survives anyway (say, zeros from
 * a power loss inside a file) reads back as a reject (bad_json or
 * bad_encoding), never as a wrong event.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "server/server.h"
#include "util/error.h"

const uint32_t cp_log_fsync_bounds_us[CP_LOG_FSYNC_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000};

typedef struct batch {
    char *data;
    size_t len, cap;
    void **waiters;
    size_t n_waiters, cap_waiters;
    uint64_t events;
} batch;

struct cp_log {
    cp_log_options opt;
    char *dir;
    int dir_fd, lock_fd;

    pthread_mutex_t mu;
    pthread_cond_t work;   /* writer: pending has data, or closing */
    pthread_cond_t space;  /* appenders: pending has room again */
    batch pending;         /* guarded by mu */
    bool closing;          /* guarded by mu: no more appends */
    bool writer_up, compressor_up;
    pthread_t writer, compressor;

    /* writer-thread state */
    int seg_fd;
    uint32_t seg_no;
    uint64_t seg_bytes;      /* synced bytes of the active segment */
    int64_t seg_opened_s;

    /* compressor queue, guarded by mu */
    uint32_t *zq;
    size_t zq_n, zq_cap;
    bool zq_closing;
    pthread_cond_t zq_cond;

    /* statistics, guarded by mu */
    cp_log_stats st;
};

static void say(const cp_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const cp_log *log, const char *fmt, ...) {
    if (!log->opt.msg) return;
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    log->opt.msg(log->opt.user, m);
}

static cp_log *fail_open(cp_error *err, cp_result code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cp_log *fail_open(cp_error *err, cp_result code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cp_error_vsetf(err, code, fmt, ap);
    va_end(ap);
    return NULL;
}

static int64_t mono_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void seg_name(char *out, size_t cap, uint32_t no, const char *suffix) {
    snprintf(out, cap, "events-%08u.jsonl%s", no, suffix);
}

/* Parses events-NNNNNNNN.jsonl[SUFFIX]; returns the kind: 1 .jsonl,
 * 2 .jsonl.zst, 3 .jsonl.zst.tmp, 0 anything else. */
static int seg_parse(const char *name, uint32_t *no) {
    if (strncmp(name, "events-", 7) != 0) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = name[7 + i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (uint32_t)(c - '0');
    }
    const char *rest = name + 15;
    *no = v;
    if (strcmp(rest, ".jsonl") == 0) return 1;
    if (strcmp(rest, ".jsonl.zst") == 0) return 2;
    if (strcmp(rest, ".jsonl.zst.tmp") == 0) return 3;
    return 0;
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* ---- compression ----------------------------------------------------------- */

/* Compresses segment `no` (.jsonl -> .jsonl.zst).  On any failure the plain
 * segment stays, which is as readable. */
static bool compress_segment(cp_log *log, uint32_t no) {
    char src[64], tmp[64], dst[64];
    seg_name(src, sizeof src, no, "");
    seg_name(tmp, sizeof tmp, no, ".zst.tmp");
    seg_name(dst, sizeof dst, no, ".zst");
    int in = openat(log->dir_fd, src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return false;
    int out = openat(log->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) { close(in); return false; }
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    size_t in_cap = ZSTD_CStreamInSize(), out_cap = ZSTD_CStreamOutSize();
    char *ib = malloc(in_cap), *ob = malloc(out_cap);
    bool ok = cx && ib && ob;
    if (ok) ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, 3);
    while (ok) {
        ssize_t k = read(in, ib, in_cap);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { ok = false; break; }
        ZSTD_EndDirective mode = k == 0 ? ZSTD_e_end : ZSTD_e_continue;
        ZSTD_inBuffer zi = {ib, (size_t)k, 0};
        bool finished = false;
        do {
            ZSTD_outBuffer zo = {ob, out_cap, 0};
            size_t rem = ZSTD_compressStream2(cx, &zo, &zi, mode);
            if (ZSTD_isError(rem)) { ok = false; break; }
            if (!write_all(out, ob, zo.pos)) { ok = false; break; }
            finished = mode == ZSTD_e_end ? rem == 0 : zi.pos == zi.size;
        } while (!finished);
        if (k == 0) break;
    }
    ZSTD_freeCCtx(cx);
    free(ib);
    free(ob);
    close(in);
    if (ok) ok = fsync(out) == 0;
    close(out);
    if (ok) ok = renameat(log->dir_fd, tmp, log->dir_fd, dst) == 0;
    if (ok) ok = fsync(log->dir_fd) == 0; /* the .zst is durable before the .jsonl goes */
    if (ok) {
        unlinkat(log->dir_fd, src, 0);
    } else {
        unlinkat(log->dir_fd, tmp, 0);
        say(log, "collector: could not compress %s; it stays plain", src);
    }
    return ok;
}

static void *compressor_main(void *arg) {
    cp_log *log = arg;
    pthread_mutex_lock(&log->mu);
    for (;;) {
        while (log->zq_n == 0 && !log->zq_closing) pthread_cond_wait(&log->zq_cond, &log->mu);
        if (log->zq_n == 0) break; /* closing and drained */
        uint32_t no = log->zq[0];
        memmove(log->zq, log->zq + 1, (log->zq_n - 1) * sizeof *log->zq);
        log->zq_n--;
        pthread_mutex_unlock(&log->mu);
        bool ok = compress_segment(log, no);
        pthread_mutex_lock(&log->mu);
        if (ok) log->st.segments_compressed++;
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

/* Queues a closed segment for compression (caller holds mu). */
static void zq_push_locked(cp_log *log, uint32_t no) {
    if (log->opt.no_compress) return;
    if (log->zq_n == log->zq_cap) {
        size_t cap = log->zq_cap ? log->zq_cap * 2 : 16;
        uint32_t *q = realloc(log->zq, cap * sizeof *q);
        if (!q) return; /* stays plain: still readable */
        log->zq = q;
        log->zq_cap = cap;
    }
    log->zq[log->zq_n++] = no;
    pthread_cond_signal(&log->zq_cond);
}

/* ---- segments ------------------------------------------------------------------ */

static bool open_segment(cp_log *log) {
    char name[64];
    seg_name(name, sizeof name, log->seg_no, "");
    int fd = openat(log->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        say(log, "collector: cannot create %s/%s: %s", log->dir, name, strerror(errno));
        return false;
    }
    /* the new name must be durable before any event in it is acknowledged */
    if (fsync(log->dir_fd) != 0) { close(fd); return false; }
    log->seg_fd = fd;
    log->seg_bytes = 0;
    log->seg_opened_s = mono_us() / 1000000;
    pthread_mutex_lock(&log->mu);
    log->st.segments_opened++;
    pthread_mutex_unlock(&log->mu);
    return true;
}

/* Closes the active segment: compressed when it holds data, removed when
 * empty. */
static void close_segment(cp_log *log) {
    if (log->seg_fd < 0) return;
    close(log->seg_fd);
    log->seg_fd = -1;
    char name[64];
    seg_name(name, sizeof name, log->seg_no, "");
    pthread_mutex_lock(&log->mu);
    if (log->seg_bytes == 0) unlinkat(log->dir_fd, name, 0);
    else zq_push_locked(log, log->seg_no);
    pthread_mutex_unlock(&log->mu);
    log->seg_no++;
}

/* ---- the writer ------------------------------------------------------------------ */

static void *writer_main(void *arg) {
    cp_log *log = arg;
    batch w = {0};
    for (;;) {
        pthread_mutex_lock(&log->mu);
        while (log->pending.len == 0 && log->pending.n_waiters == 0 && !log->closing) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1; /* wake up now and then for time-based rotation */
            pthread_cond_timedwait(&log->work, &log->mu, &until);
            if (log->pending.len == 0 && log->seg_fd >= 0 && log->seg_bytes > 0 &&
                mono_us() / 1000000 - log->seg_opened_s >= (int64_t)log->opt.segment_seconds)
                break;
        }
        bool stop = log->closing && log->pending.len == 0 && log->pending.n_waiters == 0;
        /* swap: appenders fill the other buffer while this one is written */
        batch t = log->pending;
        log->pending = w;
        w = t;
        log->pending.len = 0;
        log->pending.n_waiters = 0;
        log->pending.events = 0;
        pthread_cond_broadcast(&log->space);
        pthread_mutex_unlock(&log->mu);

        bool ok = true;
        int64_t sync_us = -1;
        if (w.len > 0) {
            if (log->seg_fd < 0) ok = open_segment(log);
            if (ok) ok = write_all(log->seg_fd, w.data, w.len);
            if (ok) {
                int64_t t0 = mono_us();
                ok = fdatasync(log->seg_fd) == 0;
                sync_us = mono_us() - t0;
            }
            if (ok) {
                log->seg_bytes += w.len;
            } else {
                /* nothing of this batch is acknowledged; cut it away so a
                 * retry does not log it twice, and start a fresh segment */
                say(log, "collector: write to segment %u failed: %s", log->seg_no, strerror(errno));
                if (log->seg_fd >= 0) {
                    if (ftruncate(log->seg_fd, (off_t)log->seg_bytes) != 0) { /* stays a torn tail: recovery cuts it */ }
                    close_segment(log);
                }
            }
        }
        pthread_mutex_lock(&log->mu);
        if (ok && w.len > 0) {
            log->st.bytes_written += w.len;
            log->st.events_written += w.events;
            log->st.commits++;
            log->st.fsync_sum_us += (uint64_t)sync_us;
            for (int b = 0; b < CP_LOG_FSYNC_BUCKETS; b++)
                if (b == CP_LOG_FSYNC_BUCKETS - 1 || (uint64_t)sync_us <= cp_log_fsync_bounds_us[b])
                    log->st.fsync_le[b]++;
        } else if (!ok) {
            log->st.write_errors++;
        }
        pthread_mutex_unlock(&log->mu);
        for (size_t i = 0; i < w.n_waiters; i++) log->opt.done(log->opt.user, w.waiters[i], ok);

        /* rotation by size and by age (R: segments stay small enough to
         * compress and ship) */
        if (log->seg_fd >= 0 && (log->seg_bytes >= log->opt.segment_bytes ||
                                 (log->seg_bytes > 0 && mono_us() / 1000000 - log->seg_opened_s >=
                                                            (int64_t)log->opt.segment_seconds)))
            close_segment(log);
        if (stop) break;
    }
    close_segment(log);
    free(w.data);
    free(w.waiters);
    return NULL;
}

bool cp_log_append(cp_log *log, const char *data, size_t len, uint64_t n_events, void *waiter) {
    pthread_mutex_lock(&log->mu);
    /* back-pressure: a slow disk slows the clients, memory stays bounded */
    while (!log->closing && log->pending.len > 0 && log->pending.len + len > log->opt.max_pending_bytes)
        pthread_cond_wait(&log->space, &log->mu);
    if (log->closing) { pthread_mutex_unlock(&log->mu); return false; }
    batch *b = &log->pending;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + len) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) { pthread_mutex_unlock(&log->mu); return false; }
        b->data = p;
        b->cap = cap;
    }
    if (b->n_waiters == b->cap_waiters) {
        size_t cap = b->cap_waiters ? b->cap_waiters * 2 : 256;
        void **p = realloc(b->waiters, cap * sizeof *p);
        if (!p) { pthread_mutex_unlock(&log->mu); return false; }
        b->waiters = p;
        b->cap_waiters = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->events += n_events;
    b->waiters[b->n_waiters++] = waiter;
    pthread_cond_signal(&log->work);
    pthread_mutex_unlock(&log->mu);
    return true;
}

/* ---- recovery --------------------------------------------------------------------- */

/* Cuts a segment after its last '\n'.  Returns the bytes it keeps, or -1. */
static int64_t cut_torn_tail(cp_log *log, const char *name) {
    int fd = openat(log->dir_fd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return -1; }
    off_t end = st.st_size;
    char b[65536];
    off_t keep = 0;
    while (end > 0) {
        off_t start = end > (off_t)sizeof b ? end - (off_t)sizeof b : 0;
        ssize_t k = pread(fd, b, (size_t)(end - start), start);
        if (k != end - start) { close(fd); return -1; }
        const char *nl = memrchr(b, '\n', (size_t)k);
        if (nl) { keep = start + (nl - b) + 1; break; }
        end = start;
    }
    if (keep != st.st_size) {
        say(log, "collector: recovery cut %lld torn bytes from %s", (long long)(st.st_size - keep), name);
        if (ftruncate(fd, keep) != 0 || fdatasync(fd) != 0) { close(fd); return -1; }
    }
    close(fd);
    return keep;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool recover(cp_log *log, cp_error *err) {
    DIR *d = fdopendir(dup(log->dir_fd));
    if (!d) { fail_open(err, CP_EIO, "cannot read %s: %s", log->dir, strerror(errno)); return false; }
    uint32_t *plain = NULL, *zst = NULL;
    size_t n_plain = 0, n_zst = 0, cap_plain = 0, cap_zst = 0;
    uint32_t max_no = 0;
    struct dirent *e;
    bool ok = true;
    while ((e = readdir(d))) {
        uint32_t no;
        int kind = seg_parse(e->d_name, &no);
        if (!kind) continue;
        if (no > max_no) max_no = no;
        if (kind == 3) { unlinkat(log->dir_fd, e->d_name, 0); continue; } /* never renamed: incomplete */
        uint32_t **arr = kind == 1 ? &plain : &zst;
        size_t *n = kind == 1 ? &n_plain : &n_zst, *cap = kind == 1 ? &cap_plain : &cap_zst;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            uint32_t *p = realloc(*arr, nc * sizeof *p);
            if (!p) { ok = false; break; }
            *arr = p;
            *cap = nc;
        }
        (*arr)[(*n)++] = no;
    }
    closedir(d);
    if (!ok) { free(plain); free(zst); fail_open(err, CP_ENOMEM, "out of memory"); return false; }
    if (n_zst) qsort(zst, n_zst, sizeof *zst, cmp_u32); /* NULL with none */
    if (n_plain) qsort(plain, n_plain, sizeof *plain, cmp_u32);
    pthread_mutex_lock(&log->mu);
    for (size_t i = 0; i < n_plain && ok; i++) {
        char name[64];
        seg_name(name, sizeof name, plain[i], "");
        if (n_zst && bsearch(&plain[i], zst, n_zst, sizeof *zst, cmp_u32)) {
            /* crashed between rename and unlink: the .zst is complete */
            unlinkat(log->dir_fd, name, 0);
            continue;
        }
        int64_t kept = cut_torn_tail(log, name);
        if (kept < 0) {
            fail_open(err, CP_EIO, "cannot recover %s/%s: %s", log->dir, name, strerror(errno));
            ok = false;
        } else if (kept == 0) {
            unlinkat(log->dir_fd, name, 0);
        } else {
            zq_push_locked(log, plain[i]);
        }
    }
    pthread_mutex_unlock(&log->mu);
    if (ok && fsync(log->dir_fd) != 0) ok = false;
    free(plain);
    free(zst);
    log->seg_no = max_no + 1;
    return ok;
}

/* ---- open / close ---------------------------------------------------------------- */

cp_log *cp_log_open(const cp_log_options *opt, cp_error *err) {
    if (!opt || !opt->dir || !opt->done) return fail_open(err, CP_EUSAGE, "collector: no data directory");
    if (mkdir(opt->dir, 0755) != 0 && errno != EEXIST)
        return fail_open(err, CP_EIO, "cannot create %s: %s", opt->dir, strerror(errno));
    cp_log *log = calloc(1, sizeof *log);
    if (!log) return fail_open(err, CP_ENOMEM, "out of memory");
    log->opt = *opt;
    if (!log->opt.segment_bytes) log->opt.segment_bytes = 64u << 20;
    if (!log->opt.segment_seconds) log->opt.segment_seconds = 3600;
    if (!log->opt.max_pending_bytes) log->opt.max_pending_bytes = 256u << 20;
    log->dir = strdup(opt->dir);
    log->seg_fd = log->lock_fd = -1;
    log->dir_fd = open(opt->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->work, NULL);
    pthread_cond_init(&log->space, NULL);
    pthread_cond_init(&log->zq_cond, NULL);
    if (!log->dir || log->dir_fd < 0) {
        fail_open(err, CP_EIO, "cannot open %s: %s", opt->dir, strerror(errno));
        goto fail;
    }
    log->lock_fd = openat(log->dir_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (log->lock_fd < 0 || flock(log->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fail_open(err, CP_EUSAGE, "%s is in use by another collector (or cannot be locked)", opt->dir);
        goto fail;
    }
    if (!recover(log, err)) goto fail;
    if (pthread_create(&log->compressor, NULL, compressor_main, log) != 0) {
        fail_open(err, CP_ENOMEM, "cannot start a thread");
        goto fail;
    }
    log->compressor_up = true;
    if (pthread_create(&log->writer, NULL, writer_main, log) != 0) {
        fail_open(err, CP_ENOMEM, "cannot start a thread");
        goto fail;
    }
    log->writer_up = true;
    return log;
fail:
    cp_log_close(log);
    return NULL;
}

void cp_log_drain(cp_log *log) {
    if (!log) return;
    pthread_mutex_lock(&log->mu);
    log->closing = true;
    pthread_cond_broadcast(&log->work);
    pthread_cond_broadcast(&log->space);
    pthread_mutex_unlock(&log->mu);
    if (log->writer_up) pthread_join(log->writer, NULL);
    log->writer_up = false;
    pthread_mutex_lock(&log->mu);
    log->zq_closing = true;
    pthread_cond_broadcast(&log->zq_cond);
    pthread_mutex_unlock(&log->mu);
    if (log->compressor_up) pthread_join(log->compressor, NULL);
    log->compressor_up = false;
}

void cp_log_close(cp_log *log) {
    if (!log) return;
    cp_log_drain(log);
    if (log->seg_fd >= 0) close(log->seg_fd);
    if (log->dir_fd >= 0) close(log->dir_fd);
    if (log->lock_fd >= 0) close(log->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&log->mu);
    pthread_cond_destroy(&log->work);
    pthread_cond_destroy(&log->space);
    pthread_cond_destroy(&log->zq_cond);
    free(log->pending.data);
    free(log->pending.waiters);
    free(log->zq);
    free(log->dir);
    free(log);
}

void cp_log_get_stats(cp_log *log, cp_log_stats *out) {
    pthread_mutex_lock(&log->mu);
    *out = log->st;
    pthread_mutex_unlock(&log->mu);
}

/* ---- listing for readers ------------------------------------------------------ */

typedef struct seg_ent { uint32_t no; int kind; } seg_ent;

static int cmp_seg(const void *a, const void *b) {
    const seg_ent *x = a, *y = b;
    if (x->no != y->no) return x->no < y->no ? -1 : 1;
    return y->kind - x->kind; /* .zst (2) before .jsonl (1) */
}

cp_result cp_segments_list(const char *dir, char ***paths, size_t *n, cp_error *err) {
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = CP_EIO;
            snprintf(err->msg, sizeof err->msg, "cannot read directory %s: %s", dir, strerror(errno));
        }
        return CP_EIO;
    }
    seg_ent *v = NULL;
    size_t nv = 0, cap = 0;
    struct dirent *e;
    cp_result r = CP_OK;
    while ((e = readdir(d))) {
        uint32_t no;
        int kind = seg_parse(e->d_name, &no);
        if (kind != 1 && kind != 2) continue;
        if (nv == cap) {
            cap = cap ? cap * 2 : 64;
            seg_ent *p = realloc(v, cap * sizeof *p);
            if (!p) { r = CP_ENOMEM; break; }
            v = p;
        }
        v[nv++] = (seg_ent){no, kind};
    }
    closedir(d);
    if (r == CP_OK && nv) {
        qsort(v, nv, sizeof *v, cmp_seg);
        char **out = calloc(nv, sizeof *out);
        size_t k = 0;
        if (!out) r = CP_ENOMEM;
        for (size_t i = 0; i < nv && r == CP_OK; i++) {
            if (i > 0 && v[i].no == v[i - 1].no) continue; /* the .zst is complete */
            char name[64];
            seg_name(name, sizeof name, v[i].no, v[i].kind == 2 ? ".zst" : "");
            size_t len = strlen(dir) + 1 + strlen(name) + 1;
            out[k] = malloc(len);
            if (!out[k]) { r = CP_ENOMEM; break; }
            snprintf(out[k], len, "%s/%s", dir, name);
            k++;
        }
        if (r == CP_OK) { *paths = out; *n = k; }
        else cp_segments_free(out, nv);
    }
    free(v);
    if (r == CP_ENOMEM && err) {
        memset(err, 0, sizeof *err);
        err->code = CP_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
    }
    return r;
}

void cp_segments_free(char **paths, size_t n) {
    if (!paths) return;
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

/* server.h -- `clickpath serve`: the collector of live events and tracking
 * redirects (issue 9; SPEC R1.3, R1.4b, R5.1, R7.2 UNKNOWN_TAG).
 *
 * Three parts, each testable on its own:
 *
 *   batch.c  request bodies (POST /events): validated by exactly the file
 *            ingestion code (cp_run_load_buffer), answered per line, and cut
 *            down to the accepted events as JSON Lines for the log.
 *   click.c  tracking redirects (GET /r/TAG): tag and cookie checks, bounded
 *            and escaped header values, the click event line, the landing URL.
 *   log.c    the durable log: JSON Lines segments in DIR, group commit
 *            (one fdatasync per batch of requests), rotation by size and
 *            age, zstd compression of closed segments, crash recovery.
 *   http.c   the libmicrohttpd daemon that ties them together.
 *
 * Only http.c needs libmicrohttpd; the others are plain C and are what the
 * unit tests and the fuzz target link.  Nothing here prints: messages go to
 * the caller's log callback.
 */
#ifndef CLICKPATH_SERVER_H
#define CLICKPATH_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/clickpath.h"
#include "clickpath/events.h"

/* ---- batch.c: POST /events bodies ------------------------------------------ */

typedef enum cp_body_format {
    CP_BODY_JSONL = 0, /* application/x-ndjson, application/json, text/plain, none */
    CP_BODY_CSV = 1    /* text/csv: a header row, then records (R1.1) */
} cp_body_format;

/* The outcome of one request body. */
typedef struct cp_batch {
    int http_status;   /* 200 (even with rejects), 400 (not of the declared format), 500 */
    char *log;         /* accepted events as JSON Lines, each ending in '\n'; malloc'd */
    size_t log_len;
    char *answer;      /* the JSON answer; malloc'd, NUL-terminated */
    size_t answer_len;
    uint64_t accepted, rejected, blank_lines;
    uint64_t by_reason[CP_N_REJECT_REASONS];
} cp_batch;

/* Validates `body` with cp_run_load_buffer() (R1.3, R1.4b: the same checks as
 * a file, default ingest options, timestamps without an offset in UTC) and
 * fills *out: answer {"accepted":N,"rejected":[{"line":L,"reason":"code",
 * "field":"f"}...]} with lines numbered as in a file (a CSV header is line 1),
 * and `log` holding exactly the accepted records, as JSON Lines (a CSV record
 * becomes a flat object of its non-empty columns, re-validated before it is
 * accepted).  A body that is not of the declared format is status 400 with
 * {"error":"..."} and nothing to log.  Returns CP_ENOMEM when out of memory,
 * CP_OK otherwise; call cp_batch_free(out) in both cases.  Thread-safe: every
 * call has its own run. */
cp_result cp_batch_process(const char *body, size_t len, cp_body_format fmt, cp_batch *out);
void cp_batch_free(cp_batch *b); /* accepts a zeroed struct */

/* ---- click.c: GET /r/TAG --------------------------------------------------- */

#define CP_TAG_MAX 64        /* the tag tool's limit (tags.h) */
#define CP_HEADER_VALUE_MAX 512 /* ua and referrer are cut to this many bytes */
#define CP_HEX128_LEN 32

/* True when p[0..len) is a tag as the tag tool makes them: 1..64 bytes of
 * [A-Za-z0-9._-], and neither "." nor "..". */
bool cp_tag_is_valid(const char *p, size_t len);
/* True when p is exactly 32 lower-case hex digits (a visitor cookie we set). */
bool cp_hex128_is_valid(const char *p, size_t len);
/* 128 random bits as 32 lower-case hex digits and a NUL (getrandom(2)).
 * False when the kernel gives no randomness. */
bool cp_hex128_random(char out[CP_HEX128_LEN + 1]);

/* Appends the JSON string body of src[0..len) to dst (cap bytes, always
 * NUL-terminated when cap > 0): at most max_src bytes of the source, cut at a
 * UTF-8 character boundary; invalid UTF-8 becomes U+FFFD, control characters
 * \uXXXX, quote and backslash escaped, NUL dropped.  The output is always
 * valid UTF-8 without NUL, so the line reads back without bad_encoding.
 * Returns the bytes written (without the NUL); stops early when cap is short. */
size_t cp_json_escape(char *dst, size_t cap, const char *src, size_t len, size_t max_src);

/* What a tracking redirect records (R1.2 click with a tag, R1.3). */
typedef struct cp_click {
    int64_t ts_ms;
    const char *tag; size_t tag_len;   /* validated by cp_tag_is_valid */
    const char *visitor;               /* 32 hex */
    const char *click_id;              /* 32 hex */
    const char *ip;                    /* may be NULL */
    const char *ua; size_t ua_len;     /* may be NULL */
    const char *referrer; size_t referrer_len; /* may be NULL */
} cp_click;

/* Writes the click as one JSON Lines record ending in '\n' into buf.  Returns
 * its length, or 0 when cap is too small (CP_CLICK_LINE_MAX always suffices). */
#define CP_CLICK_LINE_MAX (1024 + 6 * 2 * CP_HEADER_VALUE_MAX + 6 * CP_TAG_MAX + 256)
size_t cp_click_line(char *buf, size_t cap, const cp_click *c);

/* The landing URL of a registered tag (R5.1): BASE/dp/ASIN?tag=TAG&click_id=ID
 * as cp_tag_url() makes it, or BASE/?tag=TAG&click_id=ID when the registry
 * gives no usable ASIN (only [A-Za-z0-9] is put in a URL).  The target never
 * comes from the request.  Returns the length, or -1 when it does not fit. */
int cp_landing_url(char *buf, size_t cap, const char *base, const char *asin,
                   const char *tag, const char *click_id);

/* ---- log.c: the durable log ------------------------------------------------- */

typedef struct cp_log cp_log;

/* Called from the log's writer thread once the bytes of `waiter` are on disk
 * (ok = true) or could not be written (ok = false). */
typedef void (*cp_log_done_fn)(void *user, void *waiter, bool ok);
typedef void (*cp_log_msg_fn)(void *user, const char *msg);

typedef struct cp_log_options {
    const char *dir;            /* created when missing */
    uint64_t segment_bytes;     /* rotate after this many bytes; 0 = 64 MiB */
    uint32_t segment_seconds;   /* rotate a non-empty segment this old; 0 = 3600 */
    bool no_compress;           /* keep closed segments as plain .jsonl */
    size_t max_pending_bytes;   /* appends wait above this; 0 = 256 MiB */
    cp_log_done_fn done;        /* required */
    cp_log_msg_fn msg;          /* may be NULL */
    void *user;
} cp_log_options;

/* Opens DIR (locks DIR/.lock so one collector owns it), recovers from a crash
 * (see log.c), starts the writer and compressor threads.  NULL on failure,
 * with *err filled. */
cp_log *cp_log_open(const cp_log_options *opt, cp_error *err);
/* Queues whole lines (data[len-1] == '\n') for the next group commit; their
 * `done` comes after fdatasync.  False when the log is closing or broken:
 * nothing queued and `done` is never called.  Thread-safe. */
bool cp_log_append(cp_log *log, const char *data, size_t len, uint64_t n_events, void *waiter);
/* Drains: every queued append is written and its `done` called, the active
 * segment closed (and compressed), threads joined.  Later appends return
 * false.  The log stays allocated (its stats readable) until cp_log_close().
 * Call from one thread; NULL ok. */
void cp_log_drain(cp_log *log);
/* cp_log_drain(), then frees everything.  NULL ok. */
void cp_log_close(cp_log *log);

#define CP_LOG_FSYNC_BUCKETS 12
/* Upper bounds of the fdatasync latency histogram, in microseconds; the last
 * bucket is +Inf. */
extern const uint32_t cp_log_fsync_bounds_us[CP_LOG_FSYNC_BUCKETS - 1];
typedef struct cp_log_stats {
    uint64_t bytes_written, events_written, commits, segments_opened, segments_compressed;
    uint64_t write_errors;
    uint64_t fsync_le[CP_LOG_FSYNC_BUCKETS]; /* cumulative counts per bucket */
    uint64_t fsync_sum_us;
} cp_log_stats;
void cp_log_get_stats(cp_log *log, cp_log_stats *out);

/* The segments of a collector's DIR in log order, for `clickpath report DIR`:
 * events-NNNNNNNN.jsonl.zst, or .jsonl when not (yet) compressed (a .jsonl
 * whose .jsonl.zst exists is left out: the compressed copy is complete).
 * *paths and each path are malloc'd; free with cp_segments_free().  A DIR
 * without segments gives n = 0.  CP_EIO when DIR cannot be read. */
cp_result cp_segments_list(const char *dir, char ***paths, size_t *n, cp_error *err);
void cp_segments_free(char **paths, size_t n);

/* ---- http.c: the server ----------------------------------------------------- */

typedef struct cp_server_options {
    const char *listen;         /* "ADDR:PORT", "[V6]:PORT"; NULL = 127.0.0.1:8080; port 0 = any */
    const char *data_dir;       /* required */
    const char *registry_path;  /* may be NULL: every tag is unknown (404) */
    const char *token;          /* Bearer token for POST /events; NULL = none */
    const char *landing_base;   /* NULL = https://www.amazon.com */
    size_t max_body_bytes;      /* 0 = 16 MiB; larger bodies get 413 */
    unsigned threads;           /* 0 = online cores */
    unsigned timeout_s;         /* idle connection timeout (slow clients); 0 = 10 */
    bool cookie_secure;         /* add Secure to the visitor cookie */
    cp_log_options log;         /* dir, done, user are set by the server */
    cp_log_msg_fn msg;          /* messages for a person; may be NULL */
    void *msg_user;
} cp_server_options;

typedef struct cp_server cp_server;

/* Loads the registry, opens the log, starts listening.  NULL on failure with
 * *err filled (CP_EUSAGE for a bad option or registry, CP_EIO otherwise). */
cp_server *cp_server_start(const cp_server_options *opt, cp_error *err);
/* The port it listens on (useful with port 0). */
unsigned cp_server_port(const cp_server *s);
/* Drains and stops: new requests get 503, queued events are written and
 * answered, then the log is closed.  NULL ok. */
void cp_server_stop(cp_server *s);

/* `clickpath serve ...` (argv[0] = "serve").  Returns the exit status:
 * 0 stopped cleanly by SIGTERM/SIGINT, 2 usage error, 3 I/O error. */
int cp_cli_serve(int argc, char **argv);

#endif /* CLICKPATH_SERVER_H */

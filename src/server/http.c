/* http.c -- the collector's HTTP side on libmicrohttpd (issue 9).
 *
 * Threads: MHD's internal thread pool (one epoll loop per core) runs the
 * handlers; the log's writer thread does the disk work.  A request whose
 * events must be logged is suspended (MHD_suspend_connection), its lines
 * handed to the log, and resumed by the writer after fdatasync: the answer
 * is sent only once its events are on disk, and no handler thread ever
 * blocks on the disk, so one fsync covers every request that came in while
 * the previous one ran (group commit).
 *
 * Routes:
 *   GET  /r/TAG    tracking redirect (R5.1; R7.2 UNKNOWN_TAG): 302 to the
 *                  registry's landing URL, 404 for an unknown tag (the click
 *                  is logged either way), 400 for a malformed tag (not logged)
 *   POST /events   JSON Lines or CSV (by Content-Type), R1.3/R1.4b checks
 *   GET  /healthz  200 "ok", 503 while draining
 *   GET  /metrics  Prometheus text format
 *
 * Bounds: bodies (413), headers (MHD's per-connection memory, 431/413 from
 * MHD), idle clients (connection timeout), concurrent connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"
#include "util/error.h"
#include "tags/tags.h"

enum { ST_NEW = 0, ST_WAIT, ST_LOGGED, ST_FAILED };
enum { ROUTE_NONE = 0, ROUTE_HEALTHZ, ROUTE_METRICS, ROUTE_EVENTS, ROUTE_REDIRECT };

/* HTTP statuses counted in /metrics. */
static const unsigned status_codes[] = {200, 302, 400, 401, 404, 405, 413, 415, 500, 503};
#define N_STATUS (sizeof status_codes / sizeof status_codes[0])

struct cp_server {
    cp_server_options opt;
    struct MHD_Daemon *d;
    cp_log *log;
    cp_tag_registry reg;
    bool has_reg;
    atomic_bool draining;
    unsigned port;
    /* metrics */
    atomic_uint_least64_t accepted, rejected[CP_N_REJECT_REASONS];
    atomic_uint_least64_t redirects_known, redirects_unknown, redirects_bad_tag;
    atomic_uint_least64_t responses[N_STATUS];
};

typedef struct req {
    cp_server *srv;
    struct MHD_Connection *conn;
    int route;
    atomic_int state;
    /* POST /events */
    char *body;
    size_t len, cap;
    bool too_big;
    cp_body_format fmt;
    cp_batch batch;
    /* GET /r/TAG */
    bool known;
    bool set_cookie;
    char vid[CP_HEX128_LEN + 1];
    char *location;
} req;

static void say(const cp_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const cp_server *s, const char *fmt, ...) {
    if (!s->opt.msg) return;
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    s->opt.msg(s->opt.msg_user, m);
}

static void count_status(cp_server *s, unsigned code) {
    for (size_t i = 0; i < N_STATUS; i++)
        if (status_codes[i] == code) { atomic_fetch_add_explicit(&s->responses[i], 1, memory_order_relaxed); return; }
}

/* Queues a response; `body` is copied unless `owned` (then MHD frees it). */
static enum MHD_Result reply(cp_server *s, struct MHD_Connection *c, unsigned code, const char *ctype,
                             char *body, size_t len, bool owned) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!r) {
        if (owned) free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (code == MHD_HTTP_UNAUTHORIZED) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    count_status(s, code);
    return ret;
}

static enum MHD_Result reply_text(cp_server *s, struct MHD_Connection *c, unsigned code, const char *text) {
    return reply(s, c, code, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

static enum MHD_Result reply_json_error(cp_server *s, struct MHD_Connection *c, unsigned code, const char *msg) {
    char b[512];
    int k = snprintf(b, sizeof b, "{\"error\":\"%s\"}\n", msg); /* msg: constant, no quotes */
    return reply(s, c, code, "application/json", b, (size_t)k, false);
}

static enum MHD_Result reply_allow(cp_server *s, struct MHD_Connection *c, const char *allow) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen("method not allowed\n"),
                                                             (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    count_status(s, 405);
    return ret;
}

/* ---- the writer's callback -------------------------------------------------- */

static void on_logged(void *user, void *waiter, bool ok) {
    (void)user;
    req *r = waiter;
    atomic_store(&r->state, ok ? ST_LOGGED : ST_FAILED);
    MHD_resume_connection(r->conn);
}

/* Suspends the connection, then hands the lines to the log: the writer may
 * resume it at once, so suspension must come first.  When the log refuses
 * (draining), resumes it ourselves with ST_FAILED. */
static void log_and_suspend(cp_server *s, req *r, const char *data, size_t len, uint64_t n_events) {
    atomic_store(&r->state, ST_WAIT);
    MHD_suspend_connection(r->conn);
    if (!cp_log_append(s->log, data, len, n_events, r)) {
        atomic_store(&r->state, ST_FAILED);
        MHD_resume_connection(r->conn);
    }
}

/* ---- /metrics ------------------------------------------------------------------ */

static enum MHD_Result metrics(cp_server *s, struct MHD_Connection *c) {
    cp_log_stats st;
    cp_log_get_stats(s->log, &st);
    size_t cap = 8192, o = 0;
    char *b = malloc(cap);
    if (!b) return MHD_NO;
#define P(...) do { int k_ = snprintf(b + o, cap - o, __VA_ARGS__); if (k_ > 0 && (size_t)k_ < cap - o) o += (size_t)k_; } while (0)
#define LD(x) (unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed)
    P("# HELP clickpath_events_accepted_total Events accepted by POST /events and durably logged.\n");
    P("# TYPE clickpath_events_accepted_total counter\nclickpath_events_accepted_total %llu\n", LD(s->accepted));
    P("# HELP clickpath_events_rejected_total Lines of POST /events rejected, by R1.4b reason.\n");
    P("# TYPE clickpath_events_rejected_total counter\n");
    for (int k = 0; k < CP_N_REJECT_REASONS; k++)
        P("clickpath_events_rejected_total{reason=\"%s\"} %llu\n", cp_reject_reason_name((cp_reject_reason)k),
          LD(s->rejected[k]));
    P("# HELP clickpath_redirects_total Tracking redirects, by outcome (known tag 302, unknown tag 404, malformed tag 400).\n");
    P("# TYPE clickpath_redirects_total counter\n");
    P("clickpath_redirects_total{outcome=\"known\"} %llu\n", LD(s->redirects_known));
    P("clickpath_redirects_total{outcome=\"unknown_tag\"} %llu\n", LD(s->redirects_unknown));
    P("clickpath_redirects_total{outcome=\"bad_tag\"} %llu\n", LD(s->redirects_bad_tag));
    P("# HELP clickpath_http_responses_total HTTP responses sent by the handlers, by status.\n");
    P("# TYPE clickpath_http_responses_total counter\n");
    for (size_t i = 0; i < N_STATUS; i++)
        P("clickpath_http_responses_total{code=\"%u\"} %llu\n", status_codes[i], LD(s->responses[i]));
    P("# HELP clickpath_log_bytes_written_total Bytes appended to segments and synced.\n");
    P("# TYPE clickpath_log_bytes_written_total counter\nclickpath_log_bytes_written_total %llu\n",
      (unsigned long long)st.bytes_written);
    P("# HELP clickpath_log_events_written_total Events (clicks and batch lines) synced to segments.\n");
    P("# TYPE clickpath_log_events_written_total counter\nclickpath_log_events_written_total %llu\n",
      (unsigned long long)st.events_written);
    P("# HELP clickpath_log_write_errors_total Group commits that failed (their requests got 503).\n");
    P("# TYPE clickpath_log_write_errors_total counter\nclickpath_log_write_errors_total %llu\n",
      (unsigned long long)st.write_errors);
    P("# HELP clickpath_log_segments_total Segments opened and compressed.\n");
    P("# TYPE clickpath_log_segments_total counter\n");
    P("clickpath_log_segments_total{event=\"opened\"} %llu\n", (unsigned long long)st.segments_opened);
    P("clickpath_log_segments_total{event=\"compressed\"} %llu\n", (unsigned long long)st.segments_compressed);
    P("# HELP clickpath_log_fsync_seconds Latency of one group commit's fdatasync.\n");
    P("# TYPE clickpath_log_fsync_seconds histogram\n");
    for (int k = 0; k < CP_LOG_FSYNC_BUCKETS; k++) {
        if (k == CP_LOG_FSYNC_BUCKETS - 1) P("clickpath_log_fsync_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)st.fsync_le[k]);
        else P("clickpath_log_fsync_seconds_bucket{le=\"%g\"} %llu\n", cp_log_fsync_bounds_us[k] / 1e6, (unsigned long long)st.fsync_le[k]);
    }
    P("clickpath_log_fsync_seconds_sum %.6f\n", (double)st.fsync_sum_us / 1e6);
    P("clickpath_log_fsync_seconds_count %llu\n", (unsigned long long)st.commits);
#undef P
#undef LD
    return reply(s, c, 200, "text/plain; version=0.0.4", b, o, true);
}

/* ---- GET /r/TAG ------------------------------------------------------------------ */

static void client_ip(struct MHD_Connection *c, char *out, size_t cap) {
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)cap);
}

static enum MHD_Result redirect_start(cp_server *s, req *r, const char *tag) {
    size_t tag_len = strlen(tag);
    if (!cp_tag_is_valid(tag, tag_len)) {
        /* not a tag at all (path traversal, odd bytes, too long): not a click */
        atomic_fetch_add_explicit(&s->redirects_bad_tag, 1, memory_order_relaxed);
        return reply_text(s, r->conn, 400, "bad tracking tag: 1-64 characters of A-Z a-z 0-9 . _ -\n");
    }
    const char *vid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "cp_vid");
    if (vid && cp_hex128_is_valid(vid, strlen(vid))) {
        memcpy(r->vid, vid, CP_HEX128_LEN + 1);
    } else {
        if (!cp_hex128_random(r->vid)) return reply_text(s, r->conn, 500, "no randomness\n");
        r->set_cookie = true;
    }
    char click_id[CP_HEX128_LEN + 1], ip[64];
    if (!cp_hex128_random(click_id)) return reply_text(s, r->conn, 500, "no randomness\n");
    client_ip(r->conn, ip, sizeof ip);
    const char *ua = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    const char *ref = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cp_click ck = {
        .ts_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
        .tag = tag, .tag_len = tag_len, .visitor = r->vid, .click_id = click_id, .ip = ip,
        .ua = ua, .ua_len = ua ? strlen(ua) : 0, .referrer = ref, .referrer_len = ref ? strlen(ref) : 0,
    };
    char line[CP_CLICK_LINE_MAX];
    size_t n = cp_click_line(line, sizeof line, &ck);
    if (n == 0) return reply_text(s, r->conn, 500, "click record too long\n");

    const cp_tag_entry *e = s->has_reg ? cp_tag_registry_find(&s->reg, tag, tag_len) : NULL;
    r->known = e != NULL;
    if (e) {
        char url[2048];
        int k = cp_landing_url(url, sizeof url, s->opt.landing_base, e->asin, e->tag, click_id);
        if (k > 0) r->location = strdup(url);
        if (!r->location) return reply_text(s, r->conn, 500, "landing URL too long\n");
    }
    log_and_suspend(s, r, line, n, 1);
    return MHD_YES;
}

static enum MHD_Result redirect_finish(cp_server *s, req *r) {
    if (atomic_load(&r->state) != ST_LOGGED)
        return reply_text(s, r->conn, 503, "the click could not be logged; try again\n");
    static const char moved[] = "redirecting\n";
    static const char unknown[] = "unknown tracking tag\n";
    bool known = r->location != NULL;
    struct MHD_Response *resp = known
        ? MHD_create_response_from_buffer(sizeof moved - 1, (void *)moved, MHD_RESPMEM_PERSISTENT)
        : MHD_create_response_from_buffer(sizeof unknown - 1, (void *)unknown, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer-when-downgrade");
    if (known) MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->set_cookie) {
        char ck[160];
        snprintf(ck, sizeof ck, "cp_vid=%s; Max-Age=63072000; Path=/; HttpOnly; SameSite=Lax%s", r->vid,
                 s->opt.cookie_secure ? "; Secure" : "");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, ck);
    }
    unsigned code = known ? MHD_HTTP_FOUND : MHD_HTTP_NOT_FOUND;
    enum MHD_Result ret = MHD_queue_response(r->conn, code, resp);
    MHD_destroy_response(resp);
    count_status(s, code);
    atomic_fetch_add_explicit(known ? &s->redirects_known : &s->redirects_unknown, 1, memory_order_relaxed);
    return ret;
}

/* ---- POST /events ------------------------------------------------------------------ */

static bool token_ok(const cp_server *s, struct MHD_Connection *c) {
    if (!s->opt.token || !*s->opt.token) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    size_t a = strlen(h), b = strlen(s->opt.token);
    unsigned char diff = a != b;
    for (size_t i = 0; i < b; i++) diff |= (unsigned char)(h[i < a ? i : 0] ^ s->opt.token[i]); /* constant time */
    return diff == 0;
}

/* Media type of the body: 0 JSON Lines, 1 CSV, -1 unsupported. */
static int body_format(struct MHD_Connection *c) {
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct) return CP_BODY_JSONL;
    size_t n = strcspn(ct, "; \t");
    static const char *const jsonl[] = {"application/x-ndjson", "application/jsonl", "application/x-jsonlines",
                                        "application/json-lines", "application/json", "text/plain",
                                        "application/octet-stream"};
    if (n == 8 && strncasecmp(ct, "text/csv", 8) == 0) return CP_BODY_CSV;
    for (size_t i = 0; i < sizeof jsonl / sizeof jsonl[0]; i++)
        if (strlen(jsonl[i]) == n && strncasecmp(ct, jsonl[i], n) == 0) return CP_BODY_JSONL;
    return -1;
}

static enum MHD_Result events_finish(cp_server *s, req *r) {
    int st = atomic_load(&r->state);
    if (st == ST_FAILED) return reply_json_error(s, r->conn, 503, "events could not be logged; nothing was accepted");
    if (st == ST_LOGGED) {
        atomic_fetch_add_explicit(&s->accepted, r->batch.accepted, memory_order_relaxed);
    }
    for (int k = 0; k < CP_N_REJECT_REASONS; k++)
        if (r->batch.by_reason[k]) atomic_fetch_add_explicit(&s->rejected[k], r->batch.by_reason[k], memory_order_relaxed);
    char *ans = r->batch.answer;
    size_t len = r->batch.answer_len;
    r->batch.answer = NULL;
    return reply(s, r->conn, (unsigned)r->batch.http_status, "application/json", ans, len, true);
}

static enum MHD_Result events_body_done(cp_server *s, req *r) {
    if (r->too_big) return reply_json_error(s, r->conn, 413, "body too large");
    cp_result res = cp_batch_process(r->body ? r->body : "", r->len, r->fmt, &r->batch);
    free(r->body);
    r->body = NULL;
    if (res != CP_OK) {
        cp_batch_free(&r->batch);
        return reply_json_error(s, r->conn, 500, "out of memory");
    }
    if (r->batch.http_status != 200 || r->batch.log_len == 0) return events_finish(s, r);
    log_and_suspend(s, r, r->batch.log, r->batch.log_len, r->batch.accepted);
    return MHD_YES;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    cp_server *s = cls;
    req *r = *con_cls;
    if (!r) {
        /* First call: headers only.  GET routes are answered on the second
         * call: MHD 0.9.75 closes the connection after a response queued on
         * the first one (no keep-alive).  POST errors are answered at once,
         * before the body is read; closing is right for those. */
        bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        int route = strcmp(url, "/healthz") == 0   ? ROUTE_HEALTHZ
                    : strcmp(url, "/metrics") == 0 ? ROUTE_METRICS
                    : strcmp(url, "/events") == 0  ? ROUTE_EVENTS
                    : strncmp(url, "/r/", 3) == 0  ? ROUTE_REDIRECT
                                                   : ROUTE_NONE;
        int fmt = 0;
        if (route == ROUTE_EVENTS) {
            if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) return reply_allow(s, c, "POST");
            if (!token_ok(s, c)) return reply_json_error(s, c, 401, "missing or wrong bearer token");
            if (atomic_load(&s->draining)) return reply_json_error(s, c, 503, "draining");
            fmt = body_format(c);
            if (fmt < 0) return reply_json_error(s, c, 415, "send application/x-ndjson (JSON Lines) or text/csv");
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(cl, &end, 10);
                if (errno == 0 && *end == '\0' && v > s->opt.max_body_bytes)
                    return reply_json_error(s, c, 413, "body too large");
            }
        } else if (route != ROUTE_NONE && !get) {
            return reply_allow(s, c, "GET");
        }
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->srv = s;
        r->conn = c;
        r->route = route;
        r->fmt = (cp_body_format)fmt;
        *con_cls = r;
        return MHD_YES;
    }
    switch (r->route) {
    case ROUTE_NONE: return reply_text(s, c, 404, "not found\n");
    case ROUTE_HEALTHZ:
        return atomic_load(&s->draining) ? reply_text(s, c, 503, "draining\n") : reply_text(s, c, 200, "ok\n");
    case ROUTE_METRICS: return metrics(s, c);
    case ROUTE_REDIRECT: {
        int st = atomic_load(&r->state);
        if (st == ST_NEW) {
            if (atomic_load(&s->draining)) return reply_text(s, c, 503, "draining\n");
            return redirect_start(s, r, url + 3);
        }
        if (st == ST_WAIT) return MHD_YES; /* cannot happen while suspended */
        return redirect_finish(s, r);
    }
    default: break;
    }
    /* POST /events */
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big) return MHD_YES;
        if (r->len + n > s->opt.max_body_bytes) {
            r->too_big = true; /* read and drop the rest, then answer 413 */
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 16384;
            while (cap < r->len + n) cap *= 2;
            char *p = realloc(r->body, cap);
            if (!p) return MHD_NO;
            r->body = p;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    int st = atomic_load(&r->state);
    if (st == ST_NEW) return events_body_done(s, r);
    if (st == ST_WAIT) return MHD_YES;
    return events_finish(s, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    req *r = *con_cls;
    if (!r) return;
    free(r->body);
    free(r->location);
    cp_batch_free(&r->batch);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    cp_server *s = cls;
    if (!s->opt.msg) return;
    char m[512];
    vsnprintf(m, sizeof m, fmt, ap);
    size_t n = strlen(m);
    while (n && m[n - 1] == '\n') m[--n] = '\0';
    s->opt.msg(s->opt.msg_user, m);
}

static void log_msg(void *user, const char *msg) {
    cp_server *s = user;
    if (s->opt.msg) s->opt.msg(s->opt.msg_user, msg);
}

/* ---- start / stop ------------------------------------------------------------------- */

static cp_server *fail_start(cp_server *s, cp_error *err, cp_result code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cp_server *fail_start(cp_server *s, cp_error *err, cp_result code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cp_error_vsetf(err, code, fmt, ap);
    va_end(ap);
    cp_server_stop(s);
    return NULL;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT" -> sockaddr (numeric only: no DNS). */
static bool parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len, bool *v6) {
    char host[128], port[16];
    const char *colon;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof host) return false;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host) return false;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof port) return false;
    for (const char *p = colon + 1; *p; p++) if (*p < '0' || *p > '9') return false;
    snprintf(port, sizeof port, "%s", colon + 1);
    if (atol(port) > 65535) return false;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &ai) != 0 || !ai) return false;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return true;
}

cp_server *cp_server_start(const cp_server_options *opt, cp_error *err) {
    cp_server *s = calloc(1, sizeof *s);
    if (!s) return fail_start(NULL, err, CP_ENOMEM, "out of memory");
    s->opt = *opt;
    if (!s->opt.listen) s->opt.listen = "127.0.0.1:8080";
    if (!s->opt.max_body_bytes) s->opt.max_body_bytes = 16u << 20;
    if (!s->opt.timeout_s) s->opt.timeout_s = 10;
    if (!s->opt.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->opt.threads = n > 0 ? (unsigned)n : 1;
    }
    if (!s->opt.data_dir) return fail_start(s, err, CP_EUSAGE, "serve: --data DIR is required");
    struct sockaddr_storage ss;
    socklen_t sl;
    bool v6;
    if (!parse_listen(s->opt.listen, &ss, &sl, &v6))
        return fail_start(s, err, CP_EUSAGE, "serve: --listen %s: expected ADDR:PORT with a numeric address", s->opt.listen);
    if (s->opt.registry_path) {
        cp_error e2 = {0};
        if (cp_tag_registry_load(&s->reg, s->opt.registry_path, &e2) != CP_OK)
            return fail_start(s, err, e2.code, "serve: registry: %s", e2.msg);
        s->has_reg = true;
    }
    cp_log_options lo = s->opt.log;
    lo.dir = s->opt.data_dir;
    lo.done = on_logged;
    lo.msg = log_msg;
    lo.user = s;
    cp_error e3 = {0};
    s->log = cp_log_open(&lo, &e3);
    if (!s->log) return fail_start(s, err, e3.code, "serve: %s", e3.msg);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (v6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->opt.threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->opt.timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) return fail_start(s, err, CP_EIO, "serve: cannot listen on %s: %s", s->opt.listen, strerror(errno));
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    say(s, "clickpath serve: listening on %s (port %u), %u threads, data in %s", s->opt.listen, s->port,
        s->opt.threads, s->opt.data_dir);
    return s;
}

unsigned cp_server_port(const cp_server *s) { return s ? s->port : 0; }

void cp_server_stop(cp_server *s) {
    if (!s) return;
    atomic_store(&s->draining, true);
    /* every queued event is written and its request resumed; appends after
     * this fail and answer 503 */
    cp_log_drain(s->log);
    if (s->d) {
        /* let the resumed requests send their answers */
        for (int i = 0; i < 50; i++) {
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            if (!di || di->num_connections == 0) break;
            struct timespec t = {0, 10 * 1000000};
            nanosleep(&t, NULL);
        }
        MHD_stop_daemon(s->d);
    }
    cp_log_close(s->log);
    if (s->has_reg) cp_tag_registry_free(&s->reg);
    free(s);
}

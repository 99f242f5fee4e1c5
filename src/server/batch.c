/* batch.c -- POST /events bodies: validation by the file ingestion code
 * itself (SPEC R1.3, R1.4b via cp_run_load_buffer), the per-line answer, and
 * the accepted records as JSON Lines for the durable log.
 *
 * Which lines were accepted: the run's rejects name the rejected lines
 * (R1.4: a record is counted at the physical line of its first byte); every
 * other non-blank record was accepted.  The two counts are checked against
 * each other, so the log holds exactly what the run accepted.
 *
 * CSV bodies (R1.1, by Content-Type) are logged as JSON Lines too, so that
 * every segment is one format: each accepted record becomes a flat object of
 * its non-empty columns (an empty value is absent, R1.4b; the first of two
 * columns with one name wins, as in the CSV reader; all values as JSON
 * strings, which the JSON Lines reader reads as the same text).  The
 * converted lines are validated once more and must all be accepted, or the
 * body is refused whole (400) -- the log never holds a line that would not
 * read back as the event the client was told was accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* A growable byte buffer; a failed append sets `oom` and keeps the data. */
typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static bool buf_reserve(buf *b, size_t more) {
    if (b->oom) return false;
    if (b->len + more + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) { b->oom = true; return false; }
    b->p = np;
    b->cap = cap;
    return true;
}

static void buf_add(buf *b, const char *s, size_t n) {
    if (!buf_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_u64(buf *b, uint64_t v) {
    char t[24];
    int k = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    buf_add(b, t, (size_t)k);
}

/* JSON string of arbitrary bytes (already validated UTF-8 by the run for
 * accepted records; header names may be anything). */
static void buf_json_str(buf *b, const char *s, size_t n) {
    buf_add(b, "\"", 1);
    if (!buf_reserve(b, n * 6 + 2)) return;
    b->len += cp_json_escape(b->p + b->len, b->cap - b->len, s, n, n);
    buf_add(b, "\"", 1);
}

static bool is_blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
    return true;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static cp_run *new_run(void) {
    cp_ingest_options o = {0};
    o.threads = 1; /* requests run in parallel already */
    return cp_run_new(&o, NULL);
}

static cp_result refuse(cp_batch *out, int status, const char *why) {
    buf a = {0};
    buf_str(&a, "{\"error\":");
    buf_json_str(&a, why, strlen(why));
    buf_str(&a, "}\n");
    if (a.oom) { free(a.p); return CP_ENOMEM; }
    free(out->log);
    free(out->answer);
    out->log = NULL;
    out->log_len = 0;
    out->http_status = status;
    out->answer = a.p;
    out->answer_len = a.len;
    out->accepted = out->rejected = 0;
    memset(out->by_reason, 0, sizeof out->by_reason);
    return CP_OK;
}

/* Fills the counts and the answer from a loaded run; returns the sorted
 * rejected lines (malloc'd, *n_rej entries) or NULL on OOM. */
static uint64_t *answer_from_run(cp_run *run, cp_batch *out, buf *a, size_t *n_rej) {
    size_t n;
    const cp_reject *rj = cp_run_rejects(run, &n);
    const cp_input_stats *in = cp_run_inputs(run, NULL);
    out->accepted = cp_run_accepted(run);
    out->rejected = cp_run_rejected(run);
    out->blank_lines = in[0].blank_lines;
    cp_run_rejects_by_reason(run, out->by_reason);
    uint64_t *lines = malloc((n ? n : 1) * sizeof *lines);
    if (!lines) return NULL;
    buf_str(a, "{\"accepted\":");
    buf_u64(a, out->accepted);
    buf_str(a, ",\"rejected\":[");
    for (size_t i = 0; i < n; i++) {
        lines[i] = rj[i].line;
        if (i) buf_add(a, ",", 1);
        buf_str(a, "{\"line\":");
        buf_u64(a, rj[i].line);
        buf_str(a, ",\"reason\":\"");
        buf_str(a, cp_reject_reason_name((cp_reject_reason)rj[i].reason));
        buf_add(a, "\"", 1);
        if (rj[i].field) {
            buf_str(a, ",\"field\":");
            buf_json_str(a, rj[i].field, strlen(rj[i].field));
        }
        buf_add(a, "}", 1);
    }
    buf_str(a, "]}\n");
    qsort(lines, n, sizeof *lines, cmp_u64);
    *n_rej = n;
    return lines;
}

static bool line_rejected(const uint64_t *lines, size_t n, size_t *k, uint64_t line) {
    while (*k < n && lines[*k] < line) (*k)++;
    return *k < n && lines[*k] == line;
}

/* ---- CSV records (RFC 4180), for the conversion only -------------------------
 * A record is one physical line when that line holds an even number of
 * quotes (as the reader's fast path), else it runs to the first line end
 * outside quotes.  The count check against the run catches any disagreement
 * on malformed quoting. */
static size_t csv_record(const char *p, size_t avail, uint64_t *newlines) {
    const char *nl = memchr(p, '\n', avail);
    size_t line_len = nl ? (size_t)(nl - p) : avail;
    size_t quotes = 0;
    for (size_t i = 0; i < line_len; i++) quotes += p[i] == '"';
    *newlines = 0;
    if (quotes % 2 == 0) return nl ? line_len + 1 : line_len;
    bool inq = false;
    for (size_t i = 0; i < avail; i++) {
        if (p[i] == '"') inq = !inq;
        else if (p[i] == '\n') {
            if (!inq) return i + 1;
            (*newlines)++;
        }
    }
    return avail;
}

/* Splits one CSV record (without its line end) into fields; unquotes into
 * `scratch`.  Returns the number of fields (at most cap). */
typedef struct fld { const char *p; size_t len; } fld;
static size_t csv_fields(const char *p, size_t len, fld *f, size_t cap, buf *scratch) {
    size_t n = 0, i = 0;
    scratch->len = 0;
    if (!buf_reserve(scratch, len)) return 0; /* no realloc below: spans stay valid */
    for (;;) {
        if (n == cap) return n;
        if (i < len && p[i] == '"') {
            size_t start = scratch->len;
            i++;
            while (i < len) {
                if (p[i] == '"') {
                    if (i + 1 < len && p[i + 1] == '"') { scratch->p[scratch->len++] = '"'; i += 2; continue; }
                    i++;
                    break;
                }
                scratch->p[scratch->len++] = p[i++];
            }
            f[n++] = (fld){scratch->p + start, scratch->len - start};
            while (i < len && p[i] != ',') i++; /* rejected as csv_bad_quote by the run anyway */
        } else {
            size_t s = i;
            while (i < len && p[i] != ',') i++;
            f[n++] = (fld){p + s, i - s};
        }
        if (i >= len) return n;
        i++; /* the comma */
    }
}

static size_t strip_bom(const char *body, size_t len) {
    return len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* First non-blank byte (after a BOM), or 0 when the body is blank. */
static char first_byte(const char *body, size_t len) {
    for (size_t i = strip_bom(body, len); i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') return body[i];
    return 0;
}

static cp_result jsonl_log(const char *body, size_t len, const uint64_t *rej, size_t n_rej, buf *log,
                           uint64_t *n_logged) {
    size_t pos = strip_bom(body, len), k = 0;
    uint64_t line = 1;
    while (pos < len) {
        const char *p = body + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - p) : len - pos;
        pos += nl ? l + 1 : l;
        size_t rl = l;
        if (rl && p[rl - 1] == '\r') rl--;
        if (!is_blank(p, rl) && !line_rejected(rej, n_rej, &k, line)) {
            buf_add(log, p, rl);
            buf_add(log, "\n", 1);
            (*n_logged)++;
        }
        line++;
    }
    return log->oom ? CP_ENOMEM : CP_OK;
}

/* Converts the accepted CSV records to JSON Lines.  Returns false when the
 * records cannot be matched to the run's lines. */
static bool csv_log(const char *body, size_t len, const uint64_t *rej, size_t n_rej, buf *log,
                    uint64_t *n_logged, uint64_t *n_records) {
    size_t pos = strip_bom(body, len), k = 0;
    uint64_t line = 1, nls;
    fld *names = NULL, *vals = NULL;
    size_t n_names = 0;
    buf scratch = {0}, hdr = {0};
    bool ok = true;
    /* the header: the first non-blank record */
    while (pos < len) {
        size_t rec = csv_record(body + pos, len - pos, &nls);
        size_t rl = rec;
        const char *p = body + pos;
        if (rl && p[rl - 1] == '\n') rl--;
        if (rl && p[rl - 1] == '\r') rl--;
        pos += rec;
        line += 1 + nls;
        if (is_blank(p, rl)) continue;
        size_t cap = 1;
        for (size_t i = 0; i < rl; i++) cap += p[i] == ',';
        names = malloc(cap * sizeof *names);
        vals = malloc(cap * sizeof *vals);
        if (!names || !vals) { ok = false; goto done; }
        n_names = csv_fields(p, rl, names, cap, &hdr);
        if (hdr.oom) { ok = false; goto done; }
        break;
    }
    while (pos < len) {
        const char *p = body + pos;
        size_t rec = csv_record(p, len - pos, &nls);
        size_t rl = rec;
        if (rl && p[rl - 1] == '\n') rl--;
        if (rl && p[rl - 1] == '\r') rl--;
        pos += rec;
        uint64_t this_line = line;
        line += 1 + nls;
        if (is_blank(p, rl)) continue;
        (*n_records)++;
        if (line_rejected(rej, n_rej, &k, this_line)) continue;
        size_t nv = csv_fields(p, rl, vals, n_names, &scratch);
        if (scratch.oom || nv != n_names) { ok = false; goto done; }
        buf_add(log, "{", 1);
        bool first = true;
        for (size_t c = 0; c < n_names; c++) {
            if (vals[c].len == 0) continue;
            bool dup = false; /* the first column of a name wins */
            for (size_t d = 0; d < c && !dup; d++)
                dup = names[d].len == names[c].len && memcmp(names[d].p, names[c].p, names[c].len) == 0;
            if (dup) continue;
            if (!first) buf_add(log, ",", 1);
            first = false;
            buf_json_str(log, names[c].p, names[c].len);
            buf_add(log, ":", 1);
            buf_json_str(log, vals[c].p, vals[c].len);
        }
        buf_add(log, "}\n", 2);
        (*n_logged)++;
    }
done:
    free(names);
    free(vals);
    free(scratch.p);
    free(hdr.p);
    return ok && !log->oom;
}

cp_result cp_batch_process(const char *body, size_t len, cp_body_format fmt, cp_batch *out) {
    memset(out, 0, sizeof *out);
    char first = first_byte(body, len);
    if (first == 0) {
        /* R1.4b: a file with nothing holds no events and is no error */
        out->http_status = 200;
        out->answer = strdup("{\"accepted\":0,\"rejected\":[]}\n");
        if (!out->answer) return CP_ENOMEM;
        out->answer_len = strlen(out->answer);
        return CP_OK;
    }
    /* R1.1 tells the format by content; the client told it by Content-Type.
     * They must agree, or lines would be read as something else. */
    if (fmt == CP_BODY_JSONL && first != '{')
        return refuse(out, 400, "body is not JSON Lines: the first non-blank line must start with '{' "
                                "(send CSV with Content-Type: text/csv)");
    if (fmt == CP_BODY_CSV && first == '{')
        return refuse(out, 400, "Content-Type is text/csv but the body starts like JSON Lines");

    cp_run *run = new_run();
    if (!run) return CP_ENOMEM;
    cp_error err = {0};
    cp_result r = cp_run_load_buffer(run, "request", body, len, &err);
    if (r == CP_ENOMEM) { cp_run_free(run); return CP_ENOMEM; }
    if (r != CP_OK) {
        /* a CSV header that breaks quoting (R1.4b usage error) */
        char why[320];
        snprintf(why, sizeof why, "body cannot be read: %s", err.msg);
        cp_run_free(run);
        return refuse(out, 400, why);
    }
    buf a = {0}, log = {0};
    size_t n_rej = 0;
    uint64_t *rej = answer_from_run(run, out, &a, &n_rej);
    uint64_t input_lines = cp_run_inputs(run, NULL)[0].lines;
    cp_run_free(run);
    if (!rej || a.oom) { free(rej); free(a.p); return CP_ENOMEM; }

    uint64_t n_logged = 0, n_records = 0;
    if (fmt == CP_BODY_JSONL) {
        if (jsonl_log(body, len, rej, n_rej, &log, &n_logged) != CP_OK) {
            free(rej); free(a.p); free(log.p);
            return CP_ENOMEM;
        }
        n_records = input_lines - out->blank_lines;
    } else if (!csv_log(body, len, rej, n_rej, &log, &n_logged, &n_records)) {
        free(rej); free(a.p);
        bool oom = log.oom;
        free(log.p);
        if (oom) return CP_ENOMEM;
        return refuse(out, 400, "CSV records could not be matched to lines (quoting?); nothing was logged");
    }
    free(rej);
    out->answer = a.p;
    out->answer_len = a.len;
    out->log = log.p;
    out->log_len = log.len;
    out->http_status = 200;

    bool consistent = n_logged == out->accepted && n_records == out->accepted + out->rejected;
    if (consistent && fmt == CP_BODY_CSV && n_logged > 0) {
        /* the converted lines must read back as the same accepted events */
        cp_run *again = new_run();
        if (!again) { cp_batch_free(out); return CP_ENOMEM; }
        r = cp_run_load_buffer(again, "request", log.p, log.len, NULL);
        consistent = r == CP_OK && cp_run_accepted(again) == n_logged && cp_run_rejected(again) == 0;
        cp_run_free(again);
        if (r == CP_ENOMEM) { cp_batch_free(out); return CP_ENOMEM; }
    }
    if (!consistent) {
        if (fmt == CP_BODY_CSV)
            return refuse(out, 400, "CSV records could not be matched to lines (quoting?); nothing was logged");
        return refuse(out, 500, "internal error: accepted lines could not be matched; nothing was logged");
    }
    return CP_OK;
}

void cp_batch_free(cp_batch *b) {
    if (!b) return;
    free(b->log);
    free(b->answer);
    memset(b, 0, sizeof *b);
}

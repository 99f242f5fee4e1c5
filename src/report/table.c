/* table.c -- CSV/JSON table writer and the run summary (R8).
 *
 * CSV: RFC 4180, a field is quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled).  JSON: one array of objects per file, keys = the CSV
 * column names, empty cells null, numbers unquoted, text as JSON strings.
 */
#include "report/table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/values.h"

/* ---- growing buffer ------------------------------------------------------ */

static void buf_reserve(cp_buf *b, size_t extra) {
    if (b->oom || b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = true; return; }
    b->p = p;
    b->cap = cap;
}

void cp_buf_put(cp_buf *b, const void *p, size_t len) {
    buf_reserve(b, len);
    if (b->oom) return;
    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void cp_buf_puts(cp_buf *b, const char *s) { cp_buf_put(b, s, strlen(s)); }

void cp_buf_printf(cp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cp_buf_json_str(cp_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    cp_buf_put(b, "\"", 1);
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        cp_buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': cp_buf_put(b, "\\\"", 2); break;
        case '\\': cp_buf_put(b, "\\\\", 2); break;
        case '\n': cp_buf_put(b, "\\n", 2); break;
        case '\r': cp_buf_put(b, "\\r", 2); break;
        case '\t': cp_buf_put(b, "\\t", 2); break;
        default: cp_buf_put(b, esc, 6); break;
        }
    }
    cp_buf_put(b, s + run, len - run);
    cp_buf_put(b, "\"", 1);
}

void cp_buf_free(cp_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

cp_result cp_mkdir_p(const char *dir, cp_error *err) {
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) goto fail;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char save = path[i];
            path[i] = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) goto fail;
            path[i] = save;
        }
    }
    return CP_OK;
fail:
    if (err) {
        err->code = CP_EIO;
        err->file = NULL;
        snprintf(err->msg, sizeof err->msg, "cannot create directory %.200s: %s", dir,
                 strerror(errno));
    }
    return CP_EIO;
}

/* ---- tables -------------------------------------------------------------- */

#define TABLE_FLUSH_AT (1u << 20)

struct cp_table {
    int fd;
    cp_format fmt;
    char path[4096];
    const char *const *columns;
    size_t n_columns;
    size_t col;      /* next cell's column */
    uint64_t rows;
    int io_errno;    /* first write error, 0 if none */
    cp_buf buf;
};

static void table_flush(cp_table *t) {
    size_t off = 0;
    while (off < t->buf.len && !t->io_errno) {
        ssize_t w = write(t->fd, t->buf.p + off, t->buf.len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            t->io_errno = errno;
            break;
        }
        off += (size_t)w;
    }
    t->buf.len = 0;
}

cp_table *cp_table_open(const char *dir, const char *name, cp_format fmt,
                        const char *const *columns, size_t n_columns, cp_error *err) {
    cp_table *t = calloc(1, sizeof *t);
    if (!t) {
        if (err) { err->code = CP_ENOMEM; snprintf(err->msg, sizeof err->msg, "out of memory"); }
        return NULL;
    }
    snprintf(t->path, sizeof t->path, "%s/%s.%s", dir, name, fmt == CP_FORMAT_JSON ? "json" : "csv");
    t->fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (t->fd < 0) {
        if (err) {
            err->code = CP_EIO;
            snprintf(err->msg, sizeof err->msg, "cannot write %.200s: %s", t->path, strerror(errno));
        }
        free(t);
        return NULL;
    }
    t->fmt = fmt;
    t->columns = columns;
    t->n_columns = n_columns;
    if (fmt == CP_FORMAT_CSV) {
        for (size_t i = 0; i < n_columns; i++) {
            if (i) cp_buf_put(&t->buf, ",", 1);
            cp_buf_puts(&t->buf, columns[i]);
        }
        cp_buf_put(&t->buf, "\n", 1);
    } else {
        cp_buf_put(&t->buf, "[", 1);
    }
    return t;
}

/* Starts a cell: separators and, in JSON, the key. */
static void cell_begin(cp_table *t) {
    if (t->fmt == CP_FORMAT_CSV) {
        if (t->col) cp_buf_put(&t->buf, ",", 1);
    } else {
        if (t->col == 0) cp_buf_puts(&t->buf, t->rows ? ",\n{" : "\n{");
        else cp_buf_put(&t->buf, ",", 1);
        const char *key = t->col < t->n_columns ? t->columns[t->col] : "?";
        cp_buf_json_str(&t->buf, key, strlen(key));
        cp_buf_put(&t->buf, ":", 1);
    }
    t->col++;
}

/* A number or literal: same text in both formats. */
static void cell_raw(cp_table *t, const char *s, size_t len) {
    cell_begin(t);
    cp_buf_put(&t->buf, s, len);
}

void cp_table_empty(cp_table *t) {
    cell_begin(t);
    if (t->fmt == CP_FORMAT_JSON) cp_buf_put(&t->buf, "null", 4);
}

void cp_table_str(cp_table *t, const char *s, size_t len) {
    if (len == 0) { cp_table_empty(t); return; }
    cell_begin(t);
    if (t->fmt == CP_FORMAT_JSON) { cp_buf_json_str(&t->buf, s, len); return; }
    bool quote = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ',' || c == '"' || c == '\n' || c == '\r') { quote = true; break; }
    }
    if (!quote) { cp_buf_put(&t->buf, s, len); return; }
    cp_buf_put(&t->buf, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '"') continue;
        cp_buf_put(&t->buf, s + run, i + 1 - run); /* includes the quote */
        cp_buf_put(&t->buf, "\"", 1);
        run = i + 1;
    }
    cp_buf_put(&t->buf, s + run, len - run);
    cp_buf_put(&t->buf, "\"", 1);
}

void cp_table_cstr(cp_table *t, const char *s) { cp_table_str(t, s ? s : "", s ? strlen(s) : 0); }

void cp_table_sid(cp_table *t, const cp_strings *str, cp_str id) {
    size_t len;
    const char *s = cp_strings_get(str, id, &len);
    cp_table_str(t, s, len);
}

/* Decimal digits of v into the end of b[0..24): returns where they start.
 * Same text as "%lld". */
static char *fmt_i64(char *end, int64_t v) {
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return p;
}

void cp_table_int(cp_table *t, int64_t v) {
    char b[24];
    char *p = fmt_i64(b + sizeof b, v);
    cell_raw(t, p, (size_t)(b + sizeof b - p));
}

/* cp_fmt_double6 ("%.6f", R8) without printf for |v| < 2^43 (v * 10^6 then
 * fits 64 bits): v * 10^6 is formed exactly as m * 10^6 / 2^sh in 128 bits
 * and rounded to nearest, ties to even, as glibc's printf does in the
 * default rounding mode (checked against it on 30M values, dyadic ties
 * included).  Any other value goes to cp_fmt_double6.  Returns the length. */
static size_t fast_double6(char *buf, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = bits >> 63;
    int ex = (int)(bits >> 52 & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    if (ex == 0x7ff || ex >= 1023 + 43) return cp_fmt_double6(buf, v); /* inf, NaN, >= 2^43 */
    int sh;
    if (ex == 0) sh = 1074; /* zero and subnormals */
    else {
        m |= UINT64_C(1) << 52;
        sh = 1075 - ex; /* v = m / 2^sh, sh >= 1 here */
    }
    uint64_t q = 0;
    if (sh < 128) {
        unsigned __int128 prod = (unsigned __int128)m * 1000000u; /* < 2^73 */
        unsigned __int128 qq = prod >> sh, rem = prod - (qq << sh), half = (unsigned __int128)1 << (sh - 1);
        if (rem > half || (rem == half && (qq & 1))) qq++;
        q = (uint64_t)qq;
    } /* else v * 10^6 < 2^73 / 2^128: rounds to 0 */
    char tmp[40];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t frac = q % 1000000, ip = q / 1000000;
    for (int k = 0; k < 6; k++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    *--p = '.';
    do {
        *--p = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (neg && q != 0) *--p = '-'; /* "-0.000000" is written "0.000000" */
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n;
}

void cp_table_money(cp_table *t, int64_t micros) {
    char b[64];
    size_t n = cp_fmt_money(b, micros);
    cell_raw(t, b, n);
}

void cp_table_ratio(cp_table *t, int64_t num, int64_t den) {
    if (den == 0) { cp_table_empty(t); return; }
    char b[64];
    size_t n = cp_fmt_ratio(b, num, den);
    cell_raw(t, b, n);
}

void cp_table_double6(cp_table *t, double v) {
    char b[64];
    size_t n = fast_double6(b, v);
    if (n == 0) { cp_table_empty(t); return; }
    cell_raw(t, b, n);
}

void cp_table_day(cp_table *t, int32_t day) {
    char b[32];
    size_t n = cp_fmt_day(b, day);
    cp_table_str(t, b, n);
}

void cp_table_ts(cp_table *t, int64_t t_ms) {
    char b[48];
    size_t n = cp_fmt_ts(b, t_ms);
    cp_table_str(t, b, n);
}

void cp_table_bool(cp_table *t, bool v) {
    cell_raw(t, v ? "true" : "false", v ? 4 : 5);
}

void cp_table_end_row(cp_table *t) {
    /* A row with fewer cells than columns is a programming error; pad it so
     * the file stays rectangular. */
    while (t->col < t->n_columns) cp_table_empty(t);
    cp_buf_puts(&t->buf, t->fmt == CP_FORMAT_CSV ? "\n" : "}");
    t->col = 0;
    t->rows++;
    if (t->buf.len >= TABLE_FLUSH_AT) table_flush(t);
}

cp_result cp_table_close(cp_table *t, cp_error *err) {
    if (!t) return CP_OK;
    if (t->fmt == CP_FORMAT_JSON) cp_buf_puts(&t->buf, t->rows ? "\n]\n" : "]\n");
    bool oom = t->buf.oom;
    table_flush(t);
    if (close(t->fd) != 0 && !t->io_errno) t->io_errno = errno;
    cp_result r = CP_OK;
    if (oom || t->io_errno) {
        r = oom ? CP_ENOMEM : CP_EIO;
        if (err) {
            err->code = r;
            snprintf(err->msg, sizeof err->msg, "cannot write %.200s: %s", t->path,
                     oom ? "out of memory" : strerror(t->io_errno));
        }
    }
    cp_buf_free(&t->buf);
    free(t);
    return r;
}

/* ---- summary ------------------------------------------------------------- */

#define SUMMARY_MAX_DEPTH 16

struct cp_summary {
    cp_buf json;
    cp_buf text;
    int depth;
    bool need_comma[SUMMARY_MAX_DEPTH];
    char closer[SUMMARY_MAX_DEPTH];
    bool closed;
};

cp_summary *cp_summary_new(void) {
    cp_summary *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    cp_buf_put(&s->json, "{", 1);
    s->closer[0] = '}';
    return s;
}

cp_summary *cp_summary_fragment(void) {
    cp_summary *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->closer[0] = '}'; /* no "{": the keys continue another summary */
    return s;
}

void cp_summary_splice(cp_summary *s, cp_summary *frag) {
    if (!frag) return;
    while (frag->depth > 0) cp_summary_end(frag);
    /* frag's first key was written without a comma: it needs one here when
     * s already holds a key at the top level */
    if (frag->json.len && s->need_comma[0]) cp_buf_put(&s->json, ",", 1);
    if (frag->json.len) cp_buf_put(&s->json, frag->json.p, frag->json.len);
    if (frag->need_comma[0]) s->need_comma[0] = true;
    if (frag->text.len) cp_buf_put(&s->text, frag->text.p, frag->text.len);
    if (frag->json.oom) s->json.oom = true;
    if (frag->text.oom) s->text.oom = true;
    cp_summary_free(frag);
}

void cp_summary_free(cp_summary *s) {
    if (!s) return;
    cp_buf_free(&s->json);
    cp_buf_free(&s->text);
    free(s);
}

static void summary_key(cp_summary *s, const char *key) {
    if (s->need_comma[s->depth]) cp_buf_put(&s->json, ",", 1);
    s->need_comma[s->depth] = true;
    cp_buf_put(&s->json, "\n", 1);
    for (int i = 0; i <= s->depth; i++) cp_buf_put(&s->json, "  ", 2);
    if (key) {
        cp_buf_json_str(&s->json, key, strlen(key));
        cp_buf_put(&s->json, ": ", 2);
    }
}

static void summary_open(cp_summary *s, const char *key, char open, char close) {
    summary_key(s, key);
    cp_buf_put(&s->json, &open, 1);
    if (s->depth + 1 < SUMMARY_MAX_DEPTH) {
        s->depth++;
        s->need_comma[s->depth] = false;
        s->closer[s->depth] = close;
    }
}

void cp_summary_begin(cp_summary *s, const char *key) { summary_open(s, key, '{', '}'); }
void cp_summary_begin_array(cp_summary *s, const char *key) { summary_open(s, key, '[', ']'); }

void cp_summary_end(cp_summary *s) {
    if (s->depth == 0) return;
    bool had = s->need_comma[s->depth];
    char c = s->closer[s->depth];
    s->depth--;
    if (had) {
        cp_buf_put(&s->json, "\n", 1);
        for (int i = 0; i <= s->depth; i++) cp_buf_put(&s->json, "  ", 2);
    }
    cp_buf_put(&s->json, &c, 1);
}

void cp_summary_int(cp_summary *s, const char *key, int64_t v) {
    summary_key(s, key);
    cp_buf_printf(&s->json, "%lld", (long long)v);
}

void cp_summary_money(cp_summary *s, const char *key, int64_t micros) {
    char b[64];
    cp_fmt_money(b, micros);
    summary_key(s, key);
    cp_buf_puts(&s->json, b);
}

void cp_summary_ratio(cp_summary *s, const char *key, int64_t num, int64_t den) {
    summary_key(s, key);
    if (den == 0) { cp_buf_puts(&s->json, "null"); return; }
    char b[64];
    cp_fmt_ratio(b, num, den);
    cp_buf_puts(&s->json, b);
}

void cp_summary_double(cp_summary *s, const char *key, double v) {
    summary_key(s, key);
    char b[64];
    if (cp_fmt_double6(b, v) == 0) { cp_buf_puts(&s->json, "null"); return; }
    cp_buf_puts(&s->json, b);
}

void cp_summary_str(cp_summary *s, const char *key, const char *v) {
    summary_key(s, key);
    if (!v) { cp_buf_puts(&s->json, "null"); return; }
    cp_buf_json_str(&s->json, v, strlen(v));
}

void cp_summary_bool(cp_summary *s, const char *key, bool v) {
    summary_key(s, key);
    cp_buf_puts(&s->json, v ? "true" : "false");
}

void cp_summary_human(cp_summary *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    cp_buf_put(&s->text, line, strlen(line));
    cp_buf_put(&s->text, "\n", 1);
}

const char *cp_summary_json(cp_summary *s) {
    if (!s->closed) {
        while (s->depth > 0) cp_summary_end(s);
        cp_buf_puts(&s->json, "\n}\n");
        s->closed = true;
    }
    return s->json.p ? s->json.p : "{}\n";
}

const char *cp_summary_text(const cp_summary *s) { return s->text.p ? s->text.p : ""; }

cp_result cp_summary_write(cp_summary *s, const char *path, cp_error *err) {
    const char *j = cp_summary_json(s);
    FILE *f = fopen(path, "w");
    if (!f || fputs(j, f) < 0 || fclose(f) != 0) {
        if (err) {
            err->code = CP_EIO;
            snprintf(err->msg, sizeof err->msg, "cannot write %.200s: %s", path, strerror(errno));
        }
        return CP_EIO;
    }
    return CP_OK;
}

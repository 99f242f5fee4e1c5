/* registry.c -- the tag registry of SPEC R5.1: parse (CSV, RFC 4180), look
 * up by tag, and append new tags under flock() (`clickpath tag new`).
 *
 * The registry is small (one row per tracking link), so the parser favours
 * clear errors over speed: every error names FILE:LINE and what is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tags/tags.h"
#include "util/strings.h"

enum { COL_TAG = 0, COL_CHANNEL, COL_PUBLISHER, COL_CAMPAIGN, COL_ASIN, N_COLS };
static const char *const col_names[N_COLS] = {"tag", "channel", "publisher", "campaign", "asin"};

static cp_result fail(cp_error *err, cp_result code, const char *path, uint64_t line,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static cp_result fail(cp_error *err, cp_result code, const char *path, uint64_t line,
                      const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    err->file = NULL; /* path is the caller's; the message carries it */
    err->line = line;
    err->field = NULL;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(err->msg, sizeof err->msg, "%s:%llu: %s", path ? path : "-",
                 (unsigned long long)line, what);
    else
        snprintf(err->msg, sizeof err->msg, "%s: %s", path ? path : "-", what);
    return code;
}

void cp_tag_registry_free(cp_tag_registry *reg) {
    if (!reg) return;
    for (size_t i = 0; i < reg->n_blocks; i++) free(reg->blocks[i]);
    free(reg->blocks);
    free(reg->e);
    free(reg->slots);
    memset(reg, 0, sizeof *reg);
}

static char *keep(cp_tag_registry *reg, const char *p, size_t len) {
    if (reg->n_blocks == reg->cap_blocks) {
        size_t nc = reg->cap_blocks ? reg->cap_blocks * 2 : 64;
        char **nb = realloc(reg->blocks, nc * sizeof *nb);
        if (!nb) return NULL;
        reg->blocks = nb;
        reg->cap_blocks = nc;
    }
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, p, len);
    s[len] = '\0';
    reg->blocks[reg->n_blocks++] = s;
    return s;
}

static bool rehash(cp_tag_registry *reg) {
    size_t ns = reg->n_slots ? reg->n_slots * 2 : 64;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < reg->n; i++) {
        size_t h = (size_t)cp_hash_bytes(reg->e[i].tag, strlen(reg->e[i].tag)) & (ns - 1);
        while (slots[h]) h = (h + 1) & (ns - 1);
        slots[h] = (uint32_t)i + 1;
    }
    free(reg->slots);
    reg->slots = slots;
    reg->n_slots = ns;
    return true;
}

const cp_tag_entry *cp_tag_registry_find(const cp_tag_registry *reg, const char *p, size_t len) {
    if (!reg || !reg->n_slots) return NULL;
    size_t h = (size_t)cp_hash_bytes(p, len) & (reg->n_slots - 1);
    while (reg->slots[h]) {
        const cp_tag_entry *e = &reg->e[reg->slots[h] - 1];
        if (strlen(e->tag) == len && memcmp(e->tag, p, len) == 0) return e;
        h = (h + 1) & (reg->n_slots - 1);
    }
    return NULL;
}

/* ---- CSV records ----------------------------------------------------------
 * One record from *pos: fields unquoted into `buf` (NUL-separated), offsets
 * in off[], up to max_fields (more are counted, not stored).  Returns 1 for a
 * record, 0 at the end, -1 on a quoting error (*why set).  *lines_used counts
 * the physical lines the record spans. */
typedef struct rec {
    char *buf;
    size_t len, cap;
    size_t off[16];
    size_t n_fields;
} rec;

static bool rec_put(rec *r, char c) {
    if (r->len == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        char *nb = realloc(r->buf, nc);
        if (!nb) return false;
        r->buf = nb;
        r->cap = nc;
    }
    r->buf[r->len++] = c;
    return true;
}

static bool rec_end_field(rec *r) {
    if (!rec_put(r, '\0')) return false;
    r->n_fields++;
    if (r->n_fields < 16) r->off[r->n_fields] = r->len;
    return true;
}

static int read_record(const char *d, size_t len, size_t *pos, rec *r, uint64_t *lines_used,
                       const char **why) {
    size_t i = *pos;
    r->len = 0;
    r->n_fields = 0;
    r->off[0] = 0;
    *lines_used = 1;
    if (i >= len) return 0;
    for (;;) {
        /* one field */
        if (i < len && d[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) { *why = "a quoted field is still open at the end of the file"; return -1; }
                char c = d[i++];
                if (c == '"') {
                    if (i < len && d[i] == '"') { if (!rec_put(r, '"')) goto oom; i++; continue; }
                    break;
                }
                if (c == '\n') (*lines_used)++;
                if (!rec_put(r, c)) goto oom;
            }
            if (i < len && d[i] != ',' && d[i] != '\n' && !(d[i] == '\r' && i + 1 < len && d[i + 1] == '\n') &&
                !(d[i] == '\r' && i + 1 == len)) {
                *why = "something other than a comma follows a closing quote";
                return -1;
            }
        } else {
            while (i < len && d[i] != ',' && d[i] != '\n') {
                if (d[i] == '"') { *why = "a quote inside an unquoted field"; return -1; }
                if (d[i] == '\r' && (i + 1 == len || d[i + 1] == '\n')) { i++; continue; }
                if (!rec_put(r, d[i])) goto oom;
                i++;
            }
        }
        if (i < len && d[i] == '\r') i++;
        if (!rec_end_field(r)) goto oom;
        if (i >= len) break;
        if (d[i] == ',') { i++; continue; }
        /* '\n' */
        i++;
        break;
    }
    *pos = i;
    return 1;
oom:
    *why = NULL;
    return -2;
}

static const char *field(const rec *r, size_t k, size_t *flen) {
    if (k >= r->n_fields || k >= 16) { *flen = 0; return ""; }
    const char *s = r->buf + r->off[k];
    *flen = strlen(s);
    return s;
}

static bool is_blank_line(const char *d, size_t len, size_t pos) {
    if (pos < len && d[pos] == '\n') return true;
    return pos + 1 < len && d[pos] == '\r' && d[pos + 1] == '\n';
}

cp_result cp_tag_registry_parse(cp_tag_registry *reg, const char *data, size_t len,
                                const char *path, cp_error *err) {
    memset(reg, 0, sizeof *reg);
    size_t pos = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    uint64_t line = 1;
    rec r = {0};
    int col_of[N_COLS];
    size_t n_header = 0;
    const char *why = NULL;
    uint64_t used;
    cp_result rc = CP_OK;

    /* header (blank lines before it are skipped) */
    while (pos < len && is_blank_line(data, len, pos)) {
        pos += data[pos] == '\r' ? 2 : 1;
        line++;
    }
    int got = read_record(data, len, &pos, &r, &used, &why);
    if (got == 0) { free(r.buf); return CP_OK; } /* empty file: empty registry */
    if (got == -2) { rc = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto out; }
    if (got < 0) { rc = fail(err, CP_EUSAGE, path, line, "header: %s", why); goto out; }
    n_header = r.n_fields;
    for (int c = 0; c < N_COLS; c++) col_of[c] = -1;
    for (size_t k = 0; k < r.n_fields && k < 16; k++) {
        size_t fl;
        const char *f = field(&r, k, &fl);
        for (int c = 0; c < N_COLS; c++)
            if (strcmp(f, col_names[c]) == 0 && col_of[c] < 0) col_of[c] = (int)k;
    }
    for (int c = 0; c < N_COLS; c++)
        if (col_of[c] < 0) {
            rc = fail(err, CP_EUSAGE, path, line,
                      "the header lacks the column '%s' (expected: tag,channel,publisher,campaign,asin)",
                      col_names[c]);
            goto out;
        }
    line += used;

    for (;;) {
        while (pos < len && is_blank_line(data, len, pos)) {
            pos += data[pos] == '\r' ? 2 : 1;
            line++;
        }
        got = read_record(data, len, &pos, &r, &used, &why);
        if (got == 0) break;
        if (got == -2) { rc = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto out; }
        if (got < 0) { rc = fail(err, CP_EUSAGE, path, line, "%s", why); goto out; }
        if (r.n_fields != n_header) {
            rc = fail(err, CP_EUSAGE, path, line, "%zu fields where the header has %zu", r.n_fields,
                      n_header);
            goto out;
        }
        size_t tl;
        const char *tag = field(&r, (size_t)col_of[COL_TAG], &tl);
        if (tl == 0) { rc = fail(err, CP_EUSAGE, path, line, "empty tag"); goto out; }
        size_t cl;
        const char *channel = field(&r, (size_t)col_of[COL_CHANNEL], &cl);
        cp_tag_entry *old = (cp_tag_entry *)cp_tag_registry_find(reg, tag, tl);
        if (old) {
            /* R5.1 "one tag used by one channel only": keep the first row,
             * mark the conflict for `tag check`. */
            if (strcmp(old->channel, channel) != 0) old->multi_channel = true;
        } else {
            if (reg->n == reg->cap) {
                size_t nc = reg->cap ? reg->cap * 2 : 64;
                cp_tag_entry *ne = realloc(reg->e, nc * sizeof *ne);
                if (!ne) { rc = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto out; }
                reg->e = ne;
                reg->cap = nc;
            }
            if ((reg->n + 1) * 2 > reg->n_slots && !rehash(reg)) {
                rc = fail(err, CP_ENOMEM, path, 0, "out of memory");
                goto out;
            }
            cp_tag_entry *e = &reg->e[reg->n];
            memset(e, 0, sizeof *e);
            const char **dst[N_COLS] = {&e->tag, &e->channel, &e->publisher, &e->campaign, &e->asin};
            for (int c = 0; c < N_COLS; c++) {
                size_t fl;
                const char *f = field(&r, (size_t)col_of[c], &fl);
                char *s = keep(reg, f, fl);
                if (!s) { rc = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto out; }
                *dst[c] = s;
            }
            e->line = line;
            size_t h = (size_t)cp_hash_bytes(e->tag, tl) & (reg->n_slots - 1);
            while (reg->slots[h]) h = (h + 1) & (reg->n_slots - 1);
            reg->slots[h] = (uint32_t)++reg->n;
        }
        line += used;
    }
    reg->lines = line - 1;
out:
    free(r.buf);
    if (rc) cp_tag_registry_free(reg);
    return rc;
}

static cp_result read_fd(int fd, const char *path, char **data, size_t *len, cp_error *err) {
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    if (!b) return fail(err, CP_ENOMEM, path, 0, "out of memory");
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) { free(b); return fail(err, CP_ENOMEM, path, 0, "out of memory"); }
            b = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0) {
            if (errno == EINTR) continue;
            free(b);
            return fail(err, CP_EIO, path, 0, "cannot read: %s", strerror(errno));
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    b[n] = '\0';
    *data = b;
    *len = n;
    return CP_OK;
}

cp_result cp_tag_registry_load(cp_tag_registry *reg, const char *path, cp_error *err) {
    memset(reg, 0, sizeof *reg);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, CP_EIO, path, 0, "cannot open the tag registry: %s", strerror(errno));
    char *data;
    size_t len;
    cp_result rc = read_fd(fd, path, &data, &len, err);
    close(fd);
    if (rc) return rc;
    rc = cp_tag_registry_parse(reg, data, len, path, err);
    free(data);
    return rc;
}

/* ---- appending (tag new) ------------------------------------------------- */

static bool valid_tag(const char *t) {
    size_t n = strlen(t);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool valid_asin(const char *a) {
    if (strlen(a) != 10) return false;
    for (int i = 0; i < 10; i++)
        if (!((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= '0' && a[i] <= '9'))) return false;
    return true;
}

/* Appends s to b as one CSV field (quoted when it holds , " or CR). */
static void csv_field(char *b, size_t cap, size_t *n, const char *s) {
    bool q = strpbrk(s, ",\"\r") != NULL;
    if (q && *n < cap) b[(*n)++] = '"';
    for (; *s && *n < cap; s++) {
        if (*s == '"' && *n < cap) b[(*n)++] = '"';
        if (*n < cap) b[(*n)++] = *s;
    }
    if (q && *n < cap) b[(*n)++] = '"';
}

static cp_result write_all(int fd, const char *p, size_t n, const char *path, cp_error *err) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(err, CP_EIO, path, 0, "cannot write: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return CP_OK;
}

cp_result cp_tag_registry_add(const char *path, const cp_tag_new *row, char *out_tag, size_t out_cap,
                              cp_error *err) {
    const char *vals[4] = {row->channel, row->publisher, row->campaign, row->asin};
    static const char *const names[4] = {"--channel", "--publisher", "--campaign", "--asin"};
    for (int k = 0; k < 4; k++) {
        if (!vals[k] || !*vals[k]) return fail(err, CP_EUSAGE, path, 0, "%s is required", names[k]);
        if (strchr(vals[k], '\n') || strlen(vals[k]) > 200)
            return fail(err, CP_EUSAGE, path, 0, "%s: a value must be one line of at most 200 bytes",
                        names[k]);
    }
    if (!valid_asin(row->asin))
        return fail(err, CP_EUSAGE, path, 0, "--asin '%s' is not an ASIN (10 characters A-Z, 0-9)",
                    row->asin);
    if (row->tag && !valid_tag(row->tag))
        return fail(err, CP_EUSAGE, path, 0,
                    "--tag '%s': use 1 to 64 of A-Z a-z 0-9 . _ - (R5.2 forbids / & = # ? + ' \" %% $)",
                    row->tag);

    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(err, CP_EIO, path, 0, "cannot open: %s", strerror(errno));
    /* One writer at a time: the lock covers read, choose a tag, append. */
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return fail(err, CP_EIO, path, 0, "cannot lock: %s", strerror(e));
        }
    }
    char *data = NULL;
    size_t len = 0;
    cp_tag_registry reg = {0};
    char tag[80];
    char line[1200];
    size_t n = 0;
    cp_result rc = read_fd(fd, path, &data, &len, err);
    if (rc) goto out;
    rc = cp_tag_registry_parse(&reg, data, len, path, err);
    if (rc) goto out;
    if (row->tag) {
        snprintf(tag, sizeof tag, "%s", row->tag);
        if (cp_tag_registry_find(&reg, tag, strlen(tag))) {
            rc = fail(err, CP_EUSAGE, path, 0, "tag '%s' is already registered", tag);
            goto out;
        }
    } else {
        char prefix[16];
        size_t pl = 0;
        for (const char *c = row->channel; *c && pl < 12; c++) {
            char ch = *c;
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
            if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) prefix[pl++] = ch;
        }
        if (!pl) { memcpy(prefix, "tag", 3); pl = 3; }
        prefix[pl] = '\0';
        /* next counter: one more than the highest PREFIX-N in the file */
        unsigned long next = 1;
        for (size_t i = 0; i < reg.n; i++) {
            const char *t = reg.e[i].tag;
            if (strncmp(t, prefix, pl) != 0 || t[pl] != '-') continue;
            const char *d = t + pl + 1;
            unsigned long v = 0;
            size_t k = 0;
            while (d[k] >= '0' && d[k] <= '9' && k < 9) v = v * 10 + (unsigned long)(d[k++] - '0');
            if (k && !d[k] && v >= next) next = v + 1;
        }
        for (;;) {
            snprintf(tag, sizeof tag, "%s-%04lu", prefix, next);
            if (!cp_tag_registry_find(&reg, tag, strlen(tag))) break;
            next++;
        }
    }
    /* Header when the file is new or empty; a missing final newline first. */
    if (len == 0) n += (size_t)snprintf(line, sizeof line, "tag,channel,publisher,campaign,asin\n");
    else if (data[len - 1] != '\n') line[n++] = '\n';
    csv_field(line, sizeof line - 2, &n, tag);
    for (int k = 0; k < 4; k++) {
        line[n++] = ',';
        csv_field(line, sizeof line - 2, &n, vals[k]);
    }
    line[n++] = '\n';
    if (lseek(fd, 0, SEEK_END) < 0) { rc = fail(err, CP_EIO, path, 0, "cannot seek"); goto out; }
    rc = write_all(fd, line, n, path, err);
    if (!rc) snprintf(out_tag, out_cap, "%s", tag);
out:
    cp_tag_registry_free(&reg);
    free(data);
    flock(fd, LOCK_UN);
    if (close(fd) != 0 && !rc) rc = fail(err, CP_EIO, path, 0, "cannot close: %s", strerror(errno));
    return rc;
}

int cp_tag_url(char *buf, size_t cap, const char *base, const char *asin, const char *tag) {
    if (!base || !*base) base = "https://www.amazon.com";
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    return snprintf(buf, cap, "%.*s/dp/%s?tag=%s", (int)bl, base, asin, tag);
}

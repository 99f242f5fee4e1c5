/* cidr.c -- the --ip-blocklist file of SPEC R3.1.2: IPv4 and IPv6 CIDRs and
 * bare addresses, '#' comments.  Parsed by hand (inet_pton only for the
 * address itself), held as sorted, merged 128-bit ranges: a lookup is one
 * binary search. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality.h"

static void fill_err(cp_error *err, cp_result code, const char *path, uint64_t line,
                     const char *msg) {
    if (!err) return;
    err->code = code;
    err->file = path;
    err->line = line;
    err->field = NULL;
    if (line)
        snprintf(err->msg, sizeof err->msg, "%s:%llu: %s", path ? path : "-",
                 (unsigned long long)line, msg);
    else
        snprintf(err->msg, sizeof err->msg, "%s: %s", path ? path : "-", msg);
}

cp_result cp_quality_read_file(const char *path, char **data, size_t *len, cp_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fill_err(err, CP_EUSAGE, path, 0, strerror(errno));
        return CP_EUSAGE;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) { fclose(f); fill_err(err, CP_ENOMEM, path, 0, "out of memory"); return CP_ENOMEM; }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); fclose(f); fill_err(err, CP_ENOMEM, path, 0, "out of memory"); return CP_ENOMEM; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fill_err(err, CP_EIO, path, 0, "read error");
        return CP_EIO;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return CP_OK;
}

bool cp_ip_parse(const char *p, size_t len, cp_ip128 *out, bool *is_v4) {
    /* inet_pton needs a NUL-terminated copy; no address is longer than
     * INET6_ADDRSTRLEN (46) bytes. */
    char tmp[64];
    if (len == 0 || len >= sizeof tmp) return false;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    unsigned char b[16];
    if (memchr(tmp, ':', len)) {
        if (inet_pton(AF_INET6, tmp, b) != 1) return false;
        *is_v4 = false;
    } else {
        unsigned char b4[4];
        if (inet_pton(AF_INET, tmp, b4) != 1) return false;
        memset(b, 0, 10);
        b[10] = 0xff;
        b[11] = 0xff;
        memcpy(b + 12, b4, 4);
        *is_v4 = true;
    }
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; i++) hi = hi << 8 | b[i];
    for (int i = 8; i < 16; i++) lo = lo << 8 | b[i];
    out->hi = hi;
    out->lo = lo;
    return true;
}

/* Mask of the low (128 - prefix) bits, split in two words. */
static void host_mask(unsigned prefix, uint64_t *mhi, uint64_t *mlo) {
    if (prefix >= 128) { *mhi = 0; *mlo = 0; return; }
    if (prefix >= 64) { *mhi = 0; *mlo = UINT64_MAX >> (prefix - 64); return; }
    *mlo = UINT64_MAX;
    *mhi = prefix == 0 ? UINT64_MAX : UINT64_MAX >> prefix;
}

bool cp_cidr_parse(const char *p, size_t len, cp_ip128 *first, cp_ip128 *last) {
    const char *slash = memchr(p, '/', len);
    size_t alen = slash ? (size_t)(slash - p) : len;
    cp_ip128 a;
    bool v4;
    if (!cp_ip_parse(p, alen, &a, &v4)) return false;
    unsigned prefix = v4 ? 32 : 128;
    if (slash) {
        const char *d = slash + 1, *end = p + len;
        if (d == end || end - d > 3) return false;
        unsigned v = 0;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9') return false;
            v = v * 10 + (unsigned)(*d - '0');
        }
        if (v > prefix) return false;
        prefix = v;
    }
    if (v4) prefix += 96; /* IPv4-mapped: the first 96 bits are fixed */
    uint64_t mhi, mlo;
    host_mask(prefix, &mhi, &mlo);
    first->hi = a.hi & ~mhi;
    first->lo = a.lo & ~mlo;
    last->hi = a.hi | mhi;
    last->lo = a.lo | mlo;
    return true;
}

static int ip_cmp(const cp_ip128 *a, const cp_ip128 *b) {
    if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return 0;
}

typedef struct range_pair { cp_ip128 first, last; } range_pair;

static int range_cmp(const void *x, const void *y) {
    const range_pair *a = x, *b = y;
    return ip_cmp(&a->first, &b->first);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

cp_result cp_cidr_set_parse(cp_cidr_set *set, const char *data, size_t len,
                            const char *path, cp_error *err) {
    memset(set, 0, sizeof *set);
    range_pair *r = NULL;
    size_t n = 0, cap = 0;
    uint64_t line = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *hash = memchr(p, '#', (size_t)(le - p));
        const char *ve = hash ? hash : le;
        const char *vs = p;
        while (vs < ve && is_blank(*vs)) vs++;
        while (ve > vs && is_blank(ve[-1])) ve--;
        p = nl ? nl + 1 : end;
        if (vs == ve) continue;
        range_pair rp;
        if (!cp_cidr_parse(vs, (size_t)(ve - vs), &rp.first, &rp.last)) {
            free(r);
            char msg[160];
            snprintf(msg, sizeof msg, "not an IPv4/IPv6 address or CIDR: '%.*s'",
                     (int)((ve - vs) > 80 ? 80 : (ve - vs)), vs);
            fill_err(err, CP_EUSAGE, path, line, msg);
            return CP_EUSAGE;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            range_pair *nr = realloc(r, ncap * sizeof *nr);
            if (!nr) { free(r); fill_err(err, CP_ENOMEM, path, 0, "out of memory"); return CP_ENOMEM; }
            r = nr;
            cap = ncap;
        }
        r[n++] = rp;
    }
    if (n == 0) { free(r); return CP_OK; }
    qsort(r, n, sizeof *r, range_cmp);
    set->first = malloc(n * sizeof *set->first);
    set->last = malloc(n * sizeof *set->last);
    if (!set->first || !set->last) {
        free(r);
        cp_cidr_set_free(set);
        fill_err(err, CP_ENOMEM, path, 0, "out of memory");
        return CP_ENOMEM;
    }
    /* Merge overlapping or adjacent ranges so that the binary search finds
     * at most one candidate. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0) {
            cp_ip128 *pl = &set->last[m - 1];
            bool touches = ip_cmp(&r[i].first, pl) <= 0 ||
                (pl->lo == UINT64_MAX ? (r[i].first.hi == pl->hi + 1 && r[i].first.lo == 0)
                                      : (r[i].first.hi == pl->hi && r[i].first.lo == pl->lo + 1));
            if (touches) {
                if (ip_cmp(&r[i].last, pl) > 0) *pl = r[i].last;
                continue;
            }
        }
        set->first[m] = r[i].first;
        set->last[m] = r[i].last;
        m++;
    }
    free(r);
    set->n = m;
    set->cap = n;
    return CP_OK;
}

cp_result cp_cidr_set_load(cp_cidr_set *set, const char *path, cp_error *err) {
    char *data;
    size_t len;
    cp_result rc = cp_quality_read_file(path, &data, &len, err);
    if (rc != CP_OK) { memset(set, 0, sizeof *set); return rc; }
    rc = cp_cidr_set_parse(set, data, len, path, err);
    free(data);
    return rc;
}

bool cp_cidr_set_contains(const cp_cidr_set *set, const char *ip, size_t len) {
    if (set->n == 0) return false;
    cp_ip128 a;
    bool v4;
    if (!cp_ip_parse(ip, len, &a, &v4)) return false;
    /* Last range whose first <= a. */
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ip_cmp(&set->first[mid], &a) <= 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return false;
    return ip_cmp(&a, &set->last[lo - 1]) <= 0;
}

void cp_cidr_set_free(cp_cidr_set *set) {
    free(set->first);
    free(set->last);
    memset(set, 0, sizeof *set);
}

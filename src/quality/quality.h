/* quality.h -- internals of the traffic-quality stage (SPEC R3): the bot list
 * of R3.1.1 and the CIDR blocklist of R3.1.2.  Exposed to the stage, its
 * tests and its fuzz targets; not part of the public API.
 *
 * Both are loaded once per run from a file (or the built-in list) and are
 * read-only afterwards: matching may be called from several threads.
 */
#ifndef CLICKPATH_QUALITY_H
#define CLICKPATH_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/clickpath.h"
#include "clickpath/report.h"

/* ---- the stage in two parts ------------------------------------------------
 * cp_quality_build() is the status part then the links part.  They read only
 * the run and write disjoint fields of the context, so the report pipeline
 * (report.c) runs them at the same time. */
/* R3.1, R3.2: ctx->status and ctx->ua_rule_on. */
cp_result cp_quality_build_status(cp_report_ctx *ctx, cp_error *err);
/* R4.3: ctx->click_of and ctx->landing_pv. */
cp_result cp_quality_build_links(cp_report_ctx *ctx, cp_error *err);

/* ---- bot list (R3.1.1) ---------------------------------------------------
 * Case-insensitive substrings, plus POSIX extended regular expressions for
 * the patterns of a crawler-user-agents JSON list that are not plain
 * literals.  Substrings are indexed by their first two lower-case bytes so a
 * user agent is scanned once, not once per pattern. */
typedef struct cp_botlist {
    char *lit;            /* lower-case literals, each NUL-terminated */
    uint32_t *lit_off;    /* start of literal i in lit */
    uint32_t *lit_len;
    size_t n_lit;
    uint32_t *bucket;     /* CSR over 65536 two-byte keys: literal indexes */
    uint32_t *bucket_start; /* 65537 entries */
    uint32_t *short_lits; /* literals of length 1 */
    size_t n_short;
    void *re;             /* regex_t array */
    size_t n_re;
    size_t n_fallback;    /* regex patterns that did not compile: kept as
                           * literal substrings (their escapes undone) */
    size_t n_patterns;    /* patterns read (substrings + regexes) */
} cp_botlist;

/* The built-in list (src/quality/botlist.c). */
cp_result cp_botlist_builtin(cp_botlist *bl, cp_error *err);
/* Parses a --bot-list file held in memory: one substring per line (blank
 * lines and lines starting with '#' skipped, CR before LF dropped), or, when
 * the first non-blank byte is '[', the crawler-user-agents JSON array whose
 * objects' "pattern" strings are regular expressions.  `path` names the file
 * in errors.  On failure fills *err (CP_EUSAGE, with file and line) and
 * leaves *bl empty. */
cp_result cp_botlist_parse(cp_botlist *bl, const char *data, size_t len,
                           const char *path, cp_error *err);
/* Reads and parses a file. */
cp_result cp_botlist_load(cp_botlist *bl, const char *path, cp_error *err);
/* True when the user agent (len bytes, need not be NUL-terminated) matches. */
bool cp_botlist_match(const cp_botlist *bl, const char *ua, size_t len);
void cp_botlist_free(cp_botlist *bl); /* accepts a zeroed struct */

/* ---- CIDR blocklist (R3.1.2) ---------------------------------------------
 * IPv4 and IPv6 networks, held as merged, sorted ranges of 128-bit addresses
 * (IPv4 as IPv4-mapped IPv6, ::ffff:a.b.c.d), so lookup is a binary search. */
typedef struct cp_ip128 {
    uint64_t hi, lo;
} cp_ip128;

typedef struct cp_cidr_set {
    cp_ip128 *first, *last; /* inclusive ranges, sorted, disjoint */
    size_t n;
    size_t cap;
} cp_cidr_set;

/* Parses one address ("192.0.2.1", "2001:db8::1") of len bytes into a
 * 128-bit value (IPv4 mapped).  Sets *is_v4.  Returns false when it is not an
 * address. */
bool cp_ip_parse(const char *p, size_t len, cp_ip128 *out, bool *is_v4);
/* Parses one CIDR ("10.0.0.0/8", "2001:db8::/32", or a bare address = /32 or
 * /128).  Host bits below the prefix are ignored.  Returns false when bad. */
bool cp_cidr_parse(const char *p, size_t len, cp_ip128 *first, cp_ip128 *last);
/* Parses a blocklist file held in memory: one CIDR per line, '#' starts a
 * comment, blanks around a value and blank lines are skipped.  A bad line is
 * CP_EUSAGE naming path:line.  The set is sorted and merged on success. */
cp_result cp_cidr_set_parse(cp_cidr_set *set, const char *data, size_t len,
                            const char *path, cp_error *err);
cp_result cp_cidr_set_load(cp_cidr_set *set, const char *path, cp_error *err);
/* True when the address string is an address inside one of the ranges. */
bool cp_cidr_set_contains(const cp_cidr_set *set, const char *ip, size_t len);
void cp_cidr_set_free(cp_cidr_set *set); /* accepts a zeroed struct */

/* The landing page view of a click row (R4.3): the landing of the first
 * click carrying its click_id, or CP_NONE (then a valid click is bounced,
 * R3.4).  Needs cp_quality_build. */
static inline uint32_t cp_quality_landing(const cp_report_ctx *ctx, uint32_t click_row) {
    uint32_t f = ctx->click_of ? ctx->click_of[cp_report_rank(ctx, click_row)] : CP_NONE;
    if (f == CP_NONE || !ctx->landing_pv) return CP_NONE;
    return ctx->landing_pv[cp_report_rank(ctx, f)];
}

/* Reads a whole file into a NUL-terminated heap buffer (free with free()). */
cp_result cp_quality_read_file(const char *path, char **data, size_t *len, cp_error *err);

#endif

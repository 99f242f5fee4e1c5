/* tags.h -- off-site tracking tags (SPEC R5): the tag registry of R5.1, the
 * URL checks of R5.1 and R5.2, and the `clickpath tag` command.  Internal to
 * clickpath: used by the attribution stage (R7), the CLI, the tests and the
 * fuzz targets.
 *
 * Registry file (R5.1): CSV (RFC 4180 quoting) with a header naming the
 * columns tag, channel, publisher, campaign, asin (any order; other columns
 * are ignored).  Blank lines are skipped, CRLF and a UTF-8 BOM are accepted.
 * A row with another field count, an empty tag, or a quoting error is a
 * CP_EUSAGE error naming FILE:LINE.  A tag listed twice keeps its first row;
 * when a later row gives it another channel the entry is marked
 * (multi_channel), which `tag check` reports as TAG_MULTI_CHANNEL.
 *
 * Ownership: a registry owns all its strings; free with
 * cp_tag_registry_free().  After loading it is read-only and may be read from
 * several threads.
 */
#ifndef CLICKPATH_TAGS_H
#define CLICKPATH_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/clickpath.h"

typedef struct cp_tag_entry {
    const char *tag, *channel, *publisher, *campaign, *asin; /* NUL-terminated, "" when empty */
    uint64_t line;       /* line of its first row in the file */
    bool multi_channel;  /* another row of the same tag names another channel */
} cp_tag_entry;

typedef struct cp_tag_registry {
    cp_tag_entry *e;     /* in file order */
    size_t n, cap;
    uint32_t *slots;     /* open addressing: entry index + 1; 0 = empty */
    size_t n_slots;      /* power of two */
    char **blocks;       /* string storage */
    size_t n_blocks, cap_blocks;
    uint64_t lines;      /* physical lines read (for appends) */
} cp_tag_registry;

/* Parses registry text held in memory (need not be NUL-terminated).  `path`
 * names the file in errors ("FILE:LINE: reason" in err->msg, err->file and
 * err->line set).  Empty text is an empty registry.  On failure *reg is left
 * empty (freed). */
cp_result cp_tag_registry_parse(cp_tag_registry *reg, const char *data, size_t len,
                                const char *path, cp_error *err);
/* Reads and parses a file (CP_EIO when it cannot be read). */
cp_result cp_tag_registry_load(cp_tag_registry *reg, const char *path, cp_error *err);
/* The entry of tag p[0..len), or NULL. */
const cp_tag_entry *cp_tag_registry_find(const cp_tag_registry *reg, const char *p, size_t len);
void cp_tag_registry_free(cp_tag_registry *reg); /* accepts a zeroed struct */

/* A new registry row for cp_tag_registry_add. */
typedef struct cp_tag_new {
    const char *tag;     /* NULL: generate one (CHANNEL-NNNN, see below) */
    const char *channel, *publisher, *campaign, *asin;
} cp_tag_new;

/* Appends a row to the registry file at `path` (created, with its header,
 * when missing or empty) under an exclusive flock(), so concurrent runs, in
 * one process or several, never interleave or lose rows.  The row is written
 * with one write() call.  A tag already registered is CP_EUSAGE.  Without a
 * tag, one is generated: the channel lower-cased with everything but a-z 0-9
 * dropped (at most 12 characters; "tag" when nothing is left), a '-', and
 * the next 4-digit counter for that prefix (google-0001, google-0002...).
 * Values must not hold a newline; the tag only [A-Za-z0-9._-] (so that it
 * passes R5.2's character rule) and at most 64 characters; the asin 10
 * characters A-Z 0-9.  Writes the tag into out_tag (cap >= 80). */
cp_result cp_tag_registry_add(const char *path, const cp_tag_new *row, char *out_tag,
                              size_t out_cap, cp_error *err);

/* The tracking URL of a tag (R5.1): BASE/dp/ASIN?tag=TAG, where BASE is the
 * marketplace origin (default https://www.amazon.com, a trailing '/'
 * dropped).  Returns the length written (snprintf rules). */
int cp_tag_url(char *buf, size_t cap, const char *base, const char *asin, const char *tag);

/* ---- URL checks (R5.1, R5.2) ---------------------------------------------
 * One finding per broken rule.  Codes are stable (append only): */
typedef enum cp_url_code {
    CP_URL_NOT_A_URL = 0,        /* no scheme://host */
    CP_URL_NOT_A_LANDING_PAGE,   /* path is not /dp/ASIN, /gp/product/ASIN or /stores/... */
    CP_URL_TAG_MISSING,          /* no tag (nor maas) parameter */
    CP_URL_TAG_UNKNOWN,          /* tag not in the registry */
    CP_URL_ASIN_MISMATCH,        /* the URL's ASIN is not the registry's */
    CP_URL_TAG_MULTI_CHANNEL,    /* the registry gives the tag two channels */
    CP_URL_VALUE_TOO_LONG,       /* an attribution value over 255 characters */
    CP_URL_BAD_CHARACTER,        /* / & = # ? + ' " % $ inside a value (decoded) */
    CP_URL_DUPLICATE_PARAM,      /* a second ref_ or tag */
    CP_URL_UNEXPANDED_MACRO,     /* a {macro} left in the URL */
    CP_URL_EMPTY_VALUE,          /* an attribution parameter without a value */
    CP_N_URL_CODES
} cp_url_code;

typedef struct cp_url_finding {
    cp_url_code code;
    char detail[160]; /* the parameter or value at fault, for the message */
} cp_url_finding;

const char *cp_url_code_name(cp_url_code c);        /* "TAG_UNKNOWN" */
const char *cp_url_code_explanation(cp_url_code c); /* one line */

/* Checks one URL (len bytes).  reg may be NULL: then the registry rules
 * (TAG_UNKNOWN, ASIN_MISMATCH, TAG_MULTI_CHANNEL) are skipped.  Writes up to
 * cap findings, in cp_url_code order, and returns how many there are (may
 * exceed cap).  Never reads outside [url, url + len). */
size_t cp_url_check(const cp_tag_registry *reg, const char *url, size_t len,
                    cp_url_finding *out, size_t cap);

/* `clickpath tag new|list|check ...` (argv[0] = "tag").  Returns the exit
 * status: 0 ok, 1 a URL failed a check, 2 usage error. */
int cp_cli_tag(int argc, char **argv);

#endif /* CLICKPATH_TAGS_H */

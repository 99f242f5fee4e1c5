/* table.h -- writers shared by every report: one table per report file, in
 * CSV (RFC 4180) or JSON (an array of objects with the same keys), and the
 * run summary (summary.json plus the human summary on stdout).
 *
 * Cells follow R8: counts as integers, money exact (cp_fmt_money), ratios
 * half-to-even to six decimals, dates YYYY-MM-DD, timestamps RFC 3339 UTC with
 * milliseconds.  An empty cell is written as nothing in CSV and as null in
 * JSON.
 *
 * Ownership: a cp_table owns its buffer and file until cp_table_close(),
 * which frees it whatever it returns.  Writers buffer in 1 MiB blocks; cell
 * functions never fail: the first I/O error is kept and returned by close.
 */
#ifndef CLICKPATH_TABLE_H
#define CLICKPATH_TABLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/report.h"

typedef struct cp_table cp_table;

/* Opens DIR/NAME.csv or DIR/NAME.json (by fmt) with these column names. */
cp_table *cp_table_open(const char *dir, const char *name, cp_format fmt,
                        const char *const *columns, size_t n_columns, cp_error *err);
void cp_table_str(cp_table *t, const char *s, size_t len); /* text; len 0 = empty */
void cp_table_cstr(cp_table *t, const char *s);            /* NULL = empty */
void cp_table_sid(cp_table *t, const cp_strings *str, cp_str id); /* interned */
void cp_table_int(cp_table *t, int64_t v);
void cp_table_money(cp_table *t, int64_t micros);
void cp_table_ratio(cp_table *t, int64_t num, int64_t den); /* den 0 = empty */
void cp_table_double6(cp_table *t, double v);               /* model outputs */
void cp_table_day(cp_table *t, int32_t day);                /* days since epoch */
void cp_table_ts(cp_table *t, int64_t t_ms);
void cp_table_bool(cp_table *t, bool v);                    /* true / false */
void cp_table_empty(cp_table *t);
void cp_table_end_row(cp_table *t);
/* Flushes, closes and frees t (accepts NULL). */
cp_result cp_table_close(cp_table *t, cp_error *err);

/* ---- summary ------------------------------------------------------------
 * A JSON object built key by key (keys kept in insertion order), plus lines
 * of the human summary.  Nested objects with _begin/_end. */
typedef struct cp_summary cp_summary;

cp_summary *cp_summary_new(void);
void cp_summary_free(cp_summary *s);
/* A fragment: a summary whose keys and human lines continue another one at
 * its top level.  Writers that run at the same time each fill their own
 * fragment (a summary is not thread-safe); cp_summary_splice() then appends
 * the fragments in a fixed order, and the result is byte for byte what the
 * writers would have written into one summary in that order.  NULL when out
 * of memory. */
cp_summary *cp_summary_fragment(void);
/* Appends frag's keys (closing what frag left open) and human lines to s,
 * which must be at its top level (no object or array open), and frees frag.
 * Accepts NULL frag. */
void cp_summary_splice(cp_summary *s, cp_summary *frag);
void cp_summary_begin(cp_summary *s, const char *key);       /* "key": { */
void cp_summary_begin_array(cp_summary *s, const char *key); /* "key": [ ; key NULL inside arrays */
void cp_summary_end(cp_summary *s);                          /* } or ] */
void cp_summary_int(cp_summary *s, const char *key, int64_t v);
void cp_summary_money(cp_summary *s, const char *key, int64_t micros);
void cp_summary_ratio(cp_summary *s, const char *key, int64_t num, int64_t den);
void cp_summary_double(cp_summary *s, const char *key, double v);
void cp_summary_str(cp_summary *s, const char *key, const char *v); /* NULL = null */
void cp_summary_bool(cp_summary *s, const char *key, bool v);
/* A line of the human summary (printed by the CLI unless --quiet). */
void cp_summary_human(cp_summary *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The JSON text and the human text, NUL-terminated, owned by s. */
const char *cp_summary_json(cp_summary *s);
const char *cp_summary_text(const cp_summary *s);
cp_result cp_summary_write(cp_summary *s, const char *path, cp_error *err);

/* JSON string escaping into a growing buffer (used by both writers). */
typedef struct cp_buf {
    char *p;
    size_t len, cap;
    bool oom;
} cp_buf;
void cp_buf_put(cp_buf *b, const void *p, size_t len);
void cp_buf_puts(cp_buf *b, const char *s);
void cp_buf_printf(cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cp_buf_json_str(cp_buf *b, const char *s, size_t len);
void cp_buf_free(cp_buf *b);

/* Creates DIR (and parents) when missing. */
cp_result cp_mkdir_p(const char *dir, cp_error *err);

#endif

/* values.h -- parsing and formatting of single values: timestamps (R1.2,
 * R1.4a --ts-format / --input-tz), exact decimals (R1.5), integers, time
 * zones from the system's tzdata, and the number formats of R8.
 *
 * Parsers take (pointer, length) spans that are NOT NUL-terminated, never
 * allocate, never read outside [p, p + len), and leave *out untouched on
 * failure.  Values are not trimmed (R1.4b): " 1" is not a number.
 */
#ifndef CLICKPATH_VALUES_H
#define CLICKPATH_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/report.h" /* cp_tz */

/* Range of R1.4b: 1970-01-01T00:00:00Z .. 2099-12-31T23:59:59Z (inclusive). */
#define CP_TS_MIN_MS INT64_C(0)
#define CP_TS_MAX_MS INT64_C(4102444799000)

/* ---- time zones (system tzdata, /usr/share/zoneinfo) ---------------------
 * cp_tz_open: NULL name or "UTC" gives UTC.  Returns NULL for a name with no
 * tzdata file (the caller reports a usage error).  Thread-safe after open:
 * lookups are cached per 15-minute bucket. */
cp_tz *cp_tz_open(const char *name);
void cp_tz_free(cp_tz *tz); /* accepts NULL */
const char *cp_tz_name(const cp_tz *tz);
/* Offset east of UTC in seconds, in force at UTC instant t_ms. */
int32_t cp_tz_offset_at_utc(const cp_tz *tz, int64_t t_ms);
/* Converts a local wall-clock time (ms since 1970-01-01 as if UTC) to UTC.
 * In a gap (spring forward) the offset before the gap is used; in an overlap
 * (fall back) the earlier instant is chosen. */
int64_t cp_tz_local_to_utc(const cp_tz *tz, int64_t local_ms);
/* Calendar day in tz of UTC instant t_ms, as days since 1970-01-01. */
int32_t cp_tz_day(const cp_tz *tz, int64_t t_ms);

/* ---- civil calendar ------------------------------------------------------ */
/* Days since 1970-01-01 of a proleptic Gregorian date (no range checks). */
int64_t cp_days_from_civil(int64_t y, unsigned m, unsigned d);
void cp_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* ---- timestamps (R1.2) ----------------------------------------------------
 * Accepts RFC 3339 (`T`, `t` or a space between date and time; fraction of any
 * length truncated to ms; `Z`, `z`, `+HH:MM`, `+HHMM` or no offset, in which
 * case the wall time is in `input_tz`), integer epoch seconds (1..11 digits) or
 * milliseconds (13 digits).  Rejects impossible dates and anything outside
 * [CP_TS_MIN_MS, CP_TS_MAX_MS].  input_tz NULL means UTC. */
bool cp_parse_ts(const char *p, size_t len, const cp_tz *input_tz, int64_t *out_ms);

/* --ts-format: strftime-style layout.  Directives: %Y %m %d %e %H %M %S %y
 * %b %B %h (English month names, any case) %j %I %p %z (+HHMM, +HH:MM, Z)
 * %Z (ignored word) %s (epoch seconds) %f (fraction, any digits) %F %T %%,
 * and whitespace in the format matching one or more blanks.  The whole value
 * must match.  Without %z the wall time is in input_tz. */
bool cp_parse_ts_format(const char *p, size_t len, const char *fmt,
                        const cp_tz *input_tz, int64_t *out_ms);

/* ---- numbers (R1.4b, R1.5) ------------------------------------------------
 * Plain decimal into micro-units: optional '-', digits, optional '.' and
 * digits (at least one digit in all); at most 6 significant decimals (more
 * are allowed only when they are zeros); |value| <= 10^12.  No exponent, no
 * '+', no spaces, no NaN/inf.  The caller decides whether negative is bad. */
bool cp_parse_decimal_micros(const char *p, size_t len, int64_t *out_micros);
/* Integer: optional '-', digits; |value| <= 10^9 (R1.4b units). */
bool cp_parse_int(const char *p, size_t len, int64_t *out);

/* ---- R8 output formats ----------------------------------------------------
 * All write a NUL-terminated string into buf (size >= 48) and return its
 * length. */
/* Money: exact, at least two decimals, no more than needed: 12.50, 7.665, -3.00 */
size_t cp_fmt_money(char *buf, int64_t micros);
/* num/den rounded half to even to six decimals (exact integer arithmetic);
 * returns 0 and writes "" when den == 0. */
size_t cp_fmt_ratio(char *buf, int64_t num, int64_t den);
/* Same for a double (used only for model outputs, R10.5). */
size_t cp_fmt_double6(char *buf, double v);
/* RFC 3339 UTC with milliseconds: 2024-03-01T12:34:56.000Z */
size_t cp_fmt_ts(char *buf, int64_t t_ms);
/* YYYY-MM-DD of days since 1970-01-01. */
size_t cp_fmt_day(char *buf, int32_t day);

#endif /* CLICKPATH_VALUES_H */

/* values.c -- single values: timestamps (R1.2, R1.4a --ts-format and
 * --input-tz, R1.4b bad_ts), report time zones (R4.4), exact decimals and
 * integers (R1.4b bad_cost/bad_units, R1.5) and the number formats of R8.
 *
 * Choices where SPEC is silent (kept in step with docs/input-format.md,
 * section "Timestamps and numbers -- choices where SPEC is silent"):
 *
 * Timestamps (cp_parse_ts)
 *  - A value made only of ASCII digits is an epoch: 1..11 digits are seconds,
 *    exactly 13 digits are milliseconds; 12 or more than 13 digits are bad.
 *    Leading zeros count as digits.  No sign, no fraction ("1700000000.5" is
 *    bad).  So "2024" is 2024 s after the epoch, not a year, and "20240301"
 *    is epoch seconds, not a date (use --ts-format %Y%m%d for that).
 *  - RFC 3339 is taken strictly: YYYY-MM-DD, one of `T`, `t` or one space,
 *    HH:MM:SS (seconds required), optionally `.` and one or more digits, then
 *    `Z`, `z`, `+HH:MM`, `-HH:MM`, `+HHMM`, `-HHMM` or nothing.  A date alone,
 *    a time without seconds, `,` as decimal mark, a space before the offset,
 *    a trailing zone word (" UTC") and an hour-only offset ("+08") are bad;
 *    --ts-format reads such layouts.
 *  - Impossible fields are bad: month 00/13, day 00 or past the month's end
 *    (Feb 29 only in leap years), hour 24, minute 60, second 60 (no leap
 *    seconds), offset hours above 23 or minutes above 59.  "-00:00" is UTC.
 *  - The fraction is truncated, never rounded, to milliseconds, *before* the
 *    range check: 1970-01-01T00:00:00.0009Z is 0 and in range, while
 *    2099-12-31T23:59:59.999Z is past the last instant, ...59.000Z.
 *  - The range [1970-01-01T00:00:00Z, 2099-12-31T23:59:59Z] is checked on the
 *    UTC instant after the offset or --input-tz is applied, so
 *    2100-01-01T07:59:59+08:00 is in range and 1970-01-01T00:00:00+01:00 is
 *    not.  2099-12-31T23:59:59.500Z is out of range (> ...59.000Z).
 *  - A wall time without offset is read in --input-tz.  In a spring-forward
 *    gap the offset in force before the gap is used (02:30 on 2024-03-10 in
 *    America/Los_Angeles is read with -08:00, giving 10:30Z); in a fall-back
 *    overlap the earlier instant is chosen (01:30 on 2024-11-03 in
 *    America/Los_Angeles is 08:30Z, the -07:00 reading).
 *
 * --ts-format (cp_parse_ts_format)
 *  - Numeric directives read 1 to N digits greedily (N = 4 for %Y, 3 for %j,
 *    2 otherwise), so "%Y%m%d" reads "19970101" and "%m/%d/%Y" reads
 *    "3/5/2024".  %e also takes one leading space.  No sign is read.
 *  - %y: 69-99 are 1969-1999, 00-68 are 2000-2068 (POSIX).
 *  - %b, %B and %h all accept the full English month name or its three-letter
 *    abbreviation, in any case.
 *  - %I is 1-12; %p (AM/PM in any case) only changes an %I hour, as in glibc's
 *    strptime; %I without %p is AM (12 is midnight).
 *  - %j alone gives the month and day; with %m or %d as well, all must agree.
 *  - %f reads the digits of a fraction (one or more, truncated to ms); the
 *    format supplies the `.` itself: "%H:%M:%S.%f".
 *  - %z accepts Z, z, +HHMM, +HH:MM (and -).  %Z skips a word of letters
 *    without reading it: "PDT" does not change the zone.  Without %z the wall
 *    time is in --input-tz, with the same gap/overlap rule as above.
 *  - %s reads epoch seconds (digits, no sign); it gives the instant by itself
 *    (plus %f if present): other fields must match but are not used.
 *  - Whitespace in the format matches one or more spaces or tabs; any other
 *    character matches itself exactly (case-sensitive).  The whole value must
 *    be consumed.  An unknown directive or a lone `%` at the end makes every
 *    value bad.
 *  - Missing fields: month and day 1, time 00:00:00.000.  A value that has no
 *    year (no %Y, %y, %F or %s in the format) is bad rather than guessed.
 *
 * Time zones (cp_tz)
 *  - NULL or exactly "UTC" is UTC without glibc.  Any other name must be a
 *    TZif file under /usr/share/zoneinfo (a regular file starting with
 *    "TZif"), made only of letters, digits, `/`, `_`, `-` and `+`, at most
 *    200 bytes, not starting with `/` and without "..".  So "Etc/UTC" and
 *    "GMT" work (through glibc); "zone.tab", "America" (a directory) and
 *    "utc" (no such file) do not.
 *  - glibc is driven with TZ=":/usr/share/zoneinfo/NAME" (an absolute path,
 *    so a TZDIR in the environment cannot redirect it), set before every call
 *    under one process-wide mutex.  TZ is left set afterwards.  Other code in
 *    the process that calls getenv() or localtime() concurrently with a cache
 *    miss may see our TZ; the library itself does not.
 *  - Offsets are cached per UTC 15-minute bucket in a direct-mapped table of
 *    2^15 slots (about 341 days of consecutive buckets) per zone.  Each slot
 *    is one 64-bit atomic word holding both key and offset, so readers need
 *    no lock.  A bucket is cached only if its first and last second have the
 *    same offset; a bucket holding a transition (possible in zones with
 *    odd-second offsets, e.g. Africa/Monrovia in 1972) is marked and looked
 *    up exactly each time.
 *  - Lookups clamp the instant to +-10^15 ms (about +-31,000 years).
 *  - All tz functions accept a NULL tz as UTC.
 *
 * Numbers
 *  - A decimal may have any number of leading zeros, and any number of
 *    decimals as long as those after the sixth are zeros.  "-0", "-0.0" are
 *    0.  "-.5" and "5." are accepted (there is a digit).  |value| <= 10^12
 *    applies to negatives too.
 *  - cp_parse_int accepts "-0" and leading zeros; |value| <= 10^9.
 *  - cp_fmt_double6 writes "" for NaN, +-inf and |v| >= 1e39 (whose "%.6f"
 *    does not fit the 48-byte buffer).  Any non-digit it gets from the C
 *    library's locale is written as `.`.
 *  - cp_fmt_ratio never writes a negative zero: -1/3000000 is "0.000000".
 */
#include "util/values.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MS_PER_S   INT64_C(1000)
#define MS_PER_DAY INT64_C(86400000)

static inline bool is_digit(char c) { return (unsigned)((unsigned char)c - '0') < 10u; }

/* Floor division for a positive divisor. */
static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b) != 0 && a < 0)
        q--;
    return q;
}

/* ---- civil calendar ------------------------------------------------------
 * Howard Hinnant's "chrono-compatible low-level date algorithms": the year is
 * shifted to start on March 1 so that Feb 29 is the last day of the year;
 * then a 400-year "era" has a fixed 146097 days and everything inside it is
 * plain integer arithmetic.  719468 is the day number of 1970-01-01 counted
 * from 0000-03-01. */
int64_t cp_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;                                       /* March-based year */
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                       /* [0, 399] */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* Mar = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void cp_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                    /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                  /* Mar = 0 */
    unsigned dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    int64_t yy = yoe + era * 400 + (mm <= 2);
    /* No range checks are promised; saturate rather than overflow int. */
    if (yy > INT_MAX) yy = INT_MAX;
    if (yy < INT_MIN) yy = INT_MIN;
    *y = (int)yy;
    *m = mm;
    *d = dd;
}

static inline bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static inline int days_in_month(int64_t y, int m) {
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- time zones ---------------------------------------------------------- */

#define TZ_DIR          "/usr/share/zoneinfo/"
#define TZ_NAME_MAX     200
#define TZ_BUCKET_MS    INT64_C(900000) /* 15 minutes */
#define TZ_CACHE_BITS   15
#define TZ_CACHE_SLOTS  (1u << TZ_CACHE_BITS)
#define TZ_LOOKUP_LIMIT INT64_C(1000000000000000) /* 10^15 ms */

/* A cache slot packs (bucket, offset) in one word so that a reader sees
 * either a whole entry or none, without a lock:
 *   bits 63..32  bucket number (two's complement int32; |bucket| < 1.2e9)
 *   bit  31      valid (0 = empty slot)
 *   bit  30      mixed: the bucket holds a transition, look it up exactly
 *   bits 20..0   offset in seconds + 2^20 */
#define SLOT_VALID    (UINT64_C(1) << 31)
#define SLOT_MIXED    (UINT64_C(1) << 30)
#define SLOT_OFF_BIAS (INT32_C(1) << 20)
#define SLOT_OFF_MASK ((UINT64_C(1) << 21) - 1)

struct cp_tz {
    bool is_utc;
    char name[TZ_NAME_MAX + 1];
    char env[1 + sizeof TZ_DIR + TZ_NAME_MAX]; /* ":/usr/share/zoneinfo/NAME" */
    _Atomic uint64_t *cache;                   /* TZ_CACHE_SLOTS; NULL for UTC */
};

/* glibc keeps one zone per process in TZ: every use goes through this lock. */
static pthread_mutex_t g_tz_lock = PTHREAD_MUTEX_INITIALIZER;

static bool tz_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit((char)c) ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}

/* A regular file (after symlinks) whose first four bytes are "TZif". */
static bool tz_file_ok(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char magic[4];
    ssize_t got = read(fd, magic, sizeof magic);
    close(fd);
    return got == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

cp_tz *cp_tz_open(const char *name) {
    cp_tz *tz;
    if (name == NULL || strcmp(name, "UTC") == 0) {
        tz = calloc(1, sizeof *tz);
        if (!tz)
            return NULL;
        tz->is_utc = true;
        memcpy(tz->name, "UTC", 4);
        return tz;
    }
    if (!tz_name_ok(name))
        return NULL;
    char path[sizeof TZ_DIR + TZ_NAME_MAX];
    snprintf(path, sizeof path, "%s%s", TZ_DIR, name);
    if (!tz_file_ok(path))
        return NULL;
    tz = calloc(1, sizeof *tz);
    if (!tz)
        return NULL;
    tz->cache = calloc(TZ_CACHE_SLOTS, sizeof *tz->cache);
    if (!tz->cache) {
        free(tz);
        return NULL;
    }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    snprintf(tz->env, sizeof tz->env, ":%s", path);
    return tz;
}

void cp_tz_free(cp_tz *tz) {
    if (!tz)
        return;
    free((void *)tz->cache);
    free(tz);
}

const char *cp_tz_name(const cp_tz *tz) { return tz ? tz->name : "UTC"; }

/* Offset at second s from glibc.  Caller holds g_tz_lock.  *ok is cleared if
 * the answer must not be cached (TZ could not be set, or no answer). */
static int32_t glibc_offset_locked(const cp_tz *tz, int64_t s, bool *ok) {
    if (setenv("TZ", tz->env, 1) != 0) {
        *ok = false;
        return 0;
    }
    tzset();
    time_t t = (time_t)s;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        *ok = false;
        return 0;
    }
    long off = tm.tm_gmtoff;
    if (off <= -SLOT_OFF_BIAS || off >= SLOT_OFF_BIAS) { /* never in tzdata */
        *ok = false;
        return 0;
    }
    return (int32_t)off;
}

static inline int64_t clamp_lookup(int64_t t_ms) {
    if (t_ms > TZ_LOOKUP_LIMIT) return TZ_LOOKUP_LIMIT;
    if (t_ms < -TZ_LOOKUP_LIMIT) return -TZ_LOOKUP_LIMIT;
    return t_ms;
}

int32_t cp_tz_offset_at_utc(const cp_tz *tz, int64_t t_ms) {
    if (!tz || tz->is_utc)
        return 0;
    t_ms = clamp_lookup(t_ms);
    int64_t bucket = floor_div(t_ms, TZ_BUCKET_MS);
    uint64_t key = (uint64_t)(uint32_t)(int32_t)bucket << 32;
    _Atomic uint64_t *slot = &tz->cache[(uint64_t)bucket & (TZ_CACHE_SLOTS - 1)];
    uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
    if ((v & (UINT64_C(0xFFFFFFFF) << 32)) == key && (v & SLOT_VALID) && !(v & SLOT_MIXED))
        return (int32_t)(v & SLOT_OFF_MASK) - SLOT_OFF_BIAS;

    /* Miss (or a bucket with a transition): ask glibc. */
    bool ok = true;
    int64_t s0 = bucket * (TZ_BUCKET_MS / MS_PER_S);
    int64_t s_at = floor_div(t_ms, MS_PER_S);
    int32_t off_first, off_last, off_at;
    pthread_mutex_lock(&g_tz_lock);
    off_first = glibc_offset_locked(tz, s0, &ok);
    off_last = glibc_offset_locked(tz, s0 + TZ_BUCKET_MS / MS_PER_S - 1, &ok);
    off_at = off_first == off_last ? off_first : glibc_offset_locked(tz, s_at, &ok);
    pthread_mutex_unlock(&g_tz_lock);
    if (ok) {
        uint64_t nv = key | SLOT_VALID |
                      (off_first == off_last ? (uint64_t)(off_first + SLOT_OFF_BIAS) : SLOT_MIXED);
        atomic_store_explicit(slot, nv, memory_order_relaxed);
    }
    return off_at;
}

static inline int64_t sat_sub(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? INT64_MIN : INT64_MAX;
    return r;
}

int64_t cp_tz_local_to_utc(const cp_tz *tz, int64_t local_ms) {
    if (!tz || tz->is_utc)
        return local_ms;
    /* A wall time L has the readings u = L - o for each offset o that is in
     * force at u.  The offsets in play are those two days before and after
     * L read as UTC (real offsets stay within +-26 h of each other, and no
     * zone changes offset twice within a few days). */
    const int64_t win = 2 * MS_PER_DAY;
    int32_t o_before = cp_tz_offset_at_utc(tz, sat_sub(local_ms, win));
    int32_t o_after = cp_tz_offset_at_utc(tz, sat_sub(local_ms, -win));
    int64_t u_before = sat_sub(local_ms, (int64_t)o_before * MS_PER_S);
    int64_t u_after = sat_sub(local_ms, (int64_t)o_after * MS_PER_S);
    bool ok_before = cp_tz_offset_at_utc(tz, u_before) == o_before;
    bool ok_after = cp_tz_offset_at_utc(tz, u_after) == o_after;
    if (ok_before && ok_after) /* overlap (or no change): the earlier */
        return u_before < u_after ? u_before : u_after;
    if (ok_after)
        return u_after;
    /* Only the old offset is valid, or neither (a gap): the offset in force
     * before the gap. */
    return u_before;
}

int32_t cp_tz_day(const cp_tz *tz, int64_t t_ms) {
    int32_t off = cp_tz_offset_at_utc(tz, t_ms);
    /* floor((t_ms/1000 + off) / 86400) == floor((t_ms + off*1000) / 86400000)
     * because 86400000 is a multiple of 1000. */
    int64_t day = floor_div(sat_sub(t_ms, -(int64_t)off * MS_PER_S), MS_PER_DAY);
    if (day > INT32_MAX) return INT32_MAX;
    if (day < INT32_MIN) return INT32_MIN;
    return (int32_t)day;
}

/* ---- timestamps ---------------------------------------------------------- */

/* Two digits at p (caller checked the length), or -1. */
static inline int d2(const char *p) {
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* A broken-down wall time; -1 in unset fields is never read. */
typedef struct ts_fields {
    int64_t year;
    int mon, day, hour, min, sec, ms;
} ts_fields;

static bool fields_valid(const ts_fields *f) {
    return f->mon >= 1 && f->mon <= 12 && f->day >= 1 && f->day <= days_in_month(f->year, f->mon) &&
           f->hour >= 0 && f->hour <= 23 && f->min >= 0 && f->min <= 59 && f->sec >= 0 &&
           f->sec <= 59 && f->ms >= 0 && f->ms <= 999;
}

static inline bool in_range(int64_t t_ms) { return t_ms >= CP_TS_MIN_MS && t_ms <= CP_TS_MAX_MS; }

/* Valid fields (year within +-10^6) to a UTC instant, range-checked. */
static bool fields_to_utc(const ts_fields *f, bool has_off, int32_t off_s, const cp_tz *tz,
                          int64_t *out_ms) {
    if (!fields_valid(f) || f->year < -1000000 || f->year > 1000000)
        return false;
    int64_t local = cp_days_from_civil(f->year, (unsigned)f->mon, (unsigned)f->day) * MS_PER_DAY +
                    f->hour * INT64_C(3600000) + f->min * INT64_C(60000) + f->sec * MS_PER_S + f->ms;
    int64_t utc = has_off ? local - (int64_t)off_s * MS_PER_S : cp_tz_local_to_utc(tz, local);
    if (!in_range(utc))
        return false;
    *out_ms = utc;
    return true;
}

/* Fraction digits at p[*i..len): at least one; first three kept, the rest
 * truncated.  Returns ms or -1. */
static int parse_fraction(const char *p, size_t len, size_t *i) {
    size_t start = *i, j = *i;
    int ms = 0;
    while (j < len && is_digit(p[j])) {
        if (j - start < 3)
            ms = ms * 10 + (p[j] - '0');
        j++;
    }
    size_t n = j - start;
    if (n == 0)
        return -1;
    for (; n < 3; n++)
        ms *= 10;
    *i = j;
    return ms;
}

/* Offset at p[*i..len): Z, z, +HH:MM, +HHMM (or -).  Hours 0-23, minutes 0-59. */
static bool parse_offset(const char *p, size_t len, size_t *i, int32_t *off_s) {
    size_t j = *i;
    if (j >= len)
        return false;
    if (p[j] == 'Z' || p[j] == 'z') {
        *off_s = 0;
        *i = j + 1;
        return true;
    }
    if (p[j] != '+' && p[j] != '-')
        return false;
    int sign = p[j] == '-' ? -1 : 1;
    j++;
    if (len - j < 4)
        return false;
    int hh = d2(p + j);
    j += 2;
    if (p[j] == ':') {
        j++;
        if (len - j < 2)
            return false;
    }
    int mm = d2(p + j);
    j += 2;
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return false;
    *off_s = sign * (hh * 3600 + mm * 60);
    *i = j;
    return true;
}

/* The last valid date (YYYY-MM-DD) that parse_rfc3339 read on this thread
 * and its day number: logs come in time order, so most timestamps repeat
 * the date of the one before and skip its digits, its check and the day
 * count. */
static _Thread_local struct {
    char ymd[10];
    bool set;
    int64_t days;
} last_date;

/* YYYY-MM-DD[Tt ]HH:MM:SS[.f+][offset]; this is also the fast path: fixed
 * positions, no loops but the fraction.  The same checks as fields_to_utc,
 * the date's skipped when it is last_date's. */
static bool parse_rfc3339(const char *p, size_t len, const cp_tz *tz, int64_t *out_ms) {
    if (len < 19 || p[4] != '-' || p[7] != '-' || p[13] != ':' || p[16] != ':')
        return false;
    if (p[10] != 'T' && p[10] != ' ' && p[10] != 't')
        return false;
    ts_fields f;
    f.hour = d2(p + 11);
    f.min = d2(p + 14);
    f.sec = d2(p + 17);
    f.ms = 0;
    bool same_date = last_date.set && memcmp(p, last_date.ymd, 10) == 0;
    if (!same_date) {
        int y_hi = d2(p), y_lo = d2(p + 2);
        if (y_hi < 0 || y_lo < 0)
            return false;
        f.year = y_hi * 100 + y_lo;
        f.mon = d2(p + 5);
        f.day = d2(p + 8);
    }
    size_t i = 19;
    if (i < len && p[i] == '.') {
        i++;
        f.ms = parse_fraction(p, len, &i);
        if (f.ms < 0)
            return false;
    }
    bool has_off = false;
    int32_t off_s = 0;
    if (i < len) {
        if (!parse_offset(p, len, &i, &off_s) || i != len)
            return false;
        has_off = true;
    }
    if (!same_date) {
        if (!fields_to_utc(&f, has_off, off_s, tz, out_ms)) /* checks -1 fields */
            return false;
        memcpy(last_date.ymd, p, 10);
        last_date.days = cp_days_from_civil(f.year, (unsigned)f.mon, (unsigned)f.day);
        last_date.set = true;
        return true;
    }
    /* fields_to_utc with the date known valid */
    if (f.hour < 0 || f.hour > 23 || f.min < 0 || f.min > 59 || f.sec < 0 || f.sec > 59 || f.ms < 0 ||
        f.ms > 999)
        return false;
    int64_t local = last_date.days * MS_PER_DAY + f.hour * INT64_C(3600000) + f.min * INT64_C(60000) +
                    f.sec * MS_PER_S + f.ms;
    int64_t utc = has_off ? local - (int64_t)off_s * MS_PER_S : cp_tz_local_to_utc(tz, local);
    if (!in_range(utc))
        return false;
    *out_ms = utc;
    return true;
}

/* The form most logs write, YYYY-MM-DDTHH:MM:SS.mmmZ, on last_date's date:
 * fixed positions, the digits checked eight at a time, no offset to parse.
 * True only when parse_rfc3339 gives the same instant; false sends the
 * value there (another form, another date, or anything it rejects). */
static inline bool parse_rfc3339_ms_z(const char *p, int64_t *out_ms) {
    /* "HH:MM:SS" and ".mmm" as little-endian words, byte k = p[11 + k] and
     * p[19 + k]; a byte is a digit when its high nibble is 3 and adding 6
     * keeps it so (a carry out of a byte makes the test fail, never pass) */
    const uint64_t colons = UINT64_C(0x0000ff0000ff0000), hi = UINT64_C(0xf0f0f0f0f0f0f0f0);
    uint64_t t;
    uint32_t f;
    memcpy(&t, p + 11, 8);
    memcpy(&f, p + 19, 4);
    if (p[23] != 'Z' || p[10] != 'T' || (t & colons) != UINT64_C(0x00003a00003a0000) || (f & 0xff) != '.' ||
        !last_date.set || memcmp(p, last_date.ymd, 10) != 0)
        return false;
    uint64_t d = (t & ~colons) | UINT64_C(0x0000300000300000);   /* the colons as '0' */
    uint64_t fd = (uint64_t)((f & ~UINT32_C(0xff)) | UINT32_C(0x30)); /* the '.' as '0' */
    if (((d & hi) | ((d + UINT64_C(0x0606060606060606)) & hi) >> 4) != UINT64_C(0x3333333333333333) ||
        ((fd & 0xf0f0f0f0) | ((fd + 0x06060606) & 0xf0f0f0f0) >> 4) != 0x33333333)
        return false;
    unsigned hour = (unsigned)(d & 0xf) * 10 + (unsigned)(d >> 8 & 0xf);
    unsigned min = (unsigned)(d >> 24 & 0xf) * 10 + (unsigned)(d >> 32 & 0xf);
    unsigned sec = (unsigned)(d >> 48 & 0xf) * 10 + (unsigned)(d >> 56 & 0xf);
    unsigned ms = (unsigned)(fd >> 8 & 0xf) * 100 + (unsigned)(fd >> 16 & 0xf) * 10 + (unsigned)(fd >> 24 & 0xf);
    if (hour > 23 || min > 59 || sec > 59)
        return false;
    int64_t utc = last_date.days * MS_PER_DAY + hour * INT64_C(3600000) + min * INT64_C(60000) + sec * MS_PER_S + ms;
    if (!in_range(utc))
        return false;
    *out_ms = utc;
    return true;
}

static bool parse_ts_any(const char *p, size_t len, const cp_tz *input_tz, int64_t *out_ms);

bool cp_parse_ts(const char *p, size_t len, const cp_tz *input_tz, int64_t *out_ms) {
    if (len == 24 && parse_rfc3339_ms_z(p, out_ms))
        return true;
    return parse_ts_any(p, len, input_tz, out_ms);
}

/* cp_parse_ts past its fast path: kept out of line, so that the fast path
 * saves no registers. */
__attribute__((noinline))
static bool parse_ts_any(const char *p, size_t len, const cp_tz *input_tz, int64_t *out_ms) {
    if (len == 0)
        return false;
    if (len <= 13 && is_digit(p[0])) {
        size_t n = 0;
        int64_t v = 0;
        while (n < len && is_digit(p[n]))
            v = v * 10 + (p[n++] - '0'); /* <= 13 digits: no overflow */
        if (n == len) {
            int64_t t_ms;
            if (n <= 11)
                t_ms = v * MS_PER_S;
            else if (n == 13)
                t_ms = v;
            else
                return false; /* 12 digits: neither seconds nor ms */
            if (!in_range(t_ms))
                return false;
            *out_ms = t_ms;
            return true;
        }
    }
    return parse_rfc3339(p, len, input_tz, out_ms);
}

/* ---- --ts-format --------------------------------------------------------- */

typedef struct tsf_state {
    ts_fields f;
    bool has_year, has_mon, has_day, has_yday, has_off, has_epoch;
    bool have_i, is_pm;
    int yday;
    int32_t off_s;
    int64_t epoch_s;
} tsf_state;

static const char *const k_month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};

static inline char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Does p[i..len) start with the lowercase word w (n bytes), in any case? */
static bool match_word_ci(const char *p, size_t len, size_t i, const char *w, size_t n) {
    if (len - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (lower_ascii(p[i + k]) != w[k])
            return false;
    return true;
}

/* 1..maxw digits at p[*i..len). */
static bool read_num(const char *p, size_t len, size_t *i, int maxw, int64_t *v) {
    size_t j = *i;
    int64_t acc = 0;
    while (j < len && j - *i < (size_t)maxw && is_digit(p[j]))
        acc = acc * 10 + (p[j++] - '0');
    if (j == *i)
        return false;
    *i = j;
    *v = acc;
    return true;
}

static inline bool is_fmt_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool tsf_match(const char *p, size_t len, size_t *pos, const char *fmt, tsf_state *st);

/* One directive (the character after '%') at p[*i..len). */
static bool tsf_directive(const char *p, size_t len, size_t *i, char d, tsf_state *st) {
    int64_t v;
    switch (d) {
    case 'Y':
        if (!read_num(p, len, i, 4, &v))
            return false;
        st->f.year = v;
        st->has_year = true;
        return true;
    case 'y':
        if (!read_num(p, len, i, 2, &v))
            return false;
        st->f.year = v >= 69 ? 1900 + v : 2000 + v;
        st->has_year = true;
        return true;
    case 'm':
        if (!read_num(p, len, i, 2, &v) || v < 1 || v > 12)
            return false;
        st->f.mon = (int)v;
        st->has_mon = true;
        return true;
    case 'e':
        if (*i < len && p[*i] == ' ')
            (*i)++;
        /* fall through */
    case 'd':
        if (!read_num(p, len, i, 2, &v) || v < 1 || v > 31)
            return false;
        st->f.day = (int)v;
        st->has_day = true;
        return true;
    case 'j':
        if (!read_num(p, len, i, 3, &v) || v < 1 || v > 366)
            return false;
        st->yday = (int)v;
        st->has_yday = true;
        return true;
    case 'H':
        if (!read_num(p, len, i, 2, &v) || v > 23)
            return false;
        st->f.hour = (int)v;
        st->have_i = false;
        return true;
    case 'I':
        if (!read_num(p, len, i, 2, &v) || v < 1 || v > 12)
            return false;
        st->f.hour = (int)v;
        st->have_i = true;
        return true;
    case 'M':
        if (!read_num(p, len, i, 2, &v) || v > 59)
            return false;
        st->f.min = (int)v;
        return true;
    case 'S':
        if (!read_num(p, len, i, 2, &v) || v > 59)
            return false;
        st->f.sec = (int)v;
        return true;
    case 'f': {
        int ms = parse_fraction(p, len, i);
        if (ms < 0)
            return false;
        st->f.ms = ms;
        return true;
    }
    case 'b':
    case 'B':
    case 'h':
        for (int k = 0; k < 12; k++) {
            const char *w = k_month_names[k];
            size_t n = strlen(w);
            if (match_word_ci(p, len, *i, w, n)) {
                *i += n;
            } else if (match_word_ci(p, len, *i, w, 3)) {
                *i += 3;
            } else {
                continue;
            }
            st->f.mon = k + 1;
            st->has_mon = true;
            return true;
        }
        return false;
    case 'p':
        if (match_word_ci(p, len, *i, "am", 2)) {
            st->is_pm = false;
        } else if (match_word_ci(p, len, *i, "pm", 2)) {
            st->is_pm = true;
        } else {
            return false;
        }
        *i += 2;
        return true;
    case 'z':
        if (!parse_offset(p, len, i, &st->off_s))
            return false;
        st->has_off = true;
        return true;
    case 'Z': {
        size_t j = *i;
        while (j < len && ((p[j] >= 'A' && p[j] <= 'Z') || (p[j] >= 'a' && p[j] <= 'z')))
            j++;
        if (j == *i)
            return false;
        *i = j;
        return true;
    }
    case 's':
        if (!read_num(p, len, i, 18, &v)) /* 18 digits cannot overflow */
            return false;
        st->epoch_s = v;
        st->has_epoch = true;
        return true;
    case 'F':
        return tsf_match(p, len, i, "%Y-%m-%d", st);
    case 'T':
        return tsf_match(p, len, i, "%H:%M:%S", st);
    case '%':
        if (*i >= len || p[*i] != '%')
            return false;
        (*i)++;
        return true;
    default:
        return false; /* unknown directive, or '\0' after a final '%' */
    }
}

static bool tsf_match(const char *p, size_t len, size_t *pos, const char *fmt, tsf_state *st) {
    size_t i = *pos;
    for (const char *f = fmt; *f;) {
        if (*f == '%') {
            if (!tsf_directive(p, len, &i, f[1], st))
                return false;
            f += 2;
        } else if (is_fmt_space(*f)) {
            while (is_fmt_space(*f))
                f++;
            if (i >= len || !is_blank(p[i]))
                return false;
            while (i < len && is_blank(p[i]))
                i++;
        } else {
            if (i >= len || p[i] != *f)
                return false;
            i++;
            f++;
        }
    }
    *pos = i;
    return true;
}

bool cp_parse_ts_format(const char *p, size_t len, const char *fmt, const cp_tz *input_tz,
                        int64_t *out_ms) {
    if (!fmt)
        return false;
    tsf_state st;
    memset(&st, 0, sizeof st);
    st.f.mon = 1;
    st.f.day = 1;
    size_t i = 0;
    if (!tsf_match(p, len, &i, fmt, &st) || i != len)
        return false;
    if (st.has_epoch) {
        if (st.epoch_s > CP_TS_MAX_MS / MS_PER_S)
            return false;
        int64_t t = st.epoch_s * MS_PER_S + st.f.ms;
        if (!in_range(t))
            return false;
        *out_ms = t;
        return true;
    }
    if (!st.has_year)
        return false;
    if (st.have_i)
        st.f.hour = st.f.hour % 12 + (st.is_pm ? 12 : 0);
    if (st.has_yday) {
        int ylen = is_leap(st.f.year) ? 366 : 365;
        if (st.yday > ylen)
            return false;
        if (st.has_mon || st.has_day) {
            if (!fields_valid(&st.f))
                return false;
            int64_t jan1 = cp_days_from_civil(st.f.year, 1, 1);
            int64_t dd = cp_days_from_civil(st.f.year, (unsigned)st.f.mon, (unsigned)st.f.day);
            if (dd - jan1 + 1 != st.yday)
                return false;
        } else {
            int yy;
            unsigned mm, dd;
            cp_civil_from_days(cp_days_from_civil(st.f.year, 1, 1) + st.yday - 1, &yy, &mm, &dd);
            st.f.mon = (int)mm;
            st.f.day = (int)dd;
        }
    }
    return fields_to_utc(&st.f, st.has_off, st.off_s, input_tz, out_ms);
}

/* ---- numbers ------------------------------------------------------------- */

#define DEC_MAX_UNITS  UINT64_C(1000000000000)         /* 10^12 */
#define DEC_MAX_MICROS UINT64_C(1000000000000000000)   /* 10^18 */

bool cp_parse_decimal_micros(const char *p, size_t len, int64_t *out_micros) {
    size_t i = 0;
    bool neg = false;
    if (i < len && p[i] == '-') {
        neg = true;
        i++;
    }
    uint64_t units = 0;
    size_t n_digits = 0;
    while (i < len && is_digit(p[i])) {
        units = units * 10 + (uint64_t)(p[i] - '0');
        if (units > DEC_MAX_UNITS) /* stops before any overflow */
            return false;
        i++;
        n_digits++;
    }
    uint64_t frac = 0;
    if (i < len && p[i] == '.') {
        i++;
        size_t n_frac = 0;
        while (i < len && is_digit(p[i])) {
            if (n_frac < 6)
                frac = frac * 10 + (uint64_t)(p[i] - '0');
            else if (p[i] != '0') /* a seventh significant decimal */
                return false;
            i++;
            n_frac++;
        }
        for (size_t k = n_frac; k < 6; k++)
            frac *= 10;
        n_digits += n_frac;
    }
    if (i != len || n_digits == 0)
        return false;
    uint64_t micros = units * 1000000 + frac;
    if (micros > DEC_MAX_MICROS)
        return false;
    *out_micros = neg ? -(int64_t)micros : (int64_t)micros;
    return true;
}

bool cp_parse_int(const char *p, size_t len, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (i < len && p[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
        if (v > INT64_C(1000000000))
            return false;
    }
    *out = neg ? -v : v;
    return true;
}

/* ---- R8 output formats ------------------------------------------------------ */

/* Decimal digits of v at b; returns the count. */
static size_t put_u128(char *b, unsigned __int128 v) {
    char tmp[40];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        b[k] = tmp[n - 1 - k];
    return n;
}

/* Writes "[-]int.ffffff" of a magnitude in micro-units. */
static size_t put_micros(char *b, bool neg, unsigned __int128 mag) {
    size_t n = 0;
    if (neg)
        b[n++] = '-';
    n += put_u128(b + n, mag / 1000000);
    b[n++] = '.';
    uint32_t frac = (uint32_t)(mag % 1000000);
    for (int k = 5; k >= 0; k--) {
        b[n + (size_t)k] = (char)('0' + frac % 10);
        frac /= 10;
    }
    n += 6;
    b[n] = '\0';
    return n;
}

size_t cp_fmt_money(char *buf, int64_t micros) {
    bool neg = micros < 0;
    /* Negate in unsigned arithmetic: INT64_MIN has no int64 opposite. */
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    size_t n = put_micros(buf, neg, mag);
    /* R8: at least two decimals, no trailing zeros beyond them. */
    while (buf[n - 1] == '0' && buf[n - 3] != '.')
        n--;
    buf[n] = '\0';
    return n;
}

size_t cp_fmt_ratio(char *buf, int64_t num, int64_t den) {
    if (den == 0) {
        buf[0] = '\0';
        return 0;
    }
    bool neg = (num < 0) != (den < 0);
    unsigned __int128 a = num < 0 ? (uint64_t)0 - (uint64_t)num : (uint64_t)num;
    unsigned __int128 d = den < 0 ? (uint64_t)0 - (uint64_t)den : (uint64_t)den;
    unsigned __int128 scaled = a * 1000000; /* < 2^63 * 2^20: fits */
    unsigned __int128 q = scaled / d, r = scaled % d;
    /* Half to even: up when the remainder is over half, or exactly half and
     * q is odd.  2r cannot overflow: r < d <= 2^63. */
    if (2 * r > d || (2 * r == d && (q & 1)))
        q++;
    return put_micros(buf, neg && q != 0, q);
}

size_t cp_fmt_double6(char *buf, double v) {
    if (!isfinite(v) || v >= 1e39 || v <= -1e39) {
        buf[0] = '\0';
        return 0;
    }
    int n = snprintf(buf, 48, "%.6f", v);
    if (n < 0 || n >= 48) {
        buf[0] = '\0';
        return 0;
    }
    /* A locale could give another decimal mark. */
    for (int k = 0; k < n; k++)
        if (!is_digit(buf[k]) && buf[k] != '-')
            buf[k] = '.';
    if (strcmp(buf, "-0.000000") == 0) {
        memmove(buf, buf + 1, (size_t)n);
        n--;
    }
    return (size_t)n;
}

/* YYYY-MM-DD of a day number: at least four year digits, '-' if negative. */
static size_t put_date(char *b, int64_t day) {
    int y;
    unsigned m, d;
    cp_civil_from_days(day, &y, &m, &d);
    size_t n = 0;
    int64_t yy = y;
    if (yy < 0) {
        b[n++] = '-';
        yy = -yy;
    }
    if (yy < 1000) {
        b[n++] = (char)('0' + yy / 1000);
        b[n++] = (char)('0' + yy / 100 % 10);
        b[n++] = (char)('0' + yy / 10 % 10);
        b[n++] = (char)('0' + yy % 10);
    } else {
        n += put_u128(b + n, (unsigned __int128)yy);
    }
    b[n++] = '-';
    b[n++] = (char)('0' + m / 10);
    b[n++] = (char)('0' + m % 10);
    b[n++] = '-';
    b[n++] = (char)('0' + d / 10);
    b[n++] = (char)('0' + d % 10);
    b[n] = '\0';
    return n;
}

size_t cp_fmt_ts(char *buf, int64_t t_ms) {
    int64_t day = floor_div(t_ms, MS_PER_DAY);
    int64_t ms_of_day = t_ms - day * MS_PER_DAY; /* [0, 86400000) */
    size_t n = put_date(buf, day);
    int secs = (int)(ms_of_day / 1000), ms = (int)(ms_of_day % 1000);
    int hh = secs / 3600, mm = secs / 60 % 60, ss = secs % 60;
    char *b = buf + n;
    b[0] = 'T';
    b[1] = (char)('0' + hh / 10);
    b[2] = (char)('0' + hh % 10);
    b[3] = ':';
    b[4] = (char)('0' + mm / 10);
    b[5] = (char)('0' + mm % 10);
    b[6] = ':';
    b[7] = (char)('0' + ss / 10);
    b[8] = (char)('0' + ss % 10);
    b[9] = '.';
    b[10] = (char)('0' + ms / 100);
    b[11] = (char)('0' + ms / 10 % 10);
    b[12] = (char)('0' + ms % 10);
    b[13] = 'Z';
    b[14] = '\0';
    return n + 14;
}

size_t cp_fmt_day(char *buf, int32_t day) { return put_date(buf, day); }

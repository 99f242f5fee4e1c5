/* fuzz_ts.c -- fuzz target for timestamps (R1.2), --ts-format (R1.4a) and
 * time zones (R4.4) of util/values.c.
 *
 * Besides looking for crashes and over-reads, it aborts when a property
 * fails:
 *  - an accepted timestamp is in [CP_TS_MIN_MS, CP_TS_MAX_MS];
 *  - cp_fmt_ts then cp_parse_ts gives back the same instant;
 *  - cp_civil_from_days and cp_days_from_civil are inverses;
 *  - for a UTC instant u, the wall time L = u + offset(u) read back with
 *    cp_tz_local_to_utc is an instant with the same wall time, no later
 *    than u (overlaps give the earlier reading);
 *  - cp_tz_day is floor((u + offset) / 1 day).
 * The first input byte also picks a --ts-format layout for the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/values.h"

static const char *const k_formats[] = {
    "%Y%m%d",
    "%m/%d/%Y %H:%M",
    "%d/%b/%Y:%H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S UTC",
    "%F %T.%f",
    "%s",
    "%s.%f",
    "%Y-%j",
    "%b %e %Y %I:%M %p %Z",
    "%y%m%d %T",
    "%%%FT%T%z",
    "%B %d, %Y",
    "%Y-%m-%d %j",
    "%h",
    "%",
    "%Q",
};
#define N_FORMATS (sizeof k_formats / sizeof k_formats[0])

static void check_instant(int64_t t) {
    if (t < CP_TS_MIN_MS || t > CP_TS_MAX_MS)
        abort();
    char buf[48];
    size_t n = cp_fmt_ts(buf, t);
    int64_t back = -1;
    if (n != 24 || !cp_parse_ts(buf, n, NULL, &back) || back != t)
        abort();
}

static void check_zone(const cp_tz *tz, int64_t u) {
    int32_t off = cp_tz_offset_at_utc(tz, u);
    if (off <= -86400 || off >= 86400)
        abort();
    int64_t wall = u + (int64_t)off * 1000;
    int64_t u2 = cp_tz_local_to_utc(tz, wall);
    int32_t off2 = cp_tz_offset_at_utc(tz, u2);
    if (u2 > u || u2 + (int64_t)off2 * 1000 != wall)
        abort();
    int64_t day = wall / 86400000;
    if (wall % 86400000 < 0)
        day--;
    if (cp_tz_day(tz, u) != day)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cp_tz *la, *london, *kolkata;
    if (!la) {
        la = cp_tz_open("America/Los_Angeles");
        london = cp_tz_open("Europe/London");
        kolkata = cp_tz_open("Asia/Kolkata");
        if (!la || !london || !kolkata)
            abort();
    }
    const cp_tz *zones[4] = {NULL, la, london, kolkata};
    const char *p = (const char *)data;
    int64_t t;

    for (int z = 0; z < 4; z++)
        if (cp_parse_ts(p, size, zones[z], &t))
            check_instant(t);

    if (size >= 1) {
        const char *fmt = k_formats[data[0] % N_FORMATS];
        const cp_tz *tz = zones[(data[0] / N_FORMATS) % 4];
        if (cp_parse_ts_format(p + 1, size - 1, fmt, tz, &t))
            check_instant(t);
    }

    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, sizeof v);
        /* An instant within 1969..2100, with a margin either side. */
        const int64_t span = CP_TS_MAX_MS + 4 * INT64_C(86400000);
        int64_t u = v % span;
        if (u < 0)
            u += span;
        u -= 2 * INT64_C(86400000);
        for (int z = 0; z < 4; z++)
            check_zone(zones[z], u);
        if (u >= CP_TS_MIN_MS && u <= CP_TS_MAX_MS)
            check_instant(u);

        int64_t day = v % 1000000000;
        int y;
        unsigned m, d;
        cp_civil_from_days(day, &y, &m, &d);
        if (m < 1 || m > 12 || d < 1 || d > 31 || cp_days_from_civil(y, m, d) != day)
            abort();
    }
    return 0;
}

/* daycache.h -- cp_tz_day() for instants that come in time order (the event
 * rows after R1.6).
 *
 * The day changes rarely from one row to the next, so the local-time range
 * of the last day is kept: an instant inside it costs the zone's offset (an
 * early return for UTC, a cache hit otherwise) and one compare instead of a
 * division.  Exact for any zone and any order of instants: the day is a
 * function of the local time alone, and any other instant goes to
 * cp_tz_day().  One cache per thread. */
#ifndef CLICKPATH_DAYCACHE_H
#define CLICKPATH_DAYCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/values.h"

typedef struct cp_day_cache {
    const cp_tz *tz;
    int64_t lo;  /* local ms at the start of `day`; the range is [lo, lo + one day) */
    int32_t day;
    bool set;
} cp_day_cache;

#define CP_DAY_CACHE_MS INT64_C(86400000)

/* cp_tz_day(c->tz, t_ms).  Start with a cache of {.tz = zone}. */
static inline int32_t cp_day_cache_get(cp_day_cache *c, int64_t t_ms) {
    int64_t local;
    int32_t off = cp_tz_offset_at_utc(c->tz, t_ms);
    bool ok = !__builtin_add_overflow(t_ms, (int64_t)off * 1000, &local);
    /* lo <= local < lo + one day, in unsigned arithmetic (no overflow) */
    if (ok && c->set && (uint64_t)local - (uint64_t)c->lo < (uint64_t)CP_DAY_CACHE_MS) return c->day;
    int32_t day = cp_tz_day(c->tz, t_ms);
    /* kept only when day is local's own day (cp_tz_day did not clamp) */
    int64_t lo = (int64_t)day * CP_DAY_CACHE_MS;
    c->set = ok && (uint64_t)local - (uint64_t)lo < (uint64_t)CP_DAY_CACHE_MS;
    c->lo = lo;
    c->day = day;
    return day;
}

#endif

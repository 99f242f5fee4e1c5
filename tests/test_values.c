/* test_values.c -- single values: timestamps (R1.2), --ts-format and
 * --input-tz (R1.4a), report days across DST (R4.4), decimals and integers
 * (R1.4b, R1.5), and the number formats of R8.
 *
 * Every parsed input is copied to the very end of a page followed by a
 * PROT_NONE page, so any read past [p, p + len) crashes the test.
 *
 * Day numbers used below, worked out by hand (days since 1970-01-01):
 *   2000-01-01 = 30*365 + 7 leap days (1972..1996)             = 10957
 *   2010-01-01 = 40*365 + 10 (1972..2008)                        = 14610
 *   2011-01-01 = 14610 + 365 = 14975;  2011-03-27 = +31+28+26     = 15060
 *   2024-01-01 = 54*365 + 13 (1972..2020)                        = 19723
 *   2024-03-01 = 19723 + 31 + 29                                 = 19783
 *   2024-03-10 = 19792;  2024-11-03 = 19723 + 305 (Jan..Oct) + 2 = 20030
 *   2100-01-01 = 130*365 + 32 (1972..2096)                       = 47482
 * and 2024-03-01T12:34:56Z = 19783*86400000 + 45296000 = 1709296496000.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/values.h"

#define T0 INT64_C(1709296496000) /* 2024-03-01T12:34:56Z */
#define DAY_MS INT64_C(86400000)
#define H_MS INT64_C(3600000)

static cp_tz *g_la, *g_london;

/* ---- guard page --------------------------------------------------------- */
static char *g_page;
static size_t g_page_len;

static const char *guarded(const char *s, size_t n) {
    assert_true(n <= g_page_len);
    char *p = g_page + g_page_len - n;
    memcpy(p, s, n);
    return p;
}

static bool ts(const char *s, const cp_tz *tz, int64_t *out) {
    size_t n = strlen(s);
    return cp_parse_ts(guarded(s, n), n, tz, out);
}

static bool tsf(const char *s, const char *fmt, const cp_tz *tz, int64_t *out) {
    size_t n = strlen(s);
    return cp_parse_ts_format(guarded(s, n), n, fmt, tz, out);
}

static bool dec(const char *s, int64_t *out) {
    size_t n = strlen(s);
    return cp_parse_decimal_micros(guarded(s, n), n, out);
}

static bool pint(const char *s, int64_t *out) {
    size_t n = strlen(s);
    return cp_parse_int(guarded(s, n), n, out);
}

#define TS_OK(s, tz, want)                                                                         \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_true(ts((s), (tz), &got_));                                                         \
        assert_int_equal(got_, (want));                                                            \
    } while (0)
#define TS_BAD(s, tz)                                                                              \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_false(ts((s), (tz), &got_));                                                        \
        assert_int_equal(got_, -7);                                                                \
    } while (0)
#define TSF_OK(s, fmt, tz, want)                                                                   \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_true(tsf((s), (fmt), (tz), &got_));                                                 \
        assert_int_equal(got_, (want));                                                            \
    } while (0)
#define TSF_BAD(s, fmt, tz)                                                                        \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_false(tsf((s), (fmt), (tz), &got_));                                                \
        assert_int_equal(got_, -7);                                                                \
    } while (0)
#define DEC_OK(s, want)                                                                            \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_true(dec((s), &got_));                                                              \
        assert_int_equal(got_, (want));                                                            \
    } while (0)
#define DEC_BAD(s)                                                                                 \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_false(dec((s), &got_));                                                             \
        assert_int_equal(got_, -7);                                                                \
    } while (0)
#define INT_OK(s, want)                                                                            \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_true(pint((s), &got_));                                                             \
        assert_int_equal(got_, (want));                                                            \
    } while (0)
#define INT_BAD(s)                                                                                 \
    do {                                                                                           \
        int64_t got_ = -7;                                                                         \
        assert_false(pint((s), &got_));                                                            \
        assert_int_equal(got_, -7);                                                                \
    } while (0)
#define FMT_EQ(call, want)                                                                         \
    do {                                                                                           \
        char b_[48];                                                                               \
        memset(b_, 'x', sizeof b_);                                                                \
        size_t n_ = (call);                                                                        \
        assert_string_equal(b_, (want));                                                           \
        assert_int_equal(n_, strlen(want));                                                        \
    } while (0)

/* ==== R1.2 RFC 3339 ======================================================= */

static void r1_2_rfc3339_utc_z(void **st) { (void)st; TS_OK("2024-03-01T12:34:56Z", NULL, T0); }

static void r1_2_lowercase_t_and_z_accepted(void **st) {
    (void)st;
    TS_OK("2024-03-01t12:34:56z", NULL, T0);
}

static void r1_2_space_may_replace_t(void **st) {
    (void)st;
    TS_OK("2024-03-01 12:34:56Z", NULL, T0);
}

static void r1_2_other_separators_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01_12:34:56Z", NULL);
    TS_BAD("2024-03-01  12:34:56Z", NULL);
    TS_BAD("2024/03/01T12:34:56Z", NULL);
    TS_BAD("2024-03-01T12.34.56Z", NULL);
}

static void r1_2_positive_offset(void **st) {
    (void)st;
    /* 20:34:56 at +08:00 is 12:34:56Z. */
    TS_OK("2024-03-01T20:34:56+08:00", NULL, T0);
}

static void r1_2_negative_offset_without_colon(void **st) {
    (void)st;
    /* 04:34:56 at -08:00 is 12:34:56Z. */
    TS_OK("2024-03-01T04:34:56-0800", NULL, T0);
}

static void r1_2_offset_with_minutes(void **st) {
    (void)st;
    /* 12:34:56 + 5:45 = 18:19:56 local. */
    TS_OK("2024-03-01T18:19:56+05:45", NULL, T0);
}

static void r1_2_offset_23_59_accepted(void **st) {
    (void)st;
    /* 12:34:56Z + 23:59 = 12:33:56 on the next day. */
    TS_OK("2024-03-02T12:33:56+23:59", NULL, T0);
    TS_OK("2024-02-29T12:35:56-23:59", NULL, T0);
}

static void r1_2_offset_beyond_23_59_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T12:34:56+24:00", NULL);
    TS_BAD("2024-03-01T12:34:56+23:60", NULL);
}

static void r1_2_malformed_offset_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T12:34:56+08", NULL);
    TS_BAD("2024-03-01T12:34:56+8:00", NULL);
    TS_BAD("2024-03-01T12:34:56+08:0", NULL);
    TS_BAD("2024-03-01T12:34:56+08:000", NULL);
    TS_BAD("2024-03-01T12:34:56ZZ", NULL);
    TS_BAD("2024-03-01T12:34:56 Z", NULL);
}

static void r1_2_negative_zero_offset_is_utc(void **st) {
    (void)st;
    TS_OK("2024-03-01T12:34:56-00:00", NULL, T0);
}

static void r1_2_fraction_truncated_to_ms(void **st) {
    (void)st;
    /* .123999 -> 123 ms, not 124. */
    TS_OK("2024-03-01T12:34:56.123999Z", NULL, T0 + 123);
}

static void r1_2_fraction_short_is_scaled(void **st) {
    (void)st;
    TS_OK("2024-03-01T12:34:56.5Z", NULL, T0 + 500);
    TS_OK("2024-03-01T12:34:56.05Z", NULL, T0 + 50);
}

static void r1_2_fraction_of_any_length(void **st) {
    (void)st;
    TS_OK("2024-03-01T12:34:56.0009999999999999999999999999Z", NULL, T0);
    TS_OK("2024-03-01T12:34:56.999999999999999999999999+00:00", NULL, T0 + 999);
}

static void r1_2_fraction_without_digits_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T12:34:56.Z", NULL);
    TS_BAD("2024-03-01T12:34:56.", NULL);
    TS_BAD("2024-03-01T12:34:56,5Z", NULL);
}

static void r1_2_no_offset_is_utc_by_default(void **st) {
    (void)st;
    TS_OK("2024-03-01 12:34:56", NULL, T0);
    TS_OK("2024-03-01T12:34:56.250", NULL, T0 + 250);
}

static void r1_2_no_offset_is_in_input_tz(void **st) {
    (void)st;
    /* March 1 is PST (-08:00) in Los Angeles: 04:34:56 local = 12:34:56Z. */
    TS_OK("2024-03-01 04:34:56", g_la, T0);
}

static void r1_2_explicit_offset_ignores_input_tz(void **st) {
    (void)st;
    TS_OK("2024-03-01T12:34:56Z", g_la, T0);
}

static void r1_2_epoch_seconds(void **st) {
    (void)st;
    TS_OK("1709296496", NULL, T0);
}

static void r1_2_epoch_seconds_one_digit(void **st) {
    (void)st;
    TS_OK("0", NULL, 0);
    TS_OK("7", NULL, 7000);
}

static void r1_2_epoch_seconds_eleven_digits(void **st) {
    (void)st;
    /* 4102444799 s is 2099-12-31T23:59:59Z, the last instant in range. */
    TS_OK("04102444799", NULL, INT64_C(4102444799000));
    TS_BAD("04102444800", NULL);
    TS_BAD("99999999999", NULL);
}

static void r1_2_epoch_twelve_digits_rejected(void **st) {
    (void)st;
    TS_BAD("170929649600", NULL);
    TS_BAD("000000000001", NULL);
}

static void r1_2_epoch_millis_thirteen_digits(void **st) {
    (void)st;
    TS_OK("1709296496123", NULL, T0 + 123);
    TS_OK("0000000000001", NULL, 1);
}

static void r1_2_epoch_fourteen_digits_rejected(void **st) {
    (void)st;
    TS_BAD("17092964961230", NULL);
    TS_BAD("00000000000001", NULL);
}

static void r1_2_epoch_sign_or_fraction_rejected(void **st) {
    (void)st;
    TS_BAD("-1", NULL);
    TS_BAD("+1", NULL);
    TS_BAD("-0", NULL);
    TS_BAD("1709296496.5", NULL);
    TS_BAD("1e9", NULL);
}

static void r1_2_epoch_ignores_input_tz(void **st) {
    (void)st;
    TS_OK("1709296496", g_la, T0);
}

static void r1_2_range_first_instant_accepted(void **st) {
    (void)st;
    TS_OK("1970-01-01T00:00:00Z", NULL, 0);
    TS_OK("1970-01-01T00:00:00.0009Z", NULL, 0); /* truncated to 0 first */
}

static void r1_2_range_before_1970_rejected(void **st) {
    (void)st;
    TS_BAD("1969-12-31T23:59:59.999Z", NULL);
    TS_BAD("1969-12-31T23:59:59Z", NULL);
}

static void r1_2_range_last_instant_accepted(void **st) {
    (void)st;
    /* 47482 * 86400000 - 1000 = 4102444799000 */
    TS_OK("2099-12-31T23:59:59Z", NULL, INT64_C(4102444799000));
    TS_OK("2099-12-31T23:59:59.000Z", NULL, CP_TS_MAX_MS);
}

static void r1_2_range_half_second_after_last_rejected(void **st) {
    (void)st;
    TS_BAD("2099-12-31T23:59:59.500Z", NULL);
    TS_BAD("2099-12-31T23:59:59.001Z", NULL);
    TS_BAD("2100-01-01T00:00:00Z", NULL);
}

static void r1_2_range_checked_after_offset(void **st) {
    (void)st;
    /* 2100-01-01T07:59:59+08:00 is 2099-12-31T23:59:59Z: in range. */
    TS_OK("2100-01-01T07:59:59+08:00", NULL, CP_TS_MAX_MS);
    /* 1970-01-01T00:59:59+01:00 is 1969-12-31T23:59:59Z: out. */
    TS_BAD("1970-01-01T00:59:59+01:00", NULL);
    /* 1969-12-31T16:00:00-08:00 is exactly 0. */
    TS_OK("1969-12-31T16:00:00-08:00", NULL, 0);
}

static void r1_2_range_checked_after_input_tz(void **st) {
    (void)st;
    /* Local 1969-12-31 16:00 in LA (PST) is 1970-01-01T00:00Z. */
    TS_OK("1969-12-31 16:00:00", g_la, 0);
    TS_BAD("1969-12-31 15:59:59", g_la);
}

static void r1_2_feb_29_in_leap_year_accepted(void **st) {
    (void)st;
    /* 2024-02-29 = day 19782; 19782*86400000 = 1709164800000 */
    TS_OK("2024-02-29T00:00:00Z", NULL, INT64_C(1709164800000));
    TS_OK("2000-02-29T00:00:00Z", NULL, (INT64_C(10957) + 31 + 28) * DAY_MS);
}

static void r1_2_feb_29_in_common_year_rejected(void **st) {
    (void)st;
    TS_BAD("2023-02-29T00:00:00Z", NULL);
    TS_BAD("2099-02-29T00:00:00Z", NULL);
}

static void r1_2_feb_30_rejected(void **st) {
    (void)st;
    TS_BAD("2024-02-30T00:00:00Z", NULL);
}

static void r1_2_day_past_month_end_rejected(void **st) {
    (void)st;
    TS_BAD("2024-04-31T00:00:00Z", NULL);
    TS_BAD("2024-01-32T00:00:00Z", NULL);
    TS_BAD("2024-01-00T00:00:00Z", NULL);
}

static void r1_2_month_13_rejected(void **st) {
    (void)st;
    TS_BAD("2024-13-01T00:00:00Z", NULL);
    TS_BAD("2024-00-01T00:00:00Z", NULL);
}

static void r1_2_hour_24_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T24:00:00Z", NULL);
}

static void r1_2_minute_60_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T12:60:00Z", NULL);
}

static void r1_2_second_60_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T23:59:60Z", NULL);
}

static void r1_2_values_not_trimmed(void **st) {
    (void)st;
    TS_BAD(" 2024-03-01T12:34:56Z", NULL);
    TS_BAD("2024-03-01T12:34:56Z ", NULL);
    TS_BAD("2024-03-01T12:34:56Z\n", NULL);
    TS_BAD(" 1709296496", NULL);
    TS_BAD("1709296496 ", NULL);
}

static void r1_2_date_only_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01", NULL);
}

static void r1_2_time_without_seconds_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01T12:34Z", NULL);
    TS_BAD("2024-03-01T12:34", NULL);
}

static void r1_2_zone_word_rejected(void **st) {
    (void)st;
    TS_BAD("2024-03-01 12:34:56 UTC", NULL);
}

static void r1_2_empty_and_garbage_rejected(void **st) {
    (void)st;
    TS_BAD("", NULL);
    TS_BAD("now", NULL);
    TS_BAD("2O24-03-01T12:34:56Z", NULL); /* letter O */
    TS_BAD("+024-03-01T12:34:56Z", NULL);
}

/* ==== R4.4 time zones ===================================================== */

static void r4_4_dst_spring_forward_los_angeles(void **st) {
    (void)st;
    /* 2024-03-10: clocks go 01:59:59 PST -> 03:00:00 PDT at 10:00Z.
     * 2024-03-10T00:00Z = 19792*86400000 = 1710028800000. */
    const int64_t d = INT64_C(1710028800000);
    TS_OK("2024-03-10 01:59:59", g_la, d + 9 * H_MS + 59 * 60000 + 59000); /* -8 h */
    TS_OK("2024-03-10 03:00:00", g_la, d + 10 * H_MS);                      /* -7 h */
}

static void r4_4_dst_gap_uses_offset_before_gap(void **st) {
    (void)st;
    /* 02:30 does not exist; read with -08:00: 10:30Z. */
    TS_OK("2024-03-10 02:30:00", g_la, INT64_C(1710028800000) + 10 * H_MS + 30 * 60000);
}

static void r4_4_dst_fall_back_overlap_takes_earlier(void **st) {
    (void)st;
    /* 2024-11-03: 01:00-01:59 happens twice (PDT then PST).  01:30 is read
     * as PDT (-7): 08:30Z.  2024-11-03T00:00Z = 20030*86400000. */
    TS_OK("2024-11-03 01:30:00", g_la, INT64_C(1730592000000) + 8 * H_MS + 30 * 60000);
}

static void r4_4_dst_fall_back_after_overlap(void **st) {
    (void)st;
    /* 02:00 PST (-8) is 10:00Z; 00:59:59 PDT (-7) is 07:59:59Z. */
    TS_OK("2024-11-03 02:00:00", g_la, INT64_C(1730592000000) + 10 * H_MS);
    TS_OK("2024-11-03 00:59:59", g_la, INT64_C(1730592000000) + 7 * H_MS + 59 * 60000 + 59000);
}

static void r4_4_offset_at_utc_spring_forward(void **st) {
    (void)st;
    const int64_t change = INT64_C(1710028800000) + 10 * H_MS; /* 2024-03-10T10:00Z */
    assert_int_equal(cp_tz_offset_at_utc(g_la, change - 1), -8 * 3600);
    assert_int_equal(cp_tz_offset_at_utc(g_la, change), -7 * 3600);
}

static void r4_4_offset_at_utc_fall_back(void **st) {
    (void)st;
    const int64_t change = INT64_C(1730592000000) + 9 * H_MS; /* 2024-11-03T09:00Z */
    assert_int_equal(cp_tz_offset_at_utc(g_la, change - 1), -7 * 3600);
    assert_int_equal(cp_tz_offset_at_utc(g_la, change), -8 * 3600);
}

static void r4_4_dst_spring_forward_london_2011(void **st) {
    (void)st;
    /* Online Retail: 2011-03-27 01:00 GMT -> 02:00 BST at 01:00Z.
     * 2011-03-27T00:00Z = 15060*86400000 = 1301184000000. */
    const int64_t d = INT64_C(1301184000000);
    assert_int_equal(cp_tz_offset_at_utc(g_london, d + H_MS - 1), 0);
    assert_int_equal(cp_tz_offset_at_utc(g_london, d + H_MS), 3600);
    TS_OK("2011-03-27 00:59:59", g_london, d + H_MS - 1000);
    TS_OK("2011-03-27 01:30:00", g_london, d + H_MS + 30 * 60000); /* gap: GMT */
    TS_OK("2011-03-27 02:00:00", g_london, d + H_MS);              /* BST */
}

static void r4_4_day_in_los_angeles(void **st) {
    (void)st;
    /* 2024-03-01T08:00Z is midnight PST: day 19783; a ms earlier is Feb 29. */
    const int64_t midnight = INT64_C(1709251200000) + 8 * H_MS;
    assert_int_equal(cp_tz_day(g_la, midnight - 1), 19782);
    assert_int_equal(cp_tz_day(g_la, midnight), 19783);
}

static void r4_4_day_after_spring_forward(void **st) {
    (void)st;
    /* 2024-03-11 starts at 00:00 PDT = 07:00Z (not 08:00Z). */
    const int64_t midnight = INT64_C(1710028800000) + DAY_MS + 7 * H_MS;
    assert_int_equal(cp_tz_day(g_la, midnight - 1), 19792);
    assert_int_equal(cp_tz_day(g_la, midnight), 19793);
}

static void r4_4_day_after_fall_back(void **st) {
    (void)st;
    /* 2024-11-04 starts at 00:00 PST = 08:00Z. */
    const int64_t midnight = INT64_C(1730592000000) + DAY_MS + 8 * H_MS;
    assert_int_equal(cp_tz_day(g_la, midnight - 1), 20030);
    assert_int_equal(cp_tz_day(g_la, midnight), 20031);
}

static void r4_4_day_floors_negative_instants(void **st) {
    (void)st;
    assert_int_equal(cp_tz_day(NULL, -1), -1);
    assert_int_equal(cp_tz_day(NULL, 0), 0);
    assert_int_equal(cp_tz_day(NULL, -DAY_MS), -1);
    assert_int_equal(cp_tz_day(NULL, -DAY_MS - 1), -2);
}

static void r4_4_utc_has_no_offset(void **st) {
    (void)st;
    cp_tz *utc = cp_tz_open("UTC");
    assert_non_null(utc);
    assert_int_equal(cp_tz_offset_at_utc(utc, T0), 0);
    assert_int_equal(cp_tz_local_to_utc(utc, T0), T0);
    assert_int_equal(cp_tz_day(utc, T0), 19783);
    assert_string_equal(cp_tz_name(utc), "UTC");
    cp_tz_free(utc);
}

static void r4_4_null_name_is_utc(void **st) {
    (void)st;
    cp_tz *utc = cp_tz_open(NULL);
    assert_non_null(utc);
    assert_string_equal(cp_tz_name(utc), "UTC");
    assert_int_equal(cp_tz_offset_at_utc(utc, T0), 0);
    cp_tz_free(utc);
    cp_tz_free(NULL);
}

static void r4_4_zone_name_is_kept(void **st) {
    (void)st;
    assert_string_equal(cp_tz_name(g_la), "America/Los_Angeles");
}

static void r4_4_etc_utc_through_tzdata(void **st) {
    (void)st;
    cp_tz *z = cp_tz_open("Etc/UTC");
    assert_non_null(z);
    assert_int_equal(cp_tz_offset_at_utc(z, T0), 0);
    cp_tz_free(z);
}

static void r4_4_half_hour_zone(void **st) {
    (void)st;
    /* Asia/Kolkata is +05:30 all year. */
    cp_tz *z = cp_tz_open("Asia/Kolkata");
    assert_non_null(z);
    assert_int_equal(cp_tz_offset_at_utc(z, T0), 19800);
    TS_OK("2024-03-01 18:04:56", z, T0);
    cp_tz_free(z);
}

static void r4_4_unknown_tz_name_rejected(void **st) {
    (void)st;
    assert_null(cp_tz_open("Mars/Olympus_Mons"));
    assert_null(cp_tz_open("utc"));
    assert_null(cp_tz_open(""));
}

static void r4_4_tz_path_traversal_rejected(void **st) {
    (void)st;
    assert_null(cp_tz_open("/usr/share/zoneinfo/UTC"));
    assert_null(cp_tz_open("../zoneinfo/UTC"));
    assert_null(cp_tz_open("America/../UTC"));
    assert_null(cp_tz_open("America/Los Angeles"));
}

static void r4_4_tz_directory_or_non_tzif_rejected(void **st) {
    (void)st;
    assert_null(cp_tz_open("America"));
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", "iso3166.tab");
    if (access(path, R_OK) == 0) /* a data file, not a zone */
        assert_null(cp_tz_open("iso3166.tab"));
}

/* Every instant of 2024 on a 7.5-minute grid, from several threads at once:
 * PDT (-7 h) from 2024-03-10T10:00Z to 2024-11-03T09:00Z, PST (-8 h)
 * otherwise. */
static void *offset_worker(void *arg) {
    (void)arg;
    const int64_t y0 = INT64_C(19723) * DAY_MS, y1 = y0 + 366 * DAY_MS;
    const int64_t pdt_from = INT64_C(1710028800000) + 10 * H_MS;
    const int64_t pdt_to = INT64_C(1730592000000) + 9 * H_MS;
    for (int64_t t = y0; t < y1; t += 450000) {
        int32_t want = (t >= pdt_from && t < pdt_to) ? -7 * 3600 : -8 * 3600;
        if (cp_tz_offset_at_utc(g_la, t) != want)
            return (void *)1;
    }
    return NULL;
}

static void r4_4_offsets_thread_safe(void **st) {
    (void)st;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, offset_worker, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rv = (void *)2;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
}

static void r4_4_zones_do_not_disturb_each_other(void **st) {
    (void)st;
    /* Alternate lookups across zones on cold instants (1990). */
    const int64_t jul = (INT64_C(7305) + 181) * DAY_MS; /* 1990-07-01 (7305 = 1990-01-01) */
    for (int i = 0; i < 30; i++) { /* to 1990-09-28: still summer time */
        int64_t t = jul + i * 3 * DAY_MS;
        assert_int_equal(cp_tz_offset_at_utc(g_la, t), -7 * 3600);
        assert_int_equal(cp_tz_offset_at_utc(g_london, t), 3600);
    }
}

/* ==== R1.4a --ts-format =================================================== */

static void r1_4a_format_compact_date_cdnow(void **st) {
    (void)st;
    /* 1997-01-01 = 27*365 + 7 = day 9862 */
    TSF_OK("19970101", "%Y%m%d", NULL, INT64_C(9862) * DAY_MS);
}

static void r1_4a_format_us_date_and_minutes(void **st) {
    (void)st;
    /* Online Retail "12/1/2010 8:26": 2010-12-01 = 14610 + 334 = 14944. */
    TSF_OK("12/1/2010 8:26", "%m/%d/%Y %H:%M", NULL, INT64_C(14944) * DAY_MS + 8 * H_MS + 26 * 60000);
}

static void r1_4a_format_apache_with_offset(void **st) {
    (void)st;
    /* 2000-10-10 = 10957 + 274 + 9 = 11240; 13:55:36-07:00 = 20:55:36Z. */
    TSF_OK("10/Oct/2000:13:55:36 -0700", "%d/%b/%Y:%H:%M:%S %z", NULL,
           INT64_C(11240) * DAY_MS + 20 * H_MS + 55 * 60000 + 36000);
}

static void r1_4a_format_literal_text(void **st) {
    (void)st;
    TSF_OK("2024-03-01 12:34:56 UTC", "%Y-%m-%d %H:%M:%S UTC", NULL, T0);
}

static void r1_4a_format_literal_mismatch_rejected(void **st) {
    (void)st;
    TSF_BAD("2024-03-01 12:34:56 GMT", "%Y-%m-%d %H:%M:%S UTC", NULL);
    TSF_BAD("2024-03-01 12:34:56 utc", "%Y-%m-%d %H:%M:%S UTC", NULL);
}

static void r1_4a_format_missing_time_is_midnight(void **st) {
    (void)st;
    TSF_OK("2024-03-01", "%Y-%m-%d", NULL, INT64_C(19783) * DAY_MS);
}

static void r1_4a_format_missing_day_is_first(void **st) {
    (void)st;
    TSF_OK("2024-03", "%Y-%m", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("2024", "%Y", NULL, INT64_C(19723) * DAY_MS);
}

static void r1_4a_format_without_year_rejected(void **st) {
    (void)st;
    TSF_BAD("03/01", "%m/%d", NULL);
    TSF_BAD("12:34:56", "%T", NULL);
}

static void r1_4a_format_two_digit_year(void **st) {
    (void)st;
    /* POSIX pivot: 00-68 -> 20xx, 69-99 -> 19xx. */
    TSF_OK("240301", "%y%m%d", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("970101", "%y%m%d", NULL, INT64_C(9862) * DAY_MS);
    TSF_BAD("690101", "%y%m%d", NULL); /* 1969: before the range */
}

static void r1_4a_format_month_name_any_case(void **st) {
    (void)st;
    TSF_OK("MARCH 1 2024", "%B %d %Y", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("march 1 2024", "%B %d %Y", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("Mar 1 2024", "%B %d %Y", NULL, INT64_C(19783) * DAY_MS);
}

static void r1_4a_format_month_abbreviation(void **st) {
    (void)st;
    TSF_OK("01-mAr-2024", "%d-%b-%Y", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("01-Mar-2024", "%d-%h-%Y", NULL, INT64_C(19783) * DAY_MS);
    TSF_BAD("01-Mrz-2024", "%d-%b-%Y", NULL);
}

static void r1_4a_format_e_space_padded_day(void **st) {
    (void)st;
    TSF_OK("Mar  1 2024", "%b %e %Y", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("2024-03- 1", "%Y-%m-%e", NULL, INT64_C(19783) * DAY_MS);
}

static void r1_4a_format_day_of_year(void **st) {
    (void)st;
    /* Day 61 of 2024 = 31 + 29 + 1 = March 1. */
    TSF_OK("2024-061", "%Y-%j", NULL, INT64_C(19783) * DAY_MS);
    TSF_OK("2024 366", "%Y %j", NULL, (INT64_C(19723) + 365) * DAY_MS);
}

static void r1_4a_format_day_of_year_366_in_common_year_rejected(void **st) {
    (void)st;
    TSF_BAD("2023 366", "%Y %j", NULL);
}

static void r1_4a_format_day_of_year_must_agree_with_date(void **st) {
    (void)st;
    TSF_OK("2024-03-01 061", "%F %j", NULL, INT64_C(19783) * DAY_MS);
    TSF_BAD("2024-03-01 060", "%F %j", NULL);
}

static void r1_4a_format_12_hour_clock(void **st) {
    (void)st;
    const int64_t d = INT64_C(19783) * DAY_MS;
    TSF_OK("2024-03-01 12:30 AM", "%F %I:%M %p", NULL, d + 30 * 60000); /* midnight */
    TSF_OK("2024-03-01 12:30 PM", "%F %I:%M %p", NULL, d + 12 * H_MS + 30 * 60000);
    TSF_OK("2024-03-01 1:05 pm", "%F %I:%M %p", NULL, d + 13 * H_MS + 5 * 60000);
    TSF_OK("2024-03-01 11:05", "%F %I:%M", NULL, d + 11 * H_MS + 5 * 60000); /* AM */
    TSF_BAD("2024-03-01 13:05 PM", "%F %I:%M %p", NULL);
    TSF_BAD("2024-03-01 0:05 AM", "%F %I:%M %p", NULL);
}

static void r1_4a_format_offset_forms(void **st) {
    (void)st;
    TSF_OK("2024-03-01 20:34:56 +08:00", "%F %T %z", NULL, T0);
    TSF_OK("2024-03-01 20:34:56 +0800", "%F %T %z", NULL, T0);
    TSF_OK("2024-03-01 12:34:56 Z", "%F %T %z", NULL, T0);
    TSF_BAD("2024-03-01 12:34:56 +24:00", "%F %T %z", NULL);
}

static void r1_4a_format_zone_word_skipped(void **st) {
    (void)st;
    /* %Z is not read: the wall time stays in the input zone (UTC here). */
    TSF_OK("2024-03-01 12:34:56 PST", "%F %T %Z", NULL, T0);
    TSF_BAD("2024-03-01 12:34:56 +08", "%F %T %Z", NULL);
}

static void r1_4a_format_epoch_seconds(void **st) {
    (void)st;
    TSF_OK("1709296496", "%s", NULL, T0);
    TSF_OK("1709296496.123456", "%s.%f", NULL, T0 + 123);
    TSF_BAD("4102444800", "%s", NULL);
    TSF_BAD("-1", "%s", NULL);
}

static void r1_4a_format_fraction(void **st) {
    (void)st;
    TSF_OK("2024-03-01 12:34:56.7891", "%F %T.%f", NULL, T0 + 789);
    TSF_OK("2024-03-01 12:34:56.7", "%F %T.%f", NULL, T0 + 700);
    TSF_BAD("2024-03-01 12:34:56.", "%F %T.%f", NULL);
}

static void r1_4a_format_f_and_t_shorthands(void **st) {
    (void)st;
    TSF_OK("2024-03-01T12:34:56", "%FT%T", NULL, T0);
}

static void r1_4a_format_percent_literal(void **st) {
    (void)st;
    TSF_OK("%2024-03-01", "%%%F", NULL, INT64_C(19783) * DAY_MS);
    TSF_BAD("x2024-03-01", "%%%F", NULL);
}

static void r1_4a_format_whitespace_matches_runs_of_blanks(void **st) {
    (void)st;
    TSF_OK("2024-03-01 \t  12:34:56", "%F %T", NULL, T0);
    TSF_OK("2024-03-01 12:34:56", "%F \t %T", NULL, T0);
    TSF_BAD("2024-03-0112:34:56", "%F %T", NULL);
}

static void r1_4a_format_whole_value_must_match(void **st) {
    (void)st;
    TSF_BAD("2024-03-01 12:34:56 ", "%F %T", NULL);
    TSF_BAD(" 2024-03-01 12:34:56", "%F %T", NULL);
    TSF_BAD("2024-03-01 12:34", "%F %T", NULL);
    TSF_BAD("", "%F", NULL);
}

static void r1_4a_format_unknown_directive_rejected(void **st) {
    (void)st;
    TSF_BAD("2024-03-01 Q", "%F %Q", NULL);
    TSF_BAD("2024-03-01%", "%F%", NULL);
}

static void r1_4a_format_numbers_take_at_most_their_width(void **st) {
    (void)st;
    TSF_BAD("20240-03-01", "%Y-%m-%d", NULL);
    TSF_BAD("2024-003-01", "%Y-%m-%d", NULL);
    TSF_OK("24-3-1", "%y-%m-%d", NULL, INT64_C(19783) * DAY_MS);
}

static void r1_4a_format_impossible_date_rejected(void **st) {
    (void)st;
    TSF_BAD("02/30/2024", "%m/%d/%Y", NULL);
    TSF_BAD("13/01/2024", "%m/%d/%Y", NULL);
    TSF_BAD("2024-03-01 24:00", "%F %H:%M", NULL);
    TSF_BAD("2024-03-01 23:60", "%F %H:%M", NULL);
    TSF_BAD("2024-03-01 23:59:60", "%F %T", NULL);
}

static void r1_4a_format_wall_time_in_input_tz(void **st) {
    (void)st;
    TSF_OK("03/01/2024 04:34:56", "%m/%d/%Y %T", g_la, T0);
    /* Spring-forward gap as for R1.2: 02:30 -> 10:30Z. */
    TSF_OK("03/10/2024 02:30", "%m/%d/%Y %H:%M", g_la,
           INT64_C(1710028800000) + 10 * H_MS + 30 * 60000);
}

static void r1_4a_format_offset_overrides_input_tz(void **st) {
    (void)st;
    TSF_OK("01/Mar/2024:12:34:56 +0000", "%d/%b/%Y:%H:%M:%S %z", g_la, T0);
}

static void r1_4a_format_range_checked(void **st) {
    (void)st;
    TSF_OK("2099-12-31 23:59:59", "%F %T", NULL, CP_TS_MAX_MS);
    TSF_BAD("2100-01-01", "%F", NULL);
    TSF_BAD("1969-12-31", "%F", NULL);
}

/* ==== R1.5 / R1.4b decimals =============================================== */

static void r1_5_decimal_integer(void **st) { (void)st; DEC_OK("12", 12000000); }

static void r1_5_decimal_fraction(void **st) { (void)st; DEC_OK("12.5", 12500000); }

static void r1_5_decimal_one_micro(void **st) { (void)st; DEC_OK("0.000001", 1); }

static void r1_5_decimal_leading_dot(void **st) {
    (void)st;
    DEC_OK(".5", 500000);
    DEC_OK("-.5", -500000);
}

static void r1_5_decimal_trailing_dot(void **st) { (void)st; DEC_OK("5.", 5000000); }

static void r1_5_decimal_negative(void **st) {
    (void)st;
    /* The caller decides whether negative is bad_cost. */
    DEC_OK("-3.2", -3200000);
}

static void r1_5_decimal_negative_zero_is_zero(void **st) {
    (void)st;
    DEC_OK("-0", 0);
    DEC_OK("-0.000", 0);
}

static void r1_5_decimal_leading_zeros(void **st) {
    (void)st;
    DEC_OK("007.50", 7500000);
    DEC_OK("00000000000000000000000000001", 1000000);
}

static void r1_4b_cost_zeros_beyond_six_decimals_accepted(void **st) {
    (void)st;
    DEC_OK("1.5000000000", 1500000);
    DEC_OK("0.0000010000000000000000000000", 1);
}

static void r1_4b_cost_seven_decimals_rejected(void **st) {
    (void)st;
    DEC_BAD("1.0000001");
    DEC_BAD("0.0000005");
    DEC_BAD("1.0000000000001");
}

static void r1_4b_cost_10e12_accepted(void **st) {
    (void)st;
    DEC_OK("1000000000000", INT64_C(1000000000000000000));
    DEC_OK("1000000000000.000000", INT64_C(1000000000000000000));
    DEC_OK("-1000000000000", -INT64_C(1000000000000000000));
    DEC_OK("999999999999.999999", INT64_C(999999999999999999));
}

static void r1_4b_cost_above_10e12_rejected(void **st) {
    (void)st;
    DEC_BAD("1000000000000.000001");
    DEC_BAD("1000000000001");
    DEC_BAD("-1000000000000.000001");
    DEC_BAD("99999999999999999999999999"); /* would overflow int64 */
}

static void r1_4b_cost_exponent_rejected(void **st) {
    (void)st;
    DEC_BAD("1e5");
    DEC_BAD("1E5");
    DEC_BAD("1.5e-3");
}

static void r1_4b_cost_nan_and_inf_rejected(void **st) {
    (void)st;
    DEC_BAD("NaN");
    DEC_BAD("nan");
    DEC_BAD("inf");
    DEC_BAD("-Infinity");
}

static void r1_4b_cost_plus_sign_rejected(void **st) {
    (void)st;
    DEC_BAD("+1");
    DEC_BAD("--1");
    DEC_BAD("1-");
}

static void r1_4b_cost_without_digits_rejected(void **st) {
    (void)st;
    DEC_BAD("");
    DEC_BAD("-");
    DEC_BAD(".");
    DEC_BAD("-.");
}

static void r1_4b_cost_spaces_rejected(void **st) {
    (void)st;
    DEC_BAD(" 1");
    DEC_BAD("1 ");
    DEC_BAD("- 1");
}

static void r1_4b_cost_comma_rejected(void **st) {
    (void)st;
    DEC_BAD("1,5");
    DEC_BAD("1,000.00");
    DEC_BAD("1.2.3");
    DEC_BAD("$1");
}

static void r1_4b_units_integer(void **st) {
    (void)st;
    INT_OK("3", 3);
    INT_OK("-2", -2);
    INT_OK("007", 7);
    INT_OK("-0", 0);
}

static void r1_4b_units_magnitude_up_to_10e9(void **st) {
    (void)st;
    INT_OK("1000000000", 1000000000);
    INT_OK("-1000000000", -1000000000);
    INT_OK("0000000000001000000000", 1000000000);
    INT_BAD("1000000001");
    INT_BAD("-1000000001");
    INT_BAD("99999999999999999999999");
}

static void r1_4b_units_not_an_integer_rejected(void **st) {
    (void)st;
    INT_BAD("1.0");
    INT_BAD("+1");
    INT_BAD("");
    INT_BAD("-");
    INT_BAD("1e3");
    INT_BAD(" 1");
    INT_BAD("1 ");
}

/* ==== R8 formats ========================================================== */

static void r8_money_at_least_two_decimals(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_money(b_, 12500000), "12.50");
    FMT_EQ(cp_fmt_money(b_, 12000000), "12.00");
}

static void r8_money_no_more_decimals_than_needed(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_money(b_, 7665000), "7.665");
    FMT_EQ(cp_fmt_money(b_, 1), "0.000001");
    FMT_EQ(cp_fmt_money(b_, 1234567), "1.234567");
}

static void r8_money_zero(void **st) { (void)st; FMT_EQ(cp_fmt_money(b_, 0), "0.00"); }

static void r8_money_negative(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_money(b_, -3000000), "-3.00");
    FMT_EQ(cp_fmt_money(b_, -500000), "-0.50");
    FMT_EQ(cp_fmt_money(b_, -1), "-0.000001");
}

static void r8_money_int64_extremes(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_money(b_, INT64_MIN), "-9223372036854.775808");
    FMT_EQ(cp_fmt_money(b_, INT64_MAX), "9223372036854.775807");
}

static void r8_ratio_exact(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, 1, 8), "0.125000");
    FMT_EQ(cp_fmt_ratio(b_, 5, 4), "1.250000");
    FMT_EQ(cp_fmt_ratio(b_, 0, 7), "0.000000");
}

static void r8_ratio_rounds_to_nearest(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, 1, 3), "0.333333"); /* .3333333 down */
    FMT_EQ(cp_fmt_ratio(b_, 2, 3), "0.666667"); /* .6666666 up */
    FMT_EQ(cp_fmt_ratio(b_, 4, 1000), "0.004000");
}

static void r8_ratio_half_to_even(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, 1, 2000000), "0.000000"); /* 0.5 micro -> 0 (even) */
    FMT_EQ(cp_fmt_ratio(b_, 3, 2000000), "0.000002"); /* 1.5 -> 2 */
    FMT_EQ(cp_fmt_ratio(b_, 5, 2000000), "0.000002"); /* 2.5 -> 2 */
    FMT_EQ(cp_fmt_ratio(b_, 1000001, 2000000), "0.500000"); /* 500000.5 -> 500000 */
    FMT_EQ(cp_fmt_ratio(b_, 1000003, 2000000), "0.500002"); /* 500001.5 -> 500002 */
}

static void r8_ratio_just_over_half_rounds_up(void **st) {
    (void)st;
    /* 1000001/2000001 = 0.49999...+: 499999.75 micro -> 500000 */
    FMT_EQ(cp_fmt_ratio(b_, 1000001, 2000001), "0.500000");
    /* 1/1999999 = 0.50000025 micro -> 1 */
    FMT_EQ(cp_fmt_ratio(b_, 1, 1999999), "0.000001");
}

static void r8_ratio_zero_divisor_is_empty(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, 5, 0), "");
    FMT_EQ(cp_fmt_ratio(b_, 0, 0), "");
}

static void r8_ratio_signs(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, -1, 8), "-0.125000");
    FMT_EQ(cp_fmt_ratio(b_, 1, -8), "-0.125000");
    FMT_EQ(cp_fmt_ratio(b_, -1, -8), "0.125000");
    FMT_EQ(cp_fmt_ratio(b_, -5, 2000000), "-0.000002"); /* half to even on magnitude */
}

static void r8_ratio_never_negative_zero(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, -1, 3000000), "0.000000");
    FMT_EQ(cp_fmt_ratio(b_, 0, -5), "0.000000");
}

static void r8_ratio_int64_extremes(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ratio(b_, INT64_MAX, 1), "9223372036854775807.000000");
    FMT_EQ(cp_fmt_ratio(b_, INT64_MIN, -1), "9223372036854775808.000000");
    FMT_EQ(cp_fmt_ratio(b_, INT64_MIN, 1), "-9223372036854775808.000000");
    /* 2^63 / (2^63 - 1) = 1.0000000000000000001 */
    FMT_EQ(cp_fmt_ratio(b_, INT64_MIN, INT64_MAX), "-1.000000");
    FMT_EQ(cp_fmt_ratio(b_, 1, INT64_MIN), "0.000000");
}

static void r8_double6_fixed_six_decimals(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_double6(b_, 0.5), "0.500000");
    FMT_EQ(cp_fmt_double6(b_, 1234.5678), "1234.567800");
    FMT_EQ(cp_fmt_double6(b_, -2.25), "-2.250000");
    FMT_EQ(cp_fmt_double6(b_, 0.0), "0.000000");
}

static void r8_double6_no_negative_zero(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_double6(b_, -0.0), "0.000000");
    FMT_EQ(cp_fmt_double6(b_, -0.0000001), "0.000000");
}

static void r8_double6_non_finite_is_empty(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_double6(b_, NAN), "");
    FMT_EQ(cp_fmt_double6(b_, INFINITY), "");
    FMT_EQ(cp_fmt_double6(b_, -INFINITY), "");
    FMT_EQ(cp_fmt_double6(b_, 1e300), ""); /* does not fit the buffer */
}

static void r8_ts_rfc3339_utc_milliseconds(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ts(b_, T0), "2024-03-01T12:34:56.000Z");
    FMT_EQ(cp_fmt_ts(b_, T0 + 7), "2024-03-01T12:34:56.007Z");
}

static void r8_ts_range_ends(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_ts(b_, 0), "1970-01-01T00:00:00.000Z");
    FMT_EQ(cp_fmt_ts(b_, CP_TS_MAX_MS), "2099-12-31T23:59:59.000Z");
    FMT_EQ(cp_fmt_ts(b_, -1), "1969-12-31T23:59:59.999Z");
}

static void r8_day_format(void **st) {
    (void)st;
    FMT_EQ(cp_fmt_day(b_, 19783), "2024-03-01");
    FMT_EQ(cp_fmt_day(b_, 0), "1970-01-01");
    FMT_EQ(cp_fmt_day(b_, -1), "1969-12-31");
    FMT_EQ(cp_fmt_day(b_, 47481), "2099-12-31");
}

static void r8_civil_days_known_dates(void **st) {
    (void)st;
    assert_int_equal(cp_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(cp_days_from_civil(2000, 3, 1), 10957 + 31 + 29);
    assert_int_equal(cp_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(cp_days_from_civil(2100, 1, 1), 47482);
    assert_int_equal(cp_days_from_civil(1969, 12, 31), -1);
}

static void r8_civil_round_trip(void **st) {
    (void)st;
    /* Consecutive days walk the calendar one day at a time. */
    int py;
    unsigned pm, pd;
    cp_civil_from_days(-800000, &py, &pm, &pd);
    for (int64_t z = -800000 + 1; z <= 800000; z++) {
        int y;
        unsigned m, d;
        cp_civil_from_days(z, &y, &m, &d);
        assert_int_equal(cp_days_from_civil(y, m, d), z);
        bool next = (y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
                    (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
        if (!next)
            fail_msg("day %lld does not follow %d-%u-%u", (long long)z, py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

int main(void) {
    long ps = sysconf(_SC_PAGESIZE);
    g_page_len = (size_t)ps;
    g_page = mmap(NULL, 2 * g_page_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_page == MAP_FAILED || mprotect(g_page + g_page_len, g_page_len, PROT_NONE) != 0) {
        perror("guard page");
        return 1;
    }
    g_la = cp_tz_open("America/Los_Angeles");
    g_london = cp_tz_open("Europe/London");
    if (!g_la || !g_london) {
        fprintf(stderr, "tzdata missing: install tzdata\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r1_2_rfc3339_utc_z),
        cmocka_unit_test(r1_2_lowercase_t_and_z_accepted),
        cmocka_unit_test(r1_2_space_may_replace_t),
        cmocka_unit_test(r1_2_other_separators_rejected),
        cmocka_unit_test(r1_2_positive_offset),
        cmocka_unit_test(r1_2_negative_offset_without_colon),
        cmocka_unit_test(r1_2_offset_with_minutes),
        cmocka_unit_test(r1_2_offset_23_59_accepted),
        cmocka_unit_test(r1_2_offset_beyond_23_59_rejected),
        cmocka_unit_test(r1_2_malformed_offset_rejected),
        cmocka_unit_test(r1_2_negative_zero_offset_is_utc),
        cmocka_unit_test(r1_2_fraction_truncated_to_ms),
        cmocka_unit_test(r1_2_fraction_short_is_scaled),
        cmocka_unit_test(r1_2_fraction_of_any_length),
        cmocka_unit_test(r1_2_fraction_without_digits_rejected),
        cmocka_unit_test(r1_2_no_offset_is_utc_by_default),
        cmocka_unit_test(r1_2_no_offset_is_in_input_tz),
        cmocka_unit_test(r1_2_explicit_offset_ignores_input_tz),
        cmocka_unit_test(r1_2_epoch_seconds),
        cmocka_unit_test(r1_2_epoch_seconds_one_digit),
        cmocka_unit_test(r1_2_epoch_seconds_eleven_digits),
        cmocka_unit_test(r1_2_epoch_twelve_digits_rejected),
        cmocka_unit_test(r1_2_epoch_millis_thirteen_digits),
        cmocka_unit_test(r1_2_epoch_fourteen_digits_rejected),
        cmocka_unit_test(r1_2_epoch_sign_or_fraction_rejected),
        cmocka_unit_test(r1_2_epoch_ignores_input_tz),
        cmocka_unit_test(r1_2_range_first_instant_accepted),
        cmocka_unit_test(r1_2_range_before_1970_rejected),
        cmocka_unit_test(r1_2_range_last_instant_accepted),
        cmocka_unit_test(r1_2_range_half_second_after_last_rejected),
        cmocka_unit_test(r1_2_range_checked_after_offset),
        cmocka_unit_test(r1_2_range_checked_after_input_tz),
        cmocka_unit_test(r1_2_feb_29_in_leap_year_accepted),
        cmocka_unit_test(r1_2_feb_29_in_common_year_rejected),
        cmocka_unit_test(r1_2_feb_30_rejected),
        cmocka_unit_test(r1_2_day_past_month_end_rejected),
        cmocka_unit_test(r1_2_month_13_rejected),
        cmocka_unit_test(r1_2_hour_24_rejected),
        cmocka_unit_test(r1_2_minute_60_rejected),
        cmocka_unit_test(r1_2_second_60_rejected),
        cmocka_unit_test(r1_2_values_not_trimmed),
        cmocka_unit_test(r1_2_date_only_rejected),
        cmocka_unit_test(r1_2_time_without_seconds_rejected),
        cmocka_unit_test(r1_2_zone_word_rejected),
        cmocka_unit_test(r1_2_empty_and_garbage_rejected),
        cmocka_unit_test(r4_4_dst_spring_forward_los_angeles),
        cmocka_unit_test(r4_4_dst_gap_uses_offset_before_gap),
        cmocka_unit_test(r4_4_dst_fall_back_overlap_takes_earlier),
        cmocka_unit_test(r4_4_dst_fall_back_after_overlap),
        cmocka_unit_test(r4_4_offset_at_utc_spring_forward),
        cmocka_unit_test(r4_4_offset_at_utc_fall_back),
        cmocka_unit_test(r4_4_dst_spring_forward_london_2011),
        cmocka_unit_test(r4_4_day_in_los_angeles),
        cmocka_unit_test(r4_4_day_after_spring_forward),
        cmocka_unit_test(r4_4_day_after_fall_back),
        cmocka_unit_test(r4_4_day_floors_negative_instants),
        cmocka_unit_test(r4_4_utc_has_no_offset),
        cmocka_unit_test(r4_4_null_name_is_utc),
        cmocka_unit_test(r4_4_zone_name_is_kept),
        cmocka_unit_test(r4_4_etc_utc_through_tzdata),
        cmocka_unit_test(r4_4_half_hour_zone),
        cmocka_unit_test(r4_4_unknown_tz_name_rejected),
        cmocka_unit_test(r4_4_tz_path_traversal_rejected),
        cmocka_unit_test(r4_4_tz_directory_or_non_tzif_rejected),
        cmocka_unit_test(r4_4_offsets_thread_safe),
        cmocka_unit_test(r4_4_zones_do_not_disturb_each_other),
        cmocka_unit_test(r1_4a_format_compact_date_cdnow),
        cmocka_unit_test(r1_4a_format_us_date_and_minutes),
        cmocka_unit_test(r1_4a_format_apache_with_offset),
        cmocka_unit_test(r1_4a_format_literal_text),
        cmocka_unit_test(r1_4a_format_literal_mismatch_rejected),
        cmocka_unit_test(r1_4a_format_missing_time_is_midnight),
        cmocka_unit_test(r1_4a_format_missing_day_is_first),
        cmocka_unit_test(r1_4a_format_without_year_rejected),
        cmocka_unit_test(r1_4a_format_two_digit_year),
        cmocka_unit_test(r1_4a_format_month_name_any_case),
        cmocka_unit_test(r1_4a_format_month_abbreviation),
        cmocka_unit_test(r1_4a_format_e_space_padded_day),
        cmocka_unit_test(r1_4a_format_day_of_year),
        cmocka_unit_test(r1_4a_format_day_of_year_366_in_common_year_rejected),
        cmocka_unit_test(r1_4a_format_day_of_year_must_agree_with_date),
        cmocka_unit_test(r1_4a_format_12_hour_clock),
        cmocka_unit_test(r1_4a_format_offset_forms),
        cmocka_unit_test(r1_4a_format_zone_word_skipped),
        cmocka_unit_test(r1_4a_format_epoch_seconds),
        cmocka_unit_test(r1_4a_format_fraction),
        cmocka_unit_test(r1_4a_format_f_and_t_shorthands),
        cmocka_unit_test(r1_4a_format_percent_literal),
        cmocka_unit_test(r1_4a_format_whitespace_matches_runs_of_blanks),
        cmocka_unit_test(r1_4a_format_whole_value_must_match),
        cmocka_unit_test(r1_4a_format_unknown_directive_rejected),
        cmocka_unit_test(r1_4a_format_numbers_take_at_most_their_width),
        cmocka_unit_test(r1_4a_format_impossible_date_rejected),
        cmocka_unit_test(r1_4a_format_wall_time_in_input_tz),
        cmocka_unit_test(r1_4a_format_offset_overrides_input_tz),
        cmocka_unit_test(r1_4a_format_range_checked),
        cmocka_unit_test(r1_5_decimal_integer),
        cmocka_unit_test(r1_5_decimal_fraction),
        cmocka_unit_test(r1_5_decimal_one_micro),
        cmocka_unit_test(r1_5_decimal_leading_dot),
        cmocka_unit_test(r1_5_decimal_trailing_dot),
        cmocka_unit_test(r1_5_decimal_negative),
        cmocka_unit_test(r1_5_decimal_negative_zero_is_zero),
        cmocka_unit_test(r1_5_decimal_leading_zeros),
        cmocka_unit_test(r1_4b_cost_zeros_beyond_six_decimals_accepted),
        cmocka_unit_test(r1_4b_cost_seven_decimals_rejected),
        cmocka_unit_test(r1_4b_cost_10e12_accepted),
        cmocka_unit_test(r1_4b_cost_above_10e12_rejected),
        cmocka_unit_test(r1_4b_cost_exponent_rejected),
        cmocka_unit_test(r1_4b_cost_nan_and_inf_rejected),
        cmocka_unit_test(r1_4b_cost_plus_sign_rejected),
        cmocka_unit_test(r1_4b_cost_without_digits_rejected),
        cmocka_unit_test(r1_4b_cost_spaces_rejected),
        cmocka_unit_test(r1_4b_cost_comma_rejected),
        cmocka_unit_test(r1_4b_units_integer),
        cmocka_unit_test(r1_4b_units_magnitude_up_to_10e9),
        cmocka_unit_test(r1_4b_units_not_an_integer_rejected),
        cmocka_unit_test(r8_money_at_least_two_decimals),
        cmocka_unit_test(r8_money_no_more_decimals_than_needed),
        cmocka_unit_test(r8_money_zero),
        cmocka_unit_test(r8_money_negative),
        cmocka_unit_test(r8_money_int64_extremes),
        cmocka_unit_test(r8_ratio_exact),
        cmocka_unit_test(r8_ratio_rounds_to_nearest),
        cmocka_unit_test(r8_ratio_half_to_even),
        cmocka_unit_test(r8_ratio_just_over_half_rounds_up),
        cmocka_unit_test(r8_ratio_zero_divisor_is_empty),
        cmocka_unit_test(r8_ratio_signs),
        cmocka_unit_test(r8_ratio_never_negative_zero),
        cmocka_unit_test(r8_ratio_int64_extremes),
        cmocka_unit_test(r8_double6_fixed_six_decimals),
        cmocka_unit_test(r8_double6_no_negative_zero),
        cmocka_unit_test(r8_double6_non_finite_is_empty),
        cmocka_unit_test(r8_ts_rfc3339_utc_milliseconds),
        cmocka_unit_test(r8_ts_range_ends),
        cmocka_unit_test(r8_day_format),
        cmocka_unit_test(r8_civil_days_known_dates),
        cmocka_unit_test(r8_civil_round_trip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cp_tz_free(g_la);
    cp_tz_free(g_london);
    munmap(g_page, 2 * g_page_len);
    return rc;
}

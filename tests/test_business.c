/* test_business.c -- the business report (SPEC R4.4, R8) and the
 * diagnostics of R9.1.  Every expected cell is derived by hand in the comment
 * above it. */
#include "clickpath/events.h"
#include "clickpath/report.h"
#include "report/partial.h"
#include "testutil.h"
#include "traffic_ctx.h"

static char *write_and_read(tctx *t, const char *name) {
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    cp_result rc = strcmp(name, "diagnostics.csv") == 0 ? cp_diagnostics_write(&t->ctx, sum, &err)
                                                        : cp_business_write(&t->ctx, sum, &err);
    assert_int_equal(rc, CP_OK);
    cp_summary_free(sum);
    return tctx_read(t, name);
}

/* True when a line of csv starts with prefix. */
static int has_line(const char *csv, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = csv; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0) return 1;
    print_message("no line starting with '%s' in:\n%s", prefix, csv);
    return 0;
}

#define ASIN_HEADER                                                                               \
    "date,asin,sessions,sessions_sponsored,sessions_external,sessions_organic,session_pct,"      \
    "page_views,page_views_sponsored,page_views_external,page_views_organic,add_to_carts,"      \
    "units_ordered,ordered_sales,order_items,unit_session_pct,units_returned,refunds\n"
#define DAILY_HEADER                                                                              \
    "date,sessions,sessions_sponsored,sessions_external,sessions_organic,page_views,"           \
    "page_views_sponsored,page_views_external,page_views_organic,bounced_clicks,units,sales,"   \
    "orders\n"

static void r4_4_asin_session_dated_by_its_first_page_view_across_midnight(void **state) {
    (void)state;
    /* One organic session (fixed:24h) from 03-01 23:30 UTC: A1 at 23:30,
     * A2 at 00:30 (03-02), A1 again at 00:40.
     * Account sessions by start: 03-01 1, 03-02 0.
     * A1: its first page view in the session is 03-01 -> session on 03-01;
     *     page views 03-01 1, 03-02 1.  On 03-02: 0 sessions and 0 account
     *     sessions: session_pct and unit_session_pct empty (0/0).
     * A2: session on 03-02 (1/0 account sessions: empty pct),
     *     unit_session_pct 0/1 = 0.000000.
     * Whole period: A1 1 session 2 page views, A2 1 session 1 page view,
     * session_pct 1/1 each. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin\n"
               "2024-03-01T23:30:00Z,page_view,v1,A1\n"
               "2024-03-02T00:30:00Z,page_view,v1,A2\n"
               "2024-03-02T00:40:00Z,page_view,v1,A1\n",
               NULL);
    char *csv = write_and_read(&t, "business_asin.csv");
    assert_string_equal(csv, ASIN_HEADER
                        ",A1,1,0,0,1,1.000000,2,0,0,2,0,0,0.00,0,0.000000,0,0.00\n"
                        ",A2,1,0,0,1,1.000000,1,0,0,1,0,0,0.00,0,0.000000,0,0.00\n"
                        "2024-03-01,A1,1,0,0,1,1.000000,1,0,0,1,0,0,0.00,0,0.000000,0,0.00\n"
                        "2024-03-02,A1,0,0,0,0,,1,0,0,1,0,0,0.00,0,,0,0.00\n"
                        "2024-03-02,A2,1,0,0,1,,1,0,0,1,0,0,0.00,0,0.000000,0,0.00\n");
    free(csv);
    csv = tctx_read(&t, "business_daily.csv");
    assert_string_equal(csv, DAILY_HEADER
                        ",1,0,0,1,3,0,0,3,0,0,0.00,0\n"
                        "2024-03-01,1,0,0,1,1,0,0,1,0,0,0.00,0\n"
                        "2024-03-02,0,0,0,0,2,0,0,2,0,0,0.00,0\n");
    free(csv);
    tctx_free(&t);
}

static void r4_4_days_follow_dst_changes_in_los_angeles(void **state) {
    (void)state;
    /* --tz America/Los_Angeles; one page view per visitor (one session each).
     * Spring forward 2024-03-10 02:00 PST -> PDT:
     *   03-10T07:59:59Z = 03-09 23:59:59 PST   -> 2024-03-09
     *   03-10T08:00:00Z = 03-10 00:00 PST      -> 2024-03-10
     *   03-11T06:59:59Z = 03-10 23:59:59 PDT   -> 2024-03-10 (a 23 h day)
     *   03-11T07:00:00Z = 03-11 00:00 PDT      -> 2024-03-11 (UTC-8 all year
     *                                             would say 03-10 23:00)
     * Fall back 2024-11-03 02:00 PDT -> PST:
     *   11-03T06:59:59Z = 11-02 23:59:59 PDT   -> 2024-11-02
     *   11-04T07:59:59Z = 11-03 23:59:59 PST   -> 2024-11-03 (a 25 h day)
     *   11-04T08:00:00Z = 11-04 00:00 PST      -> 2024-11-04
     * Days: 03-09 1, 03-10 2, 03-11 1, 11-02 1, 11-03 1, 11-04 1; total 7. */
    tctx t;
    tctx_defaults(&t, "America/Los_Angeles");
    tctx_build(&t,
               "ts,type,visitor,asin\n"
               "2024-03-10T07:59:59Z,page_view,v1,A1\n"
               "2024-03-10T08:00:00Z,page_view,v2,A1\n"
               "2024-03-11T06:59:59Z,page_view,v3,A1\n"
               "2024-03-11T07:00:00Z,page_view,v4,A1\n"
               "2024-11-03T06:59:59Z,page_view,v5,A1\n"
               "2024-11-04T07:59:59Z,page_view,v6,A1\n"
               "2024-11-04T08:00:00Z,page_view,v7,A1\n",
               NULL);
    char *csv = write_and_read(&t, "business_daily.csv");
    assert_string_equal(csv, DAILY_HEADER
                        ",7,0,0,7,7,0,0,7,0,0,0.00,0\n"
                        "2024-03-09,1,0,0,1,1,0,0,1,0,0,0.00,0\n"
                        "2024-03-10,2,0,0,2,2,0,0,2,0,0,0.00,0\n"
                        "2024-03-11,1,0,0,1,1,0,0,1,0,0,0.00,0\n"
                        "2024-11-02,1,0,0,1,1,0,0,1,0,0,0.00,0\n"
                        "2024-11-03,1,0,0,1,1,0,0,1,0,0,0.00,0\n"
                        "2024-11-04,1,0,0,1,1,0,0,1,0,0,0.00,0\n");
    free(csv);
    tctx_free(&t);
}

/* A small store day (UTC, fixed:24h, no user agents):
 *  L2  03-01 10:00    sponsored click v1 c1 A1 k1            valid
 *  L3  03-01 10:00:05 page view v1 A1 k1                     landing; starts S(v1), sponsored
 *  L4  03-01 10:05    page view v1 A2 (organic page view)     in S(v1)
 *  L5  03-01 10:06    add_to_cart v1 A1
 *  L6  03-01 10:07    purchase v1 A1 o1 2 x 10.50 = 21.00
 *  L7  03-01 10:07    purchase v1 A2 o1 amount 5.25 (1 unit)
 *  L8  03-01 11:00    off-site click v2 t1 A3 k2             valid
 *  L9  03-01 11:00:02 page view v2 A3 k2 unloaded            -> L8 bounced (unloaded)
 *  L10 03-02 09:00    sponsored click v3 c1 A1 k3            valid, bounced (no page view)
 *  L11 03-02 12:00    return v1 A1 o1 1 unit, 10.50
 *  L12 03-02 13:00    page view v2 A3 (organic)              starts S(v2), organic
 *  L13 03-02 14:00    off-site click v4 t1 A3 k4             valid
 *  L14 03-02 14:00:03 page view v4 A3 k4                     landing; starts S(v4), external */
static const char store_text[] =
    "ts,type,visitor,campaign,tag,asin,click_id,loaded,order,units,price,amount\n"
    "2024-03-01T10:00:00Z,click,v1,c1,,A1,k1,,,,,\n"
    "2024-03-01T10:00:05Z,page_view,v1,,,A1,k1,,,,,\n"
    "2024-03-01T10:05:00Z,page_view,v1,,,A2,,,,,,\n"
    "2024-03-01T10:06:00Z,add_to_cart,v1,,,A1,,,,,,\n"
    "2024-03-01T10:07:00Z,purchase,v1,,,A1,,,o1,2,10.50,\n"
    "2024-03-01T10:07:00Z,purchase,v1,,,A2,,,o1,1,,5.25\n"
    "2024-03-01T11:00:00Z,click,v2,,t1,A3,k2,,,,,\n"
    "2024-03-01T11:00:02Z,page_view,v2,,,A3,k2,0,,,,\n"
    "2024-03-02T09:00:00Z,click,v3,c1,,A1,k3,,,,,\n"
    "2024-03-02T12:00:00Z,return,v1,,,A1,,,o1,1,,10.50\n"
    "2024-03-02T13:00:00Z,page_view,v2,,,A3,,,,,,\n"
    "2024-03-02T14:00:00Z,click,v4,,t1,A3,k4,,,,,\n"
    "2024-03-02T14:00:03Z,page_view,v4,,,A3,,,,,,\n";

static void r8_business_asin_figures(void **state) {
    (void)state;
    /* (store_text, but L14 carries no k4 here: see the daily test for the
     * external session; here S(v4) is organic.)
     * Account sessions: S(v1) 03-01 sponsored; S(v2), S(v4) 03-02 organic: 3.
     * A1: S(v1) on 03-01 (sponsored); 1 page view (L3, sponsored); 1 cart;
     *     2 units, 21.00, 1 line; pct 1/3 whole, 1/1 on 03-01;
     *     unit_session_pct 2/1 = 2.000000.  Return on 03-02: 1 unit, 10.50;
     *     that row: 0 sessions, pct 0/2 = 0.000000, unit pct 0/0 empty.
     * A2: S(v1) (its source, sponsored) on 03-01; page view L4 organic;
     *     1 unit 5.25; pct 1/3 and 1/1; unit pct 1/1.
     * A3: S(v2) and S(v4) on 03-02, both organic; 2 page views; pct 2/3
     *     whole (0.666667), 2/2 on 03-02; unit pct 0/2 = 0.000000. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t, store_text, NULL);
    char *csv = write_and_read(&t, "business_asin.csv");
    assert_string_equal(csv, ASIN_HEADER
                        ",A1,1,1,0,0,0.333333,1,1,0,0,1,2,21.00,1,2.000000,1,10.50\n"
                        ",A2,1,1,0,0,0.333333,1,0,0,1,0,1,5.25,1,1.000000,0,0.00\n"
                        ",A3,2,0,0,2,0.666667,2,0,0,2,0,0,0.00,0,0.000000,0,0.00\n"
                        "2024-03-01,A1,1,1,0,0,1.000000,1,1,0,0,1,2,21.00,1,2.000000,0,0.00\n"
                        "2024-03-01,A2,1,1,0,0,1.000000,1,0,0,1,0,1,5.25,1,1.000000,0,0.00\n"
                        "2024-03-02,A1,0,0,0,0,0.000000,0,0,0,0,0,0,0.00,0,,1,10.50\n"
                        "2024-03-02,A3,2,0,0,2,1.000000,2,0,0,2,0,0,0.00,0,0.000000,0,0.00\n");
    free(csv);
    tctx_free(&t);
}

static char *store_with_external_landing(void) {
    /* store_text with L14 carrying k4 (S(v4) external). */
    const char *old = "2024-03-02T14:00:03Z,page_view,v4,,,A3,,,,,,\n";
    const char *neu = "2024-03-02T14:00:03Z,page_view,v4,,,A3,k4,,,,,\n";
    char *s = malloc(sizeof store_text + 8);
    assert_non_null(s);
    strcpy(s, store_text);
    char *p = strstr(s, old);
    assert_non_null(p);
    strcpy(p, neu);
    return s;
}

static void r8_business_daily_figures(void **state) {
    (void)state;
    /* store_text with L14 carrying k4.
     * Sessions by start: 03-01 S(v1) sponsored; 03-02 S(v2) organic, S(v4)
     * external.  Page views: 03-01 L3 sponsored, L4 organic; 03-02 L12
     * organic, L14 external.  Bounced valid clicks by click day: L8 03-01,
     * L10 03-02.  Purchases 03-01: 3 units, 21.00 + 5.25 = 26.25; order o1
     * (first line 03-01): 1.  The return is not in this file. */
    char *text = store_with_external_landing();
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t, text, NULL);
    free(text);
    char *csv = write_and_read(&t, "business_daily.csv");
    assert_string_equal(csv, DAILY_HEADER
                        ",3,1,1,1,4,1,1,2,2,3,26.25,1\n"
                        "2024-03-01,1,1,0,0,2,1,0,1,1,3,26.25,1\n"
                        "2024-03-02,2,0,1,1,2,0,1,1,1,0,0.00,0\n");
    free(csv);
    tctx_free(&t);
}

static void r9_1_decomposition_on_store_day(void **state) {
    (void)state;
    /* sponsored: valid L2, L10 = 2 = started 1 (L3 starts S(v1)) + bounced 1
     * (L10, no page view) + in open session 0.  Sessions sponsored 1, from
     * L2's landing.  Page views sponsored 1: clicks per page view 2/1 =
     * 2.000000 > 1.5: FLAG.
     * external: valid L8, L13 = 2 = started 1 (L14) + bounced 1 (L8, its
     * page view unloaded) + 0.  Page views external 1: 2.000000, FLAG.
     * account: 3 sessions, 4 page views, 1 unloaded, 4/3 = 1.333333. */
    char *text = store_with_external_landing();
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t, text, NULL);
    free(text);
    char *csv = write_and_read(&t, "diagnostics.csv");
    assert_true(has_line(csv, "scope,metric,value,note\n"));
    assert_true(has_line(csv, "sponsored,valid_clicks,2,"));
    assert_true(has_line(csv, "sponsored,sessions_started_by_click,1,"));
    assert_true(has_line(csv, "sponsored,bounced_clicks,1,"));
    assert_true(has_line(csv, "sponsored,clicks_in_open_session,0,"));
    assert_true(has_line(csv, "sponsored,decomposition_exact,true,"));
    assert_true(has_line(csv, "sponsored,bounced_clicks_unloaded_page_view,0,"));
    assert_true(has_line(csv, "sponsored,bounced_clicks_no_page_view,1,"));
    assert_true(has_line(csv, "sponsored,sessions,1,"));
    assert_true(has_line(csv, "sponsored,sessions_from_valid_click_landing,1,"));
    assert_true(has_line(csv, "sponsored,page_views,1,"));
    assert_true(has_line(csv, "sponsored,clicks_per_page_view,2.000000,FLAG "));
    assert_true(has_line(csv, "external,valid_clicks,2,"));
    assert_true(has_line(csv, "external,bounced_clicks_unloaded_page_view,1,"));
    assert_true(has_line(csv, "external,bounced_clicks_no_page_view,0,"));
    assert_true(has_line(csv, "external,sessions_started_by_click,1,"));
    assert_true(has_line(csv, "external,clicks_per_page_view,2.000000,FLAG "));
    assert_true(has_line(csv, "account,sessions,3,"));
    assert_true(has_line(csv, "account,page_views,4,"));
    assert_true(has_line(csv, "account,unloaded_page_views,1,"));
    assert_true(has_line(csv, "account,page_views_per_session,1.333333,1.333333 page views"));
    free(csv);
    tctx_free(&t);
}

static void r9_1_click_in_open_session_invalid_and_repeat_landing(void **state) {
    (void)state;
    /* L2 03-01 00:00 organic page view: S0 (organic).
     * L3 00:10 sponsored click k1: valid.  L4 00:11 its landing, inside S0:
     *   clicks_in_open_session.
     * L5 03-02 01:00 page view with k1, 25 h after S0's start: S1,
     *   sponsored, not k1's landing: sessions_from_repeat_landing.
     * L6 03-02 02:00 click k2, same target 26 h after L3: duplicate.
     * L7 03-03 03:00 page view with k2, 26 h after S1's start: S2, sponsored,
     *   from an invalid click.
     * sponsored: valid 1 = 0 + 0 + 1; sessions 2 = 0 + 1 + 1; invalid 1
     * (duplicate 1); page views 3 (L4, L5, L7): 1/3 = 0.333333, no flag.
     * account: 3 sessions, 4 page views: 1.333333. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,campaign,asin,click_id\n"
               "2024-03-01T00:00:00Z,page_view,v1,,A1,\n"
               "2024-03-01T00:10:00Z,click,v1,c1,A1,k1\n"
               "2024-03-01T00:11:00Z,page_view,v1,,A1,k1\n"
               "2024-03-02T01:00:00Z,page_view,v1,,A1,k1\n"
               "2024-03-02T02:00:00Z,click,v1,c1,A1,k2\n"
               "2024-03-03T03:00:00Z,page_view,v1,,A1,k2\n",
               NULL);
    char *csv = write_and_read(&t, "diagnostics.csv");
    assert_true(has_line(csv, "sponsored,valid_clicks,1,"));
    assert_true(has_line(csv, "sponsored,sessions_started_by_click,0,"));
    assert_true(has_line(csv, "sponsored,bounced_clicks,0,"));
    assert_true(has_line(csv, "sponsored,clicks_in_open_session,1,"));
    assert_true(has_line(csv, "sponsored,decomposition_exact,true,"));
    assert_true(has_line(csv, "sponsored,sessions,2,"));
    assert_true(has_line(csv, "sponsored,sessions_from_valid_click_landing,0,"));
    assert_true(has_line(csv, "sponsored,sessions_from_invalid_click,1,"));
    assert_true(has_line(csv, "sponsored,sessions_from_repeat_landing,1,"));
    assert_true(has_line(csv, "sponsored,invalid_clicks,1,"));
    assert_true(has_line(csv, "sponsored,invalid_clicks_duplicate,1,"));
    assert_true(has_line(csv, "sponsored,invalid_clicks_bot,0,"));
    assert_true(has_line(csv, "sponsored,page_views,3,"));
    assert_true(has_line(csv, "sponsored,clicks_per_page_view,0.333333,0.333333 valid"));
    assert_true(has_line(csv, "external,valid_clicks,0,"));
    assert_true(has_line(csv, "external,clicks_per_page_view,,no off-site page views"));
    assert_true(has_line(csv, "account,sessions,3,"));
    assert_true(has_line(csv, "account,page_views,4,"));
    free(csv);
    tctx_free(&t);
}

/* ---- accumulator: partitions add up to the whole run (partial.h) -------- */

/* store_text with L14 carrying k4, and a visitor v6:
 *  L15 03-01 15:00    page view v6 A1 (organic)              starts S(v6), organic
 *  L16 03-01 15:10    purchase v6 A1 o2 1 x 4.00
 *  L17 03-02 16:00    page view v6 A0 (25 h after S(v6))     starts S'(v6), organic
 *  L18 03-02 16:05    page view v6 A3                        in S'(v6)
 * Components: {v1}, {v4}, {v2}, {v3}, {v6} (no shared order or click id). */
static const char merge_text[] =
    "ts,type,visitor,campaign,tag,asin,click_id,loaded,order,units,price,amount\n"
    "2024-03-01T10:00:00Z,click,v1,c1,,A1,k1,,,,,\n"
    "2024-03-01T10:00:05Z,page_view,v1,,,A1,k1,,,,,\n"
    "2024-03-01T10:05:00Z,page_view,v1,,,A2,,,,,,\n"
    "2024-03-01T10:06:00Z,add_to_cart,v1,,,A1,,,,,,\n"
    "2024-03-01T10:07:00Z,purchase,v1,,,A1,,,o1,2,10.50,\n"
    "2024-03-01T10:07:00Z,purchase,v1,,,A2,,,o1,1,,5.25\n"
    "2024-03-01T11:00:00Z,click,v2,,t1,A3,k2,,,,,\n"
    "2024-03-01T11:00:02Z,page_view,v2,,,A3,k2,0,,,,\n"
    "2024-03-02T09:00:00Z,click,v3,c1,,A1,k3,,,,,\n"
    "2024-03-02T12:00:00Z,return,v1,,,A1,,,o1,1,,10.50\n"
    "2024-03-02T13:00:00Z,page_view,v2,,,A3,,,,,,\n"
    "2024-03-02T14:00:00Z,click,v4,,t1,A3,k4,,,,,\n"
    "2024-03-02T14:00:03Z,page_view,v4,,,A3,k4,,,,,\n"
    "2024-03-01T15:00:00Z,page_view,v6,,,A1,,,,,,\n"
    "2024-03-01T15:10:00Z,purchase,v6,,,A1,,,o2,1,4.00,\n"
    "2024-03-02T16:00:00Z,page_view,v6,,,A0,,,,,,\n"
    "2024-03-02T16:05:00Z,page_view,v6,,,A3,,,,,,\n";

/* merge_text with every line of a visitor not in `keep` (a list like
 * ",v1,v4,") blanked, so the kept lines keep their numbers. */
static char *merge_part(const char *keep) {
    size_t n = strlen(merge_text);
    char *s = malloc(n + 1);
    assert_non_null(s);
    const char *p = merge_text;
    char *o = s;
    int header = 1;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = (size_t)(eol - p) + 1;
        const char *v = strchr(strchr(p, ',') + 1, ',') + 1; /* third field */
        char key[16];
        size_t vl = (size_t)(strchr(v, ',') - v);
        assert_true(vl + 3 <= sizeof key);
        key[0] = ',';
        memcpy(key + 1, v, vl);
        key[vl + 1] = ',';
        key[vl + 2] = '\0';
        if (header || strstr(keep, key)) {
            memcpy(o, p, len);
            o += len;
        } else {
            *o++ = '\n';
        }
        header = 0;
        p = eol + 1;
    }
    *o = '\0';
    return s;
}

/* Adds the part of merge_text holding the visitors in `keep` to a, then
 * frees the part's run (the accumulator must keep copies). */
static void add_part(cp_business_acc *a, const char *keep) {
    char *text = merge_part(keep);
    tctx p;
    tctx_defaults(&p, NULL);
    tctx_build(&p, text, NULL);
    free(text);
    cp_error err = {0};
    assert_int_equal(cp_business_acc_add(a, &p.ctx, &err), CP_OK);
    tctx_free(&p);
}

#define MERGE_ASIN                                                                                \
    ASIN_HEADER                                                                                   \
    ",A0,1,0,0,1,0.200000,1,0,0,1,0,0,0.00,0,0.000000,0,0.00\n"                                   \
    ",A1,2,1,0,1,0.400000,2,1,0,1,1,3,25.00,2,1.500000,1,10.50\n"                                 \
    ",A2,1,1,0,0,0.200000,1,0,0,1,0,1,5.25,1,1.000000,0,0.00\n"                                   \
    ",A3,3,0,1,2,0.600000,3,0,1,2,0,0,0.00,0,0.000000,0,0.00\n"                                   \
    "2024-03-01,A1,2,1,0,1,1.000000,2,1,0,1,1,3,25.00,2,1.500000,0,0.00\n"                        \
    "2024-03-01,A2,1,1,0,0,0.500000,1,0,0,1,0,1,5.25,1,1.000000,0,0.00\n"                         \
    "2024-03-02,A0,1,0,0,1,0.333333,1,0,0,1,0,0,0.00,0,0.000000,0,0.00\n"                         \
    "2024-03-02,A1,0,0,0,0,0.000000,0,0,0,0,0,0,0.00,0,,1,10.50\n"                                \
    "2024-03-02,A3,3,0,1,2,1.000000,3,0,1,2,0,0,0.00,0,0.000000,0,0.00\n"
#define MERGE_DAILY                                                                               \
    DAILY_HEADER                                                                                  \
    ",5,1,1,3,7,1,1,5,2,4,30.25,2\n"                                                              \
    "2024-03-01,2,1,0,1,3,1,0,2,1,4,30.25,2\n"                                                    \
    "2024-03-02,3,0,1,2,4,0,1,3,1,0,0.00,0\n"

static void acc_two_partitions_add_up_to_the_whole_run(void **state) {
    (void)state;
    /* Sessions: 03-01 S(v1) sponsored, S(v6) organic; 03-02 S(v2) organic
     * (L9 is unloaded), S(v4) external, S'(v6) organic: 2 + 3 = 5.
     * Page views: 03-01 L3 sponsored, L4 L15 organic; 03-02 L14 external,
     * L12 L17 L18 organic.  Bounced: L8 (03-01), L10 (03-02).  Purchases
     * 03-01: 2 + 1 + 1 units, 21.00 + 5.25 + 4.00 = 30.25; orders o1, o2.
     * (03-01, A1): S(v1) sponsored + S(v6) organic = 2 of 2 sessions; page
     *   views L3, L15; 1 cart; 3 units 25.00 in 2 lines: 3/2 = 1.500000.
     * (03-01, A2): S(v1), 1/2; page view L4 organic; 1 unit 5.25.
     * (03-02, A0): S'(v6), 1/3.  (03-02, A1): the return only, 0/3.
     * (03-02, A3): S(v2), S(v4) external, S'(v6): 3/3; page views L12, L14, L18.
     * Whole period over 5 sessions: A0 1 (0.2), A1 2 (0.4), A2 1 (0.2),
     * A3 3 (0.6).  Partition {v1, v4} and partition {v2, v3, v6} share the
     * rows (03-01, A1), (03-02, A3) and both days; A0 is only in the second,
     * whose string ids differ from the first's. */
    tctx w;
    tctx_defaults(&w, NULL);
    tctx_build(&w, merge_text, NULL);
    cp_summary *wsum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_business_write(&w.ctx, wsum, &err), CP_OK);
    char *asin = tctx_read(&w, "business_asin.csv");
    char *daily = tctx_read(&w, "business_daily.csv");
    assert_string_equal(asin, MERGE_ASIN);
    assert_string_equal(daily, MERGE_DAILY);
    assert_true(tctx_json_has(wsum, "\"sessions\":5,"));
    assert_true(tctx_json_has(wsum, "\"orders\":2,\"asins\":4}"));

    /* The two partitions, in both orders. */
    for (int flip = 0; flip < 2; flip++) {
        tctx out;
        tctx_defaults(&out, NULL);
        cp_business_acc *a = cp_business_acc_new(&out.opt);
        assert_non_null(a);
        add_part(a, flip ? ",v2,v3,v6," : ",v1,v4,");
        add_part(a, flip ? ",v1,v4," : ",v2,v3,v6,");
        cp_summary *sum = cp_summary_new();
        assert_int_equal(cp_business_acc_emit(a, sum, &err), CP_OK);
        cp_business_acc_free(a);
        char *pa = tctx_read(&out, "business_asin.csv");
        char *pd = tctx_read(&out, "business_daily.csv");
        assert_string_equal(pa, asin);
        assert_string_equal(pd, daily);
        assert_string_equal(cp_summary_json(sum), cp_summary_json(wsum));
        assert_string_equal(cp_summary_text(sum), cp_summary_text(wsum));
        free(pa);
        free(pd);
        cp_summary_free(sum);
        tctx_free(&out);
    }
    free(asin);
    free(daily);
    cp_summary_free(wsum);
    tctx_free(&w);
}

/* ---- accumulators combined: merge, save, load (partial.h) -------------- */

/* A new accumulator over `out` holding the part of merge_text with the
 * visitors in `keep` (NULL: nothing added). */
static cp_business_acc *acc_of(tctx *out, const char *keep) {
    cp_business_acc *a = cp_business_acc_new(&out->opt);
    assert_non_null(a);
    if (keep) add_part(a, keep);
    return a;
}

/* save(a) as a fresh buffer. */
static cp_bytes saved(const cp_business_acc *a) {
    cp_bytes b = {0};
    cp_business_acc_save(a, &b);
    assert_false(b.oom);
    assert_true(b.n > 0);
    return b;
}

/* load() of the whole of b, which must succeed and use every byte. */
static cp_business_acc *loaded(const tctx *out, const cp_bytes *b) {
    cp_bytes_reader in = cp_bytes_reader_of(b->p, b->n);
    cp_error err = {0};
    cp_business_acc *a = cp_business_acc_load(&out->opt, &in, &err);
    assert_non_null(a);
    assert_false(in.bad);
    assert_int_equal(in.at, b->n);
    return a;
}

/* Emits a (into out's directory) and frees it; the files and summary must
 * be MERGE_ASIN, MERGE_DAILY and the whole run's summary, byte for byte. */
static void emits_whole_run(cp_business_acc *a, tctx *out) {
    /* The whole run, straight from merge_text. */
    tctx w;
    tctx_defaults(&w, NULL);
    tctx_build(&w, merge_text, NULL);
    cp_summary *wsum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_business_write(&w.ctx, wsum, &err), CP_OK);
    char *wa = tctx_read(&w, "business_asin.csv");
    char *wd = tctx_read(&w, "business_daily.csv");

    cp_summary *sum = cp_summary_new();
    assert_int_equal(cp_business_acc_emit(a, sum, &err), CP_OK);
    cp_business_acc_free(a);
    char *pa = tctx_read(out, "business_asin.csv");
    char *pd = tctx_read(out, "business_daily.csv");
    assert_string_equal(pa, MERGE_ASIN); /* the hand-derived figures */
    assert_string_equal(pd, MERGE_DAILY);
    assert_string_equal(pa, wa);
    assert_string_equal(pd, wd);
    assert_string_equal(cp_summary_json(sum), cp_summary_json(wsum));
    assert_string_equal(cp_summary_text(sum), cp_summary_text(wsum));
    assert_true(tctx_json_has(sum, "\"sessions\":5,"));
    assert_true(tctx_json_has(sum, "\"orders\":2,\"asins\":4}"));
    free(pa);
    free(pd);
    free(wa);
    free(wd);
    cp_summary_free(sum);
    cp_summary_free(wsum);
    tctx_free(&w);
}

/* The partitions of acc_two_partitions_add_up_to_the_whole_run: A = {v1,
 * v4} and B = {v2, v3, v6} share the rows (03-01, A1), (03-02, A3) and both
 * days; A0 only in B, and the two accumulators intern their ASINs in
 * different orders (A: A1 A2 A3; B: A1 A3 A0: page views in row order), so merging by id would put
 * figures on the wrong ASIN.  Each case in both directions. */
static const char *const part_a = ",v1,v4,", *const part_b = ",v2,v3,v6,";

static void acc_merge_of_two_partitions_is_the_whole_run(void **state) {
    (void)state;
    for (int flip = 0; flip < 2; flip++) {
        tctx out;
        tctx_defaults(&out, NULL);
        cp_business_acc *a = acc_of(&out, flip ? part_b : part_a);
        cp_business_acc *b = acc_of(&out, flip ? part_a : part_b);
        cp_bytes before = saved(b);
        cp_error err = {0};
        assert_int_equal(cp_business_acc_merge(a, b, &err), CP_OK);
        /* `from` unchanged: it saves the same bytes. */
        cp_bytes after = saved(b);
        assert_int_equal(after.n, before.n);
        assert_memory_equal(after.p, before.p, before.n);
        cp_bytes_free(&before);
        cp_bytes_free(&after);
        cp_business_acc_free(b);
        emits_whole_run(a, &out);
        tctx_free(&out);
    }
}

static void acc_saved_and_loaded_partition_merges_to_the_whole_run(void **state) {
    (void)state;
    for (int flip = 0; flip < 2; flip++) {
        tctx out;
        tctx_defaults(&out, NULL);
        cp_business_acc *a = acc_of(&out, flip ? part_b : part_a);
        cp_business_acc *b = acc_of(&out, flip ? part_a : part_b);
        cp_bytes buf = saved(b);
        cp_business_acc_free(b); /* the loaded copy owns its ASIN bytes */
        cp_business_acc *l = loaded(&out, &buf);
        /* load(save(b)) saves the same bytes again. */
        cp_bytes again = saved(l);
        assert_int_equal(again.n, buf.n);
        assert_memory_equal(again.p, buf.p, buf.n);
        cp_bytes_free(&again);
        cp_bytes_free(&buf);
        cp_error err = {0};
        assert_int_equal(cp_business_acc_merge(a, l, &err), CP_OK);
        cp_business_acc_free(l);
        emits_whole_run(a, &out);
        tctx_free(&out);
    }
    /* A whole run saved and loaded emits the whole run. */
    tctx out;
    tctx_defaults(&out, NULL);
    cp_business_acc *a = acc_of(&out, part_a);
    add_part(a, part_b);
    cp_bytes buf = saved(a);
    cp_business_acc_free(a);
    emits_whole_run(loaded(&out, &buf), &out);
    cp_bytes_free(&buf);
    tctx_free(&out);
}

static void acc_merge_into_an_accumulator_without_add(void **state) {
    (void)state;
    for (int flip = 0; flip < 2; flip++) {
        tctx out;
        tctx_defaults(&out, NULL);
        cp_business_acc *a = acc_of(&out, flip ? part_b : part_a);
        cp_business_acc *b = acc_of(&out, flip ? part_a : part_b);
        cp_business_acc *none = acc_of(&out, NULL);
        cp_business_acc *e = acc_of(&out, NULL);
        cp_error err = {0};
        /* An empty `from` adds nothing; an empty `into` takes everything. */
        assert_int_equal(cp_business_acc_merge(a, none, &err), CP_OK);
        assert_int_equal(cp_business_acc_merge(e, none, &err), CP_OK);
        assert_int_equal(cp_business_acc_merge(e, a, &err), CP_OK);
        assert_int_equal(cp_business_acc_merge(e, b, &err), CP_OK);
        cp_business_acc_free(none);
        cp_business_acc_free(a);
        cp_business_acc_free(b);
        emits_whole_run(e, &out);
        tctx_free(&out);
    }
    /* An accumulator that never had an add() saves and loads as empty: its
     * emit writes the headers and an all-zero whole-period day row. */
    tctx out;
    tctx_defaults(&out, NULL);
    cp_business_acc *none = acc_of(&out, NULL);
    cp_bytes buf = saved(none);
    cp_business_acc_free(none);
    cp_business_acc *l = loaded(&out, &buf);
    cp_bytes_free(&buf);
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_business_acc_emit(l, sum, &err), CP_OK);
    cp_business_acc_free(l);
    cp_summary_free(sum);
    char *pa = tctx_read(&out, "business_asin.csv");
    char *pd = tctx_read(&out, "business_daily.csv");
    assert_string_equal(pa, ASIN_HEADER);
    assert_string_equal(pd, DAILY_HEADER ",0,0,0,0,0,0,0,0,0,0,0.00,0\n");
    free(pa);
    free(pd);
    tctx_free(&out);
}

/* load() of b->p[0..len) with byte `at` (when < len) replaced by v: NULL,
 * CP_EFORMAT and a message. */
static void load_fails(const tctx *out, const cp_bytes *b, size_t len, size_t at, uint8_t v) {
    uint8_t *copy = malloc(len ? len : 1); /* exactly len: ASan sees over-reads */
    assert_non_null(copy);
    if (len) memcpy(copy, b->p, len);
    if (at < len) copy[at] = v;
    cp_bytes_reader in = cp_bytes_reader_of(copy, len);
    cp_error err = {0};
    cp_business_acc *l = cp_business_acc_load(&out->opt, &in, &err);
    assert_null(l);
    assert_int_equal(err.code, CP_EFORMAT);
    assert_true(strstr(err.msg, "damaged business report state") != NULL);
    free(copy);
}

static void acc_load_of_damaged_state_fails_cleanly(void **state) {
    (void)state;
    tctx out;
    tctx_defaults(&out, NULL);
    cp_business_acc *a = acc_of(&out, part_b);
    cp_bytes buf = saved(a);
    cp_business_acc_free(a);
    /* Layout of B's state: magic 4, n_str 4, "A1" "A3" "A0" 3 x (4 + 2)
     * (B's first-seen order), n_rows 8, 3 rows x 104 ((03-01, A1),
     * (03-02, A0), (03-02, A3); L9 is unloaded, L10 a click), n_days 8,
     * 2 days x 84. */
    size_t n_rows_at = 4 + 4 + 3 * 6, n_days_at = n_rows_at + 8 + 3 * 104;
    assert_memory_equal(buf.p + 8, "\2\0\0\0A1\2\0\0\0A3\2\0\0\0A0", 18);
    assert_int_equal(buf.n, n_days_at + 8 + 2 * 84);
    /* Every truncation. */
    for (size_t len = 0; len < buf.n; len++) load_fails(&out, &buf, len, SIZE_MAX, 0);
    /* Another magic; counts past the bytes left (n_str, n_rows, n_days); an
     * ASIN id past n_str (the first row's id, after its day); a negative
     * session count (the first row's first session figure's top byte). */
    load_fails(&out, &buf, buf.n, 0, 'X');
    load_fails(&out, &buf, buf.n, 4, 0xff);
    load_fails(&out, &buf, buf.n, n_rows_at + 7, 0x01);
    load_fails(&out, &buf, buf.n, n_days_at, 0x03);
    load_fails(&out, &buf, buf.n, n_rows_at + 8 + 4, 9);
    load_fails(&out, &buf, buf.n, n_rows_at + 8 + 8 + 7, 0x80);
    /* The undamaged bytes still load. */
    cp_business_acc *l = loaded(&out, &buf);
    cp_business_acc_free(l);
    cp_bytes_free(&buf);
    tctx_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r4_4_asin_session_dated_by_its_first_page_view_across_midnight),
        cmocka_unit_test(r4_4_days_follow_dst_changes_in_los_angeles),
        cmocka_unit_test(r8_business_asin_figures),
        cmocka_unit_test(r8_business_daily_figures),
        cmocka_unit_test(r9_1_decomposition_on_store_day),
        cmocka_unit_test(r9_1_click_in_open_session_invalid_and_repeat_landing),
        cmocka_unit_test(acc_two_partitions_add_up_to_the_whole_run),
        cmocka_unit_test(acc_merge_of_two_partitions_is_the_whole_run),
        cmocka_unit_test(acc_saved_and_loaded_partition_merges_to_the_whole_run),
        cmocka_unit_test(acc_merge_into_an_accumulator_without_add),
        cmocka_unit_test(acc_load_of_damaged_state_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

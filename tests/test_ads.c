/* test_ads.c -- sponsored-ads attribution and report (SPEC R6, R3.3, R3.4,
 * R8 ads.csv).  Every expected figure is derived by hand in the comment
 * above its assertion. */
#include "clickpath/events.h"
#include "clickpath/report.h"
#include "report/partial.h"
#include "testutil.h"
#include "traffic_ctx.h"

#define HDR "ts,type,visitor,ua,asin,campaign,ad_group,keyword,click_id,cost,order,units,price\n"

static void build(tctx *t, const char *text) {
    tctx_defaults(t, NULL);
    tctx_build(t, text, NULL);
    cp_error err = {0};
    assert_int_equal(cp_ads_build(&t->ctx, &err), CP_OK);
}

static void done(tctx *t) { tctx_free(t); }

/* The input line of the click credited to the purchase at `line`, 0 if none. */
static uint32_t credit_line(const tctx *t, uint32_t line) {
    uint32_t c = t->ctx.ad_credit[tctx_sub(t, line)];
    return c == CP_NONE ? 0 : t->ctx.ev->line[c];
}

static bool same_asin(const tctx *t, uint32_t line) { return t->ctx.ad_same_asin[tctx_sub(t, line)]; }

static void r6_1_purchase_exactly_7d_after_click_is_credited(void **state) {
    (void)state;
    /* click 03-01 00:00, purchase 03-08 00:00 = exactly 7 d later:
     * t - 7d <= click time, so credited, same ASIN. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-08T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 2);
    assert_true(same_asin(&t, 3));
    done(&t);
}

static void r6_1_purchase_1ms_after_7d_is_not_credited(void **state) {
    (void)state;
    /* purchase 7 d + 1 ms after the only click: click time < t - 7d. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-08T00:00:00.001Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 0);
    done(&t);
}

static void r6_1_purchase_1s_after_7d_is_not_credited(void **state) {
    (void)state;
    /* 7 d + 1 s: not credited. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-08T00:00:01Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 0);
    done(&t);
}

static void r6_1_later_click_on_other_asin_does_not_steal_same_asin_credit(void **state) {
    (void)state;
    /* click A1 (line 2) on 03-01, click A2 (line 3) on 03-02, purchase A1
     * on 03-03: the same-ASIN click comes first (R6.1), so line 2. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-02T00:00:00Z,click,v1,,A2,C1,G1,K1,k2,0.50,,,\n"
                  "2024-03-03T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 4), 2);
    assert_true(same_asin(&t, 4));
    done(&t);
}

static void r6_1_other_asin_credit_without_same_asin_click(void **state) {
    (void)state;
    /* only a click on A2, purchase of A1 two days later: other-ASIN sales,
     * credited to line 2 with same_asin false. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A2,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-03T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 2);
    assert_false(same_asin(&t, 3));
    done(&t);
}

static void r6_1_same_asin_click_out_of_window_falls_back_to_other_asin(void **state) {
    (void)state;
    /* A1 click 8 days before (out of the window), A2 click 1 day before:
     * no same-ASIN click in the window, so the A2 click (line 3). */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-08T00:00:00Z,click,v1,,A2,C1,G1,K1,k2,0.50,,,\n"
                  "2024-03-09T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 4), 3);
    assert_false(same_asin(&t, 4));
    done(&t);
}

static void r6_1_duplicate_click_is_never_credited(void **state) {
    (void)state;
    /* line 2 valid at 03-01 00:00; line 3 same target 1 h later: duplicate
     * (R3.1.4).  The purchase at 03-08 00:30 is 7 d 30 min after line 2 (out
     * of the window) and within 7 d of line 3, which is invalid: none. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-01T01:00:00Z,click,v1,,A1,C1,G1,K1,k2,0.50,,,\n"
                  "2024-03-08T00:30:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(tctx_status(&t, 3), CP_CLICK_DUPLICATE);
    assert_int_equal(credit_line(&t, 4), 0);
    done(&t);
}

static void r6_1_bot_click_is_never_credited(void **state) {
    (void)state;
    /* the only click has a crawler user agent (R3.1.1 bot): not credited. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,Googlebot/2.1,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-01T01:00:00Z,purchase,v1,Mozilla/5.0,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(tctx_status(&t, 2), CP_CLICK_BOT);
    assert_int_equal(credit_line(&t, 3), 0);
    done(&t);
}

static void r6_1_click_at_purchase_time_later_in_input_counts(void **state) {
    (void)state;
    /* purchase (line 2) and click (line 3) share a timestamp: candidates
     * by time alone, so the click is credited. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n"
                  "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n");
    assert_int_equal(credit_line(&t, 2), 3);
    done(&t);
}

static void r6_1_equal_time_clicks_last_in_input_order_wins(void **state) {
    (void)state;
    /* two clicks at the same ms on different campaigns, same ASIN: the
     * latest in R1.6 order is line 3. */
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-01T00:00:00Z,click,v1,,A1,C2,G1,K1,k2,0.50,,,\n"
                  "2024-03-02T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 4), 3);
    done(&t);
}

static void r6_1_returns_are_not_attributed(void **state) {
    (void)state;
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-02T00:00:00Z,return,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 0);
    done(&t);
}

static void r6_1_other_identity_click_is_not_credited(void **state) {
    (void)state;
    tctx t;
    build(&t, HDR "2024-03-01T00:00:00Z,click,v2,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-02T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n");
    assert_int_equal(credit_line(&t, 3), 0);
    done(&t);
}

static void r6_1_window_is_an_option(void **state) {
    (void)state;
    /* --ads-window 14d: a purchase 10 days after the click is credited. */
    tctx t;
    tctx_defaults(&t, NULL);
    t.opt.ads_window_ms = 14 * 24 * MS_H;
    tctx_build(&t, HDR "2024-03-01T00:00:00Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                       "2024-03-11T00:00:00Z,purchase,v1,,A1,,,,,,o1,1,10.00\n", NULL);
    cp_error err = {0};
    assert_int_equal(cp_ads_build(&t.ctx, &err), CP_OK);
    assert_int_equal(credit_line(&t, 3), 2);
    done(&t);
}

#define ADS_HDR                                                                                   \
    "date,campaign,ad_group,keyword,asin,impressions,clicks,invalid_clicks,bounced_clicks,spend," \
    "invalid_cost,ctr,cpc,cpm,orders_7d,units_7d,sales_7d,advertised_sales_7d,acos,roas,cvr\n"

static void r6_2_r6_3_ads_csv_by_hand(void **state) {
    (void)state;
    /* Placement C1/G1/K1, ASIN A1.
     *  L2, L3 impressions 03-01, 0.01 each (valid).
     *  L4 click v1 03-01 10:00:01, 0.50, lands (L5 page view k1).
     *  L6 click v1 same target 1 h later: duplicate, invalid_cost 0.50.
     *  L7 click v2 03-02, 0.40, no page view: bounced (R3.4).
     *  L8 purchase v1 A1 o1 2 x 10.00 = 20.00 -> L4, advertised.
     *  L9 purchase v1 A2 o1 1 x 5.00 -> L4 (other ASIN: L6 invalid).
     *  L10 purchase v2 A1 o2 1 x 20.00 -> L7, advertised.
     * Whole period: impressions 2, clicks 2, invalid 1, bounced 1,
     *  spend 0.01+0.01+0.50+0.40 = 0.92, invalid_cost 0.50,
     *  ctr 2/2 = 1, cpc 0.92/2 = 0.46, cpm 1000*0.92/2 = 460,
     *  orders {o1,o2} = 2, units 2+1+1 = 4, sales 45.00, advertised 40.00,
     *  acos 0.92/45 = 0.0204444 -> 0.020444, roas 45/0.92 = 48.9130434 ->
     *  48.913043, cvr 2/2 = 1.
     * 03-01 (R6.3: o1's lines by their click's day, 03-01; not 03-03):
     *  impressions 2, clicks 1, invalid 1, bounced 0, spend 0.52,
     *  invalid_cost 0.50, ctr 1/2, cpc 0.52, cpm 1000*0.52/2 = 260,
     *  orders 1, units 3, sales 25.00, advertised 20.00,
     *  acos 0.52/25 = 0.0208, roas 25/0.52 = 48.0769230 -> 48.076923, cvr 1.
     * 03-02: impressions 0 (ctr, cpm empty), clicks 1, bounced 1, spend
     *  0.40, cpc 0.40, orders 1, units 1, sales 20.00, advertised 20.00,
     *  acos 0.02, roas 50, cvr 1.
     * No row on 03-03/03-04: purchases are dated by their click. */
    tctx t;
    build(&t, HDR "2024-03-01T10:00:00Z,impression,,,A1,C1,G1,K1,,0.01,,,\n"
                  "2024-03-01T10:00:00Z,impression,,,A1,C1,G1,K1,,0.01,,,\n"
                  "2024-03-01T10:00:01Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-01T10:00:05Z,page_view,v1,,A1,,,,k1,,,,\n"
                  "2024-03-01T11:00:00Z,click,v1,,A1,C1,G1,K1,k2,0.50,,,\n"
                  "2024-03-02T09:00:00Z,click,v2,,A1,C1,G1,K1,k3,0.40,,,\n"
                  "2024-03-03T12:00:00Z,purchase,v1,,A1,,,,,,o1,2,10.00\n"
                  "2024-03-03T12:00:00Z,purchase,v1,,A2,,,,,,o1,1,5.00\n"
                  "2024-03-04T00:00:00Z,purchase,v2,,A1,,,,,,o2,1,20.00\n");
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_ads_write(&t.ctx, sum, &err), CP_OK);
    char *csv = tctx_read(&t, "ads.csv");
    assert_string_equal(csv, ADS_HDR
        ",C1,G1,K1,A1,2,2,1,1,0.92,0.50,1.000000,0.460000,460.000000,2,4,45.00,40.00,0.020444,48.913043,1.000000\n"
        "2024-03-01,C1,G1,K1,A1,2,1,1,0,0.52,0.50,0.500000,0.520000,260.000000,1,3,25.00,20.00,0.020800,48.076923,1.000000\n"
        "2024-03-02,C1,G1,K1,A1,0,1,0,1,0.40,0.00,,0.400000,,1,1,20.00,20.00,0.020000,50.000000,1.000000\n");
    assert_true(tctx_json_has(sum, "\"orders_7d\":2"));
    assert_true(tctx_json_has(sum, "\"spend\":0.92"));
    free(csv);
    cp_summary_free(sum);
    done(&t);
}

static void r8_ads_rows_sorted_by_keys_whole_period_first(void **state) {
    (void)state;
    /* Two placements, B and A (byte order: "A" < "B" < "a"), clicks on two
     * days.  Expected (R8, docs/reports.md): whole-period rows A then B then
     * a, then daily rows by date, then keys. */
    tctx t;
    build(&t, HDR "2024-03-02T00:00:00Z,click,v1,,X,B,G,K,k1,1,,,\n"
                  "2024-03-01T00:00:00Z,click,v2,,X,A,G,K,k2,1,,,\n"
                  "2024-03-03T00:00:00Z,click,v3,,X,A,G,K,k3,1,,,\n"
                  "2024-03-01T00:00:00Z,click,v4,,X,a,G,K,k4,1,,,\n");
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_ads_write(&t.ctx, sum, &err), CP_OK);
    char *csv = tctx_read(&t, "ads.csv");
    const char *p = strchr(csv, '\n') + 1;
    const char *want[] = {",A,", ",B,", ",a,", "2024-03-01,A,", "2024-03-01,a,", "2024-03-02,B,",
                          "2024-03-03,A,"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_non_null(p);
        if (strncmp(p, want[i], strlen(want[i])) != 0) fail_msg("row %zu: want %s in\n%s", i, want[i], csv);
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    free(csv);
    cp_summary_free(sum);
    done(&t);
}

/* The input of two partitions: line i + 2 of the whole input is lines[i],
 * in part 1 or 2; a part's text has the other part's lines blank, so every
 * event keeps its line.  Caller frees. */
typedef struct part_line {
    int part;
    const char *text;
} part_line;

static char *part_text(const part_line *lines, size_t n, int part) {
    size_t cap = strlen(HDR) + 1;
    for (size_t i = 0; i < n; i++) cap += strlen(lines[i].text) + 2;
    char *s = malloc(cap);
    assert_non_null(s);
    strcpy(s, HDR);
    for (size_t i = 0; i < n; i++)
        strcat(s, part == 0 || lines[i].part == part ? lines[i].text : "\n");
    return s;
}

/* Emits a into t's output folder and checks ads.csv and the summary against
 * the whole run's; frees a. */
static void emit_is(cp_ads_acc *a, const tctx *t, const char *want_csv, const char *want_json) {
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_ads_acc_emit(a, sum, &err), CP_OK);
    cp_ads_acc_free(a);
    char *csv = tctx_read(t, "ads.csv");
    assert_string_equal(csv, want_csv);
    assert_string_equal(cp_summary_json(sum), want_json);
    free(csv);
    cp_summary_free(sum);
}

static void acc_add_merges_partitions_exactly(void **state) {
    (void)state;
    /* Part 1: identities v1, v2; part 2: v3, v4 (disjoint identities,
     * click ids and orders).  Placements C0/G1/K1 (part 2 only), C1/G1/K1
     * (both parts, so rows and their distinct orders merge) and C2/G1/K1
     * (part 1 only).
     *  L2 impression v1 C1 A1 03-01, 0.01.  L9 impression v3 C1 A1, 0.02.
     *  L3 click v1 C1 A1 03-01 k1 0.50, lands (L4).
     *  L5 click v2 C2 A2 03-02 k2 0.40, bounced.
     *  L6/L7 purchase v1 o1: A1 2 x 10.00 (advertised) and A3 5.00 (other
     *   ASIN), both -> L3.  L8 purchase v2 o2 A2 20.00 -> L5.
     *  L10 click v3 C1 A1 03-01 k3 0.30, bounced; L11 its duplicate
     *   (invalid, 0.30).  L12 purchase v3 o3 A1 8.00 -> L10.
     *  L13 click v4 C0 A9 03-05 k5 0.20, lands (L14).
     *  L15 click v4 C1 A1 03-02 k6 0.10, bounced.  L16 purchase v4 o4 A1
     *   4.00 on 03-06: the same-ASIN click L15 comes first (R6.1).
     * Whole C1/A1: impressions 2, clicks 3, invalid 1, bounced 2, spend
     *  0.01+0.50+0.02+0.30+0.10 = 0.93, invalid_cost 0.30, ctr 3/2, cpc
     *  0.31, cpm 930/2 = 465, orders {o1, o3, o4} = 3 (o1, o3 from part 1
     *  and part 2), units 5, sales 37.00, advertised 32.00, acos 0.93/37 =
     *  0.0251351 -> 0.025135, roas 37/0.93 = 39.7849462 -> 39.784946, cvr 1.
     * 03-01 C1/A1: impressions 2, clicks 2, invalid 1, bounced 1, spend
     *  0.83, cpc 0.415, cpm 415, orders {o1, o3} = 2, units 4, sales 33.00,
     *  advertised 28.00, acos 0.83/33 = 0.0251515 -> 0.025152, roas 33/0.83
     *  = 39.7590361 -> 39.759036.
     * 03-02 C1/A1: clicks 1, bounced 1, spend 0.10, orders 1 (o4), sales
     *  4.00: acos 0.025, roas 40.
     * C2/A2 (03-02 only): clicks 1, bounced 1, spend 0.40, o2, sales 20.00.
     * C0/A9 (03-05 only): clicks 1, spend 0.20, no sales: acos empty,
     *  roas 0, cvr 0.
     * Total: clicks 5, bounced 3, spend 1.53, orders 4, sales 57.00. */
    static const part_line lines[] = {
        {1, "2024-03-01T10:00:00Z,impression,v1,,A1,C1,G1,K1,,0.01,,,\n"},
        {1, "2024-03-01T10:00:01Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"},
        {1, "2024-03-01T10:00:05Z,page_view,v1,,A1,,,,k1,,,,\n"},
        {1, "2024-03-02T09:00:00Z,click,v2,,A2,C2,G1,K1,k2,0.40,,,\n"},
        {1, "2024-03-03T12:00:00Z,purchase,v1,,A1,,,,,,o1,2,10.00\n"},
        {1, "2024-03-03T12:00:00Z,purchase,v1,,A3,,,,,,o1,1,5.00\n"},
        {1, "2024-03-04T00:00:00Z,purchase,v2,,A2,,,,,,o2,1,20.00\n"},
        {2, "2024-03-01T11:00:00Z,impression,v3,,A1,C1,G1,K1,,0.02,,,\n"},
        {2, "2024-03-01T12:00:00Z,click,v3,,A1,C1,G1,K1,k3,0.30,,,\n"},
        {2, "2024-03-01T12:30:00Z,click,v3,,A1,C1,G1,K1,k4,0.30,,,\n"},
        {2, "2024-03-02T10:00:00Z,purchase,v3,,A1,,,,,,o3,1,8.00\n"},
        {2, "2024-03-05T08:00:00Z,click,v4,,A9,C0,G1,K1,k5,0.20,,,\n"},
        {2, "2024-03-05T09:00:00Z,page_view,v4,,A9,,,,k5,,,,\n"},
        {2, "2024-03-02T13:00:00Z,click,v4,,A1,C1,G1,K1,k6,0.10,,,\n"},
        {2, "2024-03-06T00:00:00Z,purchase,v4,,A1,,,,,,o4,1,4.00\n"},
    };
    const size_t n = sizeof lines / sizeof *lines;
    const char *want = ADS_HDR
        ",C0,G1,K1,A9,0,1,0,0,0.20,0.00,,0.200000,,0,0,0.00,0.00,,0.000000,0.000000\n"
        ",C1,G1,K1,A1,2,3,1,2,0.93,0.30,1.500000,0.310000,465.000000,3,5,37.00,32.00,0.025135,39.784946,1.000000\n"
        ",C2,G1,K1,A2,0,1,0,1,0.40,0.00,,0.400000,,1,1,20.00,20.00,0.020000,50.000000,1.000000\n"
        "2024-03-01,C1,G1,K1,A1,2,2,1,1,0.83,0.30,1.000000,0.415000,415.000000,2,4,33.00,28.00,0.025152,39.759036,1.000000\n"
        "2024-03-02,C1,G1,K1,A1,0,1,0,1,0.10,0.00,,0.100000,,1,1,4.00,4.00,0.025000,40.000000,1.000000\n"
        "2024-03-02,C2,G1,K1,A2,0,1,0,1,0.40,0.00,,0.400000,,1,1,20.00,20.00,0.020000,50.000000,1.000000\n"
        "2024-03-05,C0,G1,K1,A9,0,1,0,0,0.20,0.00,,0.200000,,0,0,0.00,0.00,,0.000000,0.000000\n";
    char *text_all = part_text(lines, n, 0), *text_1 = part_text(lines, n, 1), *text_2 = part_text(lines, n, 2);
    cp_error err = {0};

    /* the whole run, through cp_ads_write (new + add + emit) */
    tctx w;
    build(&w, text_all);
    cp_summary *sum_w = cp_summary_new();
    assert_int_equal(cp_ads_write(&w.ctx, sum_w, &err), CP_OK);
    char *csv_w = tctx_read(&w, "ads.csv");
    assert_string_equal(csv_w, want);
    assert_true(tctx_json_has(sum_w, "\"orders_7d\":4"));
    assert_true(tctx_json_has(sum_w, "\"clicks\":5"));
    assert_true(tctx_json_has(sum_w, "\"bounced_clicks\":3"));
    assert_true(tctx_json_has(sum_w, "\"spend\":1.53"));
    assert_true(tctx_json_has(sum_w, "\"sales_7d\":57.00"));

    /* two partitions, part 2 first; part 2's run is gone before the emit.
     * Accumulators A (part 1, twice: a1, a2) and B (part 2) are made first,
     * so every merge below works on accumulators alone. */
    tctx p1, p2;
    build(&p1, text_1);
    build(&p2, text_2);
    assert_int_equal(p1.ctx.ev->n, 7);
    assert_int_equal(p2.ctx.ev->n, 8);
    const char *json_w = cp_summary_json(sum_w);
    cp_ads_acc *a1 = cp_ads_acc_new(&p1.opt), *a2 = cp_ads_acc_new(&p1.opt), *b = cp_ads_acc_new(&p1.opt);
    cp_ads_acc *acc = cp_ads_acc_new(&p1.opt);
    assert_non_null(a1);
    assert_non_null(a2);
    assert_non_null(b);
    assert_non_null(acc);
    assert_int_equal(cp_ads_acc_add(a1, &p1.ctx, &err), CP_OK);
    assert_int_equal(cp_ads_acc_add(a2, &p1.ctx, &err), CP_OK);
    assert_int_equal(cp_ads_acc_add(b, &p2.ctx, &err), CP_OK);
    assert_int_equal(cp_ads_acc_add(acc, &p2.ctx, &err), CP_OK);
    done(&p2);
    assert_int_equal(cp_ads_acc_add(acc, &p1.ctx, &err), CP_OK);
    emit_is(acc, &p1, csv_w, json_w);

    /* B's saved bytes, before any merge reads B */
    cp_bytes saved_b = {0};
    cp_ads_acc_save(b, &saved_b);
    assert_false(saved_b.oom);

    /* (1) merge(B into A) */
    assert_int_equal(cp_ads_acc_merge(a1, b, &err), CP_OK);
    emit_is(a1, &p1, csv_w, json_w);
    /* from stays unchanged: it saves the same bytes */
    cp_bytes again = {0};
    cp_ads_acc_save(b, &again);
    assert_int_equal(again.n, saved_b.n);
    assert_memory_equal(again.p, saved_b.p, saved_b.n);
    cp_bytes_free(&again);

    /* (2) save(B), load, merge into A; load(save(B)) saves the same bytes */
    cp_bytes_reader rd = cp_bytes_reader_of(saved_b.p, saved_b.n);
    cp_ads_acc *b2 = cp_ads_acc_load(&p1.opt, &rd, &err);
    assert_non_null(b2);
    assert_int_equal(rd.at, saved_b.n);
    cp_ads_acc_save(b2, &again);
    assert_int_equal(again.n, saved_b.n);
    assert_memory_equal(again.p, saved_b.p, saved_b.n);
    cp_bytes_free(&again);
    assert_int_equal(cp_ads_acc_merge(a2, b2, &err), CP_OK);
    cp_ads_acc_free(b2);
    emit_is(a2, &p1, csv_w, json_w);

    /* (3) accumulators that never had an add(): a saved and loaded empty
     * one, then A and B merged into a fresh one */
    cp_ads_acc *e = cp_ads_acc_new(&p1.opt), *e0 = cp_ads_acc_new(&p1.opt);
    assert_non_null(e);
    assert_non_null(e0);
    cp_bytes saved_e = {0};
    cp_ads_acc_save(e0, &saved_e);
    cp_ads_acc_free(e0);
    assert_false(saved_e.oom);
    rd = cp_bytes_reader_of(saved_e.p, saved_e.n);
    e0 = cp_ads_acc_load(&p1.opt, &rd, &err);
    assert_non_null(e0);
    assert_int_equal(cp_ads_acc_merge(e, e0, &err), CP_OK);
    cp_ads_acc_free(e0);
    cp_bytes_free(&saved_e);
    a1 = cp_ads_acc_new(&p1.opt);
    assert_non_null(a1);
    assert_int_equal(cp_ads_acc_add(a1, &p1.ctx, &err), CP_OK);
    assert_int_equal(cp_ads_acc_merge(e, a1, &err), CP_OK);
    assert_int_equal(cp_ads_acc_merge(e, b, &err), CP_OK);
    emit_is(e, &p1, csv_w, json_w);

    /* a merge into itself counts its partitions twice: part 1 alone has
     * clicks L3, L5 and orders o1, o2, so 4 and 4 */
    assert_int_equal(cp_ads_acc_merge(a1, a1, &err), CP_OK);
    cp_summary *sum_d = cp_summary_new();
    assert_int_equal(cp_ads_acc_emit(a1, sum_d, &err), CP_OK);
    assert_true(tctx_json_has(sum_d, "\"clicks\":4"));
    assert_true(tctx_json_has(sum_d, "\"orders_7d\":4"));
    assert_true(tctx_json_has(sum_d, "\"spend\":1.82")); /* 2 x (0.01 + 0.50 + 0.40) */
    cp_summary_free(sum_d);
    cp_ads_acc_free(a1);

    /* (4) every truncation of B's saved bytes fails cleanly */
    for (size_t k = 0; k < saved_b.n; k++) {
        rd = cp_bytes_reader_of(saved_b.p, k);
        cp_error e2 = {0};
        assert_null(cp_ads_acc_load(&p1.opt, &rd, &e2));
        assert_int_equal(e2.code, CP_EFORMAT);
        assert_non_null(strstr(e2.msg, "sponsored-ads"));
    }

    cp_ads_acc_free(b);
    cp_bytes_free(&saved_b);
    free(csv_w);
    cp_summary_free(sum_w);
    done(&w);
    done(&p1);
    free(text_all);
    free(text_1);
    free(text_2);
}

/* Loads `len` bytes of a damaged state: NULL and CP_EFORMAT with `why` in
 * the message. */
static void load_fails(const tctx *t, const uint8_t *p, size_t len, const char *why) {
    cp_bytes_reader rd = cp_bytes_reader_of(p, len);
    cp_error err = {0};
    cp_ads_acc *a = cp_ads_acc_load(&t->opt, &rd, &err);
    if (a) {
        cp_ads_acc_free(a);
        fail_msg("loaded %zu bytes, want \"%s\"", len, why);
    }
    assert_int_equal(err.code, CP_EFORMAT);
    if (!strstr(err.msg, why)) fail_msg("want \"%s\" in \"%s\"", why, err.msg);
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void acc_load_rejects_damaged_state(void **state) {
    (void)state;
    /* One placement C1/G1/K1, a bounced click on A1 (0.50) and one on A2
     * (0.25) on 03-01: rows (whole, A1), (03-01, A1), (whole, A2), (03-01,
     * A2) in this order.  Saved layout: tag 4, orders 8, n_pl 4 at 12,
     * placement "C1" "G1" "K1" 3 x (4 + 2) = 18 at 16, n_rows 4 at 34, rows
     * of 94 bytes at 38, 132, 226, 320: day 4, placement 4 (at +4), asin
     * 4 + 2, then 10 figures at +14: impressions, clicks (+22), invalid,
     * bounced, spend (+46), ... */
    tctx t;
    build(&t, HDR "2024-03-01T10:00:01Z,click,v1,,A1,C1,G1,K1,k1,0.50,,,\n"
                  "2024-03-01T11:00:01Z,click,v2,,A2,C1,G1,K1,k2,0.25,,,\n");
    cp_ads_acc *a = cp_ads_acc_new(&t.opt);
    assert_non_null(a);
    cp_error err = {0};
    assert_int_equal(cp_ads_acc_add(a, &t.ctx, &err), CP_OK);
    cp_bytes s = {0};
    cp_ads_acc_save(a, &s);
    cp_ads_acc_free(a);
    assert_false(s.oom);
    assert_int_equal(s.n, 38 + 4 * 94);
    uint8_t *d = malloc(s.n);
    assert_non_null(d);

    /* intact, it loads, and emits its rows: cpc = spend, cvr 0, roas 0 */
    cp_bytes_reader rd = cp_bytes_reader_of(s.p, s.n);
    a = cp_ads_acc_load(&t.opt, &rd, &err);
    assert_non_null(a);
    cp_summary *sum = cp_summary_new();
    assert_int_equal(cp_ads_acc_emit(a, sum, &err), CP_OK);
    cp_ads_acc_free(a);
    cp_summary_free(sum);
    char *csv = tctx_read(&t, "ads.csv");
    assert_string_equal(csv, ADS_HDR
        ",C1,G1,K1,A1,0,1,0,1,0.50,0.00,,0.500000,,0,0,0.00,0.00,,0.000000,0.000000\n"
        ",C1,G1,K1,A2,0,1,0,1,0.25,0.00,,0.250000,,0,0,0.00,0.00,,0.000000,0.000000\n"
        "2024-03-01,C1,G1,K1,A1,0,1,0,1,0.50,0.00,,0.500000,,0,0,0.00,0.00,,0.000000,0.000000\n"
        "2024-03-01,C1,G1,K1,A2,0,1,0,1,0.25,0.00,,0.250000,,0,0,0.00,0.00,,0.000000,0.000000\n");
    free(csv);

    memcpy(d, s.p, s.n);
    d[0] ^= 1;
    load_fails(&t, d, s.n, "not a sponsored-ads state");
    memcpy(d, s.p, s.n);
    put_le32(d + 12, UINT32_MAX);
    load_fails(&t, d, s.n, "placement count exceeds the data");
    memcpy(d, s.p, s.n);
    put_le32(d + 34, 5); /* 5 x 92 bytes at least: more than are left */
    load_fails(&t, d, s.n, "row count exceeds the data");
    memcpy(d, s.p, s.n);
    put_le32(d + 42, 1);
    load_fails(&t, d, s.n, "placement index out of range");
    memcpy(d, s.p, s.n);
    put_le64(d + 38 + 22, UINT64_MAX); /* clicks -1 */
    load_fails(&t, d, s.n, "count out of range");
    memcpy(d, s.p, s.n);
    memcpy(d + 132, d + 38, 4); /* row 1 takes row 0's day: the same key */
    load_fails(&t, d, s.n, "a row twice");
    memcpy(d, s.p, s.n);
    /* the whole rows' spends may sum to INT64_MAX (0.25 is 250000 micros) */
    put_le64(d + 38 + 46, (uint64_t)(INT64_MAX - 250000));
    rd = cp_bytes_reader_of(d, s.n);
    a = cp_ads_acc_load(&t.opt, &rd, &err);
    assert_non_null(a);
    cp_ads_acc_free(a);
    put_le64(d + 226 + 46, 250001); /* but not past it */
    load_fails(&t, d, s.n, "sums overflow");
    memcpy(d, s.p, s.n);
    put_le32(d + 16, 1000); /* campaign length past the end */
    load_fails(&t, d, s.n, "truncated placement");
    for (size_t k = 0; k < s.n; k++) load_fails(&t, s.p, k, "sponsored-ads");

    free(d);
    cp_bytes_free(&s);
    done(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r6_1_purchase_exactly_7d_after_click_is_credited),
        cmocka_unit_test(r6_1_purchase_1ms_after_7d_is_not_credited),
        cmocka_unit_test(r6_1_purchase_1s_after_7d_is_not_credited),
        cmocka_unit_test(r6_1_later_click_on_other_asin_does_not_steal_same_asin_credit),
        cmocka_unit_test(r6_1_other_asin_credit_without_same_asin_click),
        cmocka_unit_test(r6_1_same_asin_click_out_of_window_falls_back_to_other_asin),
        cmocka_unit_test(r6_1_duplicate_click_is_never_credited),
        cmocka_unit_test(r6_1_bot_click_is_never_credited),
        cmocka_unit_test(r6_1_click_at_purchase_time_later_in_input_counts),
        cmocka_unit_test(r6_1_equal_time_clicks_last_in_input_order_wins),
        cmocka_unit_test(r6_1_returns_are_not_attributed),
        cmocka_unit_test(r6_1_other_identity_click_is_not_credited),
        cmocka_unit_test(r6_1_window_is_an_option),
        cmocka_unit_test(r6_2_r6_3_ads_csv_by_hand),
        cmocka_unit_test(r8_ads_rows_sorted_by_keys_whole_period_first),
        cmocka_unit_test(acc_add_merges_partitions_exactly),
        cmocka_unit_test(acc_load_rejects_damaged_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

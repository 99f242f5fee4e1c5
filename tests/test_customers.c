/* test_customers.c -- customer evaluation (SPEC R10): per-customer figures,
 * RFM, segments, cohorts, feedback rate, CAC, and the CDNOW and Online Retail
 * samples through the column mapping (R1.4a).  Expected numbers are worked
 * out by hand in the comments; the Online Retail totals come from the
 * independent script bench/online_retail_customers.py. */
#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "testutil.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/values.h"

#define DAY INT64_C(86400000)

typedef struct fx {
    cp_run *run;
    cp_report_options opt;
    cp_report_ctx ctx;
    char out[64];
} fx;

static int64_t ts_of(const char *s) {
    int64_t v = 0;
    assert_true(cp_parse_ts(s, strlen(s), NULL, &v));
    return v;
}

/* Loads text; as_of NULL = the latest event (R10.1). */
static void fx_load(fx *f, const char *text, const cp_ingest_options *io, const char *as_of) {
    memset(f, 0, sizeof *f);
    cp_report_options_init(&f->opt);
    snprintf(f->out, sizeof f->out, "/tmp/cp_customers_XXXXXX");
    assert_non_null(mkdtemp(f->out));
    f->opt.out_dir = f->out;
    f->opt.clv = false; /* the hand cases are too small for the model */
    if (as_of) {
        f->opt.has_as_of = true;
        f->opt.as_of_ms = ts_of(as_of);
    }
    f->run = cp_test_run_text(text, io);
    cp_error err = {0};
    assert_int_equal(cp_report_ctx_init(&f->ctx, f->run, &f->opt, &err), CP_OK);
}

static void fx_write(fx *f) {
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_customers_write(&f->ctx, sum, &err), CP_OK);
    cp_summary_free(sum);
}

static void fx_free(fx *f) {
    cp_report_ctx_free(&f->ctx);
    cp_run_free(f->run);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->out);
    assert_int_equal(system(cmd), 0);
}

/* Reads a whole report file. */
static char *slurp(const char *dir, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cp_test_read_file(path, NULL);
}

/* The cell of column `col` in the row whose first cell is `key` (CSV with
 * no quoted cells), copied into out.  Fails the test when missing. */
static const char *cell(const char *dir, const char *file, const char *key, const char *col, char *out,
                        size_t cap) {
    char *text = slurp(dir, file);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    int ci = -1, k = 0;
    for (char *p = text; p < nl; k++) {
        char *e = p;
        while (e < nl && *e != ',') e++;
        if ((size_t)(e - p) == strlen(col) && memcmp(p, col, strlen(col)) == 0) ci = k;
        p = e + 1;
    }
    assert_true(ci >= 0);
    bool found = false;
    size_t klen = strlen(key);
    for (char *line = nl + 1; *line && !found;) {
        char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if (strncmp(line, key, klen) == 0 && line[klen] == ',') {
            char *p = line;
            for (int j = 0; j < ci; j++) {
                p = memchr(p, ',', (size_t)(end - p));
                assert_non_null(p);
                p++;
            }
            char *e = p;
            while (e < end && *e != ',') e++;
            snprintf(out, cap, "%.*s", (int)(e - p), p);
            found = true;
        }
        line = *end ? end + 1 : end;
    }
    free(text);
    if (!found) fail_msg("no row %s in %s", key, file);
    return out;
}

#define CELL(f, file, key, col) cell((f)->out, file, key, col, (char[256]){0}, 256)

/* ---- R10.1 / R10.2 ----------------------------------------------------------- */

/* R10.2 high_value needs orders_90d >= 2, net_revenue >= 150 and
 * return_rate < 5%.  a: 75.00 + 75.00 = 150.00 exactly -> high_value.
 * b: 75.00 + 74.99 = 149.99 -> repeat (2 orders, active).  c: 20 units at
 * 10.00 = 200.00, 1 returned = 1/20 = 5% exactly, not below -> repeat. */
static void r10_2_high_value_at_exact_thresholds(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,units,price\n"
            "2024-03-01T00:00:00Z,purchase,a,X,a1,1,75.00\n"
            "2024-03-05T00:00:00Z,purchase,a,X,a2,1,75.00\n"
            "2024-03-01T00:00:00Z,purchase,b,X,b1,1,75.00\n"
            "2024-03-05T00:00:00Z,purchase,b,X,b2,1,74.99\n"
            "2024-03-01T00:00:00Z,purchase,c,X,c1,10,10.00\n"
            "2024-03-05T00:00:00Z,purchase,c,X,c2,10,10.00\n"
            "2024-03-10T00:00:00Z,return,c,X,c2,1,10.00\n",
            NULL, NULL);
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "a", "segment"), "high_value");
    assert_string_equal(CELL(&f, "customers.csv", "a", "net_revenue"), "150.00");
    assert_string_equal(CELL(&f, "customers.csv", "b", "segment"), "repeat");
    assert_string_equal(CELL(&f, "customers.csv", "c", "return_rate"), "0.050000");
    assert_string_equal(CELL(&f, "customers.csv", "c", "segment"), "repeat");
    /* segments.csv: 1 high_value of 3 customers, 2 repeat; GMV 150 + 149.99 + 200 */
    assert_string_equal(CELL(&f, "segments.csv", "high_value", "customers"), "1");
    assert_string_equal(CELL(&f, "segments.csv", "high_value", "share"), "0.333333");
    assert_string_equal(CELL(&f, "segments.csv", "repeat", "gmv"), "349.99");
    assert_string_equal(CELL(&f, "segments.csv", "potential", "customers"), "0");
    /* pareto_top20: ceil(3/5) = 1 customer, the largest GMV (c, 200.00) of 499.99 */
    assert_string_equal(CELL(&f, "segments.csv", "pareto_top20", "customers"), "1");
    assert_string_equal(CELL(&f, "segments.csv", "pareto_top20", "gmv"), "200.00");
    assert_string_equal(CELL(&f, "segments.csv", "pareto_top20", "gmv_share"), "0.400008");
    fx_free(&f);
}

/* R10.2 churn_risk: no event for MORE than 60 days.  As-of 2024-06-01T00:00Z;
 * 60 days before is 2024-04-02T00:00Z (May 31 days, then 29 more).  d bought
 * exactly then: not churn, one order -> potential.  e bought 1 ms earlier:
 * churn_risk.  Both show 60 whole days since their last activity (R10.1). */
static void r10_2_churn_risk_is_more_than_60_days(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-04-02T00:00:00Z,purchase,d,X,d1,5\n"
            "2024-04-01T23:59:59.999Z,purchase,e,X,e1,5\n",
            NULL, "2024-06-01T00:00:00Z");
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "d", "segment"), "potential");
    assert_string_equal(CELL(&f, "customers.csv", "e", "segment"), "churn_risk");
    assert_string_equal(CELL(&f, "customers.csv", "d", "days_since_last_activity"), "60");
    assert_string_equal(CELL(&f, "customers.csv", "e", "days_since_last_activity"), "60");
    fx_free(&f);
}

/* R10.2: any event counts as activity: a page view 10 days before as-of keeps
 * a 100-day-old buyer out of churn_risk. */
static void r10_2_any_event_counts_as_activity(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-01-01T00:00:00Z,purchase,g,X,g1,5\n"
            "2024-04-01T00:00:00Z,page_view,g,X,,\n",
            NULL, "2024-04-11T00:00:00Z");
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "g", "segment"), "potential");
    assert_string_equal(CELL(&f, "customers.csv", "g", "days_since_last_activity"), "10");
    fx_free(&f);
}

/* R10.1 RFM: every key tied, so ranks follow identity bytes: a 0, b 1, c 2
 * of n = 3; score 1 + floor(5 rank / 3) = 1, 2, 4. */
static void r10_1_rfm_ties_broken_by_identity_bytes(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-03-01T00:00:00Z,purchase,b,X,o2,5\n"
            "2024-03-01T00:00:00Z,purchase,c,X,o3,5\n"
            "2024-03-01T00:00:00Z,purchase,a,X,o1,5\n",
            NULL, NULL);
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "a", "rfm"), "111");
    assert_string_equal(CELL(&f, "customers.csv", "b", "rfm"), "222");
    assert_string_equal(CELL(&f, "customers.csv", "c", "rfm"), "444");
    fx_free(&f);
}

/* R10.1 RFM by value: R ranks last purchase, F orders, M net revenue.
 * x: 2 orders, latest, net 1.00; y: 1 order, earliest, net 9.00.
 * n = 2: rank 0 -> 1, rank 1 -> 1 + floor(5/2) = 3.  x = "331", y = "113". */
static void r10_1_rfm_scores_rank_ascending(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-03-01T00:00:00Z,purchase,y,X,y1,9\n"
            "2024-03-02T00:00:00Z,purchase,x,X,x1,0.5\n"
            "2024-03-03T00:00:00Z,purchase,x,X,x2,0.5\n",
            NULL, NULL);
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "x", "rfm"), "331");
    assert_string_equal(CELL(&f, "customers.csv", "y", "rfm"), "113");
    fx_free(&f);
}

/* R10.1: 3 orders (3.00, 3.00, 4.00: gmv 10.00, 4 units since the last has
 * 2 units at 2.00), 1 unit returned for 2.00.  return_rate = 1/4 = 0.25,
 * net_revenue = 8.00, aov = 10.00 / 3 = 3.333333 (a ratio, half to even at the
 * micro-unit).  Lines with the same order id are one order.  A return after
 * as-of does not count. */
static void r10_1_return_rate_net_revenue_and_aov(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,units,price\n"
            "2024-03-01T00:00:00Z,purchase,h,X,h1,1,3.00\n"
            "2024-03-02T00:00:00Z,purchase,h,X,h2,1,3.00\n"
            "2024-03-03T00:00:00Z,purchase,h,X,h3,1,2.00\n"
            "2024-03-03T00:00:01Z,purchase,h,Y,h3,1,2.00\n"
            "2024-03-04T00:00:00Z,return,h,X,h3,1,2.00\n"
            "2024-03-09T00:00:00Z,return,h,Y,h3,1,2.00\n",
            NULL, "2024-03-05T00:00:00Z");
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "h", "orders"), "3");
    assert_string_equal(CELL(&f, "customers.csv", "h", "units"), "4");
    assert_string_equal(CELL(&f, "customers.csv", "h", "gmv"), "10.00");
    assert_string_equal(CELL(&f, "customers.csv", "h", "units_returned"), "1");
    assert_string_equal(CELL(&f, "customers.csv", "h", "refunds"), "2.00");
    assert_string_equal(CELL(&f, "customers.csv", "h", "net_revenue"), "8.00");
    assert_string_equal(CELL(&f, "customers.csv", "h", "return_rate"), "0.250000");
    assert_string_equal(CELL(&f, "customers.csv", "h", "aov"), "3.333333");
    assert_string_equal(CELL(&f, "customers.csv", "h", "first_purchase"), "2024-03-01T00:00:00.000Z");
    assert_string_equal(CELL(&f, "customers.csv", "h", "last_purchase"), "2024-03-03T00:00:01.000Z");
    fx_free(&f);
}

/* R10.1: an identity with only returns or page views is no customer; orders_90d
 * counts orders with a line in [as-of - 90 d, as-of]: as-of 2024-04-01T00:00Z,
 * window from 2024-01-02T00:00Z (Jan 30 days + Feb 29 + Mar 31 = 90).  The
 * order at exactly the start counts, the one 1 ms before does not. */
static void r10_1_orders_90d_window_is_inclusive(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-01-01T23:59:59.999Z,purchase,k,X,k1,1\n"
            "2024-01-02T00:00:00Z,purchase,k,X,k2,1\n"
            "2024-02-01T00:00:00Z,return,z,X,z1,1\n",
            NULL, "2024-04-01T00:00:00Z");
    fx_write(&f);
    assert_string_equal(CELL(&f, "customers.csv", "k", "orders"), "2");
    assert_string_equal(CELL(&f, "customers.csv", "k", "orders_90d"), "1");
    char *text = slurp(f.out, "customers.csv");
    assert_null(strstr(text, "\nz,"));
    free(text);
    fx_free(&f);
}

/* ---- R10.3 --------------------------------------------------------------------- */

/* As-of 2024-03-31T00:00Z.  m: first purchase 2024-03-01T00:00Z, exactly 30
 * days before as-of -> eligible_30; second order exactly 30 days after the
 * first -> retained_30.  n: first purchase 1 ms later -> not eligible.
 * Nobody is eligible at 60 or 90 days: rates empty.  Histogram: 30 -> 1. */
static void r10_3_cohort_eligible_and_retained_at_exactly_30_days(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-03-01T00:00:00Z,purchase,m,X,m1,1\n"
            "2024-03-31T00:00:00Z,purchase,m,X,m2,1\n"
            "2024-03-01T00:00:00.001Z,purchase,n,X,n1,1\n",
            NULL, "2024-03-31T00:00:00Z");
    fx_write(&f);
    char *text = slurp(f.out, "cohorts.csv");
    assert_string_equal(text,
                        "cohort,customers,eligible_30,retained_30,rate_30,eligible_60,retained_60,rate_60,"
                        "eligible_90,retained_90,rate_90\n"
                        ",2,1,1,1.000000,0,0,,0,0,\n"
                        "2024-03,2,1,1,1.000000,0,0,,0,0,\n");
    free(text);
    text = slurp(f.out, "cohorts_histogram.csv");
    assert_string_equal(text, "days_to_second_order,customers\n30,1\n");
    free(text);
    fx_free(&f);
}

/* R10.3: cohorts are months in the report time zone.  2024-03-01T02:00Z is
 * still February 29 in America/Los_Angeles (UTC-8). */
static void r10_3_cohort_month_in_report_tz(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price\n"
            "2024-03-01T02:00:00Z,purchase,p,X,p1,1\n",
            NULL, NULL);
    cp_tz *la = cp_tz_open("America/Los_Angeles");
    assert_non_null(la);
    f.opt.tz = la;
    fx_write(&f);
    char *text = slurp(f.out, "cohorts.csv");
    assert_non_null(strstr(text, "\n2024-02,1,"));
    free(text);
    fx_free(&f);
    cp_tz_free(la);
}

/* ---- R10.6 --------------------------------------------------------------------- */

/* As-of = latest event, 2024-03-04T00:00Z; window from 2023-12-05T00:00Z.
 * o1 (A1): ratings 1 then 5, latest 5 -> not negative.  o2 (A2): rating 2 ->
 * negative.  o3 (A1 and A2): no feedback.  o4: placed 2023-11-01, outside.
 * Account: 3 orders, 2 with feedback, 1 negative -> 0.333333.
 * A1: o1, o3 -> 2, 1, 0.  A2: o2, o3 -> 2, 1, 1 -> 0.500000. */
static void r10_6_latest_feedback_decides(void **state) {
    (void)state;
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,order,price,rating\n"
            "2023-11-01T00:00:00Z,purchase,q,A1,o4,1,\n"
            "2023-11-02T00:00:00Z,feedback,q,,o4,,1\n"
            "2024-03-01T00:00:00Z,purchase,q,A1,o1,1,\n"
            "2024-03-01T00:00:00Z,purchase,r,A2,o2,1,\n"
            "2024-03-01T00:00:00Z,purchase,s,A1,o3,1,\n"
            "2024-03-01T00:00:00Z,purchase,s,A2,o3,1,\n"
            "2024-03-02T00:00:00Z,feedback,q,,o1,,1\n"
            "2024-03-03T00:00:00Z,feedback,q,,o1,,5\n"
            "2024-03-04T00:00:00Z,feedback,r,,o2,,2\n",
            NULL, NULL);
    fx_write(&f);
    char *text = slurp(f.out, "feedback.csv");
    assert_string_equal(text,
                        "scope,key,orders,feedback_orders,negative_feedback_orders,negative_feedback_rate\n"
                        "account,,3,2,1,0.333333\n"
                        "asin,A1,2,1,0,0.000000\n"
                        "asin,A2,2,1,1,0.500000\n");
    free(text);
    fx_free(&f);
}

/* ---- R10.4 --------------------------------------------------------------------- */

/* Sponsored campaign C1: impression 0.50 + valid click 1.50 = 2.00 spend; an
 * invalid click (2.00) costs nothing (R3.3).  u1's first purchase is credited
 * (R6) to the valid click: 1 new customer, cac 2.00; u2's is not.  Off-site:
 * tag t1 (google / spring) click 0.30, u3's first purchase credited (R7):
 * spend 0.30, 1 new customer, cac 0.30 for the campaign and the channel. */
static void r10_4_cac_per_campaign_and_channel(void **state) {
    (void)state;
    char reg_path[64];
    assert_non_null(cp_test_tmpfile(reg_path, sizeof reg_path,
                                    "tag,channel,publisher,campaign,asin\nt1,google,search,spring,X\n"));
    fx f;
    fx_load(&f,
            "ts,type,customer,asin,campaign,tag,cost,order,price\n"
            "2024-03-01T00:00:00Z,impression,,X,C1,,0.50,,\n"
            "2024-03-01T00:01:00Z,click,u1,X,C1,,1.50,,\n"
            "2024-03-01T00:02:00Z,click,u9,X,C1,,2.00,,\n"
            "2024-03-01T00:03:00Z,click,u3,X,,t1,0.30,,\n"
            "2024-03-01T01:00:00Z,purchase,u1,X,,,,p1,10\n"
            "2024-03-01T01:00:00Z,purchase,u2,X,,,,p2,10\n"
            "2024-03-01T02:00:00Z,purchase,u3,X,,,,p3,10\n",
            NULL, NULL);
    f.opt.tags_path = reg_path;
    const cp_events *ev = f.ctx.ev;
    /* status per event, the credits per non-impression row (report.h) */
    f.ctx.status = calloc(ev->n, 1);
    f.ctx.ad_credit = malloc(f.ctx.ev->sub.n * sizeof(uint32_t));
    f.ctx.offsite_credit = malloc(f.ctx.ev->sub.n * sizeof(uint32_t));
    assert_true(f.ctx.status && f.ctx.ad_credit && f.ctx.offsite_credit);
    for (size_t k = 0; k < f.ctx.ev->sub.n; k++) f.ctx.ad_credit[k] = f.ctx.offsite_credit[k] = CP_NONE;
    uint32_t click_u1 = CP_NONE, click_u3 = CP_NONE;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->type[i] != CP_CLICK) continue;
        const char *who = cp_str_c(f.ctx.str, ev->identity[i]);
        if (strcmp(who, "u9") == 0) f.ctx.status[i] = CP_CLICK_DUPLICATE;
        if (strcmp(who, "u1") == 0) click_u1 = (uint32_t)i;
        if (strcmp(who, "u3") == 0) click_u3 = (uint32_t)i;
    }
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->type[i] != CP_PURCHASE) continue;
        const char *who = cp_str_c(f.ctx.str, ev->identity[i]);
        if (strcmp(who, "u1") == 0) f.ctx.ad_credit[cp_report_rank(&f.ctx, i)] = click_u1;
        if (strcmp(who, "u3") == 0) f.ctx.offsite_credit[cp_report_rank(&f.ctx, i)] = click_u3;
    }
    fx_write(&f);
    char *text = slurp(f.out, "cac.csv");
    assert_string_equal(text,
                        "source,level,key,spend,new_customers,cac\n"
                        "sponsored,campaign,C1,2.00,1,2.000000\n"
                        "sponsored,channel,sponsored,2.00,1,2.000000\n"
                        "external,campaign,spring,0.30,1,0.300000\n"
                        "external,channel,google,0.30,1,0.300000\n");
    free(text);
    unlink(reg_path);
    fx_free(&f);
}

/* ---- real samples ---------------------------------------------------------------- */

static double json_number(const char *text, const char *section, const char *key) {
    const char *s = strstr(text, section);
    assert_non_null(s);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(s, pat);
    assert_non_null(p);
    return strtod(p + strlen(pat), NULL);
}

#define CLOSE(v, want) assert_true(fabs((v) - (want)) <= 0.005 * fabs(want))

/* R10.5 acceptance: cdnowElog.csv through the column mapping, weeks,
 * calibration end 1997-09-30 (the whole day) reproduces FHL 2005 and FH 2013
 * within 0.5%, and customer 4 (x = 2, t_x = 30.43, T = 38.86 weeks in
 * Hardie's summary) expects 1.226 purchases in the next 39 weeks. */
static void r10_5_cdnow_through_the_column_mapping(void **state) {
    (void)state;
    cp_map_entry map[] = {{"customer", "masterid"}, {"ts", "date"}, {"units", "cds"}, {"amount", "sales"}};
    cp_set_entry set[] = {{"type", "purchase"}, {"asin", "CD"}};
    cp_ingest_options io = {.map = map, .n_map = 4, .set = set, .n_set = 2, .ts_format = "%Y%m%d"};
    fx f;
    memset(&f, 0, sizeof f);
    cp_report_options_init(&f.opt);
    snprintf(f.out, sizeof f.out, "/tmp/cp_customers_XXXXXX");
    assert_non_null(mkdtemp(f.out));
    f.opt.out_dir = f.out;
    f.opt.clv = true;
    f.opt.clv_week = true;
    f.opt.has_calibration_end = true;
    f.opt.calibration_end_ms = cp_days_from_civil(1997, 10, 1) * DAY - 1;
    f.opt.clv_horizon_ms = 39 * 7 * DAY;
    cp_error err = {0};
    f.run = cp_run_new(&io, &err);
    assert_non_null(f.run);
    assert_int_equal(cp_run_load(f.run, CP_SHARED_DATA("cdnow/cdnowElog.csv"), &err), CP_OK);
    assert_int_equal(cp_run_finish(f.run, &err), CP_OK);
    assert_int_equal(cp_report_ctx_init(&f.ctx, f.run, &f.opt, &err), CP_OK);
    fx_write(&f);
    char *m = slurp(f.out, "clv_model.json");
    CLOSE(json_number(m, "\"bgnbd\"", "r"), 0.243);
    CLOSE(json_number(m, "\"bgnbd\"", "alpha"), 4.414);
    CLOSE(json_number(m, "\"bgnbd\"", "a"), 0.793);
    CLOSE(json_number(m, "\"bgnbd\"", "b"), 2.426);
    assert_true(fabs(json_number(m, "\"bgnbd\"", "loglik") - -9582.4) < 0.1);
    CLOSE(json_number(m, "\"gamma_gamma\"", "p"), 6.25);
    CLOSE(json_number(m, "\"gamma_gamma\"", "q"), 3.74);
    CLOSE(json_number(m, "\"gamma_gamma\"", "gamma"), 15.44);
    assert_true(json_number(m, "{", "customers_fitted") == 2357);
    assert_true(json_number(m, "{", "repeat_customers") == 946);
    assert_non_null(strstr(m, "\"unit\": \"week\""));
    assert_non_null(strstr(m, "\"calibration_end_day\": \"1997-09-30\""));
    free(m);
    CLOSE(strtod(CELL(&f, "customers.csv", "4", "expected_purchases"), NULL), 1.226);
    fx_free(&f);
}

/* money cell to micro-units */
static int64_t micros(const char *s) {
    int64_t v = 0;
    assert_true(cp_parse_decimal_micros(s, strlen(s), &v));
    return v;
}

/* Online Retail through the column mapping: negative quantities are returns
 * (R1.4a; the data README counts 10,624 such rows), 2 negative prices are
 * rejected.  Totals over customers (R10.1) as derived independently by
 * bench/online_retail_customers.py: 6,529 customers, 5,660,979 units, GMV
 * 10,666,684.544, 273,936 units returned for 600,930.85, 1,556 customers
 * with a return. */
static void r10_1_online_retail_returns_match_independent_totals(void **state) {
    (void)state;
    cp_map_entry map[] = {{"order", "InvoiceNo"}, {"asin", "StockCode"}, {"units", "Quantity"},
                          {"ts", "InvoiceDate"},  {"price", "UnitPrice"}, {"customer", "CustomerID"},
                          {"visitor", "InvoiceNo"}};
    cp_set_entry set[] = {{"type", "purchase"}};
    cp_ingest_options io = {.map = map, .n_map = 7, .set = set, .n_set = 1, .input_tz = "Europe/London"};
    fx f;
    memset(&f, 0, sizeof f);
    cp_report_options_init(&f.opt);
    snprintf(f.out, sizeof f.out, "/tmp/cp_customers_XXXXXX");
    assert_non_null(mkdtemp(f.out));
    f.opt.out_dir = f.out;
    cp_error err = {0};
    f.run = cp_run_new(&io, &err);
    assert_non_null(f.run);
    assert_int_equal(cp_run_load(f.run, CP_SHARED_DATA("online-retail/online_retail.csv.gz"), &err), CP_OK);
    assert_int_equal(cp_run_finish(f.run, &err), CP_OK);
    assert_int_equal(cp_run_rejected(f.run), 2);
    assert_int_equal(cp_report_ctx_init(&f.ctx, f.run, &f.opt, &err), CP_OK);
    size_t n_returns = 0;
    for (size_t i = 0; i < f.ctx.ev->n; i++) n_returns += f.ctx.ev->type[i] == CP_RETURN;
    assert_int_equal(n_returns, 10624);
    fx_write(&f);
    char *text = slurp(f.out, "customers.csv");
    int64_t n = 0, units = 0, gmv = 0, ret = 0, refunds = 0, with_returns = 0;
    char *line = strchr(text, '\n') + 1;
    while (*line) {
        char *end = strchr(line, '\n');
        char *c[8];
        char *p = line;
        for (int k = 0; k < 8; k++) {
            c[k] = p;
            p = strchr(p, ',');
            assert_non_null(p);
            *p++ = 0;
        }
        n++;
        units += strtoll(c[4], NULL, 10);
        gmv += micros(c[5]);
        ret += strtoll(c[6], NULL, 10);
        refunds += micros(c[7]);
        with_returns += strtoll(c[6], NULL, 10) > 0;
        line = end + 1;
    }
    free(text);
    assert_int_equal(n, 6529);
    assert_int_equal(units, 5660979);
    assert_int_equal(gmv, INT64_C(10666684544000));
    assert_int_equal(ret, 273936);
    assert_int_equal(refunds, INT64_C(600930850000));
    assert_int_equal(with_returns, 1556);
    /* segments add up to all customers; cohort retention has a rate */
    int64_t seg = 0;
    const char *names[] = {"high_value", "churn_risk", "potential", "repeat"};
    for (int k = 0; k < 4; k++) seg += strtoll(CELL(&f, "segments.csv", names[k], "customers"), NULL, 10);
    assert_int_equal(seg, 6529);
    fx_free(&f);
}

/* ---- partitions (report/partial.h) ------------------------------------------------ */

/* 14 customers c01..c14 (odd: part A, even: part B) over Jan-Mar 2024, with
 * returns, feedback and sponsored clicks on campaign C1 in both parts. */
static const char merge_text[] =
    "ts,type,customer,asin,campaign,cost,order,units,price,rating\n"
    "2024-01-04T09:00:00Z,impression,c01,A1,C1,0.10,,,,\n"
    "2024-01-04T09:05:00Z,click,c01,A1,C1,1.50,,,,\n"
    "2024-01-04T10:00:00Z,purchase,c01,A1,,,oc01_0,1,6.07,\n"
    "2024-01-05T09:00:00Z,feedback,c01,,,,oc01_0,,,2\n"
    "2024-01-07T09:00:00Z,impression,c02,A2,C1,0.10,,,,\n"
    "2024-01-07T09:05:00Z,click,c02,A2,C1,0.75,,,,\n"
    "2024-01-07T10:00:00Z,purchase,c02,A2,,,oc02_0,1,7.14,\n"
    "2024-01-10T10:00:00Z,purchase,c03,A0,,,oc03_0,1,8.21,\n"
    "2024-01-12T12:00:00Z,return,c03,A0,,,oc03_0,1,5.03,\n"
    "2024-01-13T10:00:00Z,purchase,c04,A1,,,oc04_0,1,9.28,\n"
    "2024-01-16T09:00:00Z,impression,c05,A2,C1,0.10,,,,\n"
    "2024-01-16T09:05:00Z,click,c05,A2,C1,2.00,,,,\n"
    "2024-01-16T10:00:00Z,purchase,c05,A2,,,oc05_0,1,10.35,\n"
    "2024-01-17T09:00:00Z,feedback,c05,,,,oc05_0,,,1\n"
    "2024-01-17T10:00:00Z,purchase,c01,A1,,,oc01_1,2,6.07,\n"
    "2024-01-19T10:00:00Z,purchase,c06,A0,,,oc06_0,1,11.42,\n"
    "2024-01-21T12:00:00Z,return,c06,A0,,,oc06_0,1,5.06,\n"
    "2024-01-22T10:00:00Z,purchase,c07,A1,,,oc07_0,1,12.49,\n"
    "2024-01-24T10:00:00Z,purchase,c02,A2,,,oc02_1,2,7.14,\n"
    "2024-01-25T10:00:00Z,purchase,c05,A2,,,oc05_1,2,10.35,\n"
    "2024-01-25T10:00:00Z,purchase,c08,A2,,,oc08_0,1,13.56,\n"
    "2024-01-28T10:00:00Z,purchase,c09,A0,,,oc09_0,1,14.63,\n"
    "2024-01-29T09:00:00Z,feedback,c09,,,,oc09_0,,,5\n"
    "2024-01-30T12:00:00Z,return,c09,A0,,,oc09_0,1,5.09,\n"
    "2024-01-31T10:00:00Z,purchase,c03,A0,,,oc03_1,2,8.21,\n"
    "2024-01-31T10:00:00Z,purchase,c10,A1,,,oc10_0,1,15.70,\n"
    "2024-02-01T10:00:00Z,purchase,c06,A0,,,oc06_1,2,11.42,\n"
    "2024-02-03T10:00:00Z,purchase,c11,A2,,,oc11_0,1,16.77,\n"
    "2024-02-06T10:00:00Z,purchase,c12,A0,,,oc12_0,1,17.84,\n"
    "2024-02-08T10:00:00Z,purchase,c07,A1,,,oc07_1,2,12.49,\n"
    "2024-02-08T12:00:00Z,return,c12,A0,,,oc12_0,1,5.12,\n"
    "2024-02-09T10:00:00Z,purchase,c10,A1,,,oc10_1,2,15.70,\n"
    "2024-02-09T10:00:00Z,purchase,c13,A1,,,oc13_0,1,18.91,\n"
    "2024-02-10T09:00:00Z,feedback,c13,,,,oc13_0,,,4\n"
    "2024-02-10T10:00:00Z,purchase,c02,A2,,,oc02_2,1,7.14,\n"
    "2024-02-12T10:00:00Z,purchase,c14,A2,,,oc14_0,1,19.98,\n"
    "2024-02-14T10:00:00Z,purchase,c06,A0,,,oc06_2,1,11.42,\n"
    "2024-02-16T10:00:00Z,purchase,c11,A2,,,oc11_1,2,16.77,\n"
    "2024-02-18T10:00:00Z,purchase,c10,A1,,,oc10_2,1,15.70,\n"
    "2024-02-21T10:00:00Z,purchase,c03,A0,,,oc03_2,1,8.21,\n"
    "2024-02-22T10:00:00Z,purchase,c09,A0,,,oc09_1,2,14.63,\n"
    "2024-02-25T10:00:00Z,purchase,c07,A1,,,oc07_2,1,12.49,\n"
    "2024-02-29T10:00:00Z,purchase,c11,A2,,,oc11_2,1,16.77,\n"
    "2024-03-01T10:00:00Z,purchase,c13,A1,,,oc13_1,2,18.91,\n"
    "2024-03-08T10:00:00Z,purchase,c14,A2,,,oc14_1,2,19.98,\n"
    "2024-03-13T10:00:00Z,purchase,c03,A0,,,oc03_3,2,8.21,\n"
    "2024-03-13T10:00:00Z,purchase,c07,A1,,,oc07_3,2,12.49,\n"
    "2024-03-13T10:00:00Z,purchase,c11,A2,,,oc11_3,2,16.77,\n"
    "2024-04-02T10:00:00Z,purchase,c14,A2,,,oc14_2,1,19.98,\n";

/* merge_text with the lines of the other part blank (line numbers kept):
 * part 1 keeps the customers with an odd number, part 0 the even ones. */
static char *merge_part(int odd) {
    char *out = malloc(sizeof merge_text);
    assert_non_null(out);
    const char *p = merge_text;
    char *o = out;
    for (bool header = true; *p; header = false) {
        const char *nl = strchr(p, '\n');
        const char *c = strchr(strchr(p, ',') + 1, ',') + 1; /* the customer cell */
        const char *ce = strchr(c, ',');
        if (header || (ce[-1] - '0') % 2 == odd) {
            memcpy(o, p, (size_t)(nl - p));
            o += nl - p;
        }
        *o++ = '\n';
        p = nl + 1;
    }
    *o = 0;
    return out;
}

typedef struct staged {
    cp_run *run;
    cp_report_ctx ctx;
} staged;

/* A run over text with its context and every stage built. */
static void staged_load(staged *s, const char *text, const cp_report_options *opt) {
    cp_ingest_options io = {0};
    cp_error err = {0};
    s->run = cp_run_new(&io, &err);
    assert_non_null(s->run);
    assert_int_equal(cp_run_load_buffer(s->run, "events.csv", text, strlen(text), &err), CP_OK);
    assert_int_equal(cp_run_finish(s->run, &err), CP_OK);
    assert_int_equal(cp_report_ctx_init(&s->ctx, s->run, opt, &err), CP_OK);
    assert_int_equal(cp_quality_build(&s->ctx, &err), CP_OK);
    assert_int_equal(cp_sessions_build(&s->ctx, &err), CP_OK);
    assert_int_equal(cp_ads_build(&s->ctx, &err), CP_OK);
    assert_int_equal(cp_attribution_build(&s->ctx, &err), CP_OK);
}

static void staged_free(staged *s) {
    cp_report_ctx_free(&s->ctx);
    cp_run_free(s->run);
}

static void merge_opt(cp_report_options *opt, char *dir) {
    cp_report_options_init(opt);
    assert_non_null(mkdtemp(dir));
    opt->out_dir = dir;
    opt->clv = true;
    opt->has_as_of = true;
    opt->as_of_ms = ts_of("2024-04-01T00:00:00Z");
}

/* An accumulator given one part (odd: customers with an odd number). */
static cp_customers_acc *acc_of_part(const cp_report_options *opt, int odd) {
    cp_customers_acc *a = cp_customers_acc_new(opt);
    assert_non_null(a);
    char *text = merge_part(odd);
    staged part;
    staged_load(&part, text, opt);
    cp_error err = {0};
    assert_int_equal(cp_customers_acc_add(a, &part.ctx, &err), CP_OK);
    staged_free(&part); /* the accumulator keeps nothing of the partition */
    free(text);
    return a;
}

/* The whole run of merge_text through cp_customers_write, into dir. */
static cp_summary *whole_run(char *dir, cp_report_options *opt) {
    merge_opt(opt, dir);
    staged whole;
    staged_load(&whole, merge_text, opt);
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    assert_int_equal(cp_customers_write(&whole.ctx, sum, &err), CP_OK);
    staged_free(&whole);
    return sum;
}

/* save(a) then load: a new accumulator that has read every byte. */
static cp_customers_acc *save_load(const cp_customers_acc *a, const cp_report_options *opt) {
    cp_bytes b = {0};
    cp_customers_acc_save(a, &b);
    assert_false(b.oom);
    cp_bytes_reader r = cp_bytes_reader_of(b.p, b.n);
    cp_error err = {0};
    cp_customers_acc *l = cp_customers_acc_load(opt, &r, &err);
    assert_non_null(l);
    assert_false(r.bad);
    assert_int_equal(r.at, b.n);
    cp_bytes_free(&b);
    return l;
}

/* Emits a into its options' out_dir and checks every file and the summary
 * against the whole run's, then the values worked out by hand over both
 * parts.  Frees a. */
static void emit_and_check(cp_customers_acc *a, const char *dir, const char *whole_dir, cp_summary *wsum) {
    cp_error err = {0};
    cp_summary *psum = cp_summary_new();
    assert_int_equal(cp_customers_acc_emit(a, psum, &err), CP_OK);
    cp_customers_acc_free(a);

    static const char *const files[] = {"customers.csv", "segments.csv", "pareto.csv",
                                        "cohorts.csv", "cohorts_histogram.csv", "feedback.csv",
                                        "cac.csv", "clv_model.json"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char *w = slurp(whole_dir, files[k]), *p = slurp(dir, files[k]);
        assert_string_equal(p, w);
        free(w);
        free(p);
    }
    assert_string_equal(cp_summary_json(psum), cp_summary_json(wsum));
    assert_string_equal(cp_summary_text(psum), cp_summary_text(wsum));
    cp_summary_free(psum);

    /* real values, worked out by hand over both parts */
    char *text = slurp(dir, "customers.csv");
    int lines = 0;
    for (const char *q = text; *q; q++) lines += *q == '\n';
    assert_int_equal(lines, 1 + 14);
    free(text);
    /* c02 (part B): last purchase 6th of 14 (rank 5 -> 2), 3 orders ranks
     * 8..10 (rank 8 -> 3), net 28.56 5th (rank 4 -> 2) */
    assert_string_equal(cell(dir, "customers.csv", "c02", "rfm", (char[256]){0}, 256), "232");
    assert_string_equal(cell(dir, "customers.csv", "c07", "rfm", (char[256]){0}, 256), "555");
    assert_string_equal(cell(dir, "customers.csv", "c04", "segment", (char[256]){0}, 256), "churn_risk");
    /* top ceil(14 / 5) = 3 by GMV: c11 100.62 + c07 74.94 (A) + c10 62.80 (B) */
    assert_string_equal(cell(dir, "segments.csv", "pareto_top20", "gmv", (char[256]){0}, 256), "238.36");
    assert_string_equal(cell(dir, "segments.csv", "churn_risk", "customers", (char[256]){0}, 256), "4");
    /* cohort 2024-02: c11, c13 (A), c12, c14 (B); c12 never came back */
    text = slurp(dir, "cohorts.csv");
    assert_non_null(strstr(text, "\n2024-02,4,4,3,0.750000,0,0,,0,0,\n"));
    free(text);
    /* C1: 3 impressions at 0.10 + clicks 1.50 (c01), 2.00 (c05), 0.75 (c02) */
    text = slurp(dir, "cac.csv");
    assert_non_null(strstr(text, "\nsponsored,campaign,C1,4.55,3,1.516667\n"));
    free(text);
    /* 34 orders up to as-of (c14's third is after it), negative: c01's 2 and c05's 1 */
    text = slurp(dir, "feedback.csv");
    assert_non_null(strstr(text, "\naccount,,34,4,2,0.058824\n"));
    free(text);
    text = slurp(dir, "clv_model.json");
    assert_non_null(strstr(text, "\"fitted\": true"));
    assert_true(json_number(text, "{", "customers_fitted") == 14);
    assert_true(json_number(text, "{", "repeat_customers") == 11);
    assert_non_null(strstr(text, "\"gamma_gamma\": {"));
    free(text);
}

/* add() of two partitions (disjoint identities), then emit(), writes the
 * same bytes as the whole run through cp_customers_write: the ranks,
 * segments, Pareto, cohorts, the CLV fit, feedback and cac are over every
 * customer of both parts. */
static void partial_two_partitions_merge_exactly(void **state) {
    (void)state;
    char whole_dir[] = "/tmp/cp_customers_XXXXXX", parts_dir[] = "/tmp/cp_customers_XXXXXX";
    cp_report_options wopt, popt;
    cp_summary *wsum = whole_run(whole_dir, &wopt);
    merge_opt(&popt, parts_dir);
    cp_customers_acc *acc = cp_customers_acc_new(&popt);
    assert_non_null(acc);
    cp_error err = {0};
    for (int odd = 1; odd >= 0; odd--) {
        char *text = merge_part(odd);
        staged part;
        staged_load(&part, text, &popt);
        assert_int_equal(cp_customers_acc_add(acc, &part.ctx, &err), CP_OK);
        staged_free(&part); /* the accumulator keeps nothing of the partition */
        free(text);
    }
    emit_and_check(acc, parts_dir, whole_dir, wsum);
    cp_summary_free(wsum);
    cp_test_remove_dir(whole_dir);
    cp_test_remove_dir(parts_dir);
}

/* The parts reported on separately and combined: (1) merge(B into A);
 * (2) B saved, loaded and merged into A; (3) a fresh accumulator that never
 * had an add() given A then B, and one loaded from the save of a fresh one
 * given B then A (either order).  Each emits exactly the whole run, and the
 * parts are unchanged by being merged from (B is merged twice). */
static void partial_accumulators_combine_exactly(void **state) {
    (void)state;
    char whole_dir[] = "/tmp/cp_customers_XXXXXX";
    char dirs[4][sizeof "/tmp/cp_customers_XXXXXX"];
    cp_report_options wopt, popt[4];
    cp_summary *wsum = whole_run(whole_dir, &wopt);
    for (int k = 0; k < 4; k++) {
        snprintf(dirs[k], sizeof dirs[k], "/tmp/cp_customers_XXXXXX");
        merge_opt(&popt[k], dirs[k]);
    }
    cp_error err = {0};

    /* (1) */
    cp_customers_acc *a = acc_of_part(&popt[0], 1), *b = acc_of_part(&popt[0], 0);
    assert_int_equal(cp_customers_acc_merge(a, b, &err), CP_OK);
    emit_and_check(a, dirs[0], whole_dir, wsum);

    /* (2): b (already merged from once) through bytes */
    a = acc_of_part(&popt[1], 1);
    cp_customers_acc *bl = save_load(b, &popt[1]);
    assert_int_equal(cp_customers_acc_merge(a, bl, &err), CP_OK);
    cp_customers_acc_free(bl);
    emit_and_check(a, dirs[1], whole_dir, wsum);
    cp_customers_acc_free(b);

    /* (3) a fresh accumulator */
    a = acc_of_part(&popt[2], 1);
    b = acc_of_part(&popt[2], 0);
    cp_customers_acc *e = cp_customers_acc_new(&popt[2]);
    assert_non_null(e);
    assert_int_equal(cp_customers_acc_merge(e, a, &err), CP_OK);
    assert_int_equal(cp_customers_acc_merge(e, b, &err), CP_OK);
    emit_and_check(e, dirs[2], whole_dir, wsum);

    /* ... and a loaded one that had no add(), B first */
    cp_customers_acc *fresh = cp_customers_acc_new(&popt[3]);
    assert_non_null(fresh);
    e = save_load(fresh, &popt[3]);
    cp_customers_acc_free(fresh);
    assert_int_equal(cp_customers_acc_merge(e, b, &err), CP_OK);
    assert_int_equal(cp_customers_acc_merge(e, a, &err), CP_OK);
    /* a customer on both sides: refused, nothing changed */
    err = (cp_error){0};
    assert_int_equal(cp_customers_acc_merge(e, b, &err), CP_EUSAGE);
    assert_non_null(strstr(err.msg, "in both accumulators"));
    cp_customers_acc_free(a);
    cp_customers_acc_free(b);
    emit_and_check(e, dirs[3], whole_dir, wsum);

    cp_summary_free(wsum);
    cp_test_remove_dir(whole_dir);
    for (int k = 0; k < 4; k++) cp_test_remove_dir(dirs[k]);
}

/* (4) load() of a damaged save fails cleanly: every truncation (CP_EFORMAT
 * within the customers' own part, some failure in feedback's and cac's
 * parts after it), a wrong tag, a customer's figures out of order, and a
 * count of customers beyond the bytes. */
static void partial_load_of_damaged_state_fails(void **state) {
    (void)state;
    char dir[] = "/tmp/cp_customers_XXXXXX";
    cp_report_options opt;
    merge_opt(&opt, dir);
    cp_customers_acc *a = acc_of_part(&opt, 1);
    cp_bytes b = {0};
    cp_customers_acc_save(a, &b);
    assert_false(b.oom);
    /* 4 tag + 4 version + 1 + 8 + 8 + 4 + 8 count; then per customer a
     * 4-byte length, "c01" and 133 bytes of figures */
    const size_t head = 37, one = 4 + 3 + 4 + 8 * 10 + 4 + 4 + 8 + 8 + 4, own = head + 7 * one;
    assert_true(b.n > own);
    for (size_t len = 0; len < b.n; len++) {
        cp_bytes_reader r = cp_bytes_reader_of(b.p, len);
        cp_error err = {0};
        assert_null(cp_customers_acc_load(&opt, &r, &err));
        assert_int_not_equal(err.code, CP_OK);
        assert_true(err.msg[0] != 0);
        if (len < own) assert_int_equal(err.code, CP_EFORMAT);
    }
    uint8_t *copy = malloc(b.n);
    assert_non_null(copy);
    /* tag */
    memcpy(copy, b.p, b.n);
    copy[0] ^= 1;
    cp_bytes_reader r = cp_bytes_reader_of(copy, b.n);
    cp_error err = {0};
    assert_null(cp_customers_acc_load(&opt, &r, &err));
    assert_int_equal(err.code, CP_EFORMAT);
    /* the first customer's last purchase (after id and first_row, first_ts)
     * set before its first */
    memcpy(copy, b.p, b.n);
    memset(copy + head + 4 + 3 + 4 + 8, 0, 8);
    r = cp_bytes_reader_of(copy, b.n);
    assert_null(cp_customers_acc_load(&opt, &r, &err));
    assert_int_equal(err.code, CP_EFORMAT);
    assert_non_null(strstr(err.msg, "figures"));
    /* the count of customers */
    memcpy(copy, b.p, b.n);
    copy[head - 1] = 0x7f;
    r = cp_bytes_reader_of(copy, b.n);
    assert_null(cp_customers_acc_load(&opt, &r, &err));
    assert_int_equal(err.code, CP_EFORMAT);
    /* any one byte of the header or the first customer flipped: refused,
     * or loaded into something emit() takes (ASan/UBSan-clean either way) */
    for (size_t k = 0; k < head + one; k++) {
        memcpy(copy, b.p, b.n);
        copy[k] ^= 0xff;
        r = cp_bytes_reader_of(copy, b.n);
        cp_customers_acc *l = cp_customers_acc_load(&opt, &r, &err);
        if (!l) {
            assert_int_not_equal(err.code, CP_OK);
            continue;
        }
        cp_summary *sum = cp_summary_new();
        (void)cp_customers_acc_emit(l, sum, &err);
        cp_summary_free(sum);
        cp_customers_acc_free(l);
    }
    /* and the undamaged bytes load */
    r = cp_bytes_reader_of(b.p, b.n);
    cp_customers_acc *l = cp_customers_acc_load(&opt, &r, &err);
    assert_non_null(l);
    assert_int_equal(r.at, b.n);
    cp_customers_acc_free(l);
    free(copy);
    cp_bytes_free(&b);
    cp_customers_acc_free(a);
    cp_test_remove_dir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r10_2_high_value_at_exact_thresholds),
        cmocka_unit_test(r10_2_churn_risk_is_more_than_60_days),
        cmocka_unit_test(r10_2_any_event_counts_as_activity),
        cmocka_unit_test(r10_1_rfm_ties_broken_by_identity_bytes),
        cmocka_unit_test(r10_1_rfm_scores_rank_ascending),
        cmocka_unit_test(r10_1_return_rate_net_revenue_and_aov),
        cmocka_unit_test(r10_1_orders_90d_window_is_inclusive),
        cmocka_unit_test(r10_3_cohort_eligible_and_retained_at_exactly_30_days),
        cmocka_unit_test(r10_3_cohort_month_in_report_tz),
        cmocka_unit_test(r10_6_latest_feedback_decides),
        cmocka_unit_test(r10_4_cac_per_campaign_and_channel),
        cmocka_unit_test(r10_5_cdnow_through_the_column_mapping),
        cmocka_unit_test(r10_1_online_retail_returns_match_independent_totals),
        cmocka_unit_test(partial_two_partitions_merge_exactly),
        cmocka_unit_test(partial_accumulators_combine_exactly),
        cmocka_unit_test(partial_load_of_damaged_state_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

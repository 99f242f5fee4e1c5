/* report.h -- the report stages and what they hand each other (SPEC R3-R10).
 *
 * Stages run in this order on one finished run (cp_run_finish()):
 *
 *   cp_quality_build      R3    click/impression validity, click_id links
 *   cp_sessions_build     R4    sessions, page-view sources
 *   cp_ads_build          R6    sponsored 7-day last-click credits
 *   cp_attribution_build  R7    off-site 14-day last-touch credits
 *   cp_customers_build    R10   customers, segments, cohorts, CAC, CLV
 *
 * Stages talk only through the columns of cp_report_ctx: each fills its own
 * part and reads the parts of the stages before it.  Every array is allocated
 * by the stage that fills it and freed by cp_report_ctx_free().  Writers
 * (cp_*_write) write one or more report files into opt->out_dir in
 * opt->format, and add their headline figures to the summary (cp_summary).
 */
#ifndef CLICKPATH_REPORT_H
#define CLICKPATH_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "clickpath/events.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cp_format { CP_FORMAT_CSV = 0, CP_FORMAT_JSON = 1 } cp_format;

typedef enum cp_session_rule { CP_SESSION_FIXED = 0, CP_SESSION_IDLE = 1 } cp_session_rule;

typedef struct cp_tz cp_tz; /* a time zone from the system's tzdata (values.h) */

/* Options of `clickpath report`, with SPEC's defaults set by
 * cp_report_options_init(). */
typedef struct cp_report_options {
    const char *out_dir;
    cp_format format;
    const cp_tz *tz;           /* --tz, report days (R4.4); never NULL after init */
    cp_session_rule session_rule; /* --session fixed:24h | idle:30m (R4.2) */
    int64_t session_ms;
    const char *bot_list_path; /* --bot-list FILE (R3.1.1); NULL = built-in */
    const char *ip_blocklist_path; /* --ip-blocklist FILE (R3.1.2) */
    uint32_t flood_clicks;     /* --flood-clicks, default 10 (R3.1.3) */
    int64_t flood_window_ms;   /* --flood-window, default 1h */
    int64_t dedup_window_ms;   /* --dedup-window, default 72h (R3.1.4) */
    int64_t ads_window_ms;     /* --ads-window, default 7d (R6.1) */
    int64_t offsite_window_ms; /* --offsite-window, default 14d (R7.1) */
    const char *tags_path;     /* --tags FILE: the R5.1 registry */
    bool has_as_of;            /* --as-of given */
    int64_t as_of_ms;          /* resolved as-of (R10.1) */
    /* R10.2 thresholds */
    uint32_t hv_orders;        /* 2 */
    int64_t hv_days;           /* 90 */
    int64_t hv_clv_micros;     /* 150 */
    double hv_max_return;      /* 0.05 */
    int64_t churn_days;        /* 60 */
    /* R10.5 */
    bool clv;                  /* fit the model (on unless --no-clv) */
    bool clv_week;             /* --clv-unit week */
    bool has_calibration_end;
    int64_t calibration_end_ms;
    int64_t clv_horizon_ms;    /* --clv-horizon, default 365d */
    double discount_rate;      /* --discount-rate per year, 0 = none */
    bool quiet;
    /* issue 8: report.html and report.xlsx (src/report/present.h) */
    const char *asset_dir;     /* what web/build.sh built (<dir of the executable>/web);
                                * NULL or missing: report.html has tables only */
    double target_acos;        /* --target-acos, default 0.25: ads above it are highlighted */
    bool xlsx;                 /* --format xlsx: report.xlsx as well as the CSVs */
} cp_report_options;

void cp_report_options_init(cp_report_options *opt);

/* R3.1 click/impression status, in R3.1's order. */
typedef enum cp_click_status {
    CP_CLICK_VALID = 0,
    CP_CLICK_BOT = 1,
    CP_CLICK_BLOCKED_IP = 2,
    CP_CLICK_FLOOD = 3,
    CP_CLICK_DUPLICATE = 4,
    CP_N_CLICK_STATUS = 5
} cp_click_status;

const char *cp_click_status_name(cp_click_status s); /* "bot", ... */

/* Page-view / session source (R4.3). */
typedef enum cp_source {
    CP_SRC_SPONSORED = 0,
    CP_SRC_EXTERNAL = 1,
    CP_SRC_ORGANIC = 2,
    CP_N_SOURCES = 3
} cp_source;

typedef struct cp_session {
    cp_str identity;
    uint32_t first_pv;  /* event row of its first page view */
    uint32_t n_page_views;
    uint8_t source;     /* cp_source */
} cp_session;

/* Impressions are most rows (some 96% of real and generated logs) and, but
 * for status, no stage column below has a value for one, so those columns
 * ("per sub row") hold one entry per non-impression row, at the row's rank
 * (the sub rows of the store, cp_events.sub in clickpath/events.h): 23
 * bytes an event become 1 byte (status) plus 22 bytes a non-impression row. */

typedef struct cp_report_ctx {
    const cp_run *run;
    const cp_events *ev;
    const cp_strings *str;
    const uint32_t *by_identity;
    const cp_report_options *opt;
    int64_t as_of_ms;
    unsigned threads;      /* threads a stage may use: the run's --threads
                            * (0 = all cores) resolved by cp_report_ctx_init();
                            * 0 in a context filled by hand means 1.  Results
                            * are the same for any value. */

    /* The columns below but status are per sub row: the entry of
     * non-impression row i is col[cp_report_rank(ctx, i)] (a loop over
     * cp_rows_not(type, n, CP_IMPRESSION) has it as r.k, util/rowmask.h);
     * an impression has none.  What they hold are row numbers, as before:
     * only where the entry lies changes. */

    /* cp_quality_build (R3, R4.3 links) */
    uint8_t *status;       /* per event (the one dense column): cp_click_status
                            * for clicks and impressions (bot/blocked_ip
                            * only), 0 otherwise */
    uint32_t *click_of;    /* per sub row carrying a click_id: row of the
                            * first click carrying that id (R4.3), else
                            * CP_NONE.  Read for clicks and page views. */
    uint32_t *landing_pv;  /* per sub row, set on clicks: its landing page
                            * view (first loaded page view carrying its id),
                            * else CP_NONE */
    bool ua_rule_on;       /* R3.1.1 empty-UA part active */

    /* cp_sessions_build (R4) */
    uint32_t *session_of;  /* per sub row: session index of a loaded page view, else CP_NONE */
    uint8_t *pv_source;    /* per sub row: cp_source of a page view */
    cp_session *sessions; uint32_t n_sessions;

    /* cp_ads_build (R6) */
    uint32_t *ad_credit;   /* per sub row, set on purchases: credited
                            * sponsored click row, else CP_NONE */
    bool *ad_same_asin;    /* per sub row, set on purchases: credit is
                            * "advertised" (same ASIN) */

    /* cp_attribution_build (R7) */
    uint32_t *offsite_credit; /* per sub row, set on page views, add_to_cart
                               * and purchases: credited off-site click row,
                               * else CP_NONE */
} cp_report_ctx;

/* The rank of row `row`, which must not be an impression: its index in the
 * per-sub-row columns of ctx. */
static inline uint32_t cp_report_rank(const cp_report_ctx *ctx, size_t row) {
    return cp_sub_rank(ctx->ev->sub.block, row);
}

/* Prepares a context over a finished run: resolves as-of (R10.1).  The
 * stages index their per-sub-row columns through the store's ranks
 * (ev->sub, cp_report_rank). */
cp_result cp_report_ctx_init(cp_report_ctx *ctx, const cp_run *run,
                             const cp_report_options *opt, cp_error *err);
void cp_report_ctx_free(cp_report_ctx *ctx);

typedef struct cp_summary cp_summary; /* summary.json + human summary */

/* Stages.  Each returns CP_OK or fills *err. */
cp_result cp_quality_build(cp_report_ctx *ctx, cp_error *err);
cp_result cp_sessions_build(cp_report_ctx *ctx, cp_error *err);
cp_result cp_ads_build(cp_report_ctx *ctx, cp_error *err);
cp_result cp_attribution_build(cp_report_ctx *ctx, cp_error *err);

/* Writers: each writes its files into opt->out_dir and adds its headline
 * figures (a JSON object under its own key) and human lines to `sum`. */
cp_result cp_quality_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err);     /* invalid_clicks */
cp_result cp_business_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err);    /* business_asin, business_daily */
cp_result cp_diagnostics_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err); /* diagnostics (R9) */
cp_result cp_ads_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err);         /* ads (R6) */
cp_result cp_attribution_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err); /* attribution (R7) */
cp_result cp_customers_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err);   /* customers, segments,
                                                    pareto, cohorts, cohorts_histogram, feedback, cac,
                                                    clv_model.json (R10) */

/* The whole pipeline: every stage and writer above, then rejects.csv and
 * summary.json.  Used by `clickpath report` and `clickpath demo`.  Runs on
 * the run's --threads threads (stages side by side as their inputs are
 * ready); every file and `sum` are byte for byte the same for any count, and
 * an error is the one a one-thread run reports. */
cp_result cp_report_all(const cp_run *run, const cp_report_options *opt,
                        cp_summary *sum, cp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CLICKPATH_REPORT_H */

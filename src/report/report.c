/* report.c -- the report pipeline: options with SPEC's defaults, the context
 * every stage shares, and cp_report_all(), which runs the stages (R3, R4, R6,
 * R7, R10) and writers in order and then rejects.csv (R1.4b) and
 * summary.json (R8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "ingest/run.h"
#include "report/present.h"
#include "report/table.h"
#include "util/values.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)

void cp_report_options_init(cp_report_options *opt) {
    static cp_tz *utc; /* the UTC zone is stateless; one shared instance */
    memset(opt, 0, sizeof *opt);
    if (!utc) utc = cp_tz_open(NULL);
    opt->tz = utc;
    opt->format = CP_FORMAT_CSV;
    opt->session_rule = CP_SESSION_FIXED; /* R4.2 */
    opt->session_ms = 24 * HOUR_MS;
    opt->flood_clicks = 10;               /* R3.1.3 */
    opt->flood_window_ms = HOUR_MS;
    opt->dedup_window_ms = 72 * HOUR_MS;  /* R3.1.4 */
    opt->ads_window_ms = 7 * DAY_MS;      /* R6.1 */
    opt->offsite_window_ms = 14 * DAY_MS; /* R7.1 */
    opt->hv_orders = 2;                   /* R10.2 */
    opt->hv_days = 90;
    opt->hv_clv_micros = INT64_C(150000000);
    opt->hv_max_return = 0.05;
    opt->churn_days = 60;
    opt->clv = true;                      /* R10.5 */
    opt->clv_horizon_ms = 365 * DAY_MS;
    opt->target_acos = 0.25;              /* issue 8 */
}

static const char *const status_names[CP_N_CLICK_STATUS] = {"valid", "bot", "blocked_ip", "flood", "duplicate"};

const char *cp_click_status_name(cp_click_status s) {
    return (unsigned)s < CP_N_CLICK_STATUS ? status_names[s] : "unknown";
}

cp_result cp_report_ctx_init(cp_report_ctx *ctx, const cp_run *run, const cp_report_options *opt,
                             cp_error *err) {
    (void)err;
    memset(ctx, 0, sizeof *ctx);
    ctx->run = run;
    ctx->ev = cp_run_events(run);
    ctx->str = cp_run_strings(run);
    ctx->by_identity = cp_run_by_identity(run);
    ctx->opt = opt;
    /* R10.1: --as-of, else the latest accepted event time */
    if (opt->has_as_of) ctx->as_of_ms = opt->as_of_ms;
    else ctx->as_of_ms = ctx->ev->n ? ctx->ev->ts_ms[ctx->ev->n - 1] : 0;
    return CP_OK;
}

void cp_report_ctx_free(cp_report_ctx *ctx) {
    free(ctx->status);
    free(ctx->click_of);
    free(ctx->landing_pv);
    free(ctx->session_of);
    free(ctx->pv_source);
    free(ctx->sessions);
    free(ctx->ad_credit);
    free(ctx->ad_same_asin);
    free(ctx->offsite_credit);
    memset(ctx, 0, sizeof *ctx);
}

/* The input part of summary.json (R8), also printed by
 * `clickpath validate --format json`. */
void cp_summary_inputs(const cp_run *run, cp_summary *sum);
void cp_summary_inputs(const cp_run *run, cp_summary *sum) {
    size_t n;
    const cp_input_stats *in = cp_run_inputs(run, &n);
    cp_summary_begin_array(sum, "inputs");
    for (size_t i = 0; i < n; i++) {
        cp_summary_begin(sum, NULL);
        cp_summary_str(sum, "file", in[i].path);
        cp_summary_int(sum, "lines", (int64_t)in[i].lines);
        cp_summary_int(sum, "accepted", (int64_t)in[i].accepted);
        cp_summary_int(sum, "rejected", (int64_t)in[i].rejected);
        cp_summary_int(sum, "blank_lines", (int64_t)in[i].blank_lines);
        cp_summary_end(sum);
    }
    cp_summary_end(sum);
    uint64_t acc = cp_run_accepted(run), rej = cp_run_rejected(run);
    cp_summary_int(sum, "accepted", (int64_t)acc);
    cp_summary_int(sum, "rejected", (int64_t)rej);
    uint64_t by[CP_N_REJECT_REASONS];
    cp_run_rejects_by_reason(run, by);
    cp_summary_begin(sum, "rejects_by_reason");
    for (int r = 0; r < CP_N_REJECT_REASONS; r++)
        if (by[r]) cp_summary_int(sum, cp_reject_reason_name((cp_reject_reason)r), (int64_t)by[r]);
    cp_summary_end(sum);
    cp_summary_ratio(sum, "reject_rate", (int64_t)rej, (int64_t)(acc + rej));
}

/* rejects.csv (R1.4b): file, line, reason, field, text; in input order. */
static cp_result write_rejects(const cp_run *run, const cp_report_options *opt, cp_error *err) {
    static const char *const cols[] = {"file", "line", "reason", "field", "text"};
    cp_table *t = cp_table_open(opt->out_dir, "rejects", opt->format, cols, 5, err);
    if (!t) return err ? err->code : CP_EIO;
    size_t n, n_in;
    const cp_reject *r = cp_run_rejects(run, &n);
    const cp_input_stats *in = cp_run_inputs(run, &n_in);
    for (size_t i = 0; i < n; i++) {
        cp_table_cstr(t, in[r[i].file].path);
        cp_table_int(t, (int64_t)r[i].line);
        cp_table_cstr(t, cp_reject_reason_name((cp_reject_reason)r[i].reason));
        cp_table_cstr(t, r[i].field);
        cp_table_cstr(t, r[i].text);
        cp_table_end_row(t);
    }
    return cp_table_close(t, err);
}

cp_result cp_report_all(const cp_run *run, const cp_report_options *opt, cp_summary *sum, cp_error *err) {
    cp_result r = cp_mkdir_p(opt->out_dir, err);
    if (r) return r;
    cp_summary_inputs(run, sum);
    cp_report_ctx ctx;
    if ((r = cp_report_ctx_init(&ctx, run, opt, err))) return r;
    {
        char b[48];
        cp_fmt_ts(b, ctx.as_of_ms);
        cp_summary_str(sum, "as_of", b);
        cp_summary_str(sum, "tz", cp_tz_name(opt->tz));
    }
    if (!r) r = cp_quality_build(&ctx, err);
    if (!r) r = cp_sessions_build(&ctx, err);
    if (!r) r = cp_ads_build(&ctx, err);
    if (!r) r = cp_attribution_build(&ctx, err);
    if (!r) r = cp_quality_write(&ctx, sum, err);
    if (!r) r = cp_business_write(&ctx, sum, err);
    if (!r) r = cp_diagnostics_write(&ctx, sum, err);
    if (!r) r = cp_ads_write(&ctx, sum, err);
    if (!r) r = cp_attribution_write(&ctx, sum, err);
    if (!r) r = cp_customers_write(&ctx, sum, err);
    if (!r) r = write_rejects(run, opt, err);
    if (!r) {
        char path[4096];
        snprintf(path, sizeof path, "%s/summary.json", opt->out_dir);
        r = cp_summary_write(sum, path, err);
    }
    /* issue 8: built from the CSVs just written (present.h) */
    if (!r && opt->xlsx) r = cp_xlsx_write(opt->out_dir, err);
    if (!r && opt->format == CP_FORMAT_CSV) r = cp_html_write(opt->out_dir, opt->asset_dir, opt->target_acos, err);
    cp_report_ctx_free(&ctx);
    return r;
}

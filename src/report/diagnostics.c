/* diagnostics.c -- why the reports differ (SPEC R9.1): diagnostics.csv and the
 * "diagnostics" summary.
 *
 * Per click scope (sponsored, external), every valid click falls in exactly
 * one of three bins by its landing page view L (R4.3; for a click that
 * shares its click_id with an earlier click, the earlier click's landing):
 *   L missing                              bounced_clicks (R3.4)
 *   L is the first page view of a session  sessions_started_by_click
 *   otherwise                              clicks_in_open_session
 * so valid_clicks = the three, always (decomposition_exact).  A bounce is
 * "unloaded_page_view" when an unloaded page view carries the click's id,
 * else "no_page_view".  Sessions of the scope's source split by their first
 * page view's click: a valid click whose landing it is, an invalid click, or
 * a valid click whose landing is another page view (repeat landing).
 *
 * cp_diagnostics_write is the accumulator of report/partial.h over one
 * partition: add() sums a partition's counts, emit() writes the file;
 * merge() adds another accumulator's counts, save()/load() carry them
 * between processes.
 *
 * Rows come in R9.1's order (scope sponsored, external, account; metrics as
 * R9.1 lists them), not alphabetically: the file reads as an explanation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "quality/quality.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/rowmask.h"
#include "util/values.h"

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the diagnostics report");
    }
    return CP_ENOMEM;
}

typedef struct scope_figs {
    int64_t valid_clicks, started, bounced, in_open, bounced_unloaded, bounced_none;
    int64_t sessions, from_landing, from_invalid, from_repeat;
    int64_t invalid[CP_N_CLICK_STATUS];
    int64_t page_views;
} scope_figs;

static void row_int(cp_table *t, const char *scope, const char *metric, int64_t v,
                    const char *note) {
    cp_table_cstr(t, scope);
    cp_table_cstr(t, metric);
    cp_table_int(t, v);
    cp_table_cstr(t, note && *note ? note : NULL);
    cp_table_end_row(t);
}

/* A ratio > 1.5, decided exactly: num / den > 3 / 2. */
static bool above_1_5(int64_t num, int64_t den) {
    return den > 0 && 2 * num > 3 * den;
}

static void write_scope(cp_table *t, const char *scope, const char *label,
                        const scope_figs *f, cp_summary *sum) {
    char note[512], r[48];
    int64_t invalid = 0;
    for (int s = CP_CLICK_BOT; s < CP_N_CLICK_STATUS; s++) invalid += f->invalid[s];
    bool exact = f->valid_clicks == f->started + f->bounced + f->in_open;

    snprintf(note, sizeof note,
             "%lld valid %s clicks = %lld that started a session + %lld bounced + %lld that "
             "landed in an open session",
             (long long)f->valid_clicks, label, (long long)f->started, (long long)f->bounced,
             (long long)f->in_open);
    row_int(t, scope, "valid_clicks", f->valid_clicks, note);
    snprintf(note, sizeof note, "valid %s clicks whose landing page view starts a session", label);
    row_int(t, scope, "sessions_started_by_click", f->started, note);
    snprintf(note, sizeof note, "valid %s clicks that no loaded page view carries (R3.4): "
             "charged, but no page view and no session", label);
    row_int(t, scope, "bounced_clicks", f->bounced, note);
    snprintf(note, sizeof note, "valid %s clicks whose landing page view falls inside a session "
             "started earlier: a click but no new session", label);
    row_int(t, scope, "clicks_in_open_session", f->in_open, note);
    cp_table_cstr(t, scope);
    cp_table_cstr(t, "decomposition_exact");
    cp_table_bool(t, exact);
    snprintf(note, sizeof note, "%lld = %lld + %lld + %lld", (long long)f->valid_clicks,
             (long long)f->started, (long long)f->bounced, (long long)f->in_open);
    cp_table_cstr(t, note);
    cp_table_end_row(t);
    row_int(t, scope, "bounced_clicks_unloaded_page_view", f->bounced_unloaded,
            "bounced clicks whose page view never finished loading");
    row_int(t, scope, "bounced_clicks_no_page_view", f->bounced_none,
            "bounced clicks with no page view at all");
    snprintf(note, sizeof note,
             "%lld %s sessions = %lld from a valid click's landing + %lld from an invalid click "
             "+ %lld from a repeat landing",
             (long long)f->sessions, label, (long long)f->from_landing,
             (long long)f->from_invalid, (long long)f->from_repeat);
    row_int(t, scope, "sessions", f->sessions, note);
    row_int(t, scope, "sessions_from_valid_click_landing", f->from_landing,
            "sessions whose first page view is a valid click's landing page view");
    row_int(t, scope, "sessions_from_invalid_click", f->from_invalid,
            "sessions whose first page view carries an invalid click's id: a session the "
            "ads console does not count as a click");
    row_int(t, scope, "sessions_from_repeat_landing", f->from_repeat,
            "sessions whose first page view carries a valid click's id but is not its landing "
            "page view (the shopper came back through the same link)");
    snprintf(note, sizeof note, "%lld invalid %s clicks: not charged, no session counted against them",
             (long long)invalid, label);
    row_int(t, scope, "invalid_clicks", invalid, note);
    for (int s = CP_CLICK_BOT; s < CP_N_CLICK_STATUS; s++) {
        char metric[64];
        snprintf(metric, sizeof metric, "invalid_clicks_%s", cp_click_status_name((cp_click_status)s));
        row_int(t, scope, metric, f->invalid[s], NULL);
    }
    row_int(t, scope, "page_views", f->page_views, NULL);

    cp_fmt_ratio(r, f->valid_clicks, f->page_views);
    if (above_1_5(f->valid_clicks, f->page_views))
        snprintf(note, sizeof note,
                 "FLAG %s valid %s clicks per page view (%lld clicks / %lld page views) is above "
                 "1.5: shoppers leave before the page loads",
                 r, label, (long long)f->valid_clicks, (long long)f->page_views);
    else if (f->page_views == 0)
        snprintf(note, sizeof note, "no %s page views", label);
    else
        snprintf(note, sizeof note, "%s valid %s clicks per page view (%lld / %lld)", r, label,
                 (long long)f->valid_clicks, (long long)f->page_views);
    cp_table_cstr(t, scope);
    cp_table_cstr(t, "clicks_per_page_view");
    cp_table_ratio(t, f->valid_clicks, f->page_views);
    cp_table_cstr(t, note);
    cp_table_end_row(t);

    cp_summary_begin(sum, scope);
    cp_summary_int(sum, "valid_clicks", f->valid_clicks);
    cp_summary_int(sum, "sessions_started_by_click", f->started);
    cp_summary_int(sum, "bounced_clicks", f->bounced);
    cp_summary_int(sum, "clicks_in_open_session", f->in_open);
    cp_summary_bool(sum, "decomposition_exact", exact);
    cp_summary_int(sum, "sessions", f->sessions);
    cp_summary_int(sum, "invalid_clicks", invalid);
    cp_summary_int(sum, "page_views", f->page_views);
    cp_summary_ratio(sum, "clicks_per_page_view", f->valid_clicks, f->page_views);
    cp_summary_end(sum);
}

/* ---- accumulator (report/partial.h) ----------------------------------------
 * Every figure is a count, so a partition's figures add: sessions, clicks
 * and page views each belong to one partition (a click and every event
 * carrying its id are in the same component). */
struct cp_diagnostics_acc {
    const cp_report_options *opt;
    scope_figs f[2];
    int64_t sessions, pv_total, unloaded;
};

cp_diagnostics_acc *cp_diagnostics_acc_new(const cp_report_options *opt) {
    cp_diagnostics_acc *a = calloc(1, sizeof *a);
    if (a) a->opt = opt;
    return a;
}

void cp_diagnostics_acc_free(cp_diagnostics_acc *a) { free(a); }

cp_result cp_diagnostics_acc_add(cp_diagnostics_acc *a, cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n;
    /* Per sub row (report.h), set on clicks: an unloaded page view carries
     * its id (bounce kind). */
    uint8_t *unloaded_of = calloc(ctx->ev->sub.n ? ctx->ev->sub.n : 1, 1);
    if (!unloaded_of) return oom(err);
    scope_figs *f = a->f;
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PAGE_VIEW); cp_rows_next(&r);) {
        size_t i = r.i;
        uint32_t k = cp_report_rank(ctx, i);
        if (!(ev->flags[i] & CP_EV_LOADED)) {
            a->unloaded++;
            if (ctx->click_of[k] != CP_NONE) unloaded_of[cp_report_rank(ctx, ctx->click_of[k])] = 1;
            continue;
        }
        a->pv_total++;
        uint8_t src = ctx->pv_source[k];
        if (src < 2) f[src].page_views++;
    }
    for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
        size_t i = r.i;
        scope_figs *g = &f[ev->placement[i] != CP_NONE ? CP_SRC_SPONSORED : CP_SRC_EXTERNAL];
        uint8_t st = ctx->status[i];
        if (st != CP_CLICK_VALID) { g->invalid[st]++; continue; }
        g->valid_clicks++;
        uint32_t lp = cp_quality_landing(ctx, (uint32_t)i);
        if (lp == CP_NONE) {
            g->bounced++;
            uint32_t first = ctx->click_of[cp_report_rank(ctx, i)];
            if (first != CP_NONE && unloaded_of[cp_report_rank(ctx, first)]) g->bounced_unloaded++;
            else g->bounced_none++;
        } else if (ctx->sessions[ctx->session_of[cp_report_rank(ctx, lp)]].first_pv == lp) {
            g->started++;
        } else {
            g->in_open++;
        }
    }
    free(unloaded_of);
    a->sessions += ctx->n_sessions;
    for (uint32_t s = 0; s < ctx->n_sessions; s++) {
        const cp_session *se = &ctx->sessions[s];
        if (se->source >= 2) continue;
        scope_figs *g = &f[se->source];
        g->sessions++;
        uint32_t c = ctx->click_of[cp_report_rank(ctx, se->first_pv)];
        if (c == CP_NONE) continue; /* cannot happen: the source came from a click */
        if (ctx->status[c] != CP_CLICK_VALID) g->from_invalid++;
        else if (ctx->landing_pv[cp_report_rank(ctx, c)] == se->first_pv) g->from_landing++;
        else g->from_repeat++;
    }
    return CP_OK;
}

cp_result cp_diagnostics_acc_emit(cp_diagnostics_acc *a, cp_summary *sum, cp_error *err) {
    static const char *const cols[] = {"scope", "metric", "value", "note"};
    const scope_figs *f = a->f;
    int64_t pv_total = a->pv_total, unloaded = a->unloaded, ns = a->sessions;

    cp_table *t = cp_table_open(a->opt->out_dir, "diagnostics", a->opt->format, cols,
                                sizeof cols / sizeof cols[0], err);
    if (!t) return err ? err->code : CP_EIO;
    cp_summary_begin(sum, "diagnostics");
    write_scope(t, "sponsored", "sponsored", &f[CP_SRC_SPONSORED], sum);
    write_scope(t, "external", "off-site", &f[CP_SRC_EXTERNAL], sum);

    char note[512], r[48];
    snprintf(note, sizeof note, "%lld sessions = %lld sponsored + %lld external + %lld organic",
             (long long)ns, (long long)f[0].sessions, (long long)f[1].sessions,
             (long long)(ns - f[0].sessions - f[1].sessions));
    row_int(t, "account", "sessions", ns, note);
    row_int(t, "account", "page_views", pv_total, "loaded page views (R4.1)");
    row_int(t, "account", "unloaded_page_views", unloaded,
            "page views that never finished loading: in no session and no page-view count");
    cp_fmt_ratio(r, pv_total, ns);
    bool flag = above_1_5(pv_total, ns);
    if (flag)
        snprintf(note, sizeof note,
                 "FLAG %s page views per session (%lld page views / %lld sessions) is above 1.5: "
                 "shoppers return to compare before buying",
                 r, (long long)pv_total, (long long)ns);
    else if (ns == 0)
        snprintf(note, sizeof note, "no sessions");
    else
        snprintf(note, sizeof note, "%s page views per session (%lld / %lld)", r,
                 (long long)pv_total, (long long)ns);
    cp_table_cstr(t, "account");
    cp_table_cstr(t, "page_views_per_session");
    cp_table_ratio(t, pv_total, ns);
    cp_table_cstr(t, note);
    cp_table_end_row(t);

    cp_summary_begin(sum, "account");
    cp_summary_int(sum, "sessions", ns);
    cp_summary_int(sum, "page_views", pv_total);
    cp_summary_int(sum, "unloaded_page_views", unloaded);
    cp_summary_ratio(sum, "page_views_per_session", pv_total, ns);
    cp_summary_end(sum);
    cp_summary_end(sum);

    bool exact = f[0].valid_clicks == f[0].started + f[0].bounced + f[0].in_open &&
                 f[1].valid_clicks == f[1].started + f[1].bounced + f[1].in_open;
    cp_summary_human(sum, "clicks vs sessions: (diagnostics.csv) sponsored %lld valid "
                          "clicks = %lld new sessions + %lld bounced + %lld in open sessions%s",
                     (long long)f[0].valid_clicks, (long long)f[0].started,
                     (long long)f[0].bounced, (long long)f[0].in_open,
                     exact ? "" : " (decomposition NOT exact)");
    return cp_table_close(t, err);
}

/* ---- merge, save, load (report/partial.h) ---------------------------------
 * The state is counts only: merge adds them, save writes them after a tag.
 * A count is at most DIAG_MAX, so emit's 2 * num, 3 * den and sums of a few
 * counts stay exact in int64: load rejects anything outside [0, DIAG_MAX],
 * merge a sum above it (no run has 2^56 events). */

#define DIAG_TAG UINT32_C(0x31414443) /* "CDA1" */
#define DIAG_MAX (INT64_C(1) << 56)
#define DIAG_N_SCOPE (10 + CP_N_CLICK_STATUS + 1) /* int64 figures in scope_figs */
_Static_assert(sizeof(scope_figs) == DIAG_N_SCOPE * sizeof(int64_t),
               "diag_figs lists every figure of scope_figs");

static cp_result damaged(cp_error *err, const char *what) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "saved diagnostics state is damaged: %s", what);
    }
    return CP_EFORMAT;
}

/* The counts of a, in a fixed order, as pointers (the order of save). */
#define DIAG_N_FIGS (2 * DIAG_N_SCOPE + 3)
static void diag_figs(cp_diagnostics_acc *a, int64_t **p) {
    size_t k = 0;
    for (int s = 0; s < 2; s++) {
        scope_figs *f = &a->f[s];
        p[k++] = &f->valid_clicks;
        p[k++] = &f->started;
        p[k++] = &f->bounced;
        p[k++] = &f->in_open;
        p[k++] = &f->bounced_unloaded;
        p[k++] = &f->bounced_none;
        p[k++] = &f->sessions;
        p[k++] = &f->from_landing;
        p[k++] = &f->from_invalid;
        p[k++] = &f->from_repeat;
        for (int r = 0; r < CP_N_CLICK_STATUS; r++) p[k++] = &f->invalid[r];
        p[k++] = &f->page_views;
    }
    p[k++] = &a->sessions;
    p[k++] = &a->pv_total;
    p[k++] = &a->unloaded;
}

cp_result cp_diagnostics_acc_merge(cp_diagnostics_acc *into, const cp_diagnostics_acc *from,
                                   cp_error *err) {
    cp_diagnostics_acc copy = *from;
    int64_t *pi[DIAG_N_FIGS], *pf[DIAG_N_FIGS], sum[DIAG_N_FIGS];
    diag_figs(into, pi);
    diag_figs(&copy, pf);
    for (size_t k = 0; k < DIAG_N_FIGS; k++) {
        int64_t x = *pi[k], y = *pf[k];
        if (x < 0 || y < 0 || x > DIAG_MAX || y > DIAG_MAX - x)
            return damaged(err, "counts out of range");
        sum[k] = x + y;
    }
    for (size_t k = 0; k < DIAG_N_FIGS; k++) *pi[k] = sum[k];
    return CP_OK;
}

void cp_diagnostics_acc_save(const cp_diagnostics_acc *a, cp_bytes *out) {
    cp_diagnostics_acc copy = *a;
    int64_t *p[DIAG_N_FIGS];
    diag_figs(&copy, p);
    cp_bytes_u32(out, DIAG_TAG);
    cp_bytes_u32(out, DIAG_N_FIGS);
    for (size_t k = 0; k < DIAG_N_FIGS; k++) cp_bytes_i64(out, *p[k]);
}

cp_diagnostics_acc *cp_diagnostics_acc_load(const cp_report_options *opt, cp_bytes_reader *in,
                                            cp_error *err) {
    cp_diagnostics_acc *a = cp_diagnostics_acc_new(opt);
    if (!a) { oom(err); return NULL; }
    int64_t *p[DIAG_N_FIGS];
    diag_figs(a, p);
    const char *bad = NULL;
    if (cp_bytes_get_u32(in) != DIAG_TAG || in->bad) bad = "not a saved state";
    else if (cp_bytes_get_u32(in) != DIAG_N_FIGS || in->bad) bad = "wrong number of counts";
    for (size_t k = 0; !bad && k < DIAG_N_FIGS; k++) {
        int64_t v = cp_bytes_get_i64(in);
        if (in->bad) bad = "truncated";
        else if (v < 0 || v > DIAG_MAX) bad = "count out of range";
        else *p[k] = v;
    }
    if (bad) {
        damaged(err, bad);
        cp_diagnostics_acc_free(a);
        return NULL;
    }
    return a;
}

cp_result cp_diagnostics_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_diagnostics_acc *a = cp_diagnostics_acc_new(ctx->opt);
    if (!a) return oom(err);
    cp_result rc = cp_diagnostics_acc_add(a, ctx, err);
    if (rc == CP_OK) rc = cp_diagnostics_acc_emit(a, sum, err);
    cp_diagnostics_acc_free(a);
    return rc;
}

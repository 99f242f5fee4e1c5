/* sessions.c -- sessions and page views (SPEC R4).
 *
 * R4.1  only loaded page views make sessions.
 * R4.2  per identity: fixed:D (default 24h) -- a session holds the page views
 *       less than D after its start, so one exactly D after starts a new one;
 *       idle:D -- a gap of D or more to the previous page view starts one.
 * R4.3  a page view's source: sponsored when its click_id belongs to a
 *       sponsored click, external for an off-site click, else organic --
 *       the click's validity does not matter; a session's source is its
 *       first page view's.
 *
 * One pass over the loaded page views grouped by identity (id order), each
 * identity's in R1.6 order.  Sessions are numbered in that order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "util/rowmask.h"

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the sessions stage");
    }
    return CP_ENOMEM;
}

cp_result cp_sessions_build(cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n, n_sub = ctx->ev->sub.n;
    /* per sub row (report.h): only page views have a value */
    uint32_t *session_of = malloc((n_sub ? n_sub : 1) * sizeof *session_of);
    uint8_t *pv_source = malloc(n_sub ? n_sub : 1);
    if (!session_of || !pv_source) {
        free(session_of);
        free(pv_source);
        return oom(err);
    }
    /* every sub row first (memset: CP_NONE is all ones), then the page
     * views alone (util/rowmask.h) */
    memset(session_of, 0xff, n_sub * sizeof *session_of);
    memset(pv_source, CP_SRC_ORGANIC, n_sub);
    size_t n_loaded = 0;
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PAGE_VIEW); cp_rows_next(&r);) {
        size_t i = r.i;
        uint32_t k = cp_report_rank(ctx, i);
        /* R4.3: the source follows the click that owns the click_id, valid
         * or not. */
        uint32_t c = ctx->click_of ? ctx->click_of[k] : CP_NONE;
        if (c != CP_NONE)
            pv_source[k] = ev->placement[c] != CP_NONE ? CP_SRC_SPONSORED : CP_SRC_EXTERNAL;
        if (ev->flags[i] & CP_EV_LOADED) n_loaded++;
    }
    cp_session *sessions = malloc((n_loaded ? n_loaded : 1) * sizeof *sessions);
    if (!sessions) {
        free(session_of);
        free(pv_source);
        return oom(err);
    }

    /* The loaded page views in (identity, ts, input order): rows are in
     * R1.6 order already, so a stable counting sort by identity id gives it
     * while touching only page-view rows (walking the by-identity
     * permutation would read every event at random). */
    uint32_t n_str = cp_strings_count(ctx->str);
    uint32_t *id_start = calloc((size_t)n_str + 2, sizeof *id_start);
    uint32_t *pv = malloc((n_loaded ? n_loaded : 1) * sizeof *pv);
    if (!id_start || !pv) {
        free(id_start);
        free(pv);
        free(sessions);
        free(session_of);
        free(pv_source);
        return oom(err);
    }
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PAGE_VIEW); cp_rows_next(&r);)
        if (ev->flags[r.i] & CP_EV_LOADED) id_start[ev->identity[r.i] + 1]++;
    for (size_t s = 0; s <= n_str; s++) id_start[s + 1] += id_start[s];
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PAGE_VIEW); cp_rows_next(&r);)
        if (ev->flags[r.i] & CP_EV_LOADED) pv[id_start[ev->identity[r.i]]++] = (uint32_t)r.i;
    free(id_start);

    bool fixed = ctx->opt->session_rule == CP_SESSION_FIXED;
    int64_t limit_ms = ctx->opt->session_ms;
    uint32_t ns = 0;
    cp_str cur_identity = CP_STR_NONE;
    int64_t start_ms = 0, prev_ms = 0;
    bool open = false;
    for (size_t k = 0; k < n_loaded; k++) {
        uint32_t i = pv[k], ki = cp_report_rank(ctx, i);
        int64_t t = ev->ts_ms[i];
        bool start;
        if (!open || ev->identity[i] != cur_identity) {
            start = true;
        } else if (fixed) {
            /* R4.2 fixed: exactly limit after the start is a new session. */
            start = t - start_ms >= limit_ms;
        } else {
            /* R4.2 idle: a gap of exactly the limit is a new session. */
            start = t - prev_ms >= limit_ms;
        }
        if (start) {
            sessions[ns].identity = ev->identity[i];
            sessions[ns].first_pv = i;
            sessions[ns].n_page_views = 0;
            sessions[ns].source = pv_source[ki];
            ns++;
            open = true;
            cur_identity = ev->identity[i];
            start_ms = t;
        }
        sessions[ns - 1].n_page_views++;
        session_of[ki] = ns - 1;
        prev_ms = t;
    }
    free(pv);
    ctx->session_of = session_of;
    ctx->pv_source = pv_source;
    ctx->sessions = sessions;
    ctx->n_sessions = ns;
    return CP_OK;
}

/* test_partial_quality.c -- the accumulators of invalid_clicks.csv and the
 * "quality" summary (cp_quality_acc_*) and of diagnostics.csv (R9.1,
 * cp_diagnostics_acc_*), report/partial.h: two partitions added one after
 * the other write the same bytes as the whole run in one.
 *
 * The whole run reads EVENTS; each part reads the same text with the other
 * part's lines blanked (blank lines are skipped by ingest), so every event
 * keeps its file and line.  Part A holds identities a1, a2, a3 (and the
 * impression), part B b1, b2, b3: disjoint components, distinct addresses.
 *
 * The second test combines accumulators of the parts made separately
 * (merge, and save + load as between the ranks of --mpi) and checks that
 * damaged saved bytes fail cleanly. */
#include "clickpath/events.h"
#include "clickpath/report.h"
#include "testutil.h"

#include "report/partial.h"
#include "traffic_ctx.h"

#define HEADER "ts,type,visitor,ip,ua,campaign,ad_group,keyword,asin,tag,cost,click_id,loaded\n"
/* Lines 2..15; the part of each in the comment at its end. */
static const char *const LINES[] = {
    "2024-03-01T00:00:00Z,click,a1,192.0.2.1,Firefox,c1,g1,k1,A1,,0.50,ka1,\n",      /* A  2 */
    "2024-03-01T00:00:00Z,click,b1,198.51.100.7,Safari,,,,,t1,0.10,kb1,\n",          /* B  3 */
    "2024-03-01T00:01:00Z,page_view,a1,,,,,,A1,,,ka1,1\n",                          /* A  4 */
    "2024-03-01T00:02:00Z,page_view,b1,,,,,,A2,,,kb1,0\n",                          /* B  5 */
    "2024-03-01T01:00:00Z,click,b1,198.51.100.7,Safari,,,,,t1,0.10,kb2,\n",          /* B  6 */
    "2024-03-01T01:00:00Z,click,a1,192.0.2.1,Firefox,c1,g1,k1,A1,,0.25,ka2,\n",      /* A  7 */
    "2024-03-01T00:30:00Z,click,a2,192.0.2.2,,,,,,t2,0.05,,\n",                     /* A  8 */
    "2024-03-01T00:45:00Z,impression,,,bingbot/2.0,c1,,,,,0.02,,\n",                /* A  9 */
    "2024-03-01T00:50:00Z,click,b2,198.51.100.8,wget/1.2,,,,,t3,0.20,,\n",           /* B 10 */
    "2024-03-01T02:00:00Z,page_view,b1,,,,,,A2,,,,1\n",                             /* B 11 */
    "2024-03-01T02:05:00Z,page_view,a1,,,,,,A1,,,ka2,1\n",                          /* A 12 */
    "2024-03-02T00:00:00Z,click,b3,198.51.100.9,wget/1.2,,,,,t4,0.30,kb3,\n",        /* B 13 */
    "2024-03-02T00:01:00Z,page_view,b3,,,,,,A3,,,kb3,1\n",                          /* B 14 */
    "2024-03-02T00:00:00Z,click,a3,192.0.2.3,Firefox,c2,g2,,A4,,1.00,,\n",           /* A 15 */
};
static const char PART[] = "ABABBAAABBABBA";
#define N_LINES (sizeof LINES / sizeof LINES[0])

/* The input text with only the lines of `part` ('A', 'B', or 0 for all). */
static char *events_text(char part) {
    size_t cap = sizeof HEADER;
    for (size_t i = 0; i < N_LINES; i++) cap += strlen(LINES[i]);
    char *t = malloc(cap);
    assert_non_null(t);
    strcpy(t, HEADER);
    for (size_t i = 0; i < N_LINES; i++) strcat(t, !part || PART[i] == part ? LINES[i] : "\n");
    return t;
}

/* t's run over `text`, named events.csv, with the quality and sessions stages. */
static void build(tctx *t, char part) {
    char *text = events_text(part);
    cp_ingest_options io = {0};
    cp_error err = {0};
    t->run = cp_run_new(&io, &err);
    assert_non_null(t->run);
    assert_int_equal(cp_run_load_buffer(t->run, "events.csv", text, strlen(text), &err), CP_OK);
    free(text);
    assert_int_equal(cp_run_finish(t->run, &err), CP_OK);
    tctx_init(t);
    assert_int_equal(cp_quality_build(&t->ctx, &err), CP_OK);
    assert_int_equal(cp_sessions_build(&t->ctx, &err), CP_OK);
}

/* Both files and the summary of the parts added in `order` ("AB", "BA") into
 * fresh accumulators writing into m's directory. */
static cp_summary *merge(tctx *m, tctx *a, tctx *b, const char *order) {
    cp_error err = {0};
    cp_quality_acc *q = cp_quality_acc_new(&m->opt);
    cp_diagnostics_acc *d = cp_diagnostics_acc_new(&m->opt);
    assert_non_null(q);
    assert_non_null(d);
    for (const char *o = order; *o; o++) {
        tctx *p = *o == 'A' ? a : b;
        assert_int_equal(cp_quality_acc_add(q, &p->ctx, &err), CP_OK);
        assert_int_equal(cp_diagnostics_acc_add(d, &p->ctx, &err), CP_OK);
    }
    cp_summary *sum = cp_summary_new();
    assert_non_null(sum);
    assert_int_equal(cp_quality_acc_emit(q, sum, &err), CP_OK);
    assert_int_equal(cp_diagnostics_acc_emit(d, sum, &err), CP_OK);
    cp_quality_acc_free(q);
    cp_diagnostics_acc_free(d);
    return sum;
}

static int has_line(const char *csv, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = csv; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0) return 1;
    print_message("no line starting with '%s' in:\n%s", prefix, csv);
    return 0;
}

static void partial_quality_and_diagnostics_merge_exactly(void **state) {
    (void)state;
    tctx whole, a, b, m;
    tctx_defaults(&whole, NULL);
    tctx_defaults(&a, NULL);
    tctx_defaults(&b, NULL);
    build(&whole, 0);
    build(&a, 'A');
    build(&b, 'B');

    /* The whole run through cp_*_write (new + add + emit). */
    cp_error err = {0};
    cp_summary *ws = cp_summary_new();
    assert_non_null(ws);
    assert_int_equal(cp_quality_write(&whole.ctx, ws, &err), CP_OK);
    assert_int_equal(cp_diagnostics_write(&whole.ctx, ws, &err), CP_OK);
    char *w_inv = tctx_read(&whole, "invalid_clicks.csv");
    char *w_diag = tctx_read(&whole, "diagnostics.csv");

    /* R1.6 order (ts, file, line) across the parts: L8 (A), L10 (B), L6 (B)
     * and L7 (A) at the same time, line 6 first; L13 (B).  L6 and L7 repeat
     * L3 and L2 (same identity and target, 1 h later): duplicate.  L8 has no
     * user agent while the input has some: bot; L10 and L13 are wget. */
    assert_string_equal(w_inv,
                        "file,line,ts,identity,ip,target,reason\n"
                        "events.csv,8,2024-03-01T00:30:00.000Z,a2,192.0.2.2,tag:t2,bot\n"
                        "events.csv,10,2024-03-01T00:50:00.000Z,b2,198.51.100.8,tag:t3,bot\n"
                        "events.csv,6,2024-03-01T01:00:00.000Z,b1,198.51.100.7,tag:t1,duplicate\n"
                        "events.csv,7,2024-03-01T01:00:00.000Z,a1,192.0.2.1,ad:c1|g1|k1|A1,duplicate\n"
                        "events.csv,13,2024-03-02T00:00:00.000Z,b3,198.51.100.9,tag:t4,bot\n");
    /* clicks 8: valid L2, L3, L15; invalid 5 (bot 3, duplicate 2).
     * invalid_cost = 0.10 + 0.25 + 0.05 + 0.20 + 0.30 + the bot impression's
     * 0.02 = 0.92; spend = 0.50 + 0.10 + 1.00 = 1.60.  Bounced: L3 (its only
     * page view, L5, is unloaded) and L15 (no click_id). */
    assert_true(tctx_json_has(ws, "\"quality\":{\"clicks\":8,\"valid_clicks\":3,\"invalid_clicks\":5,"
                                  "\"invalid_by_reason\":{\"bot\":3,\"blocked_ip\":0,\"flood\":0,"
                                  "\"duplicate\":2},\"invalid_cost\":0.92,\"spend\":1.60,"
                                  "\"bounced_clicks\":2,\"impressions\":1,\"invalid_impressions\":1,"
                                  "\"ua_rule_on\":true}"));
    /* sponsored: valid L2, L15 = 1 started (L4 opens a1's session) + 1
     * bounced (L15, no page view) + 0; page views L4, L12 (ka2, L7's id);
     * invalid L7.  external: valid L3 = 0 + 1 bounced (unloaded L5) + 0;
     * one session, b3's, from the bot click L13; page view L14.  account:
     * sessions a1, b1 (organic, L11), b3 = 3; loaded page views 4; unloaded 1. */
    assert_true(has_line(w_diag, "sponsored,valid_clicks,2,"));
    assert_true(has_line(w_diag, "sponsored,sessions_started_by_click,1,"));
    assert_true(has_line(w_diag, "sponsored,bounced_clicks_no_page_view,1,"));
    assert_true(has_line(w_diag, "sponsored,invalid_clicks_duplicate,1,"));
    assert_true(has_line(w_diag, "sponsored,page_views,2,"));
    assert_true(has_line(w_diag, "sponsored,clicks_per_page_view,1.000000,"));
    assert_true(has_line(w_diag, "external,valid_clicks,1,"));
    assert_true(has_line(w_diag, "external,bounced_clicks_unloaded_page_view,1,"));
    assert_true(has_line(w_diag, "external,sessions,1,"));
    assert_true(has_line(w_diag, "external,sessions_from_invalid_click,1,"));
    assert_true(has_line(w_diag, "external,invalid_clicks,4,"));
    assert_true(has_line(w_diag, "external,invalid_clicks_bot,3,"));
    assert_true(has_line(w_diag, "account,sessions,3,3 sessions = 1 sponsored + 1 external + 1 organic"));
    assert_true(has_line(w_diag, "account,page_views,4,"));
    assert_true(has_line(w_diag, "account,unloaded_page_views,1,"));
    assert_true(has_line(w_diag, "account,page_views_per_session,1.333333,"));

    /* Each part alone writes its own share: A two of the five rows. */
    cp_summary *as = cp_summary_new();
    assert_non_null(as);
    assert_int_equal(cp_quality_write(&a.ctx, as, &err), CP_OK);
    char *a_inv = tctx_read(&a, "invalid_clicks.csv");
    assert_string_equal(a_inv,
                        "file,line,ts,identity,ip,target,reason\n"
                        "events.csv,8,2024-03-01T00:30:00.000Z,a2,192.0.2.2,tag:t2,bot\n"
                        "events.csv,7,2024-03-01T01:00:00.000Z,a1,192.0.2.1,ad:c1|g1|k1|A1,duplicate\n");
    assert_true(tctx_json_has(as, "\"clicks\":4,\"valid_clicks\":2,\"invalid_clicks\":2,"));
    free(a_inv);
    cp_summary_free(as);

    static const char *const orders[] = {"AB", "BA"};
    for (size_t k = 0; k < 2; k++) {
        tctx_defaults(&m, NULL);
        cp_summary *ms = merge(&m, &a, &b, orders[k]);
        char *m_inv = tctx_read(&m, "invalid_clicks.csv");
        char *m_diag = tctx_read(&m, "diagnostics.csv");
        assert_string_equal(m_inv, w_inv);
        assert_string_equal(m_diag, w_diag);
        assert_string_equal(cp_summary_json(ms), cp_summary_json(ws));
        assert_string_equal(cp_summary_text(ms), cp_summary_text(ws));
        free(m_inv);
        free(m_diag);
        cp_summary_free(ms);
        tctx_free(&m);
    }

    free(w_inv);
    free(w_diag);
    cp_summary_free(ws);
    tctx_free(&whole);
    tctx_free(&a);
    tctx_free(&b);
}

/* ---- merge, save, load (combining accumulators of separate partitions) ---- */

typedef struct accs {
    cp_quality_acc *q;
    cp_diagnostics_acc *d;
} accs;

static accs accs_new(const cp_report_options *opt) {
    accs x = {cp_quality_acc_new(opt), cp_diagnostics_acc_new(opt)};
    assert_non_null(x.q);
    assert_non_null(x.d);
    return x;
}

/* Fresh accumulators given one part. */
static accs accs_of(const cp_report_options *opt, tctx *part) {
    accs x = accs_new(opt);
    cp_error err = {0};
    assert_int_equal(cp_quality_acc_add(x.q, &part->ctx, &err), CP_OK);
    assert_int_equal(cp_diagnostics_acc_add(x.d, &part->ctx, &err), CP_OK);
    return x;
}

static void accs_merge(accs *into, const accs *from) {
    cp_error err = {0};
    assert_int_equal(cp_quality_acc_merge(into->q, from->q, &err), CP_OK);
    assert_int_equal(cp_diagnostics_acc_merge(into->d, from->d, &err), CP_OK);
}

/* Both states, one after the other, in one buffer. */
static cp_bytes accs_save(const accs *x) {
    cp_bytes b = {0};
    cp_quality_acc_save(x->q, &b);
    cp_diagnostics_acc_save(x->d, &b);
    assert_false(b.oom);
    return b;
}

static accs accs_load(const cp_report_options *opt, const cp_bytes *b) {
    cp_error err = {0};
    cp_bytes_reader r = cp_bytes_reader_of(b->p, b->n);
    accs x = {cp_quality_acc_load(opt, &r, &err), NULL};
    assert_non_null(x.q);
    x.d = cp_diagnostics_acc_load(opt, &r, &err);
    assert_non_null(x.d);
    assert_false(r.bad);
    assert_int_equal(r.at, b->n); /* each load reads exactly its own state */
    return x;
}

static void accs_free(accs *x) {
    cp_quality_acc_free(x->q);
    cp_diagnostics_acc_free(x->d);
}

/* A run's two files and summary. */
typedef struct outs {
    char *inv, *diag;
    cp_summary *sum;
} outs;

static void outs_free(outs *o) {
    free(o->inv);
    free(o->diag);
    cp_summary_free(o->sum);
}

/* Emits x into m's directory (x was made with m's opt) and frees x. */
static outs emit(tctx *m, accs *x) {
    cp_error err = {0};
    outs o = {.sum = cp_summary_new()};
    assert_non_null(o.sum);
    assert_int_equal(cp_quality_acc_emit(x->q, o.sum, &err), CP_OK);
    assert_int_equal(cp_diagnostics_acc_emit(x->d, o.sum, &err), CP_OK);
    accs_free(x);
    o.inv = tctx_read(m, "invalid_clicks.csv");
    o.diag = tctx_read(m, "diagnostics.csv");
    assert_non_null(o.inv);
    assert_non_null(o.diag);
    return o;
}

static void expect_same(outs *got, const outs *want) {
    assert_string_equal(got->inv, want->inv);
    assert_string_equal(got->diag, want->diag);
    assert_string_equal(cp_summary_json(got->sum), cp_summary_json(want->sum));
    assert_string_equal(cp_summary_text(got->sum), cp_summary_text(want->sum));
    outs_free(got);
}

static void partial_quality_and_diagnostics_combine(void **state) {
    (void)state;
    tctx whole, a, b, m;
    tctx_defaults(&whole, NULL);
    tctx_defaults(&a, NULL);
    tctx_defaults(&b, NULL);
    tctx_defaults(&m, NULL);
    build(&whole, 0);
    build(&a, 'A');
    build(&b, 'B');
    const cp_report_options *opt = &m.opt;

    /* The whole run, and B alone, through new + add + emit. */
    accs wx = accs_of(opt, &whole);
    outs w = emit(&m, &wx);
    accs bx = accs_of(opt, &b);
    outs wb = emit(&m, &bx);
    /* The hand-derived figures of the first test, again: the whole run. */
    assert_true(has_line(w.inv, "events.csv,6,2024-03-01T01:00:00.000Z,b1,198.51.100.7,tag:t1,duplicate"));
    assert_true(has_line(w.inv, "events.csv,13,2024-03-02T00:00:00.000Z,b3,198.51.100.9,tag:t4,bot"));
    assert_true(tctx_json_has(w.sum, "\"clicks\":8,\"valid_clicks\":3,\"invalid_clicks\":5,"));
    assert_true(tctx_json_has(w.sum, "\"invalid_cost\":0.92,\"spend\":1.60,\"bounced_clicks\":2,"));
    assert_true(has_line(w.diag, "account,sessions,3,3 sessions = 1 sponsored + 1 external + 1 organic"));
    assert_true(has_line(w.diag, "external,invalid_clicks_bot,3,"));
    /* B alone: L10, L6, L13 invalid (bot, duplicate, bot); valid L3. */
    assert_string_equal(wb.inv,
                        "file,line,ts,identity,ip,target,reason\n"
                        "events.csv,10,2024-03-01T00:50:00.000Z,b2,198.51.100.8,tag:t3,bot\n"
                        "events.csv,6,2024-03-01T01:00:00.000Z,b1,198.51.100.7,tag:t1,duplicate\n"
                        "events.csv,13,2024-03-02T00:00:00.000Z,b3,198.51.100.9,tag:t4,bot\n");
    assert_true(tctx_json_has(wb.sum, "\"clicks\":4,\"valid_clicks\":1,\"invalid_clicks\":3,"));

    /* (1) merge(B into A) == whole; B unchanged by it (same saved bytes, and
     * it still emits B alone). */
    for (int order = 0; order < 2; order++) {
        accs ax = accs_of(opt, &a);
        bx = accs_of(opt, &b);
        accs *into = order ? &bx : &ax, *from = order ? &ax : &bx;
        cp_bytes before = accs_save(from);
        accs_merge(into, from);
        cp_bytes after = accs_save(from);
        assert_int_equal(before.n, after.n);
        assert_memory_equal(before.p, after.p, before.n);
        cp_bytes_free(&before);
        cp_bytes_free(&after);
        outs got = emit(&m, into);
        expect_same(&got, &w);
        if (order == 0) {
            got = emit(&m, from);
            expect_same(&got, &wb);
        } else {
            accs_free(from);
        }
    }

    /* (2) save(B), load, merge into A == whole; load(save(B)) alone == B. */
    {
        bx = accs_of(opt, &b);
        cp_bytes saved = accs_save(&bx);
        accs_free(&bx);
        accs lx = accs_load(opt, &saved);
        outs got = emit(&m, &lx);
        expect_same(&got, &wb);
        accs ax = accs_of(opt, &a);
        lx = accs_load(opt, &saved);
        accs_merge(&ax, &lx);
        accs_free(&lx);
        got = emit(&m, &ax);
        expect_same(&got, &w);
        /* A merged state saves and loads whole too: (A + B) round trip, and
         * a loaded state that is then given more by add(). */
        ax = accs_of(opt, &a);
        lx = accs_load(opt, &saved);
        accs_merge(&ax, &lx);
        accs_free(&lx);
        cp_bytes both = accs_save(&ax);
        accs_free(&ax);
        lx = accs_load(opt, &both);
        got = emit(&m, &lx);
        expect_same(&got, &w);
        cp_bytes_free(&both);
        lx = accs_load(opt, &saved);
        cp_error err = {0};
        assert_int_equal(cp_quality_acc_add(lx.q, &a.ctx, &err), CP_OK);
        assert_int_equal(cp_diagnostics_acc_add(lx.d, &a.ctx, &err), CP_OK);
        got = emit(&m, &lx);
        expect_same(&got, &w);
        cp_bytes_free(&saved);
    }

    /* (3) a fresh accumulator that never had an add, given A then B (and B
     * then A, and through save/load of the empty state): the input list and
     * ua_rule_on come from the parts. */
    for (int order = 0; order < 3; order++) {
        accs ex = accs_new(opt);
        if (order == 2) {
            cp_bytes e = accs_save(&ex);
            accs_free(&ex);
            ex = accs_load(opt, &e);
            cp_bytes_free(&e);
        }
        accs ax = accs_of(opt, &a);
        bx = accs_of(opt, &b);
        accs empty = accs_new(opt);
        accs_merge(&ex, order == 1 ? &bx : &ax);
        accs_merge(&ex, &empty); /* merging nothing changes nothing */
        accs_merge(&ex, order == 1 ? &ax : &bx);
        accs_free(&empty);
        accs_free(&ax);
        accs_free(&bx);
        outs got = emit(&m, &ex);
        expect_same(&got, &w);
    }
    /* An empty accumulator merged into a full one leaves it as it was. */
    {
        accs ax = accs_of(opt, &whole);
        accs ex = accs_new(opt);
        accs_merge(&ax, &ex);
        accs_free(&ex);
        outs got = emit(&m, &ax);
        expect_same(&got, &w);
    }

    /* (4) damaged bytes: every truncation of a saved state fails cleanly
     * with CP_EFORMAT; every single-byte change either fails the same way or
     * loads a state that emits without fault. */
    {
        accs ax = accs_of(opt, &whole);
        cp_bytes qs = {0}, ds = {0};
        cp_quality_acc_save(ax.q, &qs);
        cp_diagnostics_acc_save(ax.d, &ds);
        accs_free(&ax);
        assert_false(qs.oom);
        assert_false(ds.oom);
        for (size_t n = 0; n < qs.n; n++) {
            cp_error err = {0};
            cp_bytes_reader r = cp_bytes_reader_of(qs.p, n);
            assert_null(cp_quality_acc_load(opt, &r, &err));
            assert_int_equal(err.code, CP_EFORMAT);
            assert_true(strlen(err.msg) > 0);
        }
        for (size_t n = 0; n < ds.n; n++) {
            cp_error err = {0};
            cp_bytes_reader r = cp_bytes_reader_of(ds.p, n);
            assert_null(cp_diagnostics_acc_load(opt, &r, &err));
            assert_int_equal(err.code, CP_EFORMAT);
        }
        /* A count far beyond the data: the input count, the 8 bytes right
         * after the counts, the money sums and the ua flag. */
        size_t at_inputs = 4 + 4 + 8 + 8 * CP_N_CLICK_STATUS + 8 * 3 + 8 * 2 + 1;
        uint8_t *c = malloc(qs.n);
        assert_non_null(c);
        memcpy(c, qs.p, qs.n);
        memset(c + at_inputs, 0xff, 8);
        {
            cp_error err = {0};
            cp_bytes_reader r = cp_bytes_reader_of(c, qs.n);
            assert_null(cp_quality_acc_load(opt, &r, &err));
            assert_int_equal(err.code, CP_EFORMAT);
        }
        const cp_bytes *sv[2] = {&qs, &ds};
        for (int k = 0; k < 2; k++) {
            const cp_bytes *s = sv[k];
            uint8_t *d = malloc(s->n);
            assert_non_null(d);
            for (size_t i = 0; i < s->n; i++) {
                for (int flip = 0; flip < 3; flip++) {
                    static const uint8_t xr[] = {0x01, 0x80, 0xff};
                    memcpy(d, s->p, s->n);
                    d[i] ^= xr[flip];
                    cp_error err = {0};
                    cp_bytes_reader r = cp_bytes_reader_of(d, s->n);
                    accs x = {NULL, NULL};
                    if (k == 0) x.q = cp_quality_acc_load(opt, &r, &err);
                    else x.d = cp_diagnostics_acc_load(opt, &r, &err);
                    if (!x.q && !x.d) { assert_int_equal(err.code, CP_EFORMAT); continue; }
                    /* Loaded: it must merge, emit and save without fault. */
                    accs y = accs_of(opt, &a);
                    cp_summary *sum = cp_summary_new();
                    assert_non_null(sum);
                    cp_bytes again = {0};
                    if (x.q) {
                        cp_result rc = cp_quality_acc_merge(y.q, x.q, &err);
                        assert_true(rc == CP_OK || rc == CP_EFORMAT);
                        cp_quality_acc_save(y.q, &again);
                        assert_int_equal(cp_quality_acc_emit(x.q, sum, &err), CP_OK);
                    } else {
                        cp_result rc = cp_diagnostics_acc_merge(y.d, x.d, &err);
                        assert_true(rc == CP_OK || rc == CP_EFORMAT);
                        cp_diagnostics_acc_save(y.d, &again);
                        assert_int_equal(cp_diagnostics_acc_emit(x.d, sum, &err), CP_OK);
                    }
                    cp_bytes_free(&again);
                    cp_summary_free(sum);
                    accs_free(&x);
                    accs_free(&y);
                }
            }
            free(d);
        }
        free(c);
        cp_bytes_free(&qs);
        cp_bytes_free(&ds);
    }
    /* Bytes that are not a saved state at all. */
    {
        cp_error err = {0};
        cp_bytes_reader r = cp_bytes_reader_of("clickpath", 9);
        assert_null(cp_quality_acc_load(opt, &r, &err));
        assert_int_equal(err.code, CP_EFORMAT);
        r = cp_bytes_reader_of("clickpath", 9);
        assert_null(cp_diagnostics_acc_load(opt, &r, &err));
        assert_int_equal(err.code, CP_EFORMAT);
        r = cp_bytes_reader_of(NULL, 0);
        assert_null(cp_diagnostics_acc_load(opt, &r, &err));
        assert_int_equal(err.code, CP_EFORMAT);
    }

    outs_free(&w);
    outs_free(&wb);
    tctx_free(&whole);
    tctx_free(&a);
    tctx_free(&b);
    tctx_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partial_quality_and_diagnostics_merge_exactly),
        cmocka_unit_test(partial_quality_and_diagnostics_combine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_sessions.c -- sessions and page views (SPEC R4, with R2.1 stitching).
 * Every expected number is derived by hand in the comment above it. */
#include "clickpath/events.h"
#include "clickpath/report.h"
#include "testutil.h"
#include "traffic_ctx.h"

static uint32_t sess(const tctx *t, uint32_t line) { return t->ctx.session_of[tctx_sub(t, line)]; }

static void r4_2_page_view_exactly_24h_after_start_starts_new_session(void **state) {
    (void)state;
    /* fixed:24h.  Lines 2 and 3 (12 h later) share the session that starts
     * at line 2; line 4 is exactly 24 h after that start: not "less than
     * 24 h", so it starts session 2. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin\n"
               "2024-03-01T00:00:00Z,page_view,v1,A1\n"
               "2024-03-01T12:00:00Z,page_view,v1,A1\n"
               "2024-03-02T00:00:00Z,page_view,v1,A1\n",
               NULL);
    assert_int_equal(t.ctx.n_sessions, 2);
    assert_int_equal(sess(&t, 2), sess(&t, 3));
    assert_int_not_equal(sess(&t, 3), sess(&t, 4));
    assert_int_equal(t.ctx.sessions[sess(&t, 2)].n_page_views, 2);
    assert_int_equal(t.ctx.sessions[sess(&t, 4)].first_pv, tctx_row(&t, 4));
    tctx_free(&t);
}

static void r4_2_fixed_session_holds_page_view_just_under_24h(void **state) {
    (void)state;
    /* fixed:24h measures from the start, not from the previous page view:
     * a 23 h 59 min gap and then 1 ms under 24 h from the start still belong
     * to the first session (1 session). */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin\n"
               "2024-03-01T00:00:00Z,page_view,v1,A1\n"
               "2024-03-01T23:59:59.999Z,page_view,v1,A1\n",
               NULL);
    assert_int_equal(t.ctx.n_sessions, 1);
    tctx_free(&t);
}

static void r4_2_idle_gap_exactly_at_limit_starts_new_session(void **state) {
    (void)state;
    /* idle:30m.  Line 3 is 30 min - 1 ms after line 2: same session.
     * Line 4 is exactly 30 min after line 3: "30 minutes or more": new. */
    tctx t;
    tctx_defaults(&t, NULL);
    t.opt.session_rule = CP_SESSION_IDLE;
    t.opt.session_ms = 30 * 60 * 1000;
    tctx_build(&t,
               "ts,type,visitor,asin\n"
               "2024-03-01T00:00:00Z,page_view,v1,A1\n"
               "2024-03-01T00:29:59.999Z,page_view,v1,A1\n"
               "2024-03-01T00:59:59.999Z,page_view,v1,A1\n",
               NULL);
    assert_int_equal(t.ctx.n_sessions, 2);
    assert_int_equal(sess(&t, 2), sess(&t, 3));
    assert_int_not_equal(sess(&t, 3), sess(&t, 4));
    tctx_free(&t);
}

static void r4_2_idle_session_can_outlast_24h(void **state) {
    (void)state;
    /* idle:30m with a page view every 20 min for 25 h (76 page views): the
     * gap never reaches 30 min, so one session; fixed:24h would cut it. */
    char text[8192] = "ts,type,visitor,asin\n";
    for (int k = 0; k < 76; k++) {
        char row[96];
        int64_t ms = INT64_C(1709251200000) + (int64_t)k * 20 * 60 * 1000; /* 2024-03-01 */
        snprintf(row, sizeof row, "%lld,page_view,v1,A1\n", (long long)(ms / 1000));
        strcat(text, row);
    }
    tctx t;
    tctx_defaults(&t, NULL);
    t.opt.session_rule = CP_SESSION_IDLE;
    t.opt.session_ms = 30 * 60 * 1000;
    tctx_build(&t, text, NULL);
    assert_int_equal(t.ctx.n_sessions, 1);
    assert_int_equal(t.ctx.sessions[0].n_page_views, 76);
    tctx_free(&t);
}

static void r4_1_unloaded_page_view_makes_no_session(void **state) {
    (void)state;
    /* Line 2 is unloaded: in no session.  The session starts at line 3. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin,loaded\n"
               "2024-03-01T00:00:00Z,page_view,v1,A1,false\n"
               "2024-03-01T00:10:00Z,page_view,v1,A1,1\n",
               NULL);
    assert_int_equal(t.ctx.n_sessions, 1);
    assert_int_equal(sess(&t, 2), CP_NONE);
    assert_int_equal(t.ctx.sessions[0].first_pv, tctx_row(&t, 3));
    assert_int_equal(t.ctx.sessions[0].n_page_views, 1);
    tctx_free(&t);
}

static void r4_3_click_landing_in_open_session_keeps_session_source(void **state) {
    (void)state;
    /* Line 2 starts an organic session; the sponsored click's landing page
     * view (line 4) falls inside it: one session, organic (its first page
     * view's source), while line 4 itself is a sponsored page view. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin,campaign,click_id\n"
               "2024-03-01T00:00:00Z,page_view,v1,A1,,\n"
               "2024-03-01T00:10:00Z,click,v1,A1,c1,k1\n"
               "2024-03-01T00:11:00Z,page_view,v1,A1,,k1\n",
               NULL);
    assert_int_equal(t.ctx.n_sessions, 1);
    assert_int_equal(t.ctx.sessions[0].source, CP_SRC_ORGANIC);
    assert_int_equal(t.ctx.pv_source[tctx_sub(&t, 4)], CP_SRC_SPONSORED);
    assert_int_equal(t.ctx.landing_pv[tctx_sub(&t, 3)], tctx_row(&t, 4));
    assert_int_equal(sess(&t, 4), 0);
    tctx_free(&t);
}

static void r4_3_sources_follow_the_click_valid_or_not(void **state) {
    (void)state;
    /* S1 (line 3): sponsored (valid click k1).  Line 4's click is a
     * duplicate (25 h < 72 h after line 2) but its id still makes line 5,
     * 25 h after S1's start (a new session), sponsored.  Line 7 lands from
     * an off-site click: external.  Line 8, no click: organic. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t,
               "ts,type,visitor,asin,campaign,tag,click_id\n"
               "2024-03-01T00:00:00Z,click,v1,A1,c1,,k1\n"
               "2024-03-01T00:01:00Z,page_view,v1,A1,,,k1\n"
               "2024-03-02T01:00:00Z,click,v1,A1,c1,,k2\n"
               "2024-03-02T01:01:00Z,page_view,v1,A1,,,k2\n"
               "2024-03-04T00:00:00Z,click,v1,A1,,t1,k3\n"
               "2024-03-04T00:01:00Z,page_view,v1,A1,,,k3\n"
               "2024-03-06T00:00:00Z,page_view,v1,A1,,,\n",
               NULL);
    assert_int_equal(tctx_status(&t, 4), CP_CLICK_DUPLICATE);
    assert_int_equal(t.ctx.n_sessions, 4);
    assert_int_equal(t.ctx.sessions[sess(&t, 3)].source, CP_SRC_SPONSORED);
    assert_int_equal(t.ctx.sessions[sess(&t, 5)].source, CP_SRC_SPONSORED);
    assert_int_equal(t.ctx.sessions[sess(&t, 7)].source, CP_SRC_EXTERNAL);
    assert_int_equal(t.ctx.sessions[sess(&t, 8)].source, CP_SRC_ORGANIC);
    tctx_free(&t);
}

static const char stitch_text[] =
    "ts,type,visitor,customer,asin\n"
    "2024-03-01T10:00:00Z,page_view,phone,,A1\n"
    "2024-03-01T11:00:00Z,page_view,laptop,,A2\n"
    "2024-03-01T12:00:00Z,add_to_cart,phone,c1,A1\n"
    "2024-03-01T13:00:00Z,add_to_cart,laptop,c1,A2\n";

static void r2_1_stitching_joins_two_visitors_sessions(void **state) {
    (void)state;
    /* Both visitors are later seen with customer c1, so their anonymous page
     * views belong to c1: one identity, page views 1 h apart, one session. */
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t, stitch_text, NULL);
    assert_int_equal(t.ctx.n_sessions, 1);
    assert_int_equal(t.ctx.sessions[0].n_page_views, 2);
    assert_string_equal(cp_str_c(t.ctx.str, t.ctx.sessions[0].identity), "c1");
    tctx_free(&t);
}

static void r2_1_no_stitch_keeps_visitors_apart(void **state) {
    (void)state;
    /* --no-stitch: the page views keep their visitors: two sessions. */
    cp_ingest_options io = {0};
    io.no_stitch = true;
    tctx t;
    tctx_defaults(&t, NULL);
    tctx_build(&t, stitch_text, &io);
    assert_int_equal(t.ctx.n_sessions, 2);
    tctx_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r4_2_page_view_exactly_24h_after_start_starts_new_session),
        cmocka_unit_test(r4_2_fixed_session_holds_page_view_just_under_24h),
        cmocka_unit_test(r4_2_idle_gap_exactly_at_limit_starts_new_session),
        cmocka_unit_test(r4_2_idle_session_can_outlast_24h),
        cmocka_unit_test(r4_1_unloaded_page_view_makes_no_session),
        cmocka_unit_test(r4_3_click_landing_in_open_session_keeps_session_source),
        cmocka_unit_test(r4_3_sources_follow_the_click_valid_or_not),
        cmocka_unit_test(r2_1_stitching_joins_two_visitors_sessions),
        cmocka_unit_test(r2_1_no_stitch_keeps_visitors_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

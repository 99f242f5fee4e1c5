/* test_finish.c -- cp_run_finish on input out of time order: R1.6 (rows in
 * (ts, input order)) and R2.1 (a visitor's first customer in that order),
 * which finish.c finds on the rows as loaded, before the sort.  Every
 * expectation is worked out by hand in the comment above it. */
#include "clickpath/events.h"
#include "testutil.h"

/* R2.1 on unsorted input.  In R1.6 order the rows are:
 *   09:00 line 6  phone  (no customer)
 *   10:00 line 3  phone  bob    <- phone's first customer (least ts)
 *   10:00 line 4  tablet carol  <- tablet's first: same ts as line 5, earlier line
 *   10:00 line 5  tablet dave
 *   11:00 line 2  phone  alice  (earlier in the file, later in time)
 *   12:00 line 7  tablet (no customer)
 * So phone -> bob and tablet -> carol; rows with a customer keep it. */
static const char unsorted[] = "ts,type,visitor,customer,asin\n"
                               "2024-03-01T11:00:00Z,page_view,phone,alice,A\n"  /* line 2 */
                               "2024-03-01T10:00:00Z,page_view,phone,bob,A\n"    /* line 3 */
                               "2024-03-01T10:00:00Z,page_view,tablet,carol,A\n" /* line 4 */
                               "2024-03-01T10:00:00Z,page_view,tablet,dave,A\n"  /* line 5 */
                               "2024-03-01T09:00:00Z,page_view,phone,,A\n"       /* line 6 */
                               "2024-03-01T12:00:00Z,page_view,tablet,,A\n";     /* line 7 */

static void check_unsorted(const cp_run *run) {
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    assert_int_equal(e->n, 6);
    /* R1.6: (ts, input order) */
    static const uint32_t lines[] = {6, 3, 4, 5, 2, 7};
    static const char *const ids[] = {"bob", "bob", "carol", "dave", "alice", "carol"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(e->line[i], lines[i]);
        assert_string_equal(cp_str_c(s, e->identity[i]), ids[i]);
    }
}

static void r2_1_first_customer_by_time_not_by_line(void **state) {
    (void)state;
    for (unsigned threads = 1; threads <= 3; threads++) {
        cp_ingest_options o = {.threads = threads};
        cp_run *run = cp_test_run_text(unsorted, &o);
        check_unsorted(run);
        /* the raw columns are dropped before the sort (8 bytes an event) */
        assert_null(cp_run_events(run)->visitor);
        assert_null(cp_run_events(run)->customer);
        cp_run_free(run);
    }
}

/* keep_raw_ids: the raw columns are sorted along with the rest. */
static void r2_1_raw_ids_kept_in_time_order(void **state) {
    (void)state;
    cp_ingest_options o = {.keep_raw_ids = true};
    cp_run *run = cp_test_run_text(unsorted, &o);
    check_unsorted(run);
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    static const char *const visitors[] = {"phone", "phone", "tablet", "tablet", "phone", "tablet"};
    static const char *const customers[] = {"", "bob", "carol", "dave", "alice", ""};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(cp_str_c(s, e->visitor[i]), visitors[i]);
        assert_string_equal(customers[i][0] ? cp_str_c(s, e->customer[i]) : "",
                            customers[i]);
        if (!customers[i][0]) assert_int_equal(e->customer[i], CP_STR_NONE);
    }
    cp_run_free(run);
}

/* --no-stitch: identity = customer, else visitor, in time order. */
static void r2_1_no_stitch_unsorted(void **state) {
    (void)state;
    cp_ingest_options o = {.no_stitch = true};
    cp_run *run = cp_test_run_text(unsorted, &o);
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    static const char *const ids[] = {"phone", "bob", "carol", "dave", "alice", "tablet"};
    for (size_t i = 0; i < 6; i++) assert_string_equal(cp_str_c(s, e->identity[i]), ids[i]);
    cp_run_free(run);
}

/* Sub columns (events.h: tag, click_id, order, units, rating held for the
 * non-impression rows only, at their rank) follow their rows through the
 * R1.6 sort.  Row j of N (line j + 2) is at second (j * 37) % N, a
 * permutation, so the sort moves every row; j % 4 picks its type:
 *   0 impression  (campaign; it carries a click_id, which is not kept)
 *   1 click       tag t<j>, click_id c<j>
 *   2 purchase    order o<j>, units j % 7 + 1
 *   3 feedback    order o<j-1> (the purchase before it), rating j % 5 + 1
 * N = 300 spans five 64-row blocks; threads 1 and 3, and 4 KiB blocks so
 * that several parse parts commit their sub rows in turn. */
#define SUB_N 300
static void sub_columns_follow_their_rows_through_the_sort(void **state) {
    (void)state;
    size_t cap = 64 * SUB_N + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "ts,type,visitor,asin,campaign,tag,click_id,order,units,rating\n");
    for (unsigned j = 0; j < SUB_N; j++) {
        unsigned sec = j * 37 % SUB_N;
        const char *ts = "2024-03-01T10";
        int w;
        switch (j % 4) {
        case 0: w = snprintf(text + len, cap - len, "%s:%02u:%02uZ,impression,v%u,A,camp,,x%u,,,\n", ts, sec / 60, sec % 60, j, j); break;
        case 1: w = snprintf(text + len, cap - len, "%s:%02u:%02uZ,click,v%u,A,,t%u,c%u,,,\n", ts, sec / 60, sec % 60, j, j, j); break;
        case 2: w = snprintf(text + len, cap - len, "%s:%02u:%02uZ,purchase,v%u,A,,,,o%u,%u,\n", ts, sec / 60, sec % 60, j, j, j % 7 + 1); break;
        default: w = snprintf(text + len, cap - len, "%s:%02u:%02uZ,feedback,v%u,A,,,,o%u,,%u\n", ts, sec / 60, sec % 60, j, j - 1, j % 5 + 1); break;
        }
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    for (unsigned threads = 1; threads <= 3; threads += 2) {
        cp_ingest_options o = {.threads = threads, .block_bytes = 4096, .parallel_min_bytes = 1};
        cp_run *run = cp_test_run_text(text, &o);
        const cp_events *e = cp_run_events(run);
        const cp_strings *s = cp_run_strings(run);
        size_t n_orders;
        const cp_order *orders = cp_run_orders(run, &n_orders);
        assert_int_equal(e->n, SUB_N);
        assert_int_equal(e->sub.n, SUB_N / 4 * 3);
        size_t rank = 0;
        for (size_t i = 0; i < e->n; i++) {
            unsigned j = e->line[i] - 2; /* the row's place in the file */
            assert_int_equal(e->ts_ms[i] % 1000, 0);
            assert_int_equal(e->ts_ms[i] / 1000 % 3600, j * 37 % SUB_N); /* R1.6: in time order */
            if (j % 4 == 0) {
                assert_int_equal(e->type[i], CP_IMPRESSION);
                continue;
            }
            size_t k = cp_events_rank(e, i);
            assert_int_equal(k, rank++); /* ranks count the non-impression rows in order */
            char want[16];
            switch (j % 4) {
            case 1:
                snprintf(want, sizeof want, "t%u", j);
                assert_string_equal(cp_str_c(s, e->tag[k]), want);
                snprintf(want, sizeof want, "c%u", j);
                assert_string_equal(cp_str_c(s, e->click_id[k]), want);
                assert_int_equal(e->order[k], CP_NONE);
                break;
            case 2:
                snprintf(want, sizeof want, "o%u", j);
                assert_true(e->order[k] < n_orders);
                assert_string_equal(cp_str_c(s, orders[e->order[k]].id), want);
                assert_int_equal(e->units[k], (int32_t)(j % 7 + 1));
                assert_int_equal(e->tag[k], CP_STR_NONE);
                break;
            default:
                snprintf(want, sizeof want, "o%u", j - 1);
                assert_true(e->order[k] < n_orders);
                assert_string_equal(cp_str_c(s, orders[e->order[k]].id), want);
                assert_int_equal(e->rating[k], (uint8_t)(j % 5 + 1));
                break;
            }
        }
        assert_int_equal(rank, e->sub.n);
        cp_run_free(run);
    }
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r2_1_first_customer_by_time_not_by_line),
        cmocka_unit_test(r2_1_raw_ids_kept_in_time_order),
        cmocka_unit_test(r2_1_no_stitch_unsorted),
        cmocka_unit_test(sub_columns_follow_their_rows_through_the_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

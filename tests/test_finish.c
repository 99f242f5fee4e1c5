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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r2_1_first_customer_by_time_not_by_line),
        cmocka_unit_test(r2_1_raw_ids_kept_in_time_order),
        cmocka_unit_test(r2_1_no_stitch_unsorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

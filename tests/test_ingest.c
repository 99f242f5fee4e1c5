/* test_ingest.c -- R1 (events, rejects, mapping, order) and R2 (identity).
 * Every expectation is worked out by hand from SPEC.md in the comment above
 * it. */
#include "clickpath/events.h"
#include "testutil.h"
#include "util/csvscan.h"
#include "util/values.h"

#include <zlib.h>
#include <zstd.h>

#define HDR "ts,type,visitor,customer,asin,campaign,tag,cost,units,price,amount,loaded,rating,order,ua\n"

/* Loads text keeping the raw visitor and customer columns (tests read them). */
static cp_run *load_text(const char *text, const cp_ingest_options *opt) {
    cp_ingest_options o = opt ? *opt : (cp_ingest_options){0};
    o.keep_raw_ids = true;
    return cp_test_run_text(text, &o);
}

static const cp_reject *reject_at(const cp_run *run, size_t i) {
    size_t n;
    const cp_reject *r = cp_run_rejects(run, &n);
    assert_true(i < n);
    return &r[i];
}

static void assert_reject(const cp_run *run, size_t i, uint64_t line, const char *reason, const char *field) {
    const cp_reject *r = reject_at(run, i);
    assert_int_equal(r->line, line);
    assert_string_equal(cp_reject_reason_name((cp_reject_reason)r->reason), reason);
    if (field) assert_string_equal(r->field, field);
    else assert_null(r->field);
}

/* One record, expected to be rejected with `reason` on `field`. */
static void assert_single_reject(const char *text, const char *reason, const char *field) {
    cp_run *run = load_text(text, NULL);
    assert_int_equal(cp_run_accepted(run), 0);
    assert_int_equal(cp_run_rejected(run), 1);
    assert_reject(run, 0, 2, reason, field);
    cp_run_free(run);
}

/* R1.4: lines = accepted + rejected + blank, the header not counted. */
static void r1_4_lines_add_up(void **state) {
    (void)state;
    /* 2 good, 1 blank, 1 bad field count, 1 blank with CR only */
    cp_run *run = load_text(HDR
        "2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,,,,\n"
        "\n"
        "x,y\n"
        "\r\n"
        "2024-03-01T12:00:01Z,page_view,v1,,A1,,,,,,,,,,\n", NULL);
    size_t n;
    const cp_input_stats *in = cp_run_inputs(run, &n);
    assert_int_equal(n, 1);
    assert_int_equal(in[0].lines, 5);
    assert_int_equal(in[0].accepted, 2);
    assert_int_equal(in[0].rejected, 1);
    assert_int_equal(in[0].blank_lines, 2);
    assert_reject(run, 0, 4, "bad_field_count", NULL); /* header is line 1 */
    cp_run_free(run);
}

/* R1.4b whole-line reasons come first, in order: bad_encoding beats
 * everything (this line also has a bad field count). */
static void r1_4b_bad_encoding_first(void **state) {
    (void)state;
    assert_single_reject(HDR "\xff,x\n", "bad_encoding", NULL);
}

static void r1_4b_nul_byte_is_bad_encoding(void **state) {
    (void)state;
    char text[] = HDR "2024-03-01T12:00:00Z,page_view,v1,,A@,,,,,,,,,,\n";
    char *at = strchr(text + strlen(HDR), '@');
    /* cp_test_run_text takes a C string; write the NUL through a file */
    *at = 'X';
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    char path[64];
    assert_non_null(cp_test_tmpfile(path, sizeof path, text));
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)(at - text), SEEK_SET);
    fputc(0, f);
    fclose(f);
    assert_int_equal(cp_run_load(run, path, &err), CP_OK);
    unlink(path);
    assert_int_equal(cp_run_rejected(run), 1);
    assert_reject(run, 0, 2, "bad_encoding", NULL);
    cp_run_free(run);
}

static void r1_4b_overlong_utf8_is_bad_encoding(void **state) {
    (void)state;
    assert_single_reject(HDR "2024-03-01T12:00:00Z,page_view,\xc0\xaf,,A1,,,,,,,,,,\n", "bad_encoding", NULL);
}

/* A record over 1 MiB is line_too_long (after bad_encoding). */
static void r1_4b_line_over_1mib(void **state) {
    (void)state;
    size_t big = (1u << 20) + 10;
    char *text = malloc(strlen(HDR) + big + 256);
    strcpy(text, HDR "2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,,,,");
    size_t len = strlen(text);
    memset(text + len, 'u', big);
    strcpy(text + len + big, "\n2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,,,,\n");
    cp_run *run = load_text(text, NULL);
    free(text);
    assert_int_equal(cp_run_rejected(run), 1);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_reject(run, 0, 2, "line_too_long", NULL);
    /* the reject text keeps at most 200 characters */
    assert_int_equal(strlen(reject_at(run, 0)->text), 200);
    cp_run_free(run);
}

static void r1_4b_quote_inside_unquoted_field(void **state) {
    (void)state;
    assert_single_reject(HDR "2024-03-01T12:00:00Z,page_view,v\"1,,A1,,,,,,,,,,\n", "csv_bad_quote", NULL);
}

static void r1_4b_text_after_closing_quote(void **state) {
    (void)state;
    assert_single_reject(HDR "2024-03-01T12:00:00Z,page_view,\"v1\"x,,A1,,,,,,,,,,\n", "csv_bad_quote", NULL);
}

/* An open quote runs to the end of the file: one reject at its first line. */
static void r1_4b_unterminated_quote_to_eof(void **state) {
    (void)state;
    cp_run *run = load_text(HDR
        "2024-03-01T12:00:00Z,page_view,\"v1,,A1,,,,,,,,,,\n"
        "2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,,,,\n", NULL);
    assert_int_equal(cp_run_accepted(run), 0);
    assert_int_equal(cp_run_rejected(run), 1);
    assert_reject(run, 0, 2, "csv_unterminated_quote", NULL);
    cp_run_free(run);
}

/* A quoted field may hold a line end: the record counts at its first line,
 * and the next record's line number is physical (R1.4). */
static void r1_4_multiline_record_line_numbers(void **state) {
    (void)state;
    cp_run *run = load_text(HDR
        "2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,,,,\"Mozilla\nwith newline\"\n"
        "2024-03-01T12:00:01Z,bogus,v1,,A1,,,,,,,,,,\n", NULL);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_reject(run, 0, 4, "bad_type", "type");
    const cp_events *e = cp_run_events(run);
    assert_string_equal(cp_str_c(cp_run_strings(run), e->ua[0]), "Mozilla\nwith newline");
    cp_run_free(run);
}

static void r1_4b_doubled_quotes_unescape(void **state) {
    (void)state;
    cp_run *run = load_text(HDR "2024-03-01T12:00:00Z,page_view,\"v\"\"1\",,A1,,,,,,,,,,\n", NULL);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_string_equal(cp_str_c(cp_run_strings(run), cp_run_events(run)->visitor[0]), "v\"1");
    cp_run_free(run);
}

static void r1_4b_bad_json_nested(void **state) {
    (void)state;
    cp_run *run = load_text("{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v\",\"asin\":\"A\"}\n"
                            "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":{\"x\":1}}\n"
                            "{\"ts\":\"2024-03-01T12:00:00Z\"\n"
                            "[1,2]\n", NULL);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_int_equal(cp_run_rejected(run), 3);
    assert_reject(run, 0, 2, "bad_json", NULL);
    assert_reject(run, 1, 3, "bad_json", NULL);
    assert_reject(run, 2, 4, "bad_json", NULL);
    cp_run_free(run);
}

/* Field reasons, each alone on a line, in R1.4b order. */
static void r1_4b_field_reasons(void **state) {
    (void)state;
    assert_single_reject(HDR ",page_view,v1,,A1,,,,,,,,,,\n", "missing_ts", "ts");
    assert_single_reject(HDR "2024-02-30T00:00:00Z,page_view,v1,,A1,,,,,,,,,,\n", "bad_ts", "ts");
    assert_single_reject(HDR "1969-12-31T23:59:59Z,page_view,v1,,A1,,,,,,,,,,\n", "bad_ts", "ts");
    assert_single_reject(HDR "2100-01-01T00:00:00Z,page_view,v1,,A1,,,,,,,,,,\n", "bad_ts", "ts");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,,v1,,A1,,,,,,,,,,\n", "missing_type", "type");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,view,v1,,A1,,,,,,,,,,\n", "bad_type", "type");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,T,,,,,,,,\n", "click_campaign_and_tag", "tag");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,,,,,,,,,,\n", "click_without_campaign_or_tag", "campaign");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,,,A1,C,,,,,,,,,\n", "missing_identity", "visitor");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,impression,v1,,A1,,,,,,,,,,\n", "missing_campaign", "campaign");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,feedback,,,,,,,,,,,4,o1,\n", "missing_identity", "visitor");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,feedback,v1,,,,,,,,,,4,,\n", "missing_order", "order");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,,,,,,,,,,o1,\n", "missing_asin", "asin");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,add_to_cart,,,A1,,,,,,,,,,\n", "missing_identity", "visitor");
}

/* Value reasons (R1.4b): every value present is checked, whatever the type. */
static void r1_4b_value_reasons(void **state) {
    (void)state;
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,,-0.10,,,,,,,\n", "bad_cost", "cost");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,,1e309,,,,,,,\n", "bad_cost", "cost");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,,NaN,,,,,,,\n", "bad_cost", "cost");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,,1000000000000.01,,,,,,,\n", "bad_cost", "cost");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,click,v1,,A1,C,,0.0000001,,,,,,,\n", "bad_cost", "cost");
    /* cost on a page view is still checked */
    assert_single_reject(HDR "2024-03-01T12:00:00Z,page_view,v1,,A1,,,abc,,,,,,,\n", "bad_cost", "cost");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,0,,,,,o1,\n", "bad_units", "units");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,1.5,,,,,o1,\n", "bad_units", "units");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,return,v1,,A1,,,,-1,,,,,o1,\n", "bad_units", "units");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,1000000001,,,,,o1,\n", "bad_units", "units");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,1,-2,,,,o1,\n", "bad_price", "price");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,1,,-5,,,o1,\n", "bad_amount", "amount");
    /* R1.4a: negative units negate the amount first: -2 units, amount 5 -> -5 */
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,-2,,5,,,o1,\n", "bad_amount", "amount");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,page_view,v1,,A1,,,,,,,yes,,,\n", "bad_loaded", "loaded");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,feedback,v1,,,,,,,,,,6,o1,\n", "bad_rating", "rating");
    assert_single_reject(HDR "2024-03-01T12:00:00Z,feedback,v1,,,,,,,,,,,o1,\n", "bad_rating", "rating");
    /* the first failing value wins: cost before units */
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,-1,0,,,,,o1,\n", "bad_cost", "cost");
}

/* Values are not trimmed: " 1" is not a number (R1.4b). */
static void r1_4b_values_not_trimmed(void **state) {
    (void)state;
    assert_single_reject(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,1, 2,,,,o1,\n", "bad_price", "price");
}

/* R1.4b accepted cases: BOM, CRLF, empty file, header only. */
static void r1_4b_bom_crlf_empty(void **state) {
    (void)state;
    cp_run *run = load_text("\xef\xbb\xbf" "ts,type,visitor,asin\r\n2024-03-01T12:00:00Z,page_view,v1,A1\r\n", NULL);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_string_equal(cp_str_c(cp_run_strings(run), cp_run_events(run)->asin[0]), "A1");
    cp_run_free(run);
    run = load_text("", NULL);
    assert_int_equal(cp_run_accepted(run) + cp_run_rejected(run), 0);
    cp_run_free(run);
    run = load_text("ts,type,visitor,asin\n", NULL);
    assert_int_equal(cp_run_accepted(run) + cp_run_rejected(run), 0);
    cp_run_free(run);
}

/* R1.2: epoch seconds and milliseconds, offsets, fractions truncated. */
static void r1_2_timestamp_forms(void **state) {
    (void)state;
    cp_run *run = load_text("ts,type,visitor,asin\n"
                            "1709294400,page_view,v,A\n"            /* 2024-03-01T12:00:00Z */
                            "1709294400123,page_view,v,A\n"         /* +123 ms */
                            "2024-03-01T20:00:00.9999+08:00,page_view,v,A\n" /* 12:00:00.999Z */
                            "2024-03-01 12:00:01,page_view,v,A\n", NULL);
    const cp_events *e = cp_run_events(run);
    assert_int_equal(e->n, 4);
    assert_int_equal(e->ts_ms[0], INT64_C(1709294400000));
    assert_int_equal(e->ts_ms[1], INT64_C(1709294400123));
    assert_int_equal(e->ts_ms[2], INT64_C(1709294400999));
    assert_int_equal(e->ts_ms[3], INT64_C(1709294401000));
    cp_run_free(run);
}

/* R1.6: equal timestamps keep input order (file, then line). */
static void r1_6_equal_timestamps_keep_input_order(void **state) {
    (void)state;
    cp_run *run = load_text("ts,type,visitor,asin\n"
                            "2024-03-01T12:00:01Z,page_view,late,A\n"
                            "2024-03-01T12:00:00Z,page_view,first,A\n"
                            "2024-03-01T12:00:00Z,page_view,second,A\n", NULL);
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    assert_string_equal(cp_str_c(s, e->visitor[0]), "first");
    assert_string_equal(cp_str_c(s, e->visitor[1]), "second");
    assert_string_equal(cp_str_c(s, e->visitor[2]), "late");
    assert_int_equal(e->line[0], 3);
    cp_run_free(run);
}

/* R1.3: purchases without order join the identity's lines of the same ts;
 * R1.5: amount is the line total, else units x price, exactly. */
static void r1_3_orderless_lines_share_an_order(void **state) {
    (void)state;
    cp_run *run = load_text(HDR
        "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,3,0.10,,,,,\n"     /* 0.30 */
        "2024-03-01T12:00:00Z,purchase,v1,,A2,,,,1,,7.665,,,,\n"     /* amount */
        "2024-03-01T12:00:01Z,purchase,v1,,A1,,,,1,1,,,,,\n"         /* other ts */
        "2024-03-01T12:00:00Z,purchase,v2,,A1,,,,1,1,,,,,\n", NULL); /* other identity */
    const cp_events *e = cp_run_events(run);
    size_t n_orders;
    cp_run_orders(run, &n_orders);
    assert_int_equal(n_orders, 3);
    /* order is a sub column (events.h): rows 0..3 are no impressions */
    assert_int_equal(e->order[cp_events_rank(e, 0)], e->order[cp_events_rank(e, 1)]);
    assert_true(e->order[cp_events_rank(e, 2)] != e->order[cp_events_rank(e, 0)]);
    assert_int_equal(e->money_micros[0], 300000);
    assert_int_equal(e->money_micros[1], 7665000);
    cp_run_free(run);
}

/* R1.4a: a negative purchase is a return of that many units, amount negated. */
static void r1_4a_negative_purchase_is_return(void **state) {
    (void)state;
    cp_run *run = load_text(HDR "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,-2,,-19.98,,,C1,\n"
                                "2024-03-01T12:00:00Z,purchase,v1,,A1,,,,-3,2.5,,,,C2,\n", NULL);
    const cp_events *e = cp_run_events(run);
    assert_int_equal(e->n, 2);
    assert_int_equal(e->type[0], CP_RETURN);
    assert_int_equal(e->units[cp_events_rank(e, 0)], 2);
    assert_int_equal(e->money_micros[0], 19980000);
    assert_int_equal(e->type[1], CP_RETURN);
    assert_int_equal(e->money_micros[1], 7500000); /* 3 x 2.5 */
    cp_run_free(run);
}

/* R1.4a: --map (joined), --set, --ts-format, --input-tz. */
static void r1_4a_mapping(void **state) {
    (void)state;
    cp_map_entry map[] = {{"visitor", "ip+device"}, {"ts", "when"}, {"asin", "sku"}};
    cp_set_entry set[] = {{"type", "page_view"}};
    cp_ingest_options o = {.map = map, .n_map = 3, .set = set, .n_set = 1,
                           .ts_format = "%m/%d/%Y %H:%M", .input_tz = "America/Los_Angeles"};
    cp_run *run = load_text("ip,device,when,sku\n1.2.3.4,7,03/10/2024 01:30,S1\n,,03/10/2024 12:00,S1\n", &o);
    const cp_events *e = cp_run_events(run);
    assert_int_equal(e->n, 1);
    /* 01:30 PST (UTC-8) = 09:30Z */
    assert_int_equal(e->ts_ms[0], INT64_C(1710063000000));
    assert_string_equal(cp_str_c(cp_run_strings(run), e->visitor[0]), "1.2.3.4|7");
    /* both joined columns empty: the identity is absent */
    assert_reject(run, 0, 3, "missing_identity", "visitor");
    cp_run_free(run);
}

/* A --map naming a column the header lacks is a usage error (R1.4b). */
static void r1_4b_map_missing_column_is_usage_error(void **state) {
    (void)state;
    cp_map_entry map[] = {{"visitor", "nope"}};
    cp_ingest_options o = {.map = map, .n_map = 1};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    char path[64];
    cp_test_tmpfile(path, sizeof path, "ts,type\n");
    assert_int_equal(cp_run_load(run, path, &err), CP_EUSAGE);
    assert_non_null(strstr(err.msg, "nope"));
    unlink(path);
    cp_run_free(run);
}

static void r1_4b_header_breaking_quotes_is_usage_error(void **state) {
    (void)state;
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    char path[64];
    cp_test_tmpfile(path, sizeof path, "ts,\"type\n");
    assert_int_equal(cp_run_load(run, path, &err), CP_EUSAGE);
    unlink(path);
    cp_run_free(run);
}

static void r1_4b_unopenable_file_names_it(void **state) {
    (void)state;
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load(run, "/nonexistent/events.csv", &err), CP_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/events.csv"));
    cp_run_free(run);
}

/* R1.4a: --delimiter ws, --no-header --columns. */
static void r1_4a_whitespace_and_no_header(void **state) {
    (void)state;
    cp_ingest_options o = {.delimiter = "ws", .no_header = true, .columns = "visitor,ts,units,amount",
                           .ts_format = "%Y%m%d",
                           .set = (cp_set_entry[]){{"type", "purchase"}, {"asin", "CD"}}, .n_set = 2};
    cp_run *run = load_text(" 00001  19970101 1 11.77\r\n\t00002 19970112\t2  \t89.00 \r\n", &o);
    const cp_events *e = cp_run_events(run);
    assert_int_equal(e->n, 2);
    assert_int_equal(e->ts_ms[0], INT64_C(852076800000)); /* 1997-01-01T00:00:00Z */
    assert_int_equal(e->money_micros[1], 89000000);
    assert_int_equal(e->units[cp_events_rank(e, 1)], 2);
    size_t n;
    assert_int_equal(cp_run_inputs(run, &n)[0].lines, 2); /* no header: both lines are records */
    cp_run_free(run);
}

/* R2.1: a visitor first seen with a customer takes that identity for all
 * its events, even earlier ones; --no-stitch keeps the visitor. */
static void r2_1_stitching(void **state) {
    (void)state;
    const char *text = "ts,type,visitor,customer,asin\n"
                       "2024-03-01T10:00:00Z,page_view,phone,,A\n"
                       "2024-03-01T11:00:00Z,page_view,phone,alice,A\n"
                       "2024-03-01T12:00:00Z,page_view,phone,bob,A\n"
                       "2024-03-01T13:00:00Z,page_view,laptop,,A\n";
    cp_run *run = load_text(text, NULL);
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    assert_string_equal(cp_str_c(s, e->identity[0]), "alice"); /* stitched back */
    assert_string_equal(cp_str_c(s, e->identity[1]), "alice");
    assert_string_equal(cp_str_c(s, e->identity[2]), "bob");   /* customer wins */
    assert_string_equal(cp_str_c(s, e->identity[3]), "laptop");
    cp_run_free(run);
    cp_ingest_options o = {.no_stitch = true};
    run = load_text(text, &o);
    e = cp_run_events(run);
    assert_string_equal(cp_str_c(cp_run_strings(run), e->identity[0]), "phone");
    cp_run_free(run);
}

/* The by-identity permutation is sorted by (identity, ts, input order). */
static void r2_by_identity_order(void **state) {
    (void)state;
    cp_run *run = load_text("ts,type,visitor,asin\n"
                            "2024-03-01T12:00:02Z,page_view,b,A\n"
                            "2024-03-01T12:00:01Z,page_view,a,A\n"
                            "2024-03-01T12:00:00Z,page_view,b,A\n"
                            "2024-03-01T12:00:03Z,page_view,a,A\n", NULL);
    const cp_events *e = cp_run_events(run);
    const uint32_t *p = cp_run_by_identity(run);
    for (size_t i = 1; i < e->n; i++) {
        if (e->identity[p[i]] == e->identity[p[i - 1]]) assert_true(e->ts_ms[p[i]] >= e->ts_ms[p[i - 1]]);
    }
    /* each identity's rows are contiguous: two runs of two */
    assert_int_equal(e->identity[p[0]], e->identity[p[1]]);
    assert_int_equal(e->identity[p[2]], e->identity[p[3]]);
    cp_run_free(run);
}

/* R1.1: the same events as CSV, JSON Lines, gzip (two members) and zstd give
 * the same store. */
static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void r1_1_formats_and_compression_agree(void **state) {
    (void)state;
    const char *csv = "ts,type,visitor,customer,asin,cost,campaign,ua\n"
                      "2024-03-01T12:00:00Z,click,v1,,A1,0.25,C,\"Mozilla, 5.0\"\n"
                      "2024-03-01T12:00:01Z,page_view,v1,c1,A1,,,x\n";
    const char *jsonl = "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"click\",\"visitor\":\"v1\",\"asin\":\"A1\",\"cost\":0.25,\"campaign\":\"C\",\"ua\":\"Mozilla, 5.0\"}\n"
                        "{\"ts\":\"2024-03-01T12:00:01Z\",\"type\":\"page_view\",\"visitor\":\"v1\",\"customer\":\"c1\",\"asin\":\"A1\",\"ua\":\"x\",\"extra\":null}\n";
    cp_run *a = load_text(csv, NULL);
    cp_run *b = load_text(jsonl, NULL);
    /* gzip with two members, and zstd, under names that say nothing */
    char gz[] = "/tmp/cp_test_gzXXXXXX", zs[] = "/tmp/cp_test_zsXXXXXX";
    close(mkstemp(gz));
    close(mkstemp(zs));
    gzFile g = gzopen(gz, "wb");
    size_t half = strlen(csv) / 2;
    gzwrite(g, csv, (unsigned)half);
    gzclose(g);
    g = gzopen(gz, "ab");
    gzwrite(g, csv + half, (unsigned)(strlen(csv) - half));
    gzclose(g);
    char zbuf[1024];
    size_t zn = ZSTD_compress(zbuf, sizeof zbuf, jsonl, strlen(jsonl), 3);
    assert_false(ZSTD_isError(zn));
    write_bytes(zs, zbuf, zn);
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *c = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load(c, gz, &err), CP_OK);
    assert_int_equal(cp_run_finish(c, &err), CP_OK);
    cp_run *d = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load(d, zs, &err), CP_OK);
    assert_int_equal(cp_run_finish(d, &err), CP_OK);
    unlink(gz);
    unlink(zs);
    cp_run *runs[] = {a, b, c, d};
    for (int r = 1; r < 4; r++) {
        const cp_events *x = cp_run_events(runs[0]), *y = cp_run_events(runs[r]);
        assert_int_equal(x->n, 2);
        assert_int_equal(y->n, 2);
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(x->ts_ms[i], y->ts_ms[i]);
            assert_int_equal(x->type[i], y->type[i]);
            assert_int_equal(x->money_micros[i], y->money_micros[i]);
            assert_string_equal(cp_str_c(cp_run_strings(runs[0]), x->identity[i]),
                                cp_str_c(cp_run_strings(runs[r]), y->identity[i]));
            assert_string_equal(cp_str_c(cp_run_strings(runs[0]), x->ua[i]),
                                cp_str_c(cp_run_strings(runs[r]), y->ua[i]));
        }
    }
    for (int r = 0; r < 4; r++) cp_run_free(runs[r]);
}

/* A truncated gzip file cannot be decompressed: an error naming the file. */
static void r1_4b_truncated_gzip_is_an_error(void **state) {
    (void)state;
    char gz[] = "/tmp/cp_test_gzXXXXXX";
    close(mkstemp(gz));
    gzFile g = gzopen(gz, "wb");
    for (int i = 0; i < 2000; i++) gzprintf(g, "2024-03-01T12:00:00Z,page_view,v%d,A\n", i);
    gzclose(g);
    assert_int_equal(truncate(gz, 200), 0);
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load(run, gz, &err), CP_EFORMAT);
    assert_non_null(strstr(err.msg, gz));
    unlink(gz);
    cp_run_free(run);
}

static void assert_same_runs(cp_run **runs, int n_runs, size_t min_events);

/* Writes text[0, len) zstd-compressed (level 1) to a new file made from
 * the mkstemp() template `path` (rewritten in place); returns the file's
 * compressed size. */
static size_t write_zstd_file(char *path, const char *text, size_t len) {
    size_t zcap = ZSTD_compressBound(len);
    char *z = malloc(zcap);
    assert_non_null(z);
    size_t zn = ZSTD_compress(z, zcap, text, len, 1);
    assert_false(ZSTD_isError(zn));
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, z, zn), (ssize_t)zn);
    close(fd);
    free(z);
    return zn;
}

/* Decompression on its own thread (--threads > 1, reader.c prefetch): a
 * zstd file of several 4 MiB chunks loads into the same store as on one
 * thread, and the same file cut short fails the same way on both. */
static void zstd_read_ahead_same_as_direct(void **state) {
    (void)state;
    size_t cap = 24u << 20, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    for (int i = 0; len + 256 < cap; i++)
        len += (size_t)snprintf(text + len, cap - len, "2024-03-%02dT%02d:%02d:00Z,purchase,v%d,,A%d,,,,%d,1.5,,,,o%d,\"UA %d\"\n",
                                1 + i % 28, i % 24, i % 60, i % 5000, i % 7, 1 + i % 3, i, i % 5);
    char path[] = "/tmp/cp_test_zstXXXXXX";
    size_t zn = write_zstd_file(path, text, len);
    cp_run *runs[2];
    for (unsigned t = 1; t <= 2; t++) {
        cp_ingest_options o = {.threads = t, .keep_raw_ids = true};
        cp_error err = {0};
        runs[t - 1] = cp_run_new(&o, &err);
        assert_int_equal(cp_run_load(runs[t - 1], path, &err), CP_OK);
        assert_int_equal(cp_run_finish(runs[t - 1], &err), CP_OK);
    }
    assert_same_runs(runs, 2, 100000);
    for (int t = 0; t < 2; t++) cp_run_free(runs[t]);
    /* cut in the middle of a later chunk: an error naming the file, both ways */
    assert_int_equal(truncate(path, (off_t)(zn * 2 / 3)), 0);
    for (unsigned t = 1; t <= 2; t++) {
        cp_ingest_options o = {.threads = t};
        cp_error err = {0};
        cp_run *run = cp_run_new(&o, &err);
        assert_int_equal(cp_run_load(run, path, &err), CP_EFORMAT);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "zstd"));
        cp_run_free(run);
    }
    unlink(path);
    free(text);
}

/* Chunks taken whole (reader.c cp_reader_take, ingest.c block_take): with
 * threads, a zstd or gzip input's decompressed chunks become the blocks
 * themselves, each block's unparsed tail copied in front of the next
 * chunk.  Blocks of 256 KiB, records that cross every chunk boundary,
 * quoted line ends (R1.1) and records longer than the head room (so the
 * copying path takes over for them) load into the same store as one thread
 * reading directly. */
static void chunks_taken_whole_same_as_direct(void **state) {
    (void)state;
    size_t cap = 6u << 20, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    for (int i = 0; len + 300000 < cap; i++) {
        if (i % 997 == 5) { /* a record of 150 KB: longer than the 64 KiB head room */
            len += (size_t)snprintf(text + len, cap - len, "2024-03-%02dT10:00:00Z,page_view,v%d,,A1,,,,,,,,,,\"", 1 + i % 28, i % 300);
            memset(text + len, 'x', 150000);
            len += 150000;
            len += (size_t)snprintf(text + len, cap - len, "\"\n");
        } else if (i % 7 == 3) { /* a quoted line end inside the user agent */
            len += (size_t)snprintf(text + len, cap - len,
                                    "2024-03-%02dT%02d:%02d:00Z,page_view,v%d,,A%d,,,,,,,,,,\"UA\nline %d\"\n", 1 + i % 28,
                                    i % 24, i % 60, i % 300, i % 5, i);
        } else {
            len += (size_t)snprintf(text + len, cap - len,
                                    "2024-03-%02dT%02d:%02d:00Z,purchase,v%d,,A%d,,,,%d,1.5,,,,o%d,\"UA %d\"\n", 1 + i % 28,
                                    i % 24, i % 60, i % 300, i % 7, 1 + i % 3, i, i % 5);
        }
    }
    char zpath[] = "/tmp/cp_test_takeXXXXXX";
    (void)write_zstd_file(zpath, text, len);
    char gzpath[] = "/tmp/cp_test_takegzXXXXXX";
    int fd = mkstemp(gzpath);
    assert_true(fd >= 0);
    gzFile g = gzdopen(fd, "wb1");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, text, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
    const char *paths[2] = {zpath, gzpath};
    for (int f = 0; f < 2; f++) {
        cp_run *runs[3];
        for (unsigned t = 1; t <= 3; t++) {
            cp_ingest_options o = {.threads = t, .keep_raw_ids = true, .parallel_min_bytes = 4096,
                                   .block_bytes = t == 1 ? 0 : 262144};
            cp_error err = {0};
            runs[t - 1] = cp_run_new(&o, &err);
            assert_int_equal(cp_run_load(runs[t - 1], paths[f], &err), CP_OK);
            assert_int_equal(cp_run_finish(runs[t - 1], &err), CP_OK);
        }
        assert_same_runs(runs, 3, 20000);
        for (int t = 0; t < 3; t++) {
            size_t n_in = 0;
            const cp_input_stats *in = cp_run_inputs(runs[t], &n_in);
            assert_int_equal(n_in, 1);
            assert_int_equal(in[0].bytes, len); /* every decompressed byte counted once */
        }
        for (int t = 0; t < 3; t++) cp_run_free(runs[t]);
    }
    unlink(zpath);
    unlink(gzpath);
    free(text);
}

/* Real data (shared/data README): the Online Retail export through the
 * column mapping.  541,909 rows; the only rejects are the two "Adjust bad
 * debt" rows with a negative UnitPrice (bad_price); 4,372 customers. */
static void real_online_retail_loads(void **state) {
    (void)state;
    cp_map_entry map[] = {{"order", "InvoiceNo"}, {"asin", "StockCode"}, {"units", "Quantity"},
                          {"ts", "InvoiceDate"}, {"price", "UnitPrice"}, {"customer", "CustomerID"},
                          {"visitor", "InvoiceNo"}};
    cp_set_entry set[] = {{"type", "purchase"}};
    cp_ingest_options o = {.map = map, .n_map = 7, .set = set, .n_set = 1, .input_tz = "Europe/London",
                           .keep_raw_ids = true};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    const char *path = CP_SHARED_DATA("online-retail/online_retail.csv.gz");
    assert_int_equal(cp_run_load(run, path, &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    size_t n;
    const cp_input_stats *in = cp_run_inputs(run, &n);
    assert_int_equal(in[0].lines, 541909);
    assert_int_equal(cp_run_rejected(run), 2);
    assert_reject(run, 0, 299985, "bad_price", "price");
    /* distinct CustomerID values among accepted events */
    const cp_events *e = cp_run_events(run);
    const cp_strings *s = cp_run_strings(run);
    uint8_t *seen = calloc(cp_strings_count(s) + 1, 1);
    size_t customers = 0, returns = 0;
    int64_t units_bought = 0, units_returned = 0, net_micros = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (e->customer[i] && !seen[e->customer[i]]) { seen[e->customer[i]] = 1; customers++; }
        /* (every row is a purchase or a return: a sub row, events.h) */
        int32_t units = e->units[cp_events_rank(e, i)];
        if (e->type[i] == CP_RETURN) { returns++; units_returned += units; net_micros -= e->money_micros[i]; }
        else { units_bought += units; net_micros += e->money_micros[i]; }
    }
    free(seen);
    assert_int_equal(customers, 4372);
    /* README: 10,624 rows have a negative Quantity; all load as returns */
    assert_int_equal(returns, 10624);
    /* README: sum of Quantity x UnitPrice over all rows is 9,747,747.934; the
     * two rejected rows are 1 x -11,062.06 each, so the accepted rows sum to
     * 9,747,747.934 + 22,124.12 = 9,769,872.054 */
    assert_int_equal(net_micros, INT64_C(9769872054000));
    (void)units_bought; (void)units_returned;
    /* 2010-12-01 08:26:00 UK time is GMT in winter: 08:26Z */
    assert_int_equal(e->ts_ms[0], INT64_C(1291191960000));
    cp_run_free(run);
}

/* CDNOW: the BTYD sample (6,919 rows, 2,357 customers) and the full master
 * log through --delimiter ws (69,659 rows, 23,570 customers), zero rejects. */
static size_t distinct_identities(const cp_run *run) {
    const cp_events *e = cp_run_events(run);
    uint8_t *seen = calloc(cp_strings_count(cp_run_strings(run)) + 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (!seen[e->identity[i]]) { seen[e->identity[i]] = 1; n++; }
    free(seen);
    return n;
}

static void real_cdnow_loads(void **state) {
    (void)state;
    cp_map_entry map[] = {{"customer", "masterid"}, {"ts", "date"}, {"units", "cds"}, {"amount", "sales"}};
    cp_set_entry set[] = {{"type", "purchase"}, {"asin", "CD"}};
    cp_ingest_options o = {.map = map, .n_map = 4, .set = set, .n_set = 2, .ts_format = "%Y%m%d"};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load(run, CP_SHARED_DATA("cdnow/cdnowElog.csv"), &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    assert_int_equal(cp_run_accepted(run), 6919);
    assert_int_equal(cp_run_rejected(run), 0);
    assert_int_equal(distinct_identities(run), 2357);
    cp_run_free(run);

    cp_map_entry map2[] = {{"customer", "customer_id"}, {"ts", "date"}, {"units", "number_of_cds"},
                           {"amount", "dollar_value"}};
    cp_ingest_options o2 = {.map = map2, .n_map = 4, .set = set, .n_set = 2, .ts_format = "%Y%m%d",
                            .delimiter = "ws"};
    run = cp_run_new(&o2, &err);
    assert_int_equal(cp_run_load(run, CP_SHARED_DATA("cdnow/CDNOW_master.txt"), &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    assert_int_equal(cp_run_accepted(run), 69659);
    assert_int_equal(cp_run_rejected(run), 0);
    assert_int_equal(distinct_identities(run), 23570);
    /* README: 80 rows have a dollar value of 0.00 */
    const cp_events *e = cp_run_events(run);
    size_t zero = 0;
    for (size_t i = 0; i < e->n; i++) zero += e->money_micros[i] == 0;
    assert_int_equal(zero, 80);
    cp_run_free(run);
}


/* The store, rejects and line numbers of runs[1..n_runs) equal runs[0]'s. */
static void assert_same_runs(cp_run **runs, int n_runs, size_t min_events) {
    const cp_events *a = cp_run_events(runs[0]);
    assert_true(a->n > min_events);
    for (int t = 1; t < n_runs; t++) {
        const cp_events *b = cp_run_events(runs[t]);
        assert_int_equal(a->n, b->n);
        assert_int_equal(cp_run_rejected(runs[0]), cp_run_rejected(runs[t]));
        for (size_t i = 0; i < a->n; i++) {
            assert_int_equal(a->ts_ms[i], b->ts_ms[i]);
            assert_int_equal(a->line[i], b->line[i]);
            assert_int_equal(a->money_micros[i], b->money_micros[i]);
            assert_int_equal(a->identity[i], b->identity[i]); /* same ids: interned in input order */
            assert_int_equal(a->ua[i], b->ua[i]);
            assert_int_equal(a->asin[i], b->asin[i]);
            assert_int_equal(a->ip[i], b->ip[i]); /* HDR has no ip column: the absent one */
            assert_int_equal(a->order[i], b->order[i]);
            assert_int_equal(a->type[i], b->type[i]);
            assert_int_equal(a->flags[i], b->flags[i]);
        }
        size_t na, nb;
        const cp_reject *ra = cp_run_rejects(runs[0], &na), *rb = cp_run_rejects(runs[t], &nb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(ra[i].line, rb[i].line);
            assert_int_equal(ra[i].reason, rb[i].reason);
            assert_string_equal(ra[i].text, rb[i].text);
        }
        size_t n;
        assert_int_equal(cp_run_inputs(runs[0], &n)[0].blank_lines, cp_run_inputs(runs[t], &n)[0].blank_lines);
    }
}

/* --threads: any number of parsing threads gives the same store, rejects and
 * line numbers, also when quoted line ends straddle the cuts between parts
 * (those blocks fall back to one thread). */
static void threads_give_identical_results(void **state) {
    (void)state;
    size_t cap = 1u << 22, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    for (int i = 0; len + 512 < cap; i++) {
        int k = i % 97;
        if (k == 13) len += (size_t)snprintf(text + len, cap - len, "2024-03-01T12:00:%02dZ,page_view,v%d,,A1,,,,,,,,,,\"multi\nline %d\"\n", i % 60, i % 50, i);
        else if (k == 41) len += (size_t)snprintf(text + len, cap - len, "bad,line,%d\n", i);
        else if (k == 77) len += (size_t)snprintf(text + len, cap - len, "\n");
        else if (k == 88) len += (size_t)snprintf(text + len, cap - len, "2024-03-01T12:00:00Z,click,v%d,,A1,C,,-1,,,,,,,\n", i);
        else len += (size_t)snprintf(text + len, cap - len, "2024-03-%02dT%02d:00:00Z,purchase,v%d,,A%d,,,,%d,1.5,,,,o%d,\"UA, %d\"\n",
                                     1 + i % 28, i % 24, i % 1000, i % 7, 1 + i % 3, i, i % 5);
    }
    /* runs[0]: one thread; then 2..4 threads on one block; then 2..4 threads
     * on 64 KiB blocks, so that dozens of blocks go through the pipeline
     * (one block parsed while the one before is committed) and many of them
     * fall back to one thread */
    enum { N_RUNS = 7 };
    cp_run *runs[N_RUNS];
    for (unsigned t = 1; t <= N_RUNS; t++) {
        cp_ingest_options o = {.threads = t <= 4 ? t : t - 3, .parallel_min_bytes = 4096,
                               .block_bytes = t <= 4 ? 0 : 65536};
        runs[t - 1] = load_text(text, &o);
    }
    free(text);
    assert_same_runs(runs, N_RUNS, 10000);
    for (int t = 0; t < N_RUNS; t++) cp_run_free(runs[t]);
}

/* About cap bytes of CSV where every third record spans two lines (a
 * quoted line end); with rejects, every 17th record has a bad timestamp
 * and is followed by a blank line.  Its length in *len when not NULL. */
static char *quoted_line_ends_text(size_t cap, bool rejects, size_t *len_out) {
    size_t len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    for (int i = 0; len + 512 < cap; i++) {
        if (i % 3 == 0)
            len += (size_t)snprintf(text + len, cap - len,
                                    "2024-03-01T12:00:%02dZ,page_view,v%d,,A1,,,,,,,,,,\"two\nlines %d\"\n", i % 60, i % 50, i);
        else if (rejects && i % 17 == 0)
            len += (size_t)snprintf(text + len, cap - len, "not a time,purchase,v1,,A1,,,,1,1.5,,,,o%d,\n\n", i);
        else
            len += (size_t)snprintf(text + len, cap - len, "2024-03-%02dT%02d:00:00Z,purchase,v%d,,A%d,,,,%d,1.5,,,,o%d,\"UA %d\"\n",
                                    1 + i % 28, i % 24, i % 1000, i % 7, 1 + i % 3, i, i % 5);
    }
    if (len_out) *len_out = len;
    return text;
}

/* The parsing pipeline (a block parsed while the one before it commits)
 * when quoted line ends are frequent: every third record spans two lines, so
 * many blocks straddle a quote at a cut or at the block end and go back to
 * one thread, and the block after such a block continues the pipeline. */
static void pipeline_with_frequent_quoted_line_ends(void **state) {
    (void)state;
    char *text = quoted_line_ends_text(1u << 21, false, NULL);
    enum { N_RUNS = 4 };
    cp_run *runs[N_RUNS];
    for (unsigned t = 1; t <= N_RUNS; t++) {
        cp_ingest_options o = {.threads = t, .parallel_min_bytes = 4096, .block_bytes = 16384};
        runs[t - 1] = load_text(text, &o);
    }
    free(text);
    assert_same_runs(runs, N_RUNS, 15000);
    for (int t = 0; t < N_RUNS; t++) cp_run_free(runs[t]);
}

/* The one-pass CSV scan (line end, delimiter and quote masks 64 bytes at a
 * time, ASCII check) and the split from the masks: user agents of every
 * length from 0 to 199 bytes, so that their delimiters and quotes fall on
 * every offset of a 64-byte word, plain, quoted with a delimiter inside,
 * with a doubled quote, and with a non-ASCII byte; and lines whose quoting
 * breaks at those offsets.  Each value as written, each break rejected at
 * its line; and the same store read through 4 KiB windows of the mapped
 * file on two threads as read on one. */
static void csv_fields_at_every_offset(void **state) {
    (void)state;
    size_t cap = 1u << 20, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    char pad[256];
    memset(pad, 'x', sizeof pad);
    uint64_t line = 1;
    enum { N_LEN = 200, N_KIND = 6 };
    for (int n = 0; n < N_LEN; n++)
        for (int kind = 0; kind < N_KIND; kind++) {
            line++;
            int vis = (int)(line % 13); /* moves the field's start too */
            len += (size_t)snprintf(text + len, cap - len, "2024-03-01T12:00:00Z,purchase,v%.*s,,A1,,,,1,1.5,,,,o%d,",
                                    vis, pad, (int)line);
            switch (kind) {
            case 0: len += (size_t)snprintf(text + len, cap - len, "%.*s\n", n, pad); break;
            case 1: len += (size_t)snprintf(text + len, cap - len, "\"%.*s, z\"\n", n, pad); break;
            case 2: len += (size_t)snprintf(text + len, cap - len, "\"%.*s\"\"w\"\n", n, pad); break;
            case 3: len += (size_t)snprintf(text + len, cap - len, "\xc3\xa9%.*s\n", n, pad); break;
            case 4: len += (size_t)snprintf(text + len, cap - len, "a%.*s\"x\"\n", n, pad); break; /* quote inside */
            case 5: len += (size_t)snprintf(text + len, cap - len, "\"%.*s\"x\n", n, pad); break; /* after closing */
            }
        }
    cp_ingest_options one = {.threads = 1}, mapped = {.threads = 2, .parallel_min_bytes = 4096, .block_bytes = 4096};
    cp_run *runs[2] = {load_text(text, &one), load_text(text, &mapped)};
    free(text);
    const cp_events *e = cp_run_events(runs[0]);
    assert_int_equal(e->n, N_LEN * 4);
    assert_int_equal(cp_run_rejected(runs[0]), N_LEN * 2);
    char want[300];
    for (size_t i = 0; i < e->n; i++) {
        uint64_t k = e->line[i] - 2;
        int n = (int)(k / N_KIND), kind = (int)(k % N_KIND);
        switch (kind) {
        case 0: snprintf(want, sizeof want, "%.*s", n, pad); break;
        case 1: snprintf(want, sizeof want, "%.*s, z", n, pad); break;
        case 2: snprintf(want, sizeof want, "%.*s\"w", n, pad); break;
        case 3: snprintf(want, sizeof want, "\xc3\xa9%.*s", n, pad); break;
        default: fail_msg("line %u accepted", (unsigned)e->line[i]);
        }
        assert_string_equal(cp_str_c(cp_run_strings(runs[0]), e->ua[i]), want);
    }
    size_t nr;
    const cp_reject *rj = cp_run_rejects(runs[0], &nr);
    for (size_t i = 0; i < nr; i++) {
        assert_true((rj[i].line - 2) % N_KIND >= 4);
        assert_string_equal(cp_reject_reason_name(rj[i].reason), "csv_bad_quote");
    }
    assert_same_runs(runs, 2, N_LEN * 4 - 1);
    for (int t = 0; t < 2; t++) cp_run_free(runs[t]);
}

/* One line of csv_simd_levels_match_bytewise_reader's input (HDR's 15
 * columns): field values chosen so that quotes, delimiters inside quotes,
 * doubled quotes, non-ASCII and bad UTF-8 bytes, CR, quoting errors and
 * wrong field counts land at every offset of the 16-, 32- and 64-byte steps
 * of the line scan, and lines end at every offset of a block. */
static size_t scan_case_line(char *out, size_t cap, unsigned *seed) {
    static const char *const uas[] = {
        "plain", "\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\"",
        "\"a \"\"quoted\"\" word, and more\"", "\"\"", "\"\"\"\"", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "\"\xc3\xa9, \xe2\x82\xac\"", "bad \xff byte", "cut \xc3", "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
        "a\"b",            /* csv_bad_quote: a quote inside an unquoted field */
        "\"closed\"after", /* csv_bad_quote: text after the closing quote */
        "\"x\",\"y\"",     /* one field too many */
        "cr\rinside",
        "\"multi\nline, record\"",
        "\"unterminated",   /* runs on to the next line's quotes */
    };
    char pad[300];
    unsigned r = *seed = *seed * 1103515245u + 12345u;
    size_t n_pad = (r >> 8) % 160, o = 0;
    memset(pad, (r >> 20) % 2 ? 'p' : ' ', n_pad);
    pad[n_pad] = '\0';
    unsigned kind = (r >> 16) % 24;
    const char *ua = uas[(r >> 4) % (sizeof uas / sizeof *uas)];
    const char *end = (r >> 12) % 5 == 0 ? "\r\n" : "\n";
#define PUT(...) (o += (size_t)snprintf(out + o, cap - o, __VA_ARGS__))
    if (kind == 0) {
        PUT("%s", (r >> 24) % 2 ? "\n" : " \t \r\n"); /* blank */
    } else if (kind == 1) { /* too many fields: more than a 64-byte word ends */
        PUT("2024-03-01T12:00:00.000Z,page_view,v1,,A1");
        for (unsigned k = 0; k < 70 + (r >> 24) % 70; k++) PUT(",%s", k % 2 ? "" : "z");
        PUT("%s%s", (r >> 23) % 2 ? "\"late\"error" : "x", end); /* a quoting error after them, or none */
    } else if (kind == 2) { /* too few fields */
        PUT("2024-03-01T12:00:00.000Z,page_view,v%s%s", pad, end);
    } else if (kind == 3) { /* a quoted delimiter run across words */
        PUT("2024-03-01T12:00:01.500Z,page_view,\"v%s", pad);
        for (unsigned k = 0; k < (r >> 24) % 90; k++) PUT(",");
        PUT("\",,A1,,,,,,,,,,\"%s\"%s", pad, end);
    } else {
        PUT("2024-03-%02uT%02u:%02u:%02u.%03uZ,purchase,v%u%s,%s,A%u,,,,%u,%u.25,,,,o%u,%s%s", 1 + (r >> 3) % 28,
            (r >> 5) % 24, (r >> 7) % 60, (r >> 9) % 60, (r >> 11) % 1000, (r >> 13) % 50, pad,
            (r >> 14) % 3 ? "" : "\"c,1\"", (r >> 15) % 7, 1 + (r >> 17) % 3, (r >> 18) % 90, (r >> 19) % 500, ua, end);
    }
#undef PUT
    return o;
}

/* The line scan's instruction sets (cp_simd: a plain loop, SSE2, AVX2 and
 * AVX-512BW, those this CPU has) and the bit-mask field split give the
 * store, the rejects (R1.4b reasons, lines, texts) and the blank lines of
 * the byte-by-byte reader (csv_find_record, csv_split), on one thread and on
 * two with small blocks (records cut at every offset of a block). */
static void csv_simd_levels_match_bytewise_reader(void **state) {
    (void)state;
    size_t cap = 3u << 20, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, HDR);
    unsigned seed = 7;
    while (len + 4096 < cap) len += scan_case_line(text + len, cap - len, &seed);
    text[len] = '\0';
    cp_simd best = cp_simd_supported(), before = cp_simd_level();
    enum { MAX_RUNS = 2 * (CP_SIMD_AVX512 + 1) };
    cp_run *runs[MAX_RUNS];
    int n_runs = 0;
    for (int level = CP_SIMD_BYTES; level <= (int)best; level++) {
        assert_int_equal(cp_simd_force((cp_simd)level), level);
        cp_ingest_options one = {.threads = 1}, two = {.threads = 2, .parallel_min_bytes = 1, .block_bytes = 4096};
        runs[n_runs++] = load_text(text, &one);
        runs[n_runs++] = load_text(text, &two);
    }
    cp_simd_force(before);
    free(text);
    assert_true(cp_run_rejected(runs[0]) > 1000); /* every kind of reject is there */
    uint64_t by_reason[CP_N_REJECT_REASONS];
    cp_run_rejects_by_reason(runs[0], by_reason);
    assert_true(by_reason[CP_R_BAD_ENCODING] > 0);
    assert_true(by_reason[CP_R_CSV_BAD_QUOTE] > 0);
    assert_true(by_reason[CP_R_BAD_FIELD_COUNT] > 0);
    assert_same_runs(runs, n_runs, 1000);
    for (int t = 0; t < n_runs; t++) cp_run_free(runs[t]);
}

/* R1.4b: a quoting error is a whole-line reason, so it wins over a field
 * count that is also wrong, wherever the error is: here after 100 fields
 * (more than one 64-byte word of delimiters past the header's 15). */
static void r1_4b_bad_quote_after_too_many_fields(void **state) {
    (void)state;
    char text[1024];
    size_t o = (size_t)snprintf(text, sizeof text, HDR "2024-03-01T12:00:00Z,page_view,v1,,A1");
    for (int k = 0; k < 100; k++) text[o++] = ',';
    snprintf(text + o, sizeof text - o, "\"a\"b\n");
    for (int level = CP_SIMD_BYTES; level <= (int)cp_simd_supported(); level++) {
        cp_simd before = cp_simd_level();
        cp_simd_force((cp_simd)level);
        assert_single_reject(text, "csv_bad_quote", NULL);
        cp_simd_force(before);
    }
    /* without the error: the count (105 fields, not 15) */
    text[o] = '\n';
    text[o + 1] = '\0';
    assert_single_reject(text, "bad_field_count", NULL);
}

/* --delimiter x (R1.4a): the line scan pads the last bytes of an input
 * that ends without a line end with 'x' bytes, which must not count as
 * delimiters: the record has its 4 fields and is accepted, at every level. */
static void r1_4a_delimiter_like_the_scan_padding(void **state) {
    (void)state;
    const char *text = "tsxtypexvisitorxasin\n2024-03-01T12:00:00Zxpage_viewxv1xA1";
    for (int level = CP_SIMD_BYTES; level <= (int)cp_simd_supported(); level++) {
        cp_simd before = cp_simd_level();
        cp_simd_force((cp_simd)level);
        cp_ingest_options o = {.delimiter = "x"};
        cp_run *run = load_text(text, &o);
        cp_simd_force(before);
        assert_int_equal(cp_run_accepted(run), 1);
        assert_int_equal(cp_run_rejected(run), 0);
        cp_run_free(run);
    }
}

/* R1.2: YYYY-MM-DDTHH:MM:SS.mmmZ has a fast path when its date is the one
 * parsed before on the thread (values.c).  Each value below is parsed once
 * after another date (the general path) and once more (the fast path, or
 * the general one where it declines): both must agree, to the millisecond
 * and on every reject.  2024-03-01 is day 19783: 19783 * 86400000 =
 * 1709251200000. */
static void r1_2_timestamp_fast_path_matches_general(void **state) {
    (void)state;
    static const char *const cases[] = {
        "2024-03-01T00:00:00.000Z", "2024-03-01T23:59:59.999Z", "2024-03-01T12:34:56.789Z",
        "2024-03-01T24:00:00.000Z", "2024-03-01T12:60:00.000Z", "2024-03-01T12:00:60.000Z",
        "2024-03-01T12:00:00.00xZ", "2024-03-01T12:00:00,000Z", "2024-03-01t12:00:00.000Z",
        "2024-03-01T12:00:00.000z", "2024-03-01 12:00:00.000Z", "2024-03-01T1\xb2:00:00.000Z",
        "2024-03-01T12:00:00.0001Z", "2024-03-01T12:00:00.00Z", "2024-03-01T12:0:000.000Z",
        "2024-03-01T12-00:00.000Z", "2024-03-01T12:00:00.000+", "2024-03-01T12:00:00./00Z",
        "2024-03-01T12:00:00.:00Z", "2024-03-01T/2:00:00.000Z", "2099-12-31T23:59:59.000Z",
        "2099-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "2024-02-29T12:00:00.000Z",
        "2023-02-29T12:00:00.000Z",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *c = cases[i];
        size_t len = strlen(c);
        int64_t prime, general = -1, fast = -2;
        assert_true(cp_parse_ts("2001-01-01T00:00:00Z", 20, NULL, &prime)); /* another date */
        bool ok_general = cp_parse_ts(c, len, NULL, &general);
        bool ok_fast = cp_parse_ts(c, len, NULL, &fast);
        assert_int_equal(ok_general, ok_fast);
        if (ok_general) assert_int_equal(general, fast);
    }
    int64_t t;
    assert_true(cp_parse_ts("2024-03-01T12:34:56.789Z", 24, NULL, &t));
    assert_true(cp_parse_ts("2024-03-01T12:34:56.789Z", 24, NULL, &t));
    assert_int_equal(t, INT64_C(1709251200000) + 12 * 3600000 + 34 * 60000 + 56 * 1000 + 789);
    assert_false(cp_parse_ts("2024-03-01T24:00:00.000Z", 24, NULL, &t));
    assert_true(cp_parse_ts("2099-12-31T23:59:59.000Z", 24, NULL, &t));
    assert_false(cp_parse_ts("2099-12-31T23:59:59.999Z", 24, NULL, &t)); /* past the range, R1.4b */
}

/* --mpi stripes (cp_ingest_options.stripe_*): the processes' stripes of one
 * input hold every record exactly once, each at its own line, rejects and
 * blank lines included, for any thread count and block size. */
static void stripes_share_the_records(void **state) {
    (void)state;
    size_t len;
    char *text = quoted_line_ends_text(1u << 18, true, &len);
    cp_ingest_options whole_o = {.threads = 1};
    cp_run *whole = load_text(text, &whole_o);
    const cp_events *we = cp_run_events(whole);
    size_t n_in;
    const cp_input_stats *wi = cp_run_inputs(whole, &n_in);
    assert_true(cp_run_rejected(whole) > 100);
    assert_true(wi[0].blank_lines > 100);
    size_t n_phys = 2; /* physical lines, quoted line ends included */
    for (size_t i = 0; i < len; i++) n_phys += text[i] == '\n';
    uint8_t *seen = calloc(n_phys, 1); /* by line: 1 event, 2 reject */
    static const unsigned shifts[] = {6, 12};
    for (unsigned count = 2; count <= 3; count++)
        for (size_t si = 0; si < 2; si++)
            for (unsigned threads = 1; threads <= 2; threads++) {
                memset(seen, 0, n_phys);
                uint64_t lines = 0, accepted = 0, rejected = 0, blank = 0;
                for (unsigned r = 0; r < count; r++) {
                    cp_ingest_options o = {.threads = threads, .parallel_min_bytes = 4096, .block_bytes = 16384,
                                           .stripe_count = count, .stripe_index = r, .stripe_shift = shifts[si]};
                    cp_run *run = load_text(text, &o);
                    const cp_events *e = cp_run_events(run);
                    for (size_t i = 0; i < e->n; i++) {
                        assert_int_equal(seen[e->line[i]], 0);
                        seen[e->line[i]] = 1;
                    }
                    size_t nr;
                    const cp_reject *rj = cp_run_rejects(run, &nr);
                    for (size_t i = 0; i < nr; i++) {
                        assert_int_equal(seen[rj[i].line], 0);
                        seen[rj[i].line] = 2;
                    }
                    const cp_input_stats *in = cp_run_inputs(run, &n_in);
                    lines += in[0].lines;
                    accepted += in[0].accepted;
                    rejected += in[0].rejected;
                    blank += in[0].blank_lines;
                    if (shifts[si] == 6) assert_true(e->n > 0 && e->n < we->n); /* a real share */
                    cp_run_free(run);
                }
                assert_int_equal(lines, wi[0].lines);
                assert_int_equal(accepted, wi[0].accepted);
                assert_int_equal(rejected, wi[0].rejected);
                assert_int_equal(blank, wi[0].blank_lines);
                for (size_t i = 0; i < we->n; i++) assert_int_equal(seen[we->line[i]], 1);
                size_t nr;
                const cp_reject *rj = cp_run_rejects(whole, &nr);
                for (size_t i = 0; i < nr; i++) assert_int_equal(seen[rj[i].line], 2);
            }
    free(seen);
    free(text);
    cp_run_free(whole);
}

/* cp_run_load_buffer: the same checks on bytes in memory (the collector's
 * request bodies), named in rejects by the given name. */
static void load_buffer_same_as_file(void **state) {
    (void)state;
    const char *body = "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v\",\"asin\":\"A\"}\n"
                       "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v\"}\n";
    cp_ingest_options o = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    assert_int_equal(cp_run_load_buffer(run, "request-1", body, strlen(body), &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    assert_int_equal(cp_run_accepted(run), 1);
    assert_reject(run, 0, 2, "missing_asin", "asin");
    size_t n;
    assert_string_equal(cp_run_inputs(run, &n)[0].path, "request-1");
    cp_run_free(run);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r1_4_lines_add_up),
        cmocka_unit_test(r1_4b_bad_encoding_first),
        cmocka_unit_test(r1_4b_nul_byte_is_bad_encoding),
        cmocka_unit_test(r1_4b_overlong_utf8_is_bad_encoding),
        cmocka_unit_test(r1_4b_line_over_1mib),
        cmocka_unit_test(r1_4b_quote_inside_unquoted_field),
        cmocka_unit_test(r1_4b_text_after_closing_quote),
        cmocka_unit_test(r1_4b_unterminated_quote_to_eof),
        cmocka_unit_test(r1_4_multiline_record_line_numbers),
        cmocka_unit_test(r1_4b_doubled_quotes_unescape),
        cmocka_unit_test(r1_4b_bad_json_nested),
        cmocka_unit_test(r1_4b_field_reasons),
        cmocka_unit_test(r1_4b_value_reasons),
        cmocka_unit_test(r1_4b_values_not_trimmed),
        cmocka_unit_test(r1_4b_bom_crlf_empty),
        cmocka_unit_test(r1_2_timestamp_forms),
        cmocka_unit_test(r1_6_equal_timestamps_keep_input_order),
        cmocka_unit_test(r1_3_orderless_lines_share_an_order),
        cmocka_unit_test(r1_4a_negative_purchase_is_return),
        cmocka_unit_test(r1_4a_mapping),
        cmocka_unit_test(r1_4b_map_missing_column_is_usage_error),
        cmocka_unit_test(r1_4b_header_breaking_quotes_is_usage_error),
        cmocka_unit_test(r1_4b_unopenable_file_names_it),
        cmocka_unit_test(r1_4a_whitespace_and_no_header),
        cmocka_unit_test(r2_1_stitching),
        cmocka_unit_test(r2_by_identity_order),
        cmocka_unit_test(r1_1_formats_and_compression_agree),
        cmocka_unit_test(r1_4b_truncated_gzip_is_an_error),
        cmocka_unit_test(zstd_read_ahead_same_as_direct),
        cmocka_unit_test(chunks_taken_whole_same_as_direct),
        cmocka_unit_test(threads_give_identical_results),
        cmocka_unit_test(pipeline_with_frequent_quoted_line_ends),
        cmocka_unit_test(csv_fields_at_every_offset),
        cmocka_unit_test(csv_simd_levels_match_bytewise_reader),
        cmocka_unit_test(r1_4b_bad_quote_after_too_many_fields),
        cmocka_unit_test(r1_4a_delimiter_like_the_scan_padding),
        cmocka_unit_test(r1_2_timestamp_fast_path_matches_general),
        cmocka_unit_test(stripes_share_the_records),
        cmocka_unit_test(load_buffer_same_as_file),
        cmocka_unit_test(real_online_retail_loads),
        cmocka_unit_test(real_cdnow_loads),
    };
    return cmocka_run_group_tests_name("ingest (R1, R2)", tests, NULL, NULL);
}

/* test_partial_customers.c -- feedback.csv (R10.6) and cac.csv (R10.4) in
 * halves (report/partial.h, customers/customers.h): add() over two runs made
 * of disjoint identities, then emit(), writes the same bytes as one run over
 * all their lines.
 *
 * Round 2: the accumulators of A and B made separately and combined --
 * merge(B into A), merge of a saved and loaded B, merges into an accumulator
 * that never had an add() -- write the whole run's bytes too, and loads of
 * damaged saved states fail cleanly.
 *
 * The runs come from one buffer: the whole run reads every line, each part
 * reads the same buffer with the other part's lines blanked, so every event
 * keeps its line number.  The parts intern their strings in another order
 * than the whole run (part B meets X2 and C1 first), so local ids differ. */
#include <stdbool.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "testutil.h"
#include "customers/customers.h"
#include "util/bytes.h"
#include "util/values.h"

typedef struct line {
    char part; /* 'A' or 'B' */
    const char *text;
} line;

#define HEADER "ts,type,customer,asin,campaign,tag,cost,order,price,rating\n"

/* As-of 2024-03-03T00:00Z; the R10.6 window starts 2023-12-04T00:00Z.
 *
 * Feedback (latest rating per order): oa1 4, oa2 2 (negative), oa3 none,
 * ob1 1 then 5 (latest 5), ob2 1 (negative), ob3 none; oa0 (2023-11-01) is
 * outside the window.  Account: 6 orders, 4 with feedback, 2 negative.
 * X1: oa1 oa2 ob2 -> 3, 3, 2.  X2: oa2 ob1 ob3 -> 3, 2, 1.  X3: oa3 -> 1, 0, 0.
 *
 * CAC: C1: b1's click 1.00, b1's first purchase credited (R6) -> 1 new.
 * C2: impressions 0.50 + 0.25 and a1's click 1.50 (a1's second click is a
 * duplicate, R3.1, its 2.00 is not spend) = 2.25; a1's first purchase is
 * credited -> 1 new.  Channel: 3.25, 2.  Off-site: t1 (google, spring)
 * 0.30 and a2's first purchase (R7); t2 (meta, spring) 0.40 and b2's; t9 is
 * not in the registry, so b3's click and purchase are in no row.  a3's first
 * purchase (oa0) is credited to nothing. */
static const line LINES[] = {
    {'A', "2024-03-01T00:00:00Z,impression,,X1,C2,,0.50,,,"},
    {'B', "2024-03-01T00:00:00Z,click,b1,X2,C1,,1.00,,,"},
    {'A', "2024-03-01T00:01:00Z,click,a1,X1,C2,,1.50,,,"},
    {'B', "2024-03-01T00:00:30Z,impression,,X2,C2,,0.25,,,"},
    {'A', "2024-03-01T00:02:00Z,click,a1,X1,C2,,2.00,,,"},
    {'A', "2024-03-01T00:03:00Z,click,a2,X1,,t1,0.30,,,"},
    {'B', "2024-03-01T00:05:00Z,click,b2,X2,,t2,0.40,,,"},
    {'B', "2024-03-01T00:06:00Z,click,b3,X2,,t9,0.70,,,"},
    {'A', "2023-11-01T00:00:00Z,purchase,a3,X3,,,,oa0,3,"},
    {'A', "2023-11-02T00:00:00Z,feedback,a3,,,,,oa0,,1"},
    {'A', "2024-03-01T01:00:00Z,purchase,a1,X1,,,,oa1,10,"},
    {'B', "2024-03-01T03:00:00Z,purchase,b1,X2,,,,ob1,30,"},
    {'A', "2024-03-01T02:00:00Z,purchase,a2,X2,,,,oa2,20,"},
    {'A', "2024-03-01T02:00:00Z,purchase,a2,X1,,,,oa2,5,"},
    {'B', "2024-03-01T04:00:00Z,purchase,b2,X1,,,,ob2,12,"},
    {'B', "2024-03-02T00:00:00Z,feedback,b1,,,,,ob1,,1"},
    {'A', "2024-03-02T00:00:00Z,feedback,a2,,,,,oa2,,2"},
    {'B', "2024-03-02T05:00:00Z,feedback,b1,,,,,ob1,,5"},
    {'B', "2024-03-02T06:00:00Z,feedback,b2,,,,,ob2,,1"},
    {'A', "2024-03-03T00:00:00Z,feedback,a1,,,,,oa1,,4"},
    {'A', "2024-03-03T00:00:00Z,purchase,a3,X3,,,,oa3,7,"},
    {'B', "2024-03-03T00:00:00Z,purchase,b3,X2,,,,ob3,9,"},
};
#define N_LINES (sizeof LINES / sizeof LINES[0])

static const char FEEDBACK[] =
    "scope,key,orders,feedback_orders,negative_feedback_orders,negative_feedback_rate\n"
    "account,,6,4,2,0.333333\n"
    "asin,X1,3,3,2,0.666667\n"
    "asin,X2,3,2,1,0.333333\n"
    "asin,X3,1,0,0,0.000000\n";

static const char CAC[] = "source,level,key,spend,new_customers,cac\n"
                          "sponsored,campaign,C1,1.00,1,1.000000\n"
                          "sponsored,campaign,C2,2.25,1,2.250000\n"
                          "sponsored,channel,sponsored,3.25,2,1.625000\n"
                          "external,campaign,spring,0.70,2,0.350000\n"
                          "external,channel,google,0.30,1,0.300000\n"
                          "external,channel,meta,0.40,1,0.400000\n";

/* The input with the lines of `part` (0 = all) kept and the others blank. */
static char *input_of(char part) {
    size_t cap = sizeof HEADER;
    for (size_t i = 0; i < N_LINES; i++) cap += strlen(LINES[i].text) + 1;
    char *b = malloc(cap);
    assert_non_null(b);
    strcpy(b, HEADER);
    for (size_t i = 0; i < N_LINES; i++) {
        if (!part || LINES[i].part == part) strcat(b, LINES[i].text);
        strcat(b, "\n");
    }
    return b;
}

/* One finished run with its stages built and its customer table. */
typedef struct part {
    cp_run *run;
    cp_report_ctx ctx;
    cp_customer_table ct;
} part;

static void part_load(part *p, char which, const cp_report_options *opt) {
    memset(p, 0, sizeof *p);
    cp_ingest_options io = {0};
    cp_error err = {0};
    p->run = cp_run_new(&io, &err);
    assert_non_null(p->run);
    char *text = input_of(which);
    assert_int_equal(cp_run_load_buffer(p->run, "events.csv", text, strlen(text), &err), CP_OK);
    free(text);
    assert_int_equal(cp_run_finish(p->run, &err), CP_OK);
    assert_int_equal(cp_report_ctx_init(&p->ctx, p->run, opt, &err), CP_OK);
    assert_int_equal(cp_quality_build(&p->ctx, &err), CP_OK);
    assert_int_equal(cp_sessions_build(&p->ctx, &err), CP_OK);
    assert_int_equal(cp_ads_build(&p->ctx, &err), CP_OK);
    assert_int_equal(cp_attribution_build(&p->ctx, &err), CP_OK);
    assert_int_equal(cp_customers_collect(&p->ctx, p->ctx.as_of_ms, &p->ct, &err), CP_OK);
}

static void part_free(part *p) {
    cp_customer_table_free(&p->ct);
    cp_report_ctx_free(&p->ctx);
    cp_run_free(p->run);
}

typedef struct fx {
    char reg_path[64];
    char dir[3][64]; /* whole run, parts A + B, parts B + A */
    cp_report_options opt[3];
} fx;

static void fx_init(fx *f) {
    memset(f, 0, sizeof *f);
    assert_non_null(cp_test_tmpfile(f->reg_path, sizeof f->reg_path,
                                    "tag,channel,publisher,campaign,asin\n"
                                    "t1,google,search,spring,X1\n"
                                    "t2,meta,social,spring,X2\n"));
    int64_t as_of = 0;
    assert_true(cp_parse_ts("2024-03-03T00:00:00Z", 20, NULL, &as_of));
    for (int k = 0; k < 3; k++) {
        snprintf(f->dir[k], sizeof f->dir[k], "/tmp/cp_partial_cust_XXXXXX");
        assert_non_null(mkdtemp(f->dir[k]));
        cp_report_options_init(&f->opt[k]);
        f->opt[k].out_dir = f->dir[k];
        f->opt[k].tags_path = f->reg_path;
        f->opt[k].has_as_of = true; /* the driver gives every partition the global as-of */
        f->opt[k].as_of_ms = as_of;
        f->opt[k].clv = false;
    }
}

static void fx_free(fx *f) {
    for (int k = 0; k < 3; k++) cp_test_remove_dir(f->dir[k]);
    unlink(f->reg_path);
}

static char *file_in(const char *dir, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cp_test_read_file(path, NULL);
}

/* Asserts that the three directories hold `expected` as `name`. */
static void assert_files(const fx *f, const char *name, const char *expected) {
    for (int k = 0; k < 3; k++) {
        char *text = file_in(f->dir[k], name);
        assert_string_equal(text, expected);
        free(text);
    }
}

static void r10_6_feedback_add_merges_partitions(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    cp_error err = {0};
    int64_t num[3], den[3];
    /* the whole run through the one-call writer */
    part whole;
    part_load(&whole, 0, &f.opt[0]);
    assert_int_equal(cp_feedback_write(&whole.ctx, &num[0], &den[0], &err), CP_OK);
    part_free(&whole);
    /* two partitions, added in both orders; each run is freed before emit */
    for (int k = 1; k < 3; k++) {
        cp_feedback_acc *a = cp_feedback_acc_new(&f.opt[k]);
        assert_non_null(a);
        for (int j = 0; j < 2; j++) {
            part p;
            part_load(&p, (k == 1) == (j == 0) ? 'A' : 'B', &f.opt[k]);
            assert_int_equal(cp_feedback_acc_add(a, &p.ctx, &err), CP_OK);
            part_free(&p);
        }
        assert_int_equal(cp_feedback_acc_emit(a, &num[k], &den[k], &err), CP_OK);
        cp_feedback_acc_free(a);
    }
    assert_files(&f, "feedback.csv", FEEDBACK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(num[k], 2);
        assert_int_equal(den[k], 6);
    }
    fx_free(&f);
}

static void r10_4_cac_add_merges_partitions(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    cp_error err = {0};
    part whole;
    part_load(&whole, 0, &f.opt[0]);
    assert_int_equal(whole.ct.n, 6);
    assert_int_equal(cp_cac_write(&whole.ctx, &whole.ct, &err), CP_OK);
    part_free(&whole);
    for (int k = 1; k < 3; k++) {
        cp_cac_acc *a = cp_cac_acc_new(&f.opt[k]);
        assert_non_null(a);
        for (int j = 0; j < 2; j++) {
            part p;
            part_load(&p, (k == 1) == (j == 0) ? 'A' : 'B', &f.opt[k]);
            assert_int_equal(p.ct.n, 3);
            assert_int_equal(cp_cac_acc_add(a, &p.ctx, &p.ct, &err), CP_OK);
            part_free(&p);
        }
        assert_int_equal(cp_cac_acc_emit(a, &err), CP_OK);
        cp_cac_acc_free(a);
    }
    assert_files(&f, "cac.csv", CAC);
    fx_free(&f);
}

/* No partition at all (an input with no event): the header and the account
 * row with an empty rate; cac: the header alone. */
static void empty_accumulators_emit_headers(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    cp_error err = {0};
    cp_feedback_acc *fa = cp_feedback_acc_new(&f.opt[0]);
    cp_cac_acc *ca = cp_cac_acc_new(&f.opt[0]);
    assert_true(fa && ca);
    int64_t num = -1, den = -1;
    assert_int_equal(cp_feedback_acc_emit(fa, &num, &den, &err), CP_OK);
    assert_int_equal(cp_cac_acc_emit(ca, &err), CP_OK);
    cp_feedback_acc_free(fa);
    cp_cac_acc_free(ca);
    assert_int_equal(num, 0);
    assert_int_equal(den, 0);
    char *text = file_in(f.dir[0], "feedback.csv");
    assert_string_equal(text, "scope,key,orders,feedback_orders,negative_feedback_orders,negative_feedback_rate\n"
                              "account,,0,0,0,\n");
    free(text);
    text = file_in(f.dir[0], "cac.csv");
    assert_string_equal(text, "source,level,key,spend,new_customers,cac\n");
    free(text);
    fx_free(&f);
}

/* ---- round 2: merge, save, load ------------------------------------------ */

/* The whole run's file `name` in dir[0] (written by the one-call writer)
 * equals `expected`; returns it. */
static char *whole_file(const fx *f, const char *name, const char *expected) {
    char *text = file_in(f->dir[0], name);
    assert_non_null(text);
    assert_string_equal(text, expected);
    return text;
}

/* dir[k]/name equals the whole run's bytes. */
static void assert_same(const fx *f, int k, const char *name, const char *whole) {
    char *text = file_in(f->dir[k], name);
    assert_non_null(text);
    assert_string_equal(text, whole);
    free(text);
}

static cp_feedback_acc *feedback_of(const cp_report_options *opt, char which) {
    cp_error err = {0};
    cp_feedback_acc *a = cp_feedback_acc_new(opt);
    assert_non_null(a);
    part p;
    part_load(&p, which, opt);
    assert_int_equal(cp_feedback_acc_add(a, &p.ctx, &err), CP_OK);
    part_free(&p);
    return a;
}

static cp_cac_acc *cac_of(const cp_report_options *opt, char which) {
    cp_error err = {0};
    cp_cac_acc *a = cp_cac_acc_new(opt);
    assert_non_null(a);
    part p;
    part_load(&p, which, opt);
    assert_int_equal(cp_cac_acc_add(a, &p.ctx, &p.ct, &err), CP_OK);
    part_free(&p);
    return a;
}

/* save() into a fresh buffer (never short of memory here). */
static cp_bytes feedback_saved(const cp_feedback_acc *a) {
    cp_bytes b = {0};
    cp_feedback_acc_save(a, &b);
    assert_false(b.oom);
    assert_true(b.n > 0);
    return b;
}

static cp_bytes cac_saved(const cp_cac_acc *a) {
    cp_bytes b = {0};
    cp_cac_acc_save(a, &b);
    assert_false(b.oom);
    assert_true(b.n > 0);
    return b;
}

static void assert_bytes_equal(const cp_bytes *x, const cp_bytes *y) {
    assert_int_equal(x->n, y->n);
    assert_memory_equal(x->p, y->p, x->n);
}

static void feedback_emit_into(cp_feedback_acc *a, int64_t want_num, int64_t want_den) {
    cp_error err = {0};
    int64_t num = -1, den = -1;
    assert_int_equal(cp_feedback_acc_emit(a, &num, &den, &err), CP_OK);
    assert_int_equal(num, want_num);
    assert_int_equal(den, want_den);
}

static void r10_6_feedback_merge_save_load(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    cp_error err = {0};
    part whole;
    part_load(&whole, 0, &f.opt[0]);
    int64_t num = 0, den = 0;
    assert_int_equal(cp_feedback_write(&whole.ctx, &num, &den, &err), CP_OK);
    part_free(&whole);
    char *want = whole_file(&f, "feedback.csv", FEEDBACK);

    /* (1) merge(B into A); B unchanged (its saved bytes are the same after) */
    cp_feedback_acc *a = feedback_of(&f.opt[1], 'A'), *b = feedback_of(&f.opt[1], 'B');
    cp_bytes b_before = feedback_saved(b);
    assert_int_equal(cp_feedback_acc_merge(a, b, &err), CP_OK);
    cp_bytes b_after = feedback_saved(b);
    assert_bytes_equal(&b_before, &b_after);
    feedback_emit_into(a, 2, 6);
    assert_same(&f, 1, "feedback.csv", want);
    /* load(save(merged)) emits the same bytes and saves the same bytes */
    cp_bytes merged = feedback_saved(a);
    cp_bytes_reader in = cp_bytes_reader_of(merged.p, merged.n);
    cp_feedback_acc *m = cp_feedback_acc_load(&f.opt[2], &in, &err);
    assert_non_null(m);
    assert_false(in.bad);
    assert_int_equal(in.at, merged.n);
    cp_bytes again = feedback_saved(m);
    assert_bytes_equal(&merged, &again);
    feedback_emit_into(m, 2, 6);
    assert_same(&f, 2, "feedback.csv", want);
    cp_feedback_acc_free(m);
    cp_bytes_free(&again);
    cp_bytes_free(&merged);
    cp_bytes_free(&b_after);
    cp_feedback_acc_free(a);

    /* (2) save(B), load, merge into a fresh A */
    a = feedback_of(&f.opt[1], 'A');
    in = cp_bytes_reader_of(b_before.p, b_before.n);
    cp_feedback_acc *lb = cp_feedback_acc_load(&f.opt[1], &in, &err);
    assert_non_null(lb);
    assert_int_equal(in.at, b_before.n);
    assert_int_equal(cp_feedback_acc_merge(a, lb, &err), CP_OK);
    cp_feedback_acc_free(lb);
    feedback_emit_into(a, 2, 6);
    assert_same(&f, 1, "feedback.csv", want);

    /* (3) an accumulator that never had an add(): empty.merge(A), empty.merge(B) */
    cp_feedback_acc *a_only = feedback_of(&f.opt[2], 'A');
    cp_feedback_acc *e = cp_feedback_acc_new(&f.opt[2]);
    assert_non_null(e);
    assert_int_equal(cp_feedback_acc_merge(e, a_only, &err), CP_OK);
    assert_int_equal(cp_feedback_acc_merge(e, b, &err), CP_OK);
    /* merging an empty one changes nothing */
    cp_feedback_acc *e2 = cp_feedback_acc_new(&f.opt[2]);
    assert_non_null(e2);
    assert_int_equal(cp_feedback_acc_merge(e, e2, &err), CP_OK);
    cp_feedback_acc_free(e2);
    feedback_emit_into(e, 2, 6);
    assert_same(&f, 2, "feedback.csv", want);
    cp_feedback_acc_free(e);
    cp_feedback_acc_free(a_only);

    /* (4) every truncation of a saved state fails cleanly, with a message */
    for (size_t len = 0; len < b_before.n; len++) {
        cp_error e4 = {0};
        in = cp_bytes_reader_of(b_before.p, len);
        assert_null(cp_feedback_acc_load(&f.opt[1], &in, &e4));
        assert_true(in.bad);
        assert_int_equal(e4.code, CP_EFORMAT);
        assert_non_null(strstr(e4.msg, "feedback"));
    }
    cp_bytes_free(&b_before);
    cp_feedback_acc_free(a);
    cp_feedback_acc_free(b);
    free(want);
    fx_free(&f);
}

/* Damaged states the length checks do not catch: another tag, counts that
 * cannot be (more negative than with feedback), an ASIN twice, a row count
 * larger than the bytes, sums that would overflow. */
static void feedback_load_rejects_damage(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    static const struct {
        uint32_t magic;
        int64_t acct[3];
        uint64_t n_rows;
        int64_t rows[2][3];
        const char *asin[2];
        const char *why;
    } cases[] = {
        {0x42464351, {1, 1, 1}, 0, {{0}}, {0}, "tag"},
        {0x42464350, {1, 1, 2}, 0, {{0}}, {0}, "account"},
        {0x42464350, {1, 2, 0}, 0, {{0}}, {0}, "account"},
        {0x42464350, {-1, -1, -1}, 0, {{0}}, {0}, "account"},
        {0x42464350, {2, 1, 0}, 1, {{1, 0, 1}}, {"X1"}, "ASIN row"},
        {0x42464350, {2, 1, 0}, 1, {{1, 0, 0}}, {""}, "without an ASIN"},
        {0x42464350, {2, 1, 0}, 2, {{1, 0, 0}, {1, 1, 0}}, {"X1", "X1"}, "twice"},
        {0x42464350, {2, 1, 0}, 1000, {{1, 0, 0}}, {"X1"}, "more ASIN rows"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cp_bytes b = {0};
        cp_bytes_u32(&b, cases[c].magic);
        for (int k = 0; k < 3; k++) cp_bytes_i64(&b, cases[c].acct[k]);
        cp_bytes_u64(&b, cases[c].n_rows);
        for (uint64_t r = 0; r < cases[c].n_rows && r < 2; r++) {
            if (!cases[c].asin[r]) break;
            cp_bytes_str(&b, cases[c].asin[r], strlen(cases[c].asin[r]));
            for (int k = 0; k < 3; k++) cp_bytes_i64(&b, cases[c].rows[r][k]);
        }
        cp_error err = {0};
        cp_bytes_reader in = cp_bytes_reader_of(b.p, b.n);
        assert_null(cp_feedback_acc_load(&f.opt[0], &in, &err));
        assert_int_equal(err.code, CP_EFORMAT);
        if (!strstr(err.msg, cases[c].why)) fail_msg("case %zu: %s", c, err.msg);
        cp_bytes_free(&b);
    }
    /* two states whose sums overflow: merge fails, no undefined behaviour */
    cp_bytes b = {0};
    cp_bytes_u32(&b, 0x42464350);
    for (int k = 0; k < 3; k++) cp_bytes_i64(&b, INT64_MAX - 1);
    cp_bytes_u64(&b, 0);
    cp_error err = {0};
    cp_bytes_reader in = cp_bytes_reader_of(b.p, b.n);
    cp_feedback_acc *x = cp_feedback_acc_load(&f.opt[0], &in, &err);
    assert_non_null(x);
    in = cp_bytes_reader_of(b.p, b.n);
    cp_feedback_acc *y = cp_feedback_acc_load(&f.opt[0], &in, &err);
    assert_non_null(y);
    assert_int_equal(cp_feedback_acc_merge(x, y, &err), CP_EFORMAT);
    assert_non_null(strstr(err.msg, "overflow"));
    cp_feedback_acc_free(x);
    cp_feedback_acc_free(y);
    cp_bytes_free(&b);
    fx_free(&f);
}

static void r10_4_cac_merge_save_load(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    cp_error err = {0};
    part whole;
    part_load(&whole, 0, &f.opt[0]);
    assert_int_equal(cp_cac_write(&whole.ctx, &whole.ct, &err), CP_OK);
    part_free(&whole);
    char *want = whole_file(&f, "cac.csv", CAC);

    /* (1) merge(B into A); B unchanged */
    cp_cac_acc *a = cac_of(&f.opt[1], 'A'), *b = cac_of(&f.opt[1], 'B');
    cp_bytes b_before = cac_saved(b);
    assert_int_equal(cp_cac_acc_merge(a, b, &err), CP_OK);
    cp_bytes b_after = cac_saved(b);
    assert_bytes_equal(&b_before, &b_after);
    cp_bytes_free(&b_after);
    assert_int_equal(cp_cac_acc_emit(a, &err), CP_OK);
    assert_same(&f, 1, "cac.csv", want);
    cp_bytes merged = cac_saved(a);
    cp_cac_acc_free(a);

    /* (2) save(B), load, merge into a fresh A; and B into A's loaded state */
    a = cac_of(&f.opt[2], 'A');
    cp_bytes_reader in = cp_bytes_reader_of(b_before.p, b_before.n);
    cp_cac_acc *lb = cp_cac_acc_load(&f.opt[2], &in, &err);
    assert_non_null(lb);
    assert_int_equal(in.at, b_before.n);
    assert_int_equal(cp_cac_acc_merge(a, lb, &err), CP_OK);
    cp_cac_acc_free(lb);
    assert_int_equal(cp_cac_acc_emit(a, &err), CP_OK);
    assert_same(&f, 2, "cac.csv", want);
    cp_cac_acc_free(a);

    /* (3) an accumulator that never had an add(): empty.merge(A), empty.merge(B) */
    cp_cac_acc *a_only = cac_of(&f.opt[1], 'A');
    cp_cac_acc *e = cp_cac_acc_new(&f.opt[1]);
    assert_non_null(e);
    assert_int_equal(cp_cac_acc_merge(e, a_only, &err), CP_OK);
    assert_int_equal(cp_cac_acc_merge(e, b, &err), CP_OK);
    assert_int_equal(cp_cac_acc_emit(e, &err), CP_OK);
    assert_same(&f, 1, "cac.csv", want);
    cp_cac_acc_free(e);
    /* ... and an add() after a merge into an empty one (the registry is read
     * then): empty.merge(B), add(A) */
    e = cp_cac_acc_new(&f.opt[2]);
    assert_non_null(e);
    assert_int_equal(cp_cac_acc_merge(e, b, &err), CP_OK);
    part p;
    part_load(&p, 'A', &f.opt[2]);
    assert_int_equal(cp_cac_acc_add(e, &p.ctx, &p.ct, &err), CP_OK);
    part_free(&p);
    assert_int_equal(cp_cac_acc_emit(e, &err), CP_OK);
    assert_same(&f, 2, "cac.csv", want);
    cp_cac_acc_free(e);
    cp_cac_acc_free(a_only);

    /* the saved state holds whether the registry was read: with the registry
     * file gone, the loaded merged state still emits the whole run, while an
     * accumulator without any partition fails as the whole-run writer does */
    unlink(f.reg_path);
    in = cp_bytes_reader_of(merged.p, merged.n);
    cp_cac_acc *m = cp_cac_acc_load(&f.opt[1], &in, &err);
    assert_non_null(m);
    assert_int_equal(in.at, merged.n);
    cp_bytes again = cac_saved(m);
    assert_bytes_equal(&merged, &again);
    cp_bytes_free(&again);
    assert_int_equal(cp_cac_acc_emit(m, &err), CP_OK);
    assert_same(&f, 1, "cac.csv", want);
    cp_cac_acc_free(m);
    cp_cac_acc *none = cp_cac_acc_new(&f.opt[1]);
    assert_non_null(none);
    cp_bytes saved_none = cac_saved(none);
    cp_cac_acc_free(none);
    in = cp_bytes_reader_of(saved_none.p, saved_none.n);
    none = cp_cac_acc_load(&f.opt[1], &in, &err);
    assert_non_null(none);
    assert_int_equal(cp_cac_acc_emit(none, &err), CP_EIO);
    cp_cac_acc_free(none);
    cp_bytes_free(&saved_none);

    /* (4) every truncation of a saved state fails cleanly, with a message */
    for (size_t len = 0; len < merged.n; len++) {
        cp_error e4 = {0};
        in = cp_bytes_reader_of(merged.p, len);
        assert_null(cp_cac_acc_load(&f.opt[1], &in, &e4));
        assert_true(in.bad);
        assert_int_equal(e4.code, CP_EFORMAT);
        assert_non_null(strstr(e4.msg, "cac"));
    }
    cp_bytes_free(&merged);
    cp_bytes_free(&b_before);
    cp_cac_acc_free(b);
    free(want);
    fx_free(&f);
}

/* One sponsored row and one pair row, as save() writes them. */
static cp_bytes cac_state(uint32_t magic, uint8_t reg_ok, uint64_t n_camps, const char *camp, int64_t nc,
                          uint64_t n_pairs, const char *pair_camp, const char *pair_chan, int64_t spend) {
    cp_bytes b = {0};
    cp_bytes_u32(&b, magic);
    cp_bytes_u8(&b, reg_ok);
    cp_bytes_u64(&b, n_camps);
    for (uint64_t k = 0; k < n_camps && k < 2; k++) {
        cp_bytes_str(&b, camp, strlen(camp));
        cp_bytes_i64(&b, spend);
        cp_bytes_i64(&b, nc);
    }
    cp_bytes_u64(&b, n_pairs);
    for (uint64_t k = 0; k < n_pairs && k < 2; k++) {
        cp_bytes_str(&b, pair_camp, strlen(pair_camp));
        cp_bytes_str(&b, pair_chan, strlen(pair_chan));
        cp_bytes_i64(&b, spend);
        cp_bytes_i64(&b, nc);
    }
    assert_false(b.oom);
    return b;
}

static void cac_load_rejects_damage(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    static const struct {
        uint32_t magic;
        uint8_t reg_ok;
        uint64_t n_camps;
        int64_t nc;
        uint64_t n_pairs;
        const char *pair_camp;
        const char *why;
    } cases[] = {
        {0x43414351, 1, 1, 1, 1, "spring", "tag"},
        {0x43414350, 2, 1, 1, 1, "spring", "flag"},
        {0x43414350, 1, 1, -1, 0, "spring", "negative"},
        {0x43414350, 1, 2, 1, 0, "spring", "twice"},   /* C1 twice */
        {0x43414350, 1, 1, 0, 2, "spring", "twice"},   /* (spring, google) twice */
        {0x43414350, 1, 1, 0, 2, "", "twice"},         /* (empty, google) twice */
        {0x43414350, 1, 500, 0, 0, "spring", "more rows"},
        {0x43414350, 1, 1, 0, 500, "spring", "more rows"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cp_bytes b = cac_state(cases[c].magic, cases[c].reg_ok, cases[c].n_camps, "C1", cases[c].nc,
                               cases[c].n_pairs, cases[c].pair_camp, "google", 100);
        cp_error err = {0};
        cp_bytes_reader in = cp_bytes_reader_of(b.p, b.n);
        assert_null(cp_cac_acc_load(&f.opt[0], &in, &err));
        assert_int_equal(err.code, CP_EFORMAT);
        if (!strstr(err.msg, cases[c].why)) fail_msg("case %zu: %s", c, err.msg);
        cp_bytes_free(&b);
    }
    /* a well-formed state emits its rows, by content */
    cp_bytes b = cac_state(0x43414350, 1, 1, "C1", 2, 1, "spring", "google", 1500000);
    cp_error err = {0};
    cp_bytes_reader in = cp_bytes_reader_of(b.p, b.n);
    cp_cac_acc *x = cp_cac_acc_load(&f.opt[0], &in, &err);
    assert_non_null(x);
    assert_int_equal(cp_cac_acc_emit(x, &err), CP_OK);
    char *text = file_in(f.dir[0], "cac.csv");
    assert_string_equal(text, "source,level,key,spend,new_customers,cac\n"
                              "sponsored,campaign,C1,1.50,2,0.750000\n"
                              "sponsored,channel,sponsored,1.50,2,0.750000\n"
                              "external,campaign,spring,1.50,2,0.750000\n"
                              "external,channel,google,1.50,2,0.750000\n");
    free(text);
    cp_cac_acc_free(x);
    cp_bytes_free(&b);
    /* sums that overflow: merge fails; emit of extreme counts wraps, no UB */
    b = cac_state(0x43414350, 1, 1, "C1", INT64_MAX, 1, "spring", "google", INT64_MAX);
    in = cp_bytes_reader_of(b.p, b.n);
    x = cp_cac_acc_load(&f.opt[0], &in, &err);
    assert_non_null(x);
    in = cp_bytes_reader_of(b.p, b.n);
    cp_cac_acc *y = cp_cac_acc_load(&f.opt[0], &in, &err);
    assert_non_null(y);
    assert_int_equal(cp_cac_acc_emit(y, &err), CP_OK);
    assert_int_equal(cp_cac_acc_merge(x, y, &err), CP_EFORMAT);
    assert_non_null(strstr(err.msg, "overflow"));
    cp_cac_acc_free(x);
    cp_cac_acc_free(y);
    cp_bytes_free(&b);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r10_6_feedback_add_merges_partitions),
        cmocka_unit_test(r10_4_cac_add_merges_partitions),
        cmocka_unit_test(empty_accumulators_emit_headers),
        cmocka_unit_test(r10_6_feedback_merge_save_load),
        cmocka_unit_test(feedback_load_rejects_damage),
        cmocka_unit_test(r10_4_cac_merge_save_load),
        cmocka_unit_test(cac_load_rejects_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

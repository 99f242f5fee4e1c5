/* test_gen_attribution.c -- the sponsored (R6.1) and off-site (R7.1)
 * attribution stages against the generator's ground truth
 * (truth_attribution.csv, docs/generator.md): on `clickpath gen` data every
 * purchase line is credited to exactly the clicks the generator says, and
 * the attributed sales per campaign (ads.csv) and per tag (attribution.csv)
 * equal the sums the truth implies (issue 5).
 *
 * The truth is computed inside the generator, per actor, by a plain scan
 * over the actor's clicks (src/gen/gen.c actor_attribution_truth); the
 * stages run over the whole file with their own data structures.  Nothing
 * here is pasted from a run: the expected figures are the truth file's. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "gen/gen.h"
#include "report/table.h"
#include "testutil.h"

#define N_EVENTS 200000

/* ---- small helpers ------------------------------------------------------- */

static char *read_all(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cp_test_read_file(path, len);
}

/* One RFC 4180 record from *p into fields (unquoted, NUL-terminated, in
 * place); returns the field count, advances *p past the line. */
static size_t csv_record(char **p, char **fields, size_t max) {
    char *s = *p, *w = s;
    size_t n = 0;
    fields[n++] = w;
    for (;;) {
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '"' && s[1] == '"') { *w++ = '"'; s += 2; }
                else if (*s == '"') { s++; break; }
                else { assert_true(*s != '\0'); *w++ = *s++; }
            }
        } else if (*s == ',') {
            *w++ = '\0';
            s++;
            assert_true(n < max);
            fields[n++] = w;
        } else if (*s == '\n' || *s == '\0') {
            char *next = *s ? s + 1 : s; /* before the terminator may overwrite *s */
            *w = '\0';
            *p = next;
            return n;
        } else {
            *w++ = *s++;
        }
    }
}

/* A money figure ("12.5", "-0.0035", "") in micro-units. */
static int64_t money(const char *s) {
    if (!*s) return 0;
    bool neg = *s == '-';
    if (neg) s++;
    int64_t v = 0, frac = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        int k = 0;
        for (; *s >= '0' && *s <= '9' && k < 6; k++) frac = frac * 10 + (*s++ - '0');
        for (; k < 6; k++) frac *= 10;
    }
    assert_true(*s == '\0');
    v = v * 1000000 + frac;
    return neg ? -v : v;
}

/* Totals per name (campaign or tag): a short list, linear look-up. */
typedef struct total {
    char name[128];
    int64_t units, sales, adv_sales;
} total;

typedef struct totals {
    total t[256];
    size_t n;
} totals;

static total *total_of(totals *ts, const char *name) {
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->t[i].name, name) == 0) return &ts->t[i];
    assert_true(ts->n < sizeof ts->t / sizeof ts->t[0]);
    assert_true(strlen(name) < sizeof ts->t[0].name);
    total *t = &ts->t[ts->n++];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    return t;
}

static void totals_equal(const totals *want, const totals *got) {
    /* every name with credited sales in the truth has the same figures in
     * the report, and the report has no credited sales elsewhere */
    size_t n_nonzero = 0;
    for (size_t i = 0; i < got->n; i++) n_nonzero += got->t[i].units || got->t[i].sales;
    assert_int_equal(n_nonzero, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const total *w = &want->t[i];
        const total *g = NULL;
        for (size_t k = 0; k < got->n; k++)
            if (strcmp(got->t[k].name, w->name) == 0) g = &got->t[k];
        if (!g) fail_msg("no report row for %s", w->name);
        assert_int_equal(g->units, w->units);
        assert_int_equal(g->sales, w->sales);
        assert_int_equal(g->adv_sales, w->adv_sales);
    }
}

/* ---- the check ----------------------------------------------------------- */

static void check_seed(uint64_t seed, bool jsonl) {
    char dir[64], out[128];
    snprintf(dir, sizeof dir, "/tmp/cp_test_genattr_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/report", dir);
    assert_int_equal(mkdir(out, 0777), 0);

    cp_gen_options go;
    cp_gen_options_init(&go);
    go.out_dir = dir;
    go.seed = seed;
    go.n_events = N_EVENTS;
    go.jsonl = jsonl;
    cp_error err = {0};
    uint64_t n_gen = 0;
    assert_int_equal(cp_gen_run(&go, &n_gen, &err), CP_OK);

    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, jsonl ? "events.jsonl" : "events.csv");
    cp_ingest_options io;
    memset(&io, 0, sizeof io);
    cp_run *run = cp_run_new(&io, &err);
    assert_non_null(run);
    assert_int_equal(cp_run_load(run, path, &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    assert_int_equal(cp_run_rejected(run), 0);

    char tags_path[4096];
    snprintf(tags_path, sizeof tags_path, "%s/tags.csv", dir);
    cp_report_options opt;
    cp_report_options_init(&opt); /* SPEC defaults: 7 d (R6.1), 14 d (R7.1), UTC */
    opt.out_dir = out;
    opt.tags_path = tags_path;
    opt.clv = false;
    cp_report_ctx ctx;
    assert_int_equal(cp_report_ctx_init(&ctx, run, &opt, &err), CP_OK);
    assert_int_equal(cp_quality_build(&ctx, &err), CP_OK);
    assert_int_equal(cp_sessions_build(&ctx, &err), CP_OK);
    assert_int_equal(cp_ads_build(&ctx, &err), CP_OK);
    assert_int_equal(cp_attribution_build(&ctx, &err), CP_OK);
    cp_summary *sum = cp_summary_new();
    assert_non_null(sum);
    assert_int_equal(cp_ads_write(&ctx, sum, &err), CP_OK);
    assert_int_equal(cp_attribution_write(&ctx, sum, &err), CP_OK);
    cp_summary_free(sum);

    const cp_events *ev = ctx.ev;
    assert_int_equal(ev->n, n_gen);
    /* physical line -> row (one input file) */
    uint64_t max_line = n_gen + 2;
    uint32_t *row_of = malloc((max_line + 1) * sizeof *row_of);
    assert_non_null(row_of);
    for (size_t i = 0; i <= max_line; i++) row_of[i] = CP_NONE;
    for (size_t i = 0; i < ev->n; i++) {
        assert_true(ev->line[i] <= max_line);
        row_of[ev->line[i]] = (uint32_t)i;
    }

    /* line by line: every purchase line has one truth line, credited to the
     * same clicks (R6.1 same-ASIN flag too) */
    char *truth = read_all(dir, "truth_attribution.csv", NULL);
    char *p = truth, *f[32];
    assert_int_equal(csv_record(&p, f, 16), 8);
    assert_string_equal(f[0], "line");
    assert_string_equal(f[3], "ad_click");
    assert_string_equal(f[6], "offsite_click");
    totals want_camp = {0}, want_tag = {0};
    size_t n_truth = 0, n_ad = 0, n_same = 0, n_off = 0;
    while (*p) {
        assert_int_equal(csv_record(&p, f, 16), 8);
        uint64_t line = strtoull(f[0], NULL, 10);
        assert_true(line <= max_line);
        uint32_t r = row_of[line];
        assert_true(r != CP_NONE);
        assert_int_equal(ev->type[r], CP_PURCHASE);
        uint32_t sub = cp_report_rank(&ctx, r); /* a purchase: per sub row (report.h) */
        assert_int_equal(sub, cp_events_rank(ev, r)); /* the store's sub rows (events.h) */
        assert_int_equal(ev->units[sub], strtol(f[1], NULL, 10));
        assert_int_equal(ev->money_micros[r], money(f[2]));
        uint32_t ad = ctx.ad_credit[sub];
        if (*f[3]) {
            uint32_t want = row_of[strtoull(f[3], NULL, 10)];
            if (ad != want)
                fail_msg("seed %llu: purchase line %llu credited to line %llu, truth %s", (unsigned long long)seed,
                         (unsigned long long)line, ad == CP_NONE ? 0ULL : (unsigned long long)ev->line[ad], f[3]);
            bool same = strcmp(f[4], "1") == 0;
            assert_int_equal(ctx.ad_same_asin[sub], same);
            total *t = total_of(&want_camp, f[5]);
            t->units += ev->units[sub];
            t->sales += money(f[2]);
            if (same) t->adv_sales += money(f[2]);
            n_ad++;
            n_same += same;
        } else if (ad != CP_NONE) {
            fail_msg("seed %llu: purchase line %llu credited to line %llu, truth none", (unsigned long long)seed,
                     (unsigned long long)line, (unsigned long long)ev->line[ad]);
        }
        uint32_t off = ctx.offsite_credit[sub];
        if (*f[6]) {
            uint32_t want = row_of[strtoull(f[6], NULL, 10)];
            if (off != want)
                fail_msg("seed %llu: purchase line %llu off-site credit line %llu, truth %s",
                         (unsigned long long)seed, (unsigned long long)line,
                         off == CP_NONE ? 0ULL : (unsigned long long)ev->line[off], f[6]);
            total *t = total_of(&want_tag, f[7]);
            t->units += ev->units[sub];
            t->sales += money(f[2]);
            n_off++;
        } else {
            assert_int_equal(off, CP_NONE);
        }
        n_truth++;
    }
    free(truth);
    size_t n_purchase = 0;
    for (size_t i = 0; i < ev->n; i++) n_purchase += ev->type[i] == CP_PURCHASE;
    assert_int_equal(n_truth, n_purchase);
    /* the data exercise every kind of credit */
    assert_true(n_same > 0);
    assert_true(n_ad > n_same); /* other-ASIN sales */
    assert_true(n_off > 0);
    assert_true(n_ad < n_truth && n_off < n_truth);

    /* ads.csv whole-period rows (empty date) summed per campaign: units_7d,
     * sales_7d, advertised_sales_7d (R6.2) */
    {
        totals got = {0};
        char *a = read_all(out, "ads.csv", NULL), *q = a;
        assert_int_equal(csv_record(&q, f, 32), 21);
        assert_string_equal(f[15], "units_7d");
        assert_string_equal(f[16], "sales_7d");
        assert_string_equal(f[17], "advertised_sales_7d");
        while (*q) {
            assert_int_equal(csv_record(&q, f, 32), 21);
            if (*f[0]) continue; /* daily row */
            total *t = total_of(&got, f[1]);
            t->units += strtoll(f[15], NULL, 10);
            t->sales += money(f[16]);
            t->adv_sales += money(f[17]);
        }
        free(a);
        totals_equal(&want_camp, &got);
    }
    /* attribution.csv whole-period tag rows: units, sales (R7.2) */
    {
        totals got = {0};
        char *a = read_all(out, "attribution.csv", NULL), *q = a;
        assert_int_equal(csv_record(&q, f, 32), 18);
        assert_string_equal(f[11], "units");
        assert_string_equal(f[12], "sales");
        while (*q) {
            assert_int_equal(csv_record(&q, f, 32), 18);
            if (*f[0] || strcmp(f[1], "tag") != 0) continue;
            total *t = total_of(&got, f[2]);
            t->units += strtoll(f[11], NULL, 10);
            t->sales += money(f[12]);
        }
        free(a);
        totals_equal(&want_tag, &got);
    }

    free(row_of);
    cp_report_ctx_free(&ctx);
    cp_run_free(run);
    cp_test_remove_dir(out);
    cp_test_remove_dir(dir);
}

/* R6.1 and R7.1 on generated CSV: every purchase line's sponsored and
 * off-site credits, and the per-campaign / per-tag attributed sales. */
static void r6_1_r7_1_credits_match_generator_truth_csv(void **state) {
    (void)state;
    check_seed(3, false);
}

/* The same on generated JSON Lines with another seed. */
static void r6_1_r7_1_credits_match_generator_truth_jsonl(void **state) {
    (void)state;
    check_seed(8, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r6_1_r7_1_credits_match_generator_truth_csv),
        cmocka_unit_test(r6_1_r7_1_credits_match_generator_truth_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

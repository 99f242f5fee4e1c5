/* test_parallel.c -- the stages after parsing give the same bytes for any
 * --threads (issue 7): the parallel sorts against plain stable sorts, summary
 * fragments against one summary, cp_run_finish (R1.6, R2.1, R1.3) and the
 * whole cp_report_all pipeline against their one-thread runs.
 *
 * The thread counts that matter are those that split the work into parts of
 * unequal and tiny sizes, so the inputs are small and parallel_min_bytes is
 * set low (finish then splits rows one per part and up). */
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
#include "util/parallel.h"
#include "util/sort.h"
#include "testutil.h"

static const unsigned thread_counts[] = {1, 2, 3, 5, 8};
#define N_THREAD_COUNTS (sizeof thread_counts / sizeof *thread_counts)

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) { /* xorshift64 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- the sorts ------------------------------------------------------------ */

typedef struct ref_item {
    uint64_t digit;
    size_t pos;
    uint64_t key;
} ref_item;

static int ref_cmp(const void *a, const void *b) {
    const ref_item *x = a, *y = b;
    if (x->digit != y->digit) return x->digit < y->digit ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* cp_radix_sort_u64 is a stable sort on the chosen bits, for any thread
 * count, including bit ranges where some digits are equal in every key. */
static void radix_sort_is_stable_on_its_bits(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 7, 1000, 40000};
    static const unsigned ranges[][2] = {{0, 64}, {32, 45}, {10, 44}, {5, 6}, {20, 20}, {40, 64}};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t m = sizes[si];
        uint64_t *keys = malloc((m + 1) * sizeof *keys), *tmp = malloc((m + 1) * sizeof *tmp);
        uint64_t *orig = malloc((m + 1) * sizeof *orig);
        ref_item *ref = malloc((m + 1) * sizeof *ref);
        assert_true(keys && tmp && orig && ref);
        for (size_t ri = 0; ri < sizeof ranges / sizeof *ranges; ri++) {
            unsigned lo = ranges[ri][0], hi = ranges[ri][1];
            for (size_t i = 0; i < m; i++) /* few distinct digits: many ties */
                orig[i] = (rnd() & ~(((uint64_t)0xFFFF) << 24)) ^ ((rnd() % 13) << 24);
            uint64_t mask = hi - lo >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << (hi - lo)) - 1);
            for (size_t i = 0; i < m; i++) ref[i] = (ref_item){(orig[i] >> lo) & mask, i, orig[i]};
            qsort(ref, m, sizeof *ref, ref_cmp);
            for (size_t t = 0; t < N_THREAD_COUNTS; t++) {
                memcpy(keys, orig, m * sizeof *keys);
                uint64_t *out = cp_radix_sort_u64(keys, tmp, m, lo, hi, thread_counts[t]);
                assert_non_null(out);
                for (size_t i = 0; i < m; i++) assert_int_equal(out[i], ref[i].key);
            }
        }
        free(keys);
        free(tmp);
        free(orig);
        free(ref);
    }
}

/* cp_sort_by_time: R1.6 order (ties in row order) and the sorted times, with
 * one stage (64-bit keys) and with several (narrow keys force the stage
 * path that a 70-year span over millions of rows takes). */
static void sort_by_time_matches_stable_sort(void **state) {
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 100, 5000, 70000}; /* 5000 and up: the MSD path */
    static const int64_t spans[] = {0, 1, 1000, INT64_C(4102444800000)}; /* up to 1970..2100 */
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        int64_t *ts = malloc(n * sizeof *ts);
        uint32_t *perm = malloc(n * sizeof *perm);
        ref_item *ref = malloc(n * sizeof *ref);
        assert_true(ts && perm && ref);
        for (size_t sp = 0; sp < sizeof spans / sizeof *spans; sp++) {
            int64_t tmin = INT64_MAX, tmax = INT64_MIN;
            for (size_t i = 0; i < n; i++) {
                /* a handful of values repeat (ties), the rest spread */
                int64_t v = spans[sp] ? (int64_t)(rnd() % (uint64_t)(spans[sp] + 1)) : 0;
                if (spans[sp] && rnd() % 4 == 0) v = spans[sp] / 2;
                ts[i] = v + 17;
                if (ts[i] < tmin) tmin = ts[i];
                if (ts[i] > tmax) tmax = ts[i];
            }
            for (size_t i = 0; i < n; i++) ref[i] = (ref_item){(uint64_t)ts[i], i, 0};
            qsort(ref, n, sizeof *ref, ref_cmp);
            unsigned row_bits = 1;
            while (row_bits < 32 && ((n - 1) >> row_bits)) row_bits++;
            unsigned key_bits[] = {64, row_bits + 1, row_bits + 5, row_bits + 17};
            for (size_t kb = 0; kb < sizeof key_bits / sizeof *key_bits; kb++)
                for (size_t t = 0; t < N_THREAD_COUNTS; t++) {
                    int64_t *sorted = NULL, *spare = NULL;
                    int64_t *consumed = malloc(n * sizeof *consumed);
                    assert_non_null(consumed);
                    memcpy(consumed, ts, n * sizeof *ts);
                    assert_int_equal(cp_sort_by_time(consumed, n, tmin, tmax, key_bits[kb], thread_counts[t], perm, NULL,
                                                     &sorted, &spare),
                                     0);
                    assert_true(sorted == consumed || spare == consumed);
                    for (size_t k = 0; k < n; k++) {
                        assert_int_equal(perm[k], ref[k].pos);
                        assert_int_equal(sorted[k], ts[ref[k].pos]);
                    }
                    free(sorted);
                    free(spare);
                }
        }
        free(ts);
        free(perm);
        free(ref);
    }
}

static void counting_sort_rows_is_stable(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 9, 3000};
    static const uint32_t bucket_counts[] = {1, 2, 50, 100000};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t bi = 0; bi < sizeof bucket_counts / sizeof *bucket_counts; bi++) {
            size_t n = sizes[si];
            uint32_t nb = bucket_counts[bi];
            uint32_t *bucket = malloc((n + 1) * sizeof *bucket), *out = malloc((n + 1) * sizeof *out);
            ref_item *ref = malloc((n + 1) * sizeof *ref);
            assert_true(bucket && out && ref);
            for (size_t i = 0; i < n; i++) {
                bucket[i] = (uint32_t)(rnd() % nb);
                ref[i] = (ref_item){bucket[i], i, 0};
            }
            qsort(ref, n, sizeof *ref, ref_cmp);
            for (size_t t = 0; t < N_THREAD_COUNTS; t++) {
                assert_int_equal(cp_counting_sort_rows(bucket, n, nb, out, thread_counts[t]), 0);
                for (size_t i = 0; i < n; i++) assert_int_equal(out[i], ref[i].pos);
            }
            free(bucket);
            free(out);
            free(ref);
        }
}

/* ---- summary fragments --------------------------------------------------- */

static void add_part(cp_summary *s, int which) {
    switch (which) {
    case 0: /* nothing at all */
        break;
    case 1:
        cp_summary_begin(s, "quality");
        cp_summary_int(s, "clicks", 3);
        cp_summary_begin(s, "nested");
        cp_summary_end(s);
        cp_summary_begin_array(s, "list");
        cp_summary_int(s, NULL, 1);
        cp_summary_str(s, NULL, "two \"quoted\"");
        cp_summary_end(s);
        cp_summary_end(s);
        cp_summary_human(s, "clicks: %d", 3);
        break;
    case 2: /* human lines only */
        cp_summary_human(s, "a line");
        cp_summary_human(s, "another line");
        break;
    default:
        cp_summary_money(s, "sales", 1234567);
        cp_summary_ratio(s, "acos", 1, 3);
        cp_summary_bool(s, "ok", true);
        break;
    }
}

/* Spliced fragments give the bytes of one summary filled in the same order,
 * whatever came before them (nothing, or keys) and whichever are empty. */
static void fragments_splice_like_one_summary(void **state) {
    (void)state;
    static const int orders[][5] = {{1, 2, 3, 0, 1}, {0, 0, 3, 2, 1}, {2, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};
    for (int with_head = 0; with_head < 2; with_head++)
        for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
            cp_summary *one = cp_summary_new(), *spliced = cp_summary_new();
            assert_true(one && spliced);
            if (with_head) {
                cp_summary_str(one, "as_of", "x");
                cp_summary_str(spliced, "as_of", "x");
            }
            cp_summary *frag[5];
            for (int k = 0; k < 5; k++) {
                add_part(one, orders[o][k]);
                frag[k] = cp_summary_fragment();
                assert_non_null(frag[k]);
            }
            for (int k = 4; k >= 0; k--) add_part(frag[k], orders[o][k]); /* filled in any order */
            for (int k = 0; k < 5; k++) cp_summary_splice(spliced, frag[k]);
            assert_string_equal(cp_summary_text(one), cp_summary_text(spliced));
            assert_string_equal(cp_summary_json(one), cp_summary_json(spliced));
            cp_summary_free(one);
            cp_summary_free(spliced);
        }
}

/* ---- cp_run_finish ----------------------------------------------------------- */

/* Events out of time order, with equal timestamps, visitors that meet their
 * customer later (R2.1), order ids shared by lines and lines without one
 * (R1.3). */
static char *finish_input(size_t n, bool in_order) {
    static const char *const types[] = {"page_view", "click", "purchase", "return", "add_to_cart", "impression"};
    size_t cap = 200 + n * 160, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    len += (size_t)snprintf(b + len, cap - len, "ts,type,visitor,customer,asin,order,units,price,click_id,loaded\n");
    for (size_t i = 0; i < n; i++) {
        unsigned sec = in_order ? (unsigned)(i / 3) : (unsigned)(rnd() % 5000);
        unsigned v = (unsigned)(rnd() % 97);
        const char *type = types[rnd() % 6];
        bool cust = rnd() % 5 == 0;
        bool money = strcmp(type, "purchase") == 0 || strcmp(type, "return") == 0;
        char order[16] = "";
        if (money && rnd() % 3) snprintf(order, sizeof order, "o%u", (unsigned)(rnd() % 40));
        len += (size_t)snprintf(b + len, cap - len,
                                "2025-01-%02uT%02u:%02u:%02u.%03uZ,%s,v%u,%s%s,B0%u,%s,%s,%s,%s,%s\n",
                                1 + sec / 86400 % 28, sec / 3600 % 24, sec / 60 % 60, sec % 60,
                                (unsigned)(rnd() % 2) * 500, type, v, cust ? "c" : "", cust ? (v % 7 ? "1" : "2") : "",
                                (unsigned)(rnd() % 5), order, money ? "1" : "", money ? "9.99" : "",
                                rnd() % 4 ? "" : "k1", strcmp(type, "page_view") == 0 ? "true" : "");
    }
    return b;
}

#define SAME_COL(a, b, col, n) \
    assert_memory_equal((a)->col, (b)->col, (n) * sizeof *(a)->col)

static void assert_same_store(const cp_run *x, const cp_run *y, bool raw_ids) {
    const cp_events *a = cp_run_events(x), *b = cp_run_events(y);
    assert_int_equal(a->n, b->n);
    size_t n = a->n;
    if (!n) return;
    SAME_COL(a, b, ts_ms, n);
    SAME_COL(a, b, type, n);
    SAME_COL(a, b, flags, n);
    SAME_COL(a, b, rating, n);
    SAME_COL(a, b, file, n);
    SAME_COL(a, b, line, n);
    SAME_COL(a, b, identity, n);
    SAME_COL(a, b, ip, n);
    SAME_COL(a, b, ua, n);
    SAME_COL(a, b, referrer, n);
    SAME_COL(a, b, asin, n);
    SAME_COL(a, b, tag, n);
    SAME_COL(a, b, click_id, n);
    SAME_COL(a, b, placement, n);
    SAME_COL(a, b, order, n);
    SAME_COL(a, b, money_micros, n);
    SAME_COL(a, b, units, n);
    if (raw_ids) {
        SAME_COL(a, b, visitor, n);
        SAME_COL(a, b, customer, n);
    } else {
        assert_null(a->visitor);
        assert_null(b->visitor);
    }
    assert_memory_equal(cp_run_by_identity(x), cp_run_by_identity(y), n * sizeof(uint32_t));
    size_t no_a, no_b;
    const cp_order *oa = cp_run_orders(x, &no_a), *ob = cp_run_orders(y, &no_b);
    assert_int_equal(no_a, no_b);
    for (size_t i = 0; i < no_a; i++) {
        assert_int_equal(oa[i].id, ob[i].id);
        assert_int_equal(oa[i].identity, ob[i].identity);
        assert_int_equal(oa[i].first_ts_ms, ob[i].first_ts_ms);
    }
}

/* R1.6, R2.1, R1.3: the same store for 1..8 threads, with each option that
 * changes what finish computes, on input out of order and in order. */
static void finish_same_for_any_thread_count(void **state) {
    (void)state;
    for (int in_order = 0; in_order < 2; in_order++)
        for (int variant = 0; variant < 3; variant++) {
            char *text = finish_input(3000, in_order);
            cp_ingest_options base = {.threads = 1, .keep_raw_ids = variant == 1, .no_stitch = variant == 2};
            cp_run *one = cp_test_run_text(text, &base);
            const cp_events *e = cp_run_events(one);
            for (size_t i = 1; i < e->n; i++) assert_true(e->ts_ms[i - 1] <= e->ts_ms[i]);
            for (size_t t = 1; t < N_THREAD_COUNTS; t++) {
                cp_ingest_options o = base;
                o.threads = thread_counts[t];
                o.parallel_min_bytes = 256; /* finish: parts of a row and up */
                cp_run *many = cp_test_run_text(text, &o);
                assert_same_store(one, many, variant == 1);
                cp_run_free(many);
            }
            cp_run_free(one);
            free(text);
        }
}

/* ---- cp_report_all --------------------------------------------------------- */

/* Every file of dir a is in dir b with the same bytes, and both hold as many. */
static void assert_same_dirs(const char *a, const char *b) {
    size_t n_a = 0, n_b = 0;
    DIR *d = opendir(a);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        n_a++;
        char pa[4096], pb[4096];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        size_t la, lb;
        char *fa = cp_test_read_file(pa, &la), *fb = cp_test_read_file(pb, &lb);
        if (la != lb || memcmp(fa, fb, la) != 0) fail_msg("%s differs from %s", pb, pa);
        free(fa);
        free(fb);
    }
    closedir(d);
    d = opendir(b);
    assert_non_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n_b++;
    closedir(d);
    assert_int_equal(n_a, n_b);
}

typedef struct report_out {
    char dir[64];
    char *json, *text;
    cp_result rc;
    cp_error err;
} report_out;

static const char *blocklist_path; /* report_with's --ip-blocklist, when set */

static void report_with(const char *events, const char *tags, unsigned threads, bool clv, report_out *out) {
    cp_ingest_options io = {.threads = threads, .parallel_min_bytes = threads > 1 ? 4096 : 0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    assert_non_null(run);
    assert_int_equal(cp_run_load(run, events, &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    cp_report_options opt;
    cp_report_options_init(&opt);
    snprintf(out->dir, sizeof out->dir, "/tmp/cp_par_XXXXXX");
    assert_non_null(mkdtemp(out->dir));
    opt.out_dir = out->dir;
    opt.tags_path = tags;
    opt.ip_blocklist_path = blocklist_path;
    opt.clv = clv;
    cp_summary *sum = cp_summary_new();
    assert_non_null(sum);
    memset(&out->err, 0, sizeof out->err);
    out->rc = cp_report_all(run, &opt, sum, &out->err);
    out->json = strdup(cp_summary_json(sum));
    out->text = strdup(cp_summary_text(sum));
    cp_summary_free(sum);
    cp_run_free(run);
}

static void report_out_free(report_out *o) {
    cp_test_remove_dir(o->dir);
    free(o->json);
    free(o->text);
}

/* The report at every other thread count writes the files, summary.json
 * and human summary of `one` (the one-thread run). */
static void same_for_every_thread_count(const report_out *one, const char *events, const char *tags, bool clv) {
    for (size_t t = 1; t < N_THREAD_COUNTS; t++) {
        report_out many;
        report_with(events, tags, thread_counts[t], clv, &many);
        assert_int_equal(many.rc, CP_OK);
        assert_same_dirs(one->dir, many.dir);
        assert_string_equal(one->json, many.json);
        assert_string_equal(one->text, many.text);
        report_out_free(&many);
    }
}

/* Every report file, summary.json and the human summary are byte for byte
 * the one-thread run's, for 2..8 threads (R8). */
static void report_all_same_for_any_thread_count(void **state) {
    (void)state;
    char gen_dir[] = "/tmp/cp_par_gen_XXXXXX";
    assert_non_null(mkdtemp(gen_dir));
    cp_gen_options go;
    cp_gen_options_init(&go);
    go.out_dir = gen_dir;
    go.seed = 7;
    go.n_events = 30000;
    cp_error err = {0};
    uint64_t n_gen = 0;
    assert_int_equal(cp_gen_run(&go, &n_gen, &err), CP_OK);
    char events[4096], tags[4096];
    snprintf(events, sizeof events, "%s/events.csv", gen_dir);
    snprintf(tags, sizeof tags, "%s/tags.csv", gen_dir);

    report_out one;
    report_with(events, tags, 1, true, &one);
    assert_int_equal(one.rc, CP_OK);
    /* the writers' parts of summary.json in the one-thread order (R8) */
    static const char *const keys[] = {"\n  \"tz\"",          "\n  \"quality\"", "\n  \"business\"",
                                       "\n  \"diagnostics\"", "\n  \"ads\"",     "\n  \"attribution\"",
                                       "\n  \"customers\""};
    const char *at = one.json;
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *next = strstr(at, keys[k]);
        if (!next) fail_msg("summary.json: %s missing or out of order", keys[k] + 4);
        at = next;
    }
    same_for_every_thread_count(&one, events, tags, true);
    report_out_free(&one);

    /* R3.1.1 and R3.1.2 split over the threads (quality.c, a part of rows
     * per thread with its own verdicts): with a blocklist that holds half
     * of every address space, some clicks are blocked_ip, and every file is
     * the one-thread run's. */
    char blocked[4200];
    snprintf(blocked, sizeof blocked, "%s/blocked.txt", gen_dir);
    FILE *bf = fopen(blocked, "w");
    assert_non_null(bf);
    fputs("0.0.0.0/1\n::/1\n", bf);
    fclose(bf);
    blocklist_path = blocked;
    report_with(events, tags, 1, false, &one);
    assert_int_equal(one.rc, CP_OK);
    {
        char inv[4200];
        snprintf(inv, sizeof inv, "%s/invalid_clicks.csv", one.dir);
        char *text = cp_test_read_file(inv, NULL);
        assert_non_null(text);
        assert_non_null(strstr(text, ",blocked_ip\n"));
        assert_non_null(strstr(text, ",bot\n"));
        free(text);
    }
    same_for_every_thread_count(&one, events, tags, false);
    report_out_free(&one);
    blocklist_path = NULL;

    /* A failing writer (the tag registry cannot be read) is reported as the
     * one-thread run reports it, whatever else ran beside it. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no-such-tags.csv", gen_dir);
    report_with(events, missing, 1, false, &one);
    assert_int_not_equal(one.rc, CP_OK);
    for (size_t t = 1; t < N_THREAD_COUNTS; t++) {
        report_out many;
        report_with(events, missing, thread_counts[t], false, &many);
        assert_int_equal(many.rc, one.rc);
        assert_string_equal(many.err.msg, one.err.msg);
        report_out_free(&many);
    }
    report_out_free(&one);
    cp_test_remove_dir(gen_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(radix_sort_is_stable_on_its_bits),
        cmocka_unit_test(sort_by_time_matches_stable_sort),
        cmocka_unit_test(counting_sort_rows_is_stable),
        cmocka_unit_test(fragments_splice_like_one_summary),
        cmocka_unit_test(finish_same_for_any_thread_count),
        cmocka_unit_test(report_all_same_for_any_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

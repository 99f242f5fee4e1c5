/* test_partition.c -- `--memory` (clickpath/partition.h, docs/scale.md):
 * a report computed partition by partition writes the same bytes as the
 * whole run in memory, for any number of partitions, on inputs built so
 * that every rule that crosses identities is exercised:
 *   R2.1  a visitor seen anonymously, then with a customer (stitching);
 *   R1.3  one order id whose lines belong to two identities;
 *   R4.3  a click whose landing page view is another identity's;
 *   R3.1.3 one address shared by twelve identities within an hour (flood
 *         across partitions), and one identity without an address clicking
 *         twelve times (flood per identity);
 *   R3.1.1 user agents on some events, so an empty one is a bot;
 *   R1.4b rejected lines, and a second input in JSON Lines.
 * The expected figures in the whole run are derived by hand in comments. */
#include <sys/stat.h>
#include <zstd.h>

#include "clickpath/events.h"
#include "clickpath/partition.h"
#include "clickpath/report.h"
#include "ingest/partition_internal.h"
#include "report/table.h"
#include "testutil.h"

#define HEADER "ts,type,visitor,customer,ip,ua,asin,campaign,ad_group,keyword,tag,click_id,cost,order,units,price\n"

/* The CSV input: a string built once. */
static char *csv_text(void) {
    static char buf[16384];
    char *p = buf;
    p += sprintf(p, HEADER);
    /* R2.1: v1 clicks an ad, then logs in as c1 and buys (ads credit, 7d) */
    p += sprintf(p, "2024-03-01T10:00:00Z,click,v1,,192.0.2.1,Firefox,A1,Cmp,G1,kw1,,k1,0.40,,,\n");
    p += sprintf(p, "2024-03-01T10:00:05Z,page_view,v1,,192.0.2.1,Firefox,A1,,,,,k1,,,,\n");
    p += sprintf(p, "2024-03-02T09:00:00Z,page_view,v1,c1,192.0.2.1,Firefox,A1,,,,,,,,,\n");
    p += sprintf(p, "2024-03-02T09:05:00Z,purchase,v1,c1,192.0.2.1,Firefox,A1,,,,,,,o1,2,10.00\n");
    /* R1.3: order o9 has a line from c2 and a line from c3 */
    p += sprintf(p, "2024-03-03T08:00:00Z,purchase,,c2,192.0.2.2,Firefox,A2,,,,,,,o9,1,5.00\n");
    p += sprintf(p, "2024-03-03T08:00:01Z,purchase,,c3,192.0.2.3,Firefox,A3,,,,,,,o9,1,7.50\n");
    p += sprintf(p, "2024-03-05T08:00:00Z,purchase,,c3,192.0.2.3,Firefox,A3,,,,,,,o10,1,7.50\n");
    /* R4.3: v4's off-site click lands on v5's page view */
    p += sprintf(p, "2024-03-04T12:00:00Z,click,v4,,192.0.2.4,Safari,,,,,tagX,k4,,,,\n");
    p += sprintf(p, "2024-03-04T12:00:03Z,page_view,v5,,192.0.2.5,Safari,A4,,,,,k4,,,,\n");
    p += sprintf(p, "2024-03-04T12:30:00Z,purchase,v5,,192.0.2.5,Safari,A4,,,,,,,o4,1,20.00\n");
    /* R3.1.3 by address: twelve identities, one address, within 1 h; the
     * 11th and 12th clicks (in R1.6 order) are floods */
    for (int i = 0; i < 12; i++)
        p += sprintf(p, "2024-03-06T10:%02d:00Z,click,f%02d,,198.51.100.9,Chrome,A5,Cmp,G1,kw%d,,,0.10,,,\n", i * 4,
                     i, i);
    /* R3.1.3 by identity: n1 has no address; twelve clicks on twelve
     * keywords within 1 h: the 11th and 12th are floods */
    for (int i = 0; i < 12; i++)
        p += sprintf(p, "2024-03-07T10:%02d:00Z,click,n1,,,Chrome,A6,Cmp,G2,kw%d,,,0.20,,,\n", i * 3, i);
    /* R3.1.4 a duplicate (same identity and target within 72 h) */
    p += sprintf(p, "2024-03-08T10:00:00Z,click,d1,,192.0.2.8,Chrome,A1,Cmp,G1,kw1,,,0.30,,,\n");
    p += sprintf(p, "2024-03-08T11:00:00Z,click,d1,,192.0.2.8,Chrome,A1,Cmp,G1,kw1,,,0.30,,,\n");
    /* R3.1.1 an empty user agent is a bot once some event carries one */
    p += sprintf(p, "2024-03-08T12:00:00Z,click,b1,,192.0.2.9,,A1,Cmp,G1,kw1,,,0.30,,,\n");
    /* R1.4b rejects */
    p += sprintf(p, "yesterday,click,v9,,,,A1,Cmp,G1,kw1,,,0.30,,,\n");
    p += sprintf(p, "2024-03-08T12:00:00Z,teleport,v9,,,,,,,,,,,,,\n");
    return buf;
}

/* The JSON Lines input: c1 and c3 again, in a second file. */
static const char JSONL[] =
    "{\"ts\":\"2024-03-09T10:00:00Z\",\"type\":\"page_view\",\"customer\":\"c1\",\"asin\":\"A1\",\"ua\":\"Firefox\"}\n"
    "{\"ts\":\"2024-03-09T10:01:00Z\",\"type\":\"purchase\",\"customer\":\"c1\",\"asin\":\"A1\",\"order\":\"o2\","
    "\"units\":1,\"price\":\"10.00\"}\n"
    "{\"ts\":\"2024-03-10T10:00:00Z\",\"type\":\"return\",\"customer\":\"c3\",\"asin\":\"A3\",\"order\":\"o9\","
    "\"units\":1,\"price\":\"7.50\"}\n";

typedef struct inputs {
    char csv[64], jsonl[64];
    const char *paths[2];
} inputs;

static void make_inputs(inputs *in) {
    assert_non_null(cp_test_tmpfile(in->csv, sizeof in->csv, csv_text()));
    assert_non_null(cp_test_tmpfile(in->jsonl, sizeof in->jsonl, JSONL));
    in->paths[0] = in->csv;
    in->paths[1] = in->jsonl;
}

static void drop_inputs(inputs *in) {
    unlink(in->csv);
    unlink(in->jsonl);
}

static void report_options(cp_report_options *ro, const char *out) {
    cp_report_options_init(ro);
    ro->out_dir = out;
    ro->quiet = true;
    ro->clv = true;
}

/* The whole run in memory. */
static void report_whole(const inputs *in, const char *out) {
    cp_ingest_options io = {.threads = 1};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    assert_non_null(run);
    for (int i = 0; i < 2; i++) assert_int_equal(cp_run_load(run, in->paths[i], &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    cp_report_options ro;
    report_options(&ro, out);
    cp_summary *sum = cp_summary_new();
    assert_int_equal(cp_report_all(run, &ro, sum, &err), CP_OK);
    cp_summary_free(sum);
    cp_run_free(run);
}

/* The same in n_parts partitions, the partition files under tmp; wbuf: the
 * partition writers' buffer (so many bytes to a zstd frame), 0 = as planned. */
static void report_split(const inputs *in, unsigned n_parts, size_t wbuf, const char *tmp, const char *out) {
    cp_ingest_options io = {.threads = 2};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    assert_non_null(run);
    cp_partition_options po = {.partitions = n_parts, .tmp_dir = tmp};
    cp_partitions *ps = cp_partitions_new(run, &io, &po, &err);
    assert_non_null(ps);
    for (int i = 0; i < 2; i++) assert_int_equal(cp_run_load(run, in->paths[i], &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    assert_int_equal(cp_run_events(run)->n, 0); /* the first pass holds no event */
    cp_report_options ro;
    report_options(&ro, out);
    assert_int_equal(cp_partitions_plan(ps, &ro, &err), CP_OK);
    assert_int_equal(cp_partitions_count(ps), n_parts);
    if (wbuf) {
        assert_true(wbuf <= ps->wbuf_cap); /* the buffers are that large */
        ps->wbuf_cap = wbuf;
    }
    for (int i = 0; i < 2; i++) assert_int_equal(cp_partitions_route(ps, in->paths[i], &err), CP_OK);
    assert_true(cp_partitions_bytes(ps) > 0);
    cp_summary *sum = cp_summary_new();
    assert_int_equal(cp_report_partitioned(ps, &ro, sum, &err), CP_OK);
    cp_summary_free(sum);
    cp_partitions_free(ps);
    cp_run_free(run);
}

static const char *const FILES[] = {"rejects.csv",   "business_asin.csv", "business_daily.csv", "invalid_clicks.csv",
                                    "diagnostics.csv", "ads.csv",         "attribution.csv",    "customers.csv",
                                    "segments.csv",  "pareto.csv",        "cohorts.csv",        "cohorts_histogram.csv",
                                    "feedback.csv",  "cac.csv",           "clv_model.json",     "summary.json"};

static char *read_out(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return cp_test_read_file(p, NULL);
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static bool dir_is_empty(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') empty = false;
    closedir(d);
    return empty;
}

static void partitions_write_the_whole_runs_bytes(void **state) {
    (void)state;
    inputs in;
    make_inputs(&in);
    char whole[] = "/tmp/cp_test_whole_XXXXXX", tmp[] = "/tmp/cp_test_parts_XXXXXX";
    assert_non_null(mkdtemp(whole));
    assert_non_null(mkdtemp(tmp));
    report_whole(&in, whole);

    /* hand-derived figures of the whole run, so the comparison below cannot
     * pass on two equally wrong outputs */
    char *ic = read_out(whole, "invalid_clicks.csv");
    assert_int_equal(count(ic, ",flood\n"), 4);     /* 2 by address + 2 by identity */
    assert_int_equal(count(ic, ",duplicate\n"), 1); /* d1's second click */
    assert_int_equal(count(ic, ",bot\n"), 1);       /* b1's empty user agent */
    assert_non_null(strstr(ic, "2024-03-06T10:40:00.000Z,f10,198.51.100.9,")); /* the 11th by address */
    assert_non_null(strstr(ic, "2024-03-06T10:44:00.000Z,f11,198.51.100.9,"));
    assert_non_null(strstr(ic, "2024-03-07T10:30:00.000Z,n1,,")); /* the 11th by identity */
    free(ic);
    char *rj = read_out(whole, "rejects.csv");
    assert_int_equal(count(rj, "\n"), 3); /* header + 2 */
    free(rj);
    char *cu = read_out(whole, "customers.csv");
    /* c1 (with v1's events stitched: orders o1 and o2), c2, c3, v5 */
    assert_non_null(strstr(cu, "\nc1,"));
    assert_non_null(strstr(cu, "\nc2,"));
    assert_non_null(strstr(cu, "\nc3,"));
    assert_non_null(strstr(cu, "\nv5,"));
    assert_null(strstr(cu, "\nv1,"));
    free(cu);

    /* and with zstd frames of 7 and 100 bytes: frames, heads and records
     * cut across the zstd frames of a partition file */
    static const unsigned parts[] = {1, 2, 3, 5, 8, 13, 1, 3};
    static const size_t wbufs[] = {0, 0, 0, 0, 0, 0, 7, 100};
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        char out[] = "/tmp/cp_test_split_XXXXXX";
        assert_non_null(mkdtemp(out));
        report_split(&in, parts[k], wbufs[k], tmp, out);
        for (size_t f = 0; f < sizeof FILES / sizeof *FILES; f++) {
            char *a = read_out(whole, FILES[f]), *b = read_out(out, FILES[f]);
            if (strcmp(a, b) != 0) fprintf(stderr, "%u partitions: %s differs\n", parts[k], FILES[f]);
            assert_string_equal(a, b);
            free(a);
            free(b);
        }
        assert_true(dir_is_empty(tmp)); /* the partition files are gone */
        cp_test_remove_dir(out);
    }
    cp_test_remove_dir(whole);
    rmdir(tmp);
    drop_inputs(&in);
}

/* The partition files are removed when the report fails half-way. */
static void files_are_removed_after_an_error(void **state) {
    (void)state;
    inputs in;
    make_inputs(&in);
    char tmp[] = "/tmp/cp_test_parts_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    cp_ingest_options io = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    cp_partition_options po = {.partitions = 4, .tmp_dir = tmp};
    cp_partitions *ps = cp_partitions_new(run, &io, &po, &err);
    assert_non_null(ps);
    for (int i = 0; i < 2; i++) assert_int_equal(cp_run_load(run, in.paths[i], &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    cp_report_options ro;
    char out[128];
    snprintf(out, sizeof out, "%s/out", in.csv); /* under a plain file: cannot be made */
    report_options(&ro, out);
    assert_int_equal(cp_partitions_plan(ps, &ro, &err), CP_OK);
    assert_false(dir_is_empty(tmp));
    assert_int_equal(cp_partitions_route(ps, in.paths[0], &err), CP_OK);
    /* an input that changed between the passes is an error, not a wrong report */
    FILE *f = fopen(in.jsonl, "a");
    fputs("{\"ts\":\"2024-03-11T10:00:00Z\",\"type\":\"page_view\",\"visitor\":\"new\"}\n", f);
    fclose(f);
    assert_int_not_equal(cp_partitions_route(ps, in.paths[1], &err), CP_OK);
    assert_non_null(strstr(err.msg, "changed"));
    cp_summary *sum = cp_summary_new();
    assert_int_not_equal(cp_report_partitioned(ps, &ro, sum, &err), CP_OK);
    cp_summary_free(sum);
    cp_partitions_free(ps);
    assert_true(dir_is_empty(tmp));
    cp_run_free(run);
    rmdir(tmp);
    drop_inputs(&in);
}

/* ---- damaged partition files ---------------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    unsigned char *p = malloc((size_t)size + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return p;
}

static void spill(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The file's frames as written (the zstd frames decompressed). */
static unsigned char *frames_of(const char *path, size_t *n) {
    size_t zn;
    unsigned char *z = slurp(path, &zn);
    size_t cap = 1u << 20; /* the test's inputs are far smaller */
    unsigned char *p = malloc(cap);
    assert_non_null(p);
    size_t got = ZSTD_decompress(p, cap, z, zn); /* every frame */
    assert_false(ZSTD_isError(got));
    assert_true(got < cap);
    free(z);
    *n = got;
    return p;
}

static void cut_5(const char *path) { /* inside the last zstd frame */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 5), 0);
}

static void flip_a_byte(const char *path) {
    size_t n;
    unsigned char *p = slurp(path, &n);
    p[n / 2] ^= 0x5a;
    spill(path, p, n);
    free(p);
}

static void no_end_mark(const char *path) { /* valid zstd, every frame whole, then the end */
    size_t n;
    unsigned char *p = frames_of(path, &n);
    cp_frame_head end;
    assert_true(n > sizeof end);
    memcpy(&end, p + n - sizeof end, sizeof end);
    assert_int_equal(end.file, CP_FRAME_END_FILE); /* as written */
    n -= sizeof end;
    size_t zcap = ZSTD_compressBound(n);
    unsigned char *z = malloc(zcap);
    assert_non_null(z);
    size_t zn = ZSTD_compress(z, zcap, p, n, 1);
    assert_false(ZSTD_isError(zn));
    spill(path, z, zn);
    free(z);
    free(p);
}

static void written_twice(const char *path) { /* data after the end mark */
    size_t n;
    unsigned char *p = slurp(path, &n);
    unsigned char *q = malloc(2 * n);
    assert_non_null(q);
    memcpy(q, p, n);
    memcpy(q + n, p, n);
    spill(path, q, 2 * n);
    free(q);
    free(p);
}

static void emptied(const char *path) { assert_int_equal(truncate(path, 0), 0); }

static void uncompressed(const char *path) { /* the frames, raw */
    size_t n;
    unsigned char *p = frames_of(path, &n);
    spill(path, p, n);
    free(p);
}

static void removed(const char *path) { assert_int_equal(unlink(path), 0); }

/* The report over partition files of which the largest is damaged fails
 * with an error naming it (and saying `want`), and removes every file. */
static void report_damaged(const inputs *in, void (*damage)(const char *path), const char *want) {
    char tmp[] = "/tmp/cp_test_parts_XXXXXX", out[] = "/tmp/cp_test_split_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    assert_non_null(mkdtemp(out));
    cp_ingest_options io = {.threads = 1};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    assert_non_null(run);
    cp_partition_options po = {.partitions = 3, .tmp_dir = tmp};
    cp_partitions *ps = cp_partitions_new(run, &io, &po, &err);
    assert_non_null(ps);
    for (int i = 0; i < 2; i++) assert_int_equal(cp_run_load(run, in->paths[i], &err), CP_OK);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    cp_report_options ro;
    report_options(&ro, out);
    assert_int_equal(cp_partitions_plan(ps, &ro, &err), CP_OK);
    ps->wbuf_cap = 100; /* several zstd frames to a file */
    for (int i = 0; i < 2; i++) assert_int_equal(cp_partitions_route(ps, in->paths[i], &err), CP_OK);
    assert_int_equal(cp_partitions_close_files(ps, &err), CP_OK); /* the files are whole now */
    char path[PATH_MAX + 64], largest[PATH_MAX + 64] = "";
    off_t size = -1;
    for (unsigned p = 0; p < 3; p++) {
        struct stat st;
        cp_partitions_part_path(ps, p, 0, path, sizeof path);
        assert_int_equal(stat(path, &st), 0);
        if (st.st_size > size) {
            size = st.st_size;
            snprintf(largest, sizeof largest, "%s", path);
        }
    }
    assert_true(size > 200);
    damage(largest);
    cp_summary *sum = cp_summary_new();
    memset(&err, 0, sizeof err);
    assert_int_equal(cp_report_partitioned(ps, &ro, sum, &err), CP_EIO);
    if (!strstr(err.msg, largest) || !strstr(err.msg, want) || getenv("CP_TEST_VERBOSE")) fprintf(stderr, "message: %s\n", err.msg);
    assert_non_null(strstr(err.msg, largest));
    assert_non_null(strstr(err.msg, want));
    cp_summary_free(sum);
    cp_partitions_free(ps);
    assert_true(dir_is_empty(tmp));
    cp_run_free(run);
    rmdir(tmp);
    cp_test_remove_dir(out);
}

static void damaged_partition_files_are_errors(void **state) {
    (void)state;
    inputs in;
    make_inputs(&in);
    report_damaged(&in, cut_5, "damaged partition file (cannot decompress: zstd data ends early)");
    report_damaged(&in, flip_a_byte, "damaged partition file (");
    report_damaged(&in, no_end_mark, "damaged partition file (it ends before its end mark)");
    report_damaged(&in, written_twice, "damaged partition file (data after its end mark)");
    report_damaged(&in, emptied, "damaged partition file (not zstd data)");
    report_damaged(&in, uncompressed, "damaged partition file (not zstd data)");
    report_damaged(&in, removed, "cannot open");
    drop_inputs(&in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partitions_write_the_whole_runs_bytes),
        cmocka_unit_test(files_are_removed_after_an_error),
        cmocka_unit_test(damaged_partition_files_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_gen.c -- `clickpath gen` (src/gen): determinism, file shapes, and the
 * ground truth re-derived independently from the written file (R2.1, R3.1). */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "gen/gen.h"
#include "gen/gen_internal.h"

#define N_SMALL 20000

/* ---- helpers -------------------------------------------------------------- */

static char *read_all(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cp_test_read_file(path, len);
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void make_tmp(char *dir) {
    strcpy(dir, "/tmp/cp_test_gen_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static uint64_t gen_into(const char *dir, uint64_t seed, bool jsonl, uint64_t n) {
    cp_gen_options o;
    cp_gen_options_init(&o);
    o.out_dir = dir;
    o.seed = seed;
    o.jsonl = jsonl;
    o.n_events = n;
    cp_error err;
    uint64_t written = 0;
    assert_int_equal(cp_gen_run(&o, &written, &err), CP_OK);
    return written;
}

/* Splits one CSV record (no embedded line breaks: the generator writes none)
 * into at most max fields, unquoting in place.  Returns the field count, or
 * -1 when the RFC 4180 quoting is broken. */
static int csv_split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        char *out = p;
        fields[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            if (*p != ',' && *p != '\0')
                return -1;
        } else {
            while (*p != ',' && *p != '\0') {
                if (*p == '"')
                    return -1;
                *out++ = *p++;
            }
        }
        char end = *p;
        *out = '\0';
        if (end == '\0')
            return n;
        p++;
    }
}

enum { F_TS, F_TYPE, F_VISITOR, F_CUSTOMER, F_IP, F_UA, F_REFERRER, F_ASIN, F_CAMPAIGN, F_AD_GROUP,
       F_KEYWORD, F_TAG, F_CLICK_ID, F_COST, F_ORDER, F_UNITS, F_PRICE, F_AMOUNT, F_LOADED, F_RATING, N_F };

static const char header[] = "ts,type,visitor,customer,ip,ua,referrer,asin,campaign,ad_group,keyword,tag,"
                             "click_id,cost,order,units,price,amount,loaded,rating";

/* Every record of an events.csv, split; rec[i] is physical line i + 2. */
typedef struct table {
    char *text;
    size_t n;
    char *(*rec)[N_F];
} table;

static void table_load(table *t, const char *dir) {
    t->text = read_all(dir, "events.csv", NULL);
    size_t lines = count_lines(t->text);
    t->rec = calloc(lines, sizeof *t->rec);
    assert_non_null(t->rec);
    char *line = t->text;
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_string_equal(line, header);
    t->n = 0;
    for (line = nl + 1; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl); /* every record ends with a line break */
        *nl = '\0';
        assert_int_equal(csv_split(line, t->rec[t->n], N_F), N_F);
        t->n++;
    }
}

static void table_free(table *t) {
    free(t->text);
    free(t->rec);
}

/* 2025-01-01T00:00:00.123Z -> ms; the generator's own fixed layout. */
static int64_t ts_ms(const char *s) {
    assert_int_equal(strlen(s), 24);
    assert_true(s[10] == 'T' && s[23] == 'Z');
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    y -= m <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    return days * 86400000 + atoi(s + 11) * 3600000LL + atoi(s + 14) * 60000LL + atoi(s + 17) * 1000LL +
           atoi(s + 20);
}

static bool ua_listed(const char *ua) {
    char low[512];
    size_t n = strlen(ua);
    assert_true(n < sizeof low);
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)((ua[i] >= 'A' && ua[i] <= 'Z') ? ua[i] + 32 : ua[i]);
    for (const char *const *p = cp_builtin_bot_list; *p; p++)
        if (strstr(low, *p))
            return true;
    return false;
}

/* ---- tests ------------------------------------------------------------------ */

static void gen_same_seed_gives_same_bytes(void **state) {
    (void)state;
    char a[64], b[64];
    make_tmp(a);
    make_tmp(b);
    uint64_t na = gen_into(a, 42, false, N_SMALL), nb = gen_into(b, 42, false, N_SMALL);
    assert_int_equal(na, nb);
    assert_true(na >= N_SMALL);
    const char *names[] = {"events.csv", "tags.csv", "truth_clicks.csv", "truth_people.csv"};
    for (int i = 0; i < 4; i++) {
        size_t la, lb;
        char *x = read_all(a, names[i], &la), *y = read_all(b, names[i], &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(x, y, la);
        free(x);
        free(y);
    }
    cp_test_remove_dir(a);
    cp_test_remove_dir(b);
}

static void gen_different_seeds_differ(void **state) {
    (void)state;
    char a[64], b[64];
    make_tmp(a);
    make_tmp(b);
    gen_into(a, 1, false, N_SMALL);
    gen_into(b, 2, false, N_SMALL);
    size_t la, lb;
    char *x = read_all(a, "events.csv", &la), *y = read_all(b, "events.csv", &lb);
    assert_true(la != lb || memcmp(x, y, la) != 0);
    free(x);
    free(y);
    cp_test_remove_dir(a);
    cp_test_remove_dir(b);
}

/* R1.1: one header line, then one line per event. */
static void gen_csv_lines_are_events_plus_header(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    uint64_t n = gen_into(a, 5, false, N_SMALL);
    char *x = read_all(a, "events.csv", NULL);
    assert_int_equal(count_lines(x), n + 1);
    free(x);
    cp_test_remove_dir(a);
}

static void gen_csv_and_jsonl_hold_the_same_events(void **state) {
    (void)state;
    char a[64], b[64];
    make_tmp(a);
    make_tmp(b);
    uint64_t nc = gen_into(a, 9, false, N_SMALL), nj = gen_into(b, 9, true, N_SMALL);
    assert_int_equal(nc, nj);
    char *x = read_all(b, "events.jsonl", NULL);
    assert_int_equal(count_lines(x), nj);
    /* every line one flat object */
    for (char *p = x; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(p[0] == '{' && nl[-1] == '}');
        p = nl + 1;
    }
    free(x);
    /* the same clicks are invalid, one line earlier (no header) */
    char *tc = read_all(a, "truth_clicks.csv", NULL), *tj = read_all(b, "truth_clicks.csv", NULL);
    assert_int_equal(count_lines(tc), count_lines(tj));
    free(tc);
    free(tj);
    cp_test_remove_dir(a);
    cp_test_remove_dir(b);
}

/* R3.1.1: no human UA the generator writes matches the bot list; every bot
 * UA does. */
static void gen_human_uas_match_no_bot_entry(void **state) {
    (void)state;
    int n = 0;
    for (const char *const *p = cp_gen_human_uas; *p; p++, n++) {
        if (ua_listed(*p))
            fail_msg("human UA matches the bot list: %s", *p);
        assert_false(cp_gen_ua_is_bot(*p));
    }
    assert_true(n >= 6);
    for (const char *const *p = cp_gen_bot_uas; *p; p++) {
        assert_true(ua_listed(*p));
        assert_true(cp_gen_ua_is_bot(*p));
    }
}

/* R1.1/R1.3: the file parses as RFC 4180 CSV with the declared header, and
 * every line meets R1.3's requirements. */
static void gen_csv_parses_with_declared_header(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    uint64_t n = gen_into(a, 11, false, N_SMALL);
    table t;
    table_load(&t, a);
    assert_int_equal(t.n, n);
    static const char *const types[] = {"impression", "click", "page_view", "add_to_cart",
                                        "purchase",   "return", "feedback"};
    bool quoted_seen = false;
    for (size_t i = 0; i < t.n; i++) {
        char **r = t.rec[i];
        (void)ts_ms(r[F_TS]);
        int ty = -1;
        for (int k = 0; k < 7; k++)
            if (strcmp(r[F_TYPE], types[k]) == 0)
                ty = k;
        assert_true(ty >= 0);
        assert_true(*r[F_VISITOR] || *r[F_CUSTOMER]);
        assert_true(*r[F_IP]);
        quoted_seen |= strchr(r[F_UA], ',') != NULL;
        if (ty == 0)
            assert_true(*r[F_CAMPAIGN]);
        else if (ty == 1)
            assert_true((*r[F_CAMPAIGN] != '\0') != (*r[F_TAG] != '\0'));
        else if (ty == 6)
            assert_true(*r[F_ORDER] && *r[F_RATING]);
        else
            assert_true(*r[F_ASIN]);
    }
    assert_true(quoted_seen);
    table_free(&t);
    cp_test_remove_dir(a);
}

/* The truth is re-derived here from the written file alone, by R2.1 and
 * R3.1 with the default thresholds, and compared line by line. */
typedef struct click {
    size_t rec;
    int64_t ts;
    const char *identity;
    char target[512];
    int reason; /* 0 valid, 1 bot, 3 flood, 4 duplicate */
} click;

static int click_cmp(const void *pa, const void *pb) {
    const click *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->rec < b->rec ? -1 : a->rec > b->rec;
}

static void gen_truth_matches_r3_1_recomputed(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    gen_into(a, 3, false, N_SMALL);
    table t;
    table_load(&t, a);

    size_t n_click = 0;
    for (size_t i = 0; i < t.n; i++)
        n_click += strcmp(t.rec[i][F_TYPE], "click") == 0;
    assert_true(n_click > 20);
    click *c = calloc(n_click, sizeof *c);
    assert_non_null(c);
    size_t k = 0;
    for (size_t i = 0; i < t.n; i++) {
        char **r = t.rec[i];
        if (strcmp(r[F_TYPE], "click") != 0)
            continue;
        click *x = &c[k++];
        x->rec = i;
        x->ts = ts_ms(r[F_TS]);
        /* R2.1: customer; else the customer its visitor is seen with; else
         * the visitor (the generator never shows a visitor two customers) */
        x->identity = r[F_CUSTOMER];
        if (!*x->identity) {
            x->identity = r[F_VISITOR];
            for (size_t j = 0; j < t.n; j++)
                if (*t.rec[j][F_CUSTOMER] && strcmp(t.rec[j][F_VISITOR], r[F_VISITOR]) == 0) {
                    x->identity = t.rec[j][F_CUSTOMER];
                    break;
                }
        }
        if (*r[F_CAMPAIGN])
            snprintf(x->target, sizeof x->target, "ad:%s|%s|%s|%s", r[F_CAMPAIGN], r[F_AD_GROUP], r[F_KEYWORD],
                     r[F_ASIN]);
        else
            snprintf(x->target, sizeof x->target, "tag:%s", r[F_TAG]);
    }
    qsort(c, n_click, sizeof *c, click_cmp); /* R1.6 */
    size_t n_invalid = 0;
    for (size_t i = 0; i < n_click; i++) {
        char **r = t.rec[c[i].rec];
        if (!*r[F_UA] || ua_listed(r[F_UA])) {
            c[i].reason = 1;
        } else {
            int count = 0;
            for (size_t j = 0; j <= i; j++)
                count += c[j].ts > c[i].ts - 3600000 && strcmp(t.rec[c[j].rec][F_IP], r[F_IP]) == 0;
            if (count > 10) {
                c[i].reason = 3;
            } else {
                for (size_t j = 0; j < i; j++)
                    if (c[j].reason == 0 && c[i].ts - c[j].ts < 72 * 3600000LL &&
                        strcmp(c[j].identity, c[i].identity) == 0 && strcmp(c[j].target, c[i].target) == 0)
                        c[i].reason = 4;
            }
        }
        n_invalid += c[i].reason != 0;
    }

    char *truth = read_all(a, "truth_clicks.csv", NULL);
    char *p = strchr(truth, '\n');
    assert_non_null(p);
    *p = '\0';
    assert_string_equal(truth, "line,reason");
    size_t n_truth = 0;
    static const char *const names[] = {"", "bot", "blocked_ip", "flood", "duplicate"};
    for (p++; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char *comma = strchr(p, ',');
        assert_non_null(comma);
        *comma = '\0';
        long line = atol(p);
        assert_true(line >= 2 && (size_t)line < t.n + 2);
        /* refers to a click line */
        size_t rec = (size_t)line - 2;
        assert_string_equal(t.rec[rec][F_TYPE], "click");
        const click *found = NULL;
        for (size_t i = 0; i < n_click; i++)
            if (c[i].rec == rec)
                found = &c[i];
        assert_non_null(found);
        assert_string_equal(comma + 1, names[found->reason]);
        n_truth++;
        p = nl + 1;
    }
    assert_int_equal(n_truth, n_invalid);
    free(truth);
    free(c);
    table_free(&t);
    cp_test_remove_dir(a);
}

/* truth_people.csv names every visitor of events.csv once. */
static void gen_people_cover_every_visitor(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    gen_into(a, 4, false, N_SMALL);
    table t;
    table_load(&t, a);
    char *people = read_all(a, "truth_people.csv", NULL);
    assert_memory_equal(people, "visitor,person\n", 15);
    size_t n_people = count_lines(people) - 1;
    for (size_t i = 0; i < t.n; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\n%s,", t.rec[i][F_VISITOR]);
        assert_non_null(strstr(people, needle));
    }
    /* and no more: visitor ids are v1..vN in order of appearance of actors */
    assert_true(n_people > 10);
    free(people);
    table_free(&t);
    cp_test_remove_dir(a);
}

/* R5.1 registry shape, and R7.2 diagnostics material: an unregistered tag. */
static void gen_tags_registry_and_unknown_tag(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    gen_into(a, 8, false, 200000);
    char *tags = read_all(a, "tags.csv", NULL);
    assert_memory_equal(tags, "tag,channel,publisher,campaign,asin\n", 36);
    size_t n = count_lines(tags) - 1;
    assert_true(n >= 20 && n <= 40);
    const char *ch[] = {"google", "facebook", "tiktok", "youtube", "email"};
    for (int i = 0; i < 5; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, ",%s,", ch[i]);
        assert_non_null(strstr(tags, needle));
    }
    table t;
    table_load(&t, a);
    size_t unknown = 0;
    for (size_t i = 0; i < t.n; i++) {
        const char *tag = t.rec[i][F_TAG];
        if (!*tag)
            continue;
        char needle[128];
        snprintf(needle, sizeof needle, "\n%s,", tag);
        unknown += strstr(tags, needle) == NULL;
    }
    assert_true(unknown > 0);
    free(tags);
    table_free(&t);
    cp_test_remove_dir(a);
}

static void gen_zero_events_writes_headers_only(void **state) {
    (void)state;
    char a[64];
    make_tmp(a);
    assert_int_equal(gen_into(a, 1, false, 0), 0);
    char *x = read_all(a, "events.csv", NULL);
    assert_int_equal(count_lines(x), 1);
    free(x);
    cp_test_remove_dir(a);
}

/* The output directory is created when missing (with its parents). */
static void gen_creates_missing_out_dir(void **state) {
    (void)state;
    char a[64], sub[128], sub2[160];
    make_tmp(a);
    snprintf(sub, sizeof sub, "%s/x", a);
    snprintf(sub2, sizeof sub2, "%s/x/y", a);
    gen_into(sub2, 1, false, 100);
    struct stat st;
    assert_int_equal(stat(sub2, &st), 0);
    cp_test_remove_dir(sub2);
    rmdir(sub);
    rmdir(a);
}

/* A file that cannot be written is CP_EIO with a message. */
static void gen_unwritable_dir_is_eio(void **state) {
    (void)state;
    char a[64], path[128], below[160];
    make_tmp(a);
    snprintf(path, sizeof path, "%s/file", a);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(below, sizeof below, "%s/file/out", a); /* a directory under a file */
    cp_gen_options o;
    cp_gen_options_init(&o);
    o.out_dir = below;
    o.n_events = 100;
    cp_error err;
    uint64_t n = 99;
    assert_int_equal(cp_gen_run(&o, &n, &err), CP_EIO);
    assert_int_equal(err.code, CP_EIO);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(n, 0);
    unlink(path);
    rmdir(a);
}

/* --events N: stops at the first actor boundary at or after N, and a longer
 * run starts with the bytes of a shorter one (actors are written whole). */
static void gen_events_target_is_a_prefix_boundary(void **state) {
    (void)state;
    char a[64], b[64];
    make_tmp(a);
    make_tmp(b);
    uint64_t na = gen_into(a, 6, false, 5000), nb = gen_into(b, 6, false, 15000);
    assert_true(na >= 5000 && nb >= 15000 && nb > na);
    size_t la, lb;
    char *x = read_all(a, "events.csv", &la), *y = read_all(b, "events.csv", &lb);
    assert_true(la < lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
    cp_test_remove_dir(a);
    cp_test_remove_dir(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gen_same_seed_gives_same_bytes),
        cmocka_unit_test(gen_different_seeds_differ),
        cmocka_unit_test(gen_csv_lines_are_events_plus_header),
        cmocka_unit_test(gen_csv_and_jsonl_hold_the_same_events),
        cmocka_unit_test(gen_human_uas_match_no_bot_entry),
        cmocka_unit_test(gen_csv_parses_with_declared_header),
        cmocka_unit_test(gen_truth_matches_r3_1_recomputed),
        cmocka_unit_test(gen_people_cover_every_visitor),
        cmocka_unit_test(gen_tags_registry_and_unknown_tag),
        cmocka_unit_test(gen_zero_events_writes_headers_only),
        cmocka_unit_test(gen_creates_missing_out_dir),
        cmocka_unit_test(gen_unwritable_dir_is_eio),
        cmocka_unit_test(gen_events_target_is_a_prefix_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_tags.c -- the tag registry (SPEC R5.1), `tag new` under concurrent
 * writers, and the URL checks of R5.1 and R5.2. */
#include <sys/wait.h>

#include "testutil.h"
#include "tags/tags.h"

static cp_result parse(cp_tag_registry *reg, const char *text, cp_error *err) {
    return cp_tag_registry_parse(reg, text, strlen(text), "reg.csv", err);
}

static void r5_1_registry_parses_quotes_crlf_bom_and_column_order(void **state) {
    (void)state;
    cp_tag_registry reg;
    cp_error err = {0};
    assert_int_equal(parse(&reg,
                           "\xEF\xBB\xBF" "asin,tag,channel,publisher,campaign,extra\r\n"
                           "B000000001,g1,google,\"search, paid\",spring,x\r\n"
                           "\r\n"
                           "B000000002,t1,tiktok,\"a \"\"b\"\"\",summer,y\r\n",
                           &err),
                     CP_OK);
    assert_int_equal(reg.n, 2);
    const cp_tag_entry *e = cp_tag_registry_find(&reg, "g1", 2);
    assert_non_null(e);
    assert_string_equal(e->publisher, "search, paid");
    assert_string_equal(e->asin, "B000000001");
    e = cp_tag_registry_find(&reg, "t1", 2);
    assert_non_null(e);
    assert_string_equal(e->publisher, "a \"b\"");
    assert_int_equal(e->line, 4);
    assert_null(cp_tag_registry_find(&reg, "g", 1));
    cp_tag_registry_free(&reg);
}

static void r5_1_registry_errors_name_file_and_line(void **state) {
    (void)state;
    cp_tag_registry reg;
    cp_error err = {0};
    assert_int_equal(parse(&reg, "tag,channel,publisher,campaign,asin\ng1,google,s,c,A\ng2,google\n", &err),
                     CP_EUSAGE);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "reg.csv:3:"));
    assert_int_equal(parse(&reg, "tag,channel,publisher,campaign\n", &err), CP_EUSAGE);
    assert_non_null(strstr(err.msg, "asin"));
    assert_int_equal(parse(&reg, "tag,channel,publisher,campaign,asin\n,google,s,c,A\n", &err), CP_EUSAGE);
    assert_non_null(strstr(err.msg, "reg.csv:2: empty tag"));
    assert_int_equal(parse(&reg, "tag,channel,publisher,campaign,asin\n\"g1,google,s,c,A\n", &err), CP_EUSAGE);
    assert_int_equal(parse(&reg, "tag,channel,publisher,campaign,asin\ng\"1,google,s,c,A\n", &err), CP_EUSAGE);
    assert_int_equal(err.line, 2);
    /* an empty file is an empty registry */
    assert_int_equal(parse(&reg, "", &err), CP_OK);
    assert_int_equal(reg.n, 0);
    cp_tag_registry_free(&reg);
}

static void r5_1_tag_listed_under_two_channels_is_marked(void **state) {
    (void)state;
    cp_tag_registry reg;
    cp_error err = {0};
    assert_int_equal(parse(&reg,
                           "tag,channel,publisher,campaign,asin\n"
                           "g1,google,s,c,B000000001\n"
                           "g1,facebook,s,c,B000000001\n"
                           "g2,google,s,c,B000000001\n"
                           "g2,google,s,c,B000000001\n",
                           &err),
                     CP_OK);
    assert_int_equal(reg.n, 2);
    assert_true(cp_tag_registry_find(&reg, "g1", 2)->multi_channel);
    assert_false(cp_tag_registry_find(&reg, "g2", 2)->multi_channel);
    assert_string_equal(cp_tag_registry_find(&reg, "g1", 2)->channel, "google"); /* first row kept */
    cp_tag_registry_free(&reg);
}

static void r5_1_tag_new_generates_channel_counter_and_refuses_duplicates(void **state) {
    (void)state;
    char dir[] = "/tmp/cp_tags_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/tags.csv", dir);
    char tag[80];
    cp_error err = {0};
    cp_tag_new row = {NULL, "Google Ads", "search", "spring", "B000000001"};
    assert_int_equal(cp_tag_registry_add(path, &row, tag, sizeof tag, &err), CP_OK);
    assert_string_equal(tag, "googleads-0001");
    assert_int_equal(cp_tag_registry_add(path, &row, tag, sizeof tag, &err), CP_OK);
    assert_string_equal(tag, "googleads-0002");
    row.tag = "googleads-0002";
    assert_int_equal(cp_tag_registry_add(path, &row, tag, sizeof tag, &err), CP_EUSAGE);
    row.tag = "bad/tag";
    assert_int_equal(cp_tag_registry_add(path, &row, tag, sizeof tag, &err), CP_EUSAGE);
    row.tag = NULL;
    row.asin = "b1";
    assert_int_equal(cp_tag_registry_add(path, &row, tag, sizeof tag, &err), CP_EUSAGE);
    char url[256];
    cp_tag_url(url, sizeof url, NULL, "B000000001", "googleads-0001");
    assert_string_equal(url, "https://www.amazon.com/dp/B000000001?tag=googleads-0001");
    cp_tag_url(url, sizeof url, "https://www.amazon.de/", "B000000001", "x");
    assert_string_equal(url, "https://www.amazon.de/dp/B000000001?tag=x");
    cp_tag_registry reg;
    assert_int_equal(cp_tag_registry_load(&reg, path, &err), CP_OK);
    assert_int_equal(reg.n, 2);
    cp_tag_registry_free(&reg);
    unlink(path);
    rmdir(dir);
}

static void r5_1_two_concurrent_writers_never_corrupt_the_registry(void **state) {
    (void)state;
    /* two processes add 50 generated tags each to one new file: the file
     * must end with the header and 100 distinct well-formed rows. */
    char dir[] = "/tmp/cp_tags_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/tags.csv", dir);
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            cp_tag_new row = {NULL, "email", p ? "newsletter-b" : "newsletter-a", "launch", "B000000001"};
            for (int i = 0; i < 50; i++) {
                char tag[80];
                cp_error err = {0};
                if (cp_tag_registry_add(path, &row, tag, sizeof tag, &err) != CP_OK) _exit(1);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cp_tag_registry reg;
    cp_error err = {0};
    assert_int_equal(cp_tag_registry_load(&reg, path, &err), CP_OK);
    assert_int_equal(reg.n, 100); /* unique tags (duplicates would merge) */
    int a = 0, b = 0;
    for (size_t i = 0; i < reg.n; i++) {
        assert_string_equal(reg.e[i].channel, "email");
        assert_string_equal(reg.e[i].campaign, "launch");
        assert_string_equal(reg.e[i].asin, "B000000001");
        a += strcmp(reg.e[i].publisher, "newsletter-a") == 0;
        b += strcmp(reg.e[i].publisher, "newsletter-b") == 0;
    }
    assert_int_equal(a, 50);
    assert_int_equal(b, 50);
    /* 101 physical lines: one header, no blank or torn line */
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strchr(line, '\n'));
        n++;
    }
    fclose(f);
    assert_int_equal(n, 101);
    cp_tag_registry_free(&reg);
    unlink(path);
    rmdir(dir);
}

/* ---- URL checks ------------------------------------------------------------ */

static cp_tag_registry test_reg(void) {
    cp_tag_registry reg;
    cp_error err = {0};
    assert_int_equal(parse(&reg,
                           "tag,channel,publisher,campaign,asin\n"
                           "g1,google,search,spring,B000000001\n"
                           "x1,google,search,spring,B000000001\n"
                           "x1,tiktok,feed,spring,B000000001\n",
                           &err),
                     CP_OK);
    return reg;
}

/* The codes found for url, joined by ';'. */
static const char *codes(const cp_tag_registry *reg, const char *url, char *buf, size_t cap) {
    cp_url_finding f[CP_N_URL_CODES];
    size_t n = cp_url_check(reg, url, strlen(url), f, CP_N_URL_CODES);
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(buf + w, cap - w, "%s%s", i ? ";" : "", cp_url_code_name(f[i].code));
    return buf;
}

#define CHECK(url, want)                                                                          \
    do {                                                                                          \
        char b_[256];                                                                             \
        assert_string_equal(codes(&reg, (url), b_, sizeof b_), (want));                           \
    } while (0)

static void r5_1_url_registry_rules(void **state) {
    (void)state;
    cp_tag_registry reg = test_reg();
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1", "");
    CHECK("https://www.amazon.com/Some-Name/dp/B000000001/ref=x?tag=g1", "");
    CHECK("https://www.amazon.com/gp/product/B000000001?tag=g1", "");
    CHECK("https://www.amazon.com/dp/B000000001", "TAG_MISSING");
    CHECK("https://www.amazon.com/dp/B000000001?tag=", "TAG_MISSING");
    CHECK("https://www.amazon.com/dp/B000000001?tag=zz", "TAG_UNKNOWN");
    CHECK("https://www.amazon.com/dp/B000000002?tag=g1", "ASIN_MISMATCH");
    CHECK("https://www.amazon.com/dp/B000000001?tag=x1", "TAG_MULTI_CHANNEL");
    CHECK("not a url", "NOT_A_URL");
    cp_tag_registry_free(&reg);
}

static void r5_2_attribution_url_rules(void **state) {
    (void)state;
    cp_tag_registry reg = test_reg();
    /* a console-made attribution link: tag=maas is the marketplace's marker */
    CHECK("https://www.amazon.com/dp/B000000001?maas=maas_adg_123&ref_=aa_maas&tag=maas", "");
    CHECK("https://www.amazon.com/stores/page/ABC?maas=maas_adg_123&ref_=aa_maas&tag=maas", "");
    CHECK("https://www.amazon.com/s?k=shoes&tag=g1", "NOT_A_LANDING_PAGE");
    CHECK("https://www.amazon.com/stores/?tag=g1", "NOT_A_LANDING_PAGE");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_campaignid={campaign_id}", "UNEXPANDED_MACRO");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_campaignid=%7Bcampaign_id%7D", "UNEXPANDED_MACRO");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&tag=g1", "DUPLICATE_PARAM");
    CHECK("https://www.amazon.com/dp/B000000001?ref_=a&tag=g1&ref_=b", "DUPLICATE_PARAM");
    /* R5.2 characters, raw and percent-encoded; a stray '%' */
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=a/b", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=a%2Fb", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=a+b", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=a%24b", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=a=b", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=50%", "BAD_CHARACTER");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_adgroupid=%27x%27", "BAD_CHARACTER");
    /* a non-attribution parameter may hold anything */
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&utm_content=a/b%2B", "");
    CHECK("https://www.amazon.com/dp/B000000001?tag=g1&aa_creativeid=", "EMPTY_VALUE");
    cp_tag_registry_free(&reg);
}

static void r5_2_value_of_255_characters_passes_256_fails(void **state) {
    (void)state;
    cp_tag_registry reg = test_reg();
    char url[700], v[300];
    memset(v, 'a', 255);
    v[255] = '\0';
    snprintf(url, sizeof url, "https://www.amazon.com/dp/B000000001?tag=g1&aa_creativeid=%s", v);
    CHECK(url, "");
    snprintf(url, sizeof url, "https://www.amazon.com/dp/B000000001?tag=g1&aa_creativeid=%sa", v);
    CHECK(url, "VALUE_TOO_LONG");
    /* the length is counted after decoding: 85 x "%61" = 85 characters */
    size_t w = (size_t)snprintf(url, sizeof url, "https://www.amazon.com/dp/B000000001?tag=g1&aa_creativeid=");
    for (int i = 0; i < 85; i++) w += (size_t)snprintf(url + w, sizeof url - w, "%%61");
    CHECK(url, "");
    cp_tag_registry_free(&reg);
}

static void r5_2_findings_come_in_code_order_with_explanations(void **state) {
    (void)state;
    cp_tag_registry reg = test_reg();
    CHECK("https://www.amazon.com/s?tag=zz&tag=g1&ref_={x}", "NOT_A_LANDING_PAGE;TAG_UNKNOWN;DUPLICATE_PARAM;UNEXPANDED_MACRO");
    for (int c = 0; c < CP_N_URL_CODES; c++) assert_true(strlen(cp_url_code_explanation((cp_url_code)c)) > 20);
    /* without a registry the registry rules are skipped */
    char b[256];
    assert_string_equal(codes(NULL, "https://www.amazon.com/dp/B000000001?tag=zz", b, sizeof b), "");
    cp_tag_registry_free(&reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r5_1_registry_parses_quotes_crlf_bom_and_column_order),
        cmocka_unit_test(r5_1_registry_errors_name_file_and_line),
        cmocka_unit_test(r5_1_tag_listed_under_two_channels_is_marked),
        cmocka_unit_test(r5_1_tag_new_generates_channel_counter_and_refuses_duplicates),
        cmocka_unit_test(r5_1_two_concurrent_writers_never_corrupt_the_registry),
        cmocka_unit_test(r5_1_url_registry_rules),
        cmocka_unit_test(r5_2_attribution_url_rules),
        cmocka_unit_test(r5_2_value_of_255_characters_passes_256_fails),
        cmocka_unit_test(r5_2_findings_come_in_code_order_with_explanations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tag_cmd.c -- `clickpath tag new|list|check` (SPEC R5): make tracking tags,
 * list the registry, check tracking and attribution URLs.  Exit statuses:
 * 0 ok, 1 a URL failed a check (check), 2 usage error (bad option, registry
 * that cannot be read or parsed). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tags/tags.h"

static const char tag_help[] =
    "usage: clickpath tag new   --registry FILE --channel C --publisher P --campaign K --asin A\n"
    "                           [--tag NAME] [--base-url URL]\n"
    "       clickpath tag list  --registry FILE\n"
    "       clickpath tag check [--registry FILE] URL...\n"
    "\n"
    "Off-site tracking tags (SPEC R5).  Every link you place outside the marketplace\n"
    "(an ad on google, a post on tiktok, a newsletter) carries a tag; the registry\n"
    "(a CSV: tag,channel,publisher,campaign,asin) says which channel, publisher and\n"
    "campaign each tag stands for, so `clickpath report --tags FILE` can add up\n"
    "clicks, page views, carts and purchases per tag, campaign, publisher, channel.\n"
    "\n"
    "  new    adds a tag to the registry (created with its header when missing; safe\n"
    "         when several runs add at once: the file is locked) and prints the\n"
    "         tracking URL, the product page of the ASIN carrying the tag:\n"
    "           https://www.amazon.com/dp/ASIN?tag=TAG\n"
    "         Without --tag the tag is the channel plus a counter: google-0001.\n"
    "         --base-url changes the marketplace (https://www.amazon.co.uk).\n"
    "  list   prints the registry as a table.\n"
    "  check  checks each URL and prints OK or one line per finding:\n"
    "           TAG_MISSING, TAG_UNKNOWN, ASIN_MISMATCH, TAG_MULTI_CHANNEL (registry\n"
    "           rules, R5.1; need --registry), and the marketplace's attribution-URL\n"
    "           rules for maas, ref_, tag, aa_campaignid, aa_adgroupid,\n"
    "           aa_creativeid (R5.2): VALUE_TOO_LONG (over 255 characters),\n"
    "           BAD_CHARACTER (/ & = # ? + ' \" % $ in a value, after decoding %%XX),\n"
    "           DUPLICATE_PARAM (a second ref_ or tag), UNEXPANDED_MACRO ({macro}),\n"
    "           EMPTY_VALUE, NOT_A_LANDING_PAGE (not /dp/ASIN, /gp/product/ASIN or\n"
    "           /stores/...), NOT_A_URL.\n"
    "         Exit status 1 when any URL has a finding.\n"
    "\n"
    "examples:\n"
    "  clickpath tag new --registry tags.csv --channel google --publisher search \\\n"
    "      --campaign spring --asin B000000001\n"
    "  clickpath tag list --registry tags.csv\n"
    "  clickpath tag check --registry tags.csv 'https://www.amazon.com/dp/B000000001?tag=google-0001'\n";

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "clickpath tag: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see clickpath tag --help)\n");
    return 2;
}

enum { O_REGISTRY = 1, O_CHANNEL, O_PUBLISHER, O_CAMPAIGN, O_ASIN, O_TAG, O_BASE, O_HELP };

static const struct option tag_opts[] = {
    {"registry", required_argument, 0, O_REGISTRY}, {"channel", required_argument, 0, O_CHANNEL},
    {"publisher", required_argument, 0, O_PUBLISHER}, {"campaign", required_argument, 0, O_CAMPAIGN},
    {"asin", required_argument, 0, O_ASIN}, {"tag", required_argument, 0, O_TAG},
    {"base-url", required_argument, 0, O_BASE}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0}};

static void print_cell(const char *s, int w) { printf("%-*s", w, s); }

static int cmd_list(const char *registry) {
    cp_tag_registry reg;
    cp_error err = {0};
    if (cp_tag_registry_load(&reg, registry, &err) != CP_OK) {
        fprintf(stderr, "clickpath tag list: %s\n", err.msg);
        return 2;
    }
    static const char *const head[5] = {"tag", "channel", "publisher", "campaign", "asin"};
    int w[5];
    for (int c = 0; c < 5; c++) w[c] = (int)strlen(head[c]);
    for (size_t i = 0; i < reg.n; i++) {
        const char *v[5] = {reg.e[i].tag, reg.e[i].channel, reg.e[i].publisher, reg.e[i].campaign,
                            reg.e[i].asin};
        for (int c = 0; c < 5; c++)
            if ((int)strlen(v[c]) > w[c]) w[c] = (int)strlen(v[c]) > 60 ? 60 : (int)strlen(v[c]);
    }
    for (int c = 0; c < 5; c++) { print_cell(head[c], w[c] + 2); }
    printf("\n");
    for (size_t i = 0; i < reg.n; i++) {
        const char *v[5] = {reg.e[i].tag, reg.e[i].channel, reg.e[i].publisher, reg.e[i].campaign,
                            reg.e[i].asin};
        for (int c = 0; c < 5; c++) print_cell(v[c], w[c] + 2);
        printf("\n");
    }
    printf("%zu tag%s\n", reg.n, reg.n == 1 ? "" : "s");
    cp_tag_registry_free(&reg);
    return 0;
}

static int cmd_check(const char *registry, int n_urls, char **urls) {
    cp_tag_registry reg = {0};
    cp_error err = {0};
    if (registry && cp_tag_registry_load(&reg, registry, &err) != CP_OK) {
        fprintf(stderr, "clickpath tag check: %s\n", err.msg);
        return 2;
    }
    int failed = 0;
    for (int u = 0; u < n_urls; u++) {
        cp_url_finding f[CP_N_URL_CODES];
        size_t n = cp_url_check(registry ? &reg : NULL, urls[u], strlen(urls[u]), f, CP_N_URL_CODES);
        if (!n) {
            printf("OK    %s\n", urls[u]);
            continue;
        }
        failed++;
        printf("FAIL  %s\n", urls[u]);
        for (size_t i = 0; i < n && i < CP_N_URL_CODES; i++)
            printf("      %s (%s): %s\n", cp_url_code_name(f[i].code), f[i].detail,
                   cp_url_code_explanation(f[i].code));
    }
    if (n_urls > 1) printf("%d of %d URLs failed\n", failed, n_urls);
    cp_tag_registry_free(&reg);
    return failed ? 1 : 0;
}

int cp_cli_tag(int argc, char **argv) {
    if (argc < 2) return usage("%s", "which: new, list or check?");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(tag_help, stdout);
        return 0;
    }
    if (strcmp(sub, "new") && strcmp(sub, "list") && strcmp(sub, "check"))
        return usage("unknown subcommand '%s' (new, list, check)", sub);
    cp_tag_new row = {0};
    const char *registry = NULL, *base = NULL;
    optind = 0; /* glibc: full re-initialisation (main may have used getopt) */
    opterr = 0;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    int c;
    while ((c = getopt_long(sub_argc, sub_argv, "+h", tag_opts, NULL)) != -1) {
        switch (c) {
        case O_REGISTRY: registry = optarg; break;
        case O_CHANNEL: row.channel = optarg; break;
        case O_PUBLISHER: row.publisher = optarg; break;
        case O_CAMPAIGN: row.campaign = optarg; break;
        case O_ASIN: row.asin = optarg; break;
        case O_TAG: row.tag = optarg; break;
        case O_BASE: base = optarg; break;
        case 'h':
        case O_HELP: fputs(tag_help, stdout); return 0;
        default:
            return usage("unknown or incomplete option '%s'",
                         optind - 1 < sub_argc ? sub_argv[optind - 1] : "?");
        }
    }
    int n_rest = sub_argc - optind;
    char **rest = sub_argv + optind;
    if (strcmp(sub, "check") == 0) {
        if (n_rest < 1) return usage("%s", "check needs at least one URL");
        return cmd_check(registry, n_rest, rest);
    }
    if (n_rest > 0) return usage("unexpected argument '%s'", rest[0]);
    if (!registry) return usage("%s needs --registry FILE", sub);
    if (strcmp(sub, "list") == 0) return cmd_list(registry);
    char tag[80];
    cp_error err = {0};
    cp_result r = cp_tag_registry_add(registry, &row, tag, sizeof tag, &err);
    if (r != CP_OK) {
        fprintf(stderr, "clickpath tag new: %s\n", err.msg);
        return 2;
    }
    char url[1024];
    cp_tag_url(url, sizeof url, base, row.asin, tag);
    printf("%s\n", url);
    return 0;
}

/* urlcheck.c -- `clickpath tag check`: our tracking URLs against the tag
 * registry (R5.1) and the marketplace's attribution-URL rules (R5.2).
 *
 * A URL is scheme://host[/path][?query][#fragment].  Query parameters are
 * split on '&', each at its first '=', and names and values are
 * percent-decoded before the rules look at them: "%2F" in a value is a '/'
 * (BAD_CHARACTER), and a '%' not followed by two hex digits is a stray '%'
 * (BAD_CHARACTER too).  '+' is not read as a space: R5.2 forbids it.
 *
 * The R5.2 value rules apply to the attribution parameters maas, ref_, tag,
 * aa_campaignid, aa_adgroupid, aa_creativeid.  The registry rules apply to
 * the first `tag` value, except the marketplace's own marker tag=maas of an
 * attribution link made in its console (those links are not in our registry).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tags/tags.h"

static const char *const code_names[CP_N_URL_CODES] = {
    "NOT_A_URL",        "NOT_A_LANDING_PAGE", "TAG_MISSING",     "TAG_UNKNOWN",
    "ASIN_MISMATCH",    "TAG_MULTI_CHANNEL",  "VALUE_TOO_LONG",  "BAD_CHARACTER",
    "DUPLICATE_PARAM",  "UNEXPANDED_MACRO",   "EMPTY_VALUE",
};

static const char *const code_text[CP_N_URL_CODES] = {
    "not a URL: it needs scheme://host (e.g. https://www.amazon.com/dp/B000000001?tag=...)",
    "the link does not land on a product page (/dp/ASIN, /gp/product/ASIN) or a store page "
    "(/stores/...), where the marketplace records attribution",
    "no tag parameter: clicks on this link cannot be attributed to any channel",
    "the tag is not in the registry: register it with `clickpath tag new` or fix the typo, "
    "otherwise its sales roll up to no channel",
    "the ASIN in the link is not the registry's ASIN for this tag: the link promotes another "
    "product than the campaign says",
    "the registry lists this tag under more than one channel: one tag must belong to one "
    "channel, or channel figures mix",
    "an attribution value is over 255 characters: the marketplace drops it",
    "an attribution value holds one of / & = # ? + ' \" % $ (after percent-decoding): the "
    "marketplace cannot read it",
    "a second ref_ or tag parameter: the marketplace reads only one, so the click may be "
    "credited to the wrong tag",
    "an unexpanded {macro}: the ad platform did not fill in its placeholder, so every click "
    "carries the same literal text",
    "an attribution parameter without a value",
};

const char *cp_url_code_name(cp_url_code c) {
    return (unsigned)c < CP_N_URL_CODES ? code_names[c] : "UNKNOWN";
}

const char *cp_url_code_explanation(cp_url_code c) {
    return (unsigned)c < CP_N_URL_CODES ? code_text[c] : "";
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes p[0..len) into out (at most cap-1 bytes kept, NUL-ended).
 * Returns the decoded length (counted in full even past cap); *stray is set
 * when a '%' is not followed by two hex digits (it is kept as '%'). */
static size_t pct_decode(const char *p, size_t len, char *out, size_t cap, bool *stray) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '%') {
            int a = i + 1 < len ? hexval(p[i + 1]) : -1;
            int b = i + 2 < len ? hexval(p[i + 2]) : -1;
            if (a >= 0 && b >= 0) {
                c = (char)(a * 16 + b);
                i += 2;
            } else {
                *stray = true;
            }
        }
        if (n + 1 < cap) out[n] = c;
        n++;
    }
    if (cap) out[n < cap ? n : cap - 1] = '\0';
    return n;
}

typedef struct findings {
    bool hit[CP_N_URL_CODES];
    char detail[CP_N_URL_CODES][160];
} findings;

static void flag(findings *f, cp_url_code c, const char *fmt, const char *a, size_t alen) {
    if (f->hit[c]) return; /* one finding per code; the first detail */
    f->hit[c] = true;
    if (alen > 100) alen = 100;
    snprintf(f->detail[c], sizeof f->detail[c], fmt, (int)alen, a);
}

static bool is_asin_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* An ASIN at p: exactly 10 characters before '/', the end or nothing else. */
static bool take_asin(const char *p, size_t len, char asin[11]) {
    if (len < 10) return false;
    for (int i = 0; i < 10; i++)
        if (!is_asin_char(p[i])) return false;
    if (len > 10 && p[10] != '/') return false;
    for (int i = 0; i < 10; i++) asin[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
    asin[10] = '\0';
    return true;
}

/* R5.2 landing page: /dp/ASIN (after an optional product-name segment, as
 * the marketplace writes it), /gp/product/ASIN, or /stores/... .  Sets asin
 * ("" for a store page). */
static bool landing(const char *path, size_t len, char asin[11]) {
    asin[0] = '\0';
    if (len > 8 && memcmp(path, "/stores/", 8) == 0) return true;
    if (len >= 12 + 10 && memcmp(path, "/gp/product/", 12) == 0) return take_asin(path + 12, len - 12, asin);
    if (len >= 4 + 10 && memcmp(path, "/dp/", 4) == 0) return take_asin(path + 4, len - 4, asin);
    /* /<name>/dp/ASIN */
    if (len > 1 && path[0] == '/') {
        const char *s = memchr(path + 1, '/', len - 1);
        if (s) {
            size_t rest = len - (size_t)(s - path);
            if (rest >= 4 + 10 && memcmp(s, "/dp/", 4) == 0) return take_asin(s + 4, rest - 4, asin);
        }
    }
    return false;
}

static bool is_attr_param(const char *k) {
    static const char *const names[] = {"maas", "ref_", "tag", "aa_campaignid", "aa_adgroupid",
                                        "aa_creativeid"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(k, names[i]) == 0) return true;
    return false;
}

size_t cp_url_check(const cp_tag_registry *reg, const char *url, size_t len, cp_url_finding *out,
                    size_t cap) {
    findings f;
    memset(&f, 0, sizeof f);

    /* scheme://host */
    size_t i = 0;
    while (i < len && ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
                       (i > 0 && ((url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' ||
                                  url[i] == '.'))))
        i++;
    bool ok = i > 0 && i + 3 <= len && memcmp(url + i, "://", 3) == 0;
    size_t host = i + 3, host_end = host;
    if (ok) {
        while (host_end < len && url[host_end] != '/' && url[host_end] != '?' && url[host_end] != '#')
            host_end++;
        ok = host_end > host;
    }
    if (!ok) {
        flag(&f, CP_URL_NOT_A_URL, "%.*s", url, len);
    } else {
        size_t path = host_end, path_end = path;
        while (path_end < len && url[path_end] != '?' && url[path_end] != '#') path_end++;
        size_t q = path_end < len && url[path_end] == '?' ? path_end + 1 : path_end, q_end = q;
        while (q_end < len && url[q_end] != '#') q_end++;

        char asin[11];
        bool land = landing(url + path, path_end - path, asin);
        if (!land) flag(&f, CP_URL_NOT_A_LANDING_PAGE, "path '%.*s'", url + path, path_end - path);

        /* R5.2 unexpanded {macro}: a '{' ... '}' anywhere, raw or encoded */
        {
            char dec[2048];
            bool stray = false;
            size_t dl = pct_decode(url, len, dec, sizeof dec, &stray);
            if (dl >= sizeof dec) dl = sizeof dec - 1;
            const char *o = memchr(dec, '{', dl);
            const char *c = o ? memchr(o, '}', dl - (size_t)(o - dec)) : NULL;
            if (c) flag(&f, CP_URL_UNEXPANDED_MACRO, "%.*s", o, (size_t)(c - o) + 1);
        }

        int n_tag = 0, n_ref = 0;
        bool has_maas = false;
        char tag[512] = "";
        bool tag_empty = false;
        size_t k = q;
        while (q < q_end && k <= q_end) {
            size_t e = k;
            while (e < q_end && url[e] != '&') e++;
            if (e > k) {
                const char *eq = memchr(url + k, '=', e - k);
                size_t klen = eq ? (size_t)(eq - (url + k)) : e - k;
                char key[64];
                bool stray = false;
                size_t kl = pct_decode(url + k, klen, key, sizeof key, &stray);
                if (kl < sizeof key && is_attr_param(key)) {
                    const char *v = eq ? eq + 1 : url + e;
                    size_t vlen = (size_t)(url + e - v);
                    char val[512];
                    bool vstray = false;
                    size_t vl = pct_decode(v, vlen, val, sizeof val, &vstray);
                    if (strcmp(key, "tag") == 0) {
                        if (++n_tag == 1) {
                            snprintf(tag, sizeof tag, "%s", val);
                            tag_empty = vl == 0;
                        } else {
                            flag(&f, CP_URL_DUPLICATE_PARAM, "a second tag (%.*s)", v, vlen);
                        }
                    } else if (strcmp(key, "ref_") == 0) {
                        if (++n_ref == 2) flag(&f, CP_URL_DUPLICATE_PARAM, "a second ref_ (%.*s)", v, vlen);
                    } else if (strcmp(key, "maas") == 0) {
                        has_maas = true;
                    }
                    if (vl == 0 && strcmp(key, "tag") != 0)
                        flag(&f, CP_URL_EMPTY_VALUE, "%.*s", key, strlen(key));
                    if (vl > 255) flag(&f, CP_URL_VALUE_TOO_LONG, "%.*s", key, strlen(key));
                    bool bad = vstray;
                    size_t keep = vl < sizeof val ? vl : sizeof val - 1;
                    for (size_t j = 0; j < keep && !bad; j++)
                        bad = memchr("/&=#?+'\"%$", val[j], 10) != NULL;
                    if (bad) flag(&f, CP_URL_BAD_CHARACTER, "%.*s", url + k, e - k);
                }
            }
            k = e + 1;
        }
        if (n_tag == 0 && !has_maas) flag(&f, CP_URL_TAG_MISSING, "%.*s", "", 0);
        else if (n_tag > 0 && tag_empty) flag(&f, CP_URL_TAG_MISSING, "%.*s", "tag=", 4);
        if (reg && n_tag > 0 && !tag_empty && strcmp(tag, "maas") != 0) {
            const cp_tag_entry *te = cp_tag_registry_find(reg, tag, strlen(tag));
            if (!te) {
                flag(&f, CP_URL_TAG_UNKNOWN, "tag '%.*s'", tag, strlen(tag));
            } else {
                if (land && asin[0] && te->asin[0] && strcasecmp(asin, te->asin) != 0) {
                    char d[64];
                    snprintf(d, sizeof d, "%s in the URL, %s in the registry", asin, te->asin);
                    flag(&f, CP_URL_ASIN_MISMATCH, "%.*s", d, strlen(d));
                }
                if (te->multi_channel) flag(&f, CP_URL_TAG_MULTI_CHANNEL, "tag '%.*s'", tag, strlen(tag));
            }
        }
    }
    size_t n = 0;
    for (int c = 0; c < CP_N_URL_CODES; c++) {
        if (!f.hit[c]) continue;
        if (n < cap) {
            out[n].code = (cp_url_code)c;
            snprintf(out[n].detail, sizeof out[n].detail, "%s", f.detail[c]);
        }
        n++;
    }
    return n;
}

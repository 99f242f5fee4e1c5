/* fuzz_urlcheck.c -- `clickpath tag check` (SPEC R5.1, R5.2): any bytes as a
 * URL, checked without and with a registry.  The URL sits in a buffer of
 * exactly its size (ASan catches over-reads); findings must be in code order,
 * one per code, with a NUL-terminated detail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tags/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cp_tag_registry *reg, const char *url, size_t len) {
    cp_url_finding f[CP_N_URL_CODES];
    size_t n = cp_url_check(reg, url, len, f, CP_N_URL_CODES);
    if (n > CP_N_URL_CODES) abort();
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)f[i].code >= CP_N_URL_CODES) abort();
        if (i && f[i].code <= f[i - 1].code) abort();
        if (!memchr(f[i].detail, '\0', sizeof f[i].detail)) abort();
    }
    /* a short output array: the count is still the full count */
    cp_url_finding one[1];
    if (cp_url_check(reg, url, len, one, 1) != n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *p = malloc(size ? size : 1);
    if (!p) return 0;
    if (size) memcpy(p, data, size);
    static const char reg_text[] = "tag,channel,publisher,campaign,asin\n"
                                   "g1,google,search,spring,B000000001\n"
                                   "x1,google,s,c,B000000001\n"
                                   "x1,tiktok,s,c,B000000001\n";
    cp_tag_registry reg;
    cp_error err = {0};
    if (cp_tag_registry_parse(&reg, reg_text, sizeof reg_text - 1, "reg", &err) != CP_OK) abort();
    check(NULL, p, size);
    check(&reg, p, size);
    cp_tag_registry_free(&reg);
    free(p);
    return 0;
}

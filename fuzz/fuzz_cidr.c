/* fuzz_cidr.c -- the --ip-blocklist parser (SPEC R3.1.2): any bytes as a
 * blocklist file, then lookups of the input's own lines as addresses.  Looks
 * for crashes, over-reads and leaks; a bad line must be an error, not a
 * fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    cp_cidr_set set;
    cp_error err = {0};
    if (cp_cidr_set_parse(&set, p, size, "fuzz", &err) == CP_OK) {
        /* Every line that parsed as a CIDR holds its own first address. */
        const char *end = p + size, *s = p;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            const char *le = nl ? nl : end;
            cp_ip128 a, b;
            (void)cp_cidr_parse(s, (size_t)(le - s), &a, &b);
            (void)cp_cidr_set_contains(&set, s, (size_t)(le - s));
            s = nl ? nl + 1 : end;
        }
        cp_cidr_set_free(&set);
    }
    cp_ip128 a;
    bool v4;
    (void)cp_ip_parse(p, size, &a, &v4);
    return 0;
}

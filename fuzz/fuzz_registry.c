/* fuzz_registry.c -- the tag registry parser (SPEC R5.1): any bytes as a
 * registry file.  The input is copied into a buffer of exactly its size, so
 * an over-read is caught by ASan.  On success every entry must be found by
 * its own tag, and each tag must appear once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tags/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *p = malloc(size ? size : 1);
    if (!p) return 0;
    if (size) memcpy(p, data, size);
    cp_tag_registry reg;
    cp_error err = {0};
    if (cp_tag_registry_parse(&reg, p, size, "fuzz", &err) == CP_OK) {
        for (size_t i = 0; i < reg.n; i++) {
            const cp_tag_entry *e = cp_tag_registry_find(&reg, reg.e[i].tag, strlen(reg.e[i].tag));
            if (e != &reg.e[i]) abort(); /* found, and first row kept */
        }
        cp_tag_registry_free(&reg);
    } else if (err.msg[0] == '\0') {
        abort(); /* an error always says why */
    }
    free(p);
    return 0;
}

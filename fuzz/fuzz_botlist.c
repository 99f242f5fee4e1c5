/* fuzz_botlist.c -- the --bot-list loader (SPEC R3.1.1): any bytes as a
 * substring list or a crawler-user-agents JSON list (chosen by the first
 * byte, as the loader does), then the input itself matched as a user agent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quality/quality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    cp_botlist bl;
    cp_error err = {0};
    if (cp_botlist_parse(&bl, p, size, "fuzz", &err) == CP_OK) {
        (void)cp_botlist_match(&bl, p, size);
        (void)cp_botlist_match(&bl, "Mozilla/5.0 (compatible; Googlebot/2.1)", 39);
        cp_botlist_free(&bl);
    }
    return 0;
}

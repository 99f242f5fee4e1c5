/* fuzz_accs.c -- fuzz target for the report accumulators' load()
 * (report/partial.h, report/merge.h): what rank 0 of `--mpi` reads from
 * the other ranks.  Damaged bytes must fail cleanly, never crash or leak.
 *
 * Aborts when a property fails: whatever loads, saves; what it saves loads
 * again and saves the same bytes (load and save are inverse on their own
 * output); what merging it into fresh accumulators makes saves and loads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cp_report_options opt;
    static int ready;
    if (!ready) {
        cp_report_options_init(&opt);
        opt.out_dir = "/nonexistent";
        ready = 1;
    }
    cp_error err = {0};
    cp_bytes_reader in = cp_bytes_reader_of(data, size);
    cp_accs a = {0};
    if (cp_accs_load(&a, &opt, &in, &err) != CP_OK) return 0;
    cp_bytes once = {0}, twice = {0};
    cp_accs_save(&a, &once);
    if (once.oom) abort();
    cp_bytes_reader again = cp_bytes_reader_of(once.p, once.n);
    cp_accs b = {0};
    if (cp_accs_load(&b, &opt, &again, &err) != CP_OK) abort();
    cp_accs_save(&b, &twice);
    if (twice.n != once.n || memcmp(twice.p, once.p, once.n) != 0) abort();
    cp_accs fresh = {0};
    if (cp_accs_init(&fresh, &opt, &err) == CP_OK) {
        if (cp_accs_merge(&fresh, &a, &err) == CP_OK) {
            /* what a merge makes saves and loads again (rows may be kept
             * in another order than a's: emit sorts them) */
            cp_bytes merged = {0};
            cp_accs_save(&fresh, &merged);
            if (merged.oom) abort();
            cp_bytes_reader m = cp_bytes_reader_of(merged.p, merged.n);
            cp_accs c = {0};
            if (cp_accs_load(&c, &opt, &m, &err) != CP_OK) abort();
            cp_accs_free(&c);
            cp_bytes_free(&merged);
        }
        cp_accs_free(&fresh);
    }
    cp_bytes_free(&once);
    cp_bytes_free(&twice);
    cp_accs_free(&a);
    cp_accs_free(&b);
    return 0;
}

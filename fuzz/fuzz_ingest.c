/* fuzz_ingest.c -- the CSV and JSON Lines readers (R1.1, R1.4b) on arbitrary
 * bytes.  The first byte picks the options (delimiter, header, mapping), the
 * rest is the file.  Checks the accounting invariant of R1.4: for every input,
 * lines = accepted + rejected + blank, and every accepted event is inside the
 * R1.4b time range.  Then loads the same bytes again on three threads in
 * blocks of 512 bytes (the parsing pipeline: blocks cut at line ends, parsed
 * while the one before commits, falling back to one thread at a quoted line
 * end across a cut) and checks that the store and the rejects are the same. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>

#include "clickpath/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    int fd = memfd_create("fuzz_ingest", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    cp_map_entry map[] = {{"visitor", "a+b"}};
    cp_set_entry set[] = {{"type", "page_view"}};
    cp_ingest_options o = {0};
    if (mode & 1) o.delimiter = "ws";
    else if (mode & 2) o.delimiter = ";";
    if (mode & 4) { o.no_header = true; o.columns = "ts,type,visitor,asin,cost,units,price"; }
    if (mode & 8) { o.map = map; o.n_map = 1; }
    if (mode & 16) { o.set = set; o.n_set = 1; }
    if (mode & 32) o.ts_format = "%Y%m%d %H:%M";
    if (mode & 64) o.input_tz = "America/Los_Angeles";
    cp_error err = {0};
    cp_run *run = cp_run_new(&o, &err);
    if (!run) { close(fd); return 0; }
    cp_ingest_options o3 = o;
    o3.threads = 3;
    o3.block_bytes = 512;
    o3.parallel_min_bytes = 1;
    cp_run *run3 = cp_run_new(&o3, &err);
    if (!run3) { cp_run_free(run); close(fd); return 0; }
    cp_result r1 = cp_run_load(run, path, &err), r3 = cp_run_load(run3, path, &err);
    if (r1 != r3) abort();
    if (r1 == CP_OK && cp_run_finish(run, &err) == CP_OK && cp_run_finish(run3, &err) == CP_OK) {
        const cp_events *a = cp_run_events(run), *b = cp_run_events(run3);
        if (a->n != b->n || cp_run_rejected(run) != cp_run_rejected(run3)) abort();
        for (size_t i = 0; i < a->n; i++)
            if (a->ts_ms[i] != b->ts_ms[i] || a->line[i] != b->line[i] || a->identity[i] != b->identity[i] ||
                a->ua[i] != b->ua[i] || a->asin[i] != b->asin[i] || a->placement[i] != b->placement[i] ||
                a->money_micros[i] != b->money_micros[i])
                abort();
        size_t na, nb;
        const cp_reject *ra = cp_run_rejects(run, &na), *rb = cp_run_rejects(run3, &nb);
        if (na != nb) abort();
        for (size_t i = 0; i < na; i++)
            if (ra[i].line != rb[i].line || ra[i].reason != rb[i].reason || strcmp(ra[i].text, rb[i].text) != 0)
                abort();
        size_t n;
        const cp_input_stats *in = cp_run_inputs(run, &n);
        if (in[0].lines != in[0].accepted + in[0].rejected + in[0].blank_lines) abort();
        const cp_events *e = cp_run_events(run);
        if (e->n != cp_run_accepted(run)) abort();
        for (size_t i = 0; i < e->n; i++)
            if (e->ts_ms[i] < 0 || e->ts_ms[i] > INT64_C(4102444799000)) abort();
        for (size_t i = 1; i < e->n; i++)
            if (e->ts_ms[i] < e->ts_ms[i - 1]) abort(); /* R1.6 */
    }
    cp_run_free(run);
    cp_run_free(run3);
    close(fd);
    return 0;
}

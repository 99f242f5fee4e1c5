/* customers_bench.c -- times cp_customers_write (SPEC R10: every customer
 * report and the CLV fit) on an event file, after the earlier stages.
 * Build: make BUILD=/tmp/b && cc -O2 -D_GNU_SOURCE -Iinclude -Isrc
 *   bench/customers_bench.c /tmp/b/libclickpath.a -lzstd -lz -lgsl -lgslcblas -lm -pthread
 * Usage: customers_bench EVENTS TAGS OUTDIR [RUNS]  (prints median/min/max) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "report/table.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int runs = argc > 4 ? atoi(argv[4]) : 5;
    cp_ingest_options io = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(&io, &err);
    if (!run || cp_run_load(run, argv[1], &err) || cp_run_finish(run, &err)) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
    }
    cp_report_options opt;
    cp_report_options_init(&opt);
    opt.out_dir = argv[3];
    opt.tags_path = argv[2];
    opt.clv_week = true;
    if (cp_mkdir_p(opt.out_dir, &err)) return 1;
    cp_report_ctx ctx;
    if (cp_report_ctx_init(&ctx, run, &opt, &err) || cp_quality_build(&ctx, &err) ||
        cp_sessions_build(&ctx, &err) || cp_ads_build(&ctx, &err) || cp_attribution_build(&ctx, &err)) {
        fprintf(stderr, "stages: %s\n", err.msg);
        return 1;
    }
    double t[64];
    if (runs > 64) runs = 64;
    for (int i = 0; i < runs; i++) {
        cp_summary *sum = cp_summary_new();
        double t0 = now_s();
        if (cp_customers_write(&ctx, sum, &err)) {
            fprintf(stderr, "customers: %s\n", err.msg);
            return 1;
        }
        t[i] = now_s() - t0;
        if (i == 0) printf("%s\n", cp_summary_text(sum));
        cp_summary_free(sum);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    printf("events %zu  cp_customers_write: median %.3f s  min %.3f s  max %.3f s  (%d runs)\n",
           cp_run_events(run)->n, t[runs / 2], t[0], t[runs - 1], runs);
    cp_report_ctx_free(&ctx);
    cp_run_free(run);
    return 0;
}

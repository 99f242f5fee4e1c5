/* merge.h -- every writer's accumulator together (report/partial.h): what a
 * partitioned report holds between its partitions, what the ranks of
 * `--mpi` send to rank 0.  report.c. */
#ifndef CLICKPATH_MERGE_H
#define CLICKPATH_MERGE_H

#include "clickpath/partition.h"
#include "report/partial.h"
#include "util/bytes.h"

typedef struct cp_accs {
    cp_quality_acc *quality;
    cp_business_acc *business;
    cp_diagnostics_acc *diagnostics;
    cp_ads_acc *ads;
    cp_attribution_acc *attribution;
    cp_customers_acc *customers;
} cp_accs;

cp_result cp_accs_init(cp_accs *a, const cp_report_options *opt, cp_error *err);
void cp_accs_free(cp_accs *a);
/* One partition, from its frame files (merged in (file, line) order):
 * loaded, finished, its stages built and its figures added.  first is the
 * first pass's run (inputs, formats, R3.1.1); as_of_ms the report's. */
cp_result cp_accs_add_frames(cp_accs *a, const cp_run *first, const cp_ingest_options *iopt,
                             const char *const *paths, size_t n_paths, const cp_report_options *opt,
                             int64_t as_of_ms, cp_error *err);
cp_result cp_accs_merge(cp_accs *into, const cp_accs *from, cp_error *err);
void cp_accs_save(const cp_accs *a, cp_bytes *out);
/* Replaces a's accumulators by the ones saved in `in`. */
cp_result cp_accs_load(cp_accs *a, const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);
/* The report: the inputs part of summary.json from the first pass, as-of,
 * every writer's files and fragment in the one-thread order, rejects.csv,
 * summary.json, report.xlsx and report.html. */
cp_result cp_accs_emit(cp_accs *a, const cp_run *first, const cp_report_options *opt, int64_t as_of_ms,
                       cp_summary *sum, cp_error *err);

#endif

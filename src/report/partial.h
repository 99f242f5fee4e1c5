/* partial.h -- the writers in two halves, for runs split into partitions
 * (docs/scale.md, `--memory`).
 *
 * A partition is a finished cp_run holding every event of a set of
 * components: identities (after R2.1 stitching) joined with every identity
 * they share an order id or a click_id with.  Every per-identity rule is
 * therefore exact inside one partition.  The driver loads the partitions one
 * by one, builds their stages, and hands each to every writer's add(); after
 * the last one, emit() writes the files.  The whole-run report is the case
 * of one partition and goes through the same functions.
 *
 * An accumulator owns copies of everything it keeps: string ids, placement,
 * order, session and row indices are local to a partition, so rows are keyed
 * by content.  Sums are order-free; ratios and anything in floating point
 * are computed at emit, in an order that does not depend on the
 * partitioning, so any partitioning writes the same bytes.  An accumulator
 * grows with its output rows (ASINs, days, campaigns, customers), not with
 * events.
 *
 * Accumulators of partitions reported on separately (threads taking
 * partitions, or the ranks of `--mpi`) are combined with merge() and sent
 * between processes with save() and load():
 *   merge(into, from)  adds everything `from` holds into `into`, as if `into`
 *                      had been given from's partitions too (`from` is not
 *                      changed; both made with the same opt; either may
 *                      have had no add() at all);
 *   save(a, out)       appends a's whole state to out (out->oom when memory
 *                      is short);
 *   load(opt, in, err) reads one saved state into a new accumulator; NULL
 *                      and *err when the bytes are damaged or memory short.
 * Emitting after any mix of add(), merge() and load() writes the same bytes
 * as adding every partition to one accumulator.
 *
 * Values that are the same for every partition of one report may be taken
 * from the first add(): ctx->opt, ctx->as_of_ms, ctx->ua_rule_on, the input
 * list.  new() copies nothing from opt; opt must outlive the accumulator.
 */
#ifndef CLICKPATH_PARTIAL_H
#define CLICKPATH_PARTIAL_H

#include "clickpath/report.h"
#include "util/bytes.h"

/* invalid_clicks.csv */
typedef struct cp_quality_acc cp_quality_acc;
cp_quality_acc *cp_quality_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_quality_acc_add(cp_quality_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_quality_acc_emit(cp_quality_acc *a, cp_summary *sum, cp_error *err);
void cp_quality_acc_free(cp_quality_acc *a);
cp_result cp_quality_acc_merge(cp_quality_acc *into, const cp_quality_acc *from, cp_error *err);
void cp_quality_acc_save(const cp_quality_acc *a, cp_bytes *out);
cp_quality_acc *cp_quality_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

/* business_asin.csv, business_daily.csv */
typedef struct cp_business_acc cp_business_acc;
cp_business_acc *cp_business_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_business_acc_add(cp_business_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_business_acc_emit(cp_business_acc *a, cp_summary *sum, cp_error *err);
void cp_business_acc_free(cp_business_acc *a);
cp_result cp_business_acc_merge(cp_business_acc *into, const cp_business_acc *from, cp_error *err);
void cp_business_acc_save(const cp_business_acc *a, cp_bytes *out);
cp_business_acc *cp_business_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

/* diagnostics.csv */
typedef struct cp_diagnostics_acc cp_diagnostics_acc;
cp_diagnostics_acc *cp_diagnostics_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_diagnostics_acc_add(cp_diagnostics_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_diagnostics_acc_emit(cp_diagnostics_acc *a, cp_summary *sum, cp_error *err);
void cp_diagnostics_acc_free(cp_diagnostics_acc *a);
cp_result cp_diagnostics_acc_merge(cp_diagnostics_acc *into, const cp_diagnostics_acc *from, cp_error *err);
void cp_diagnostics_acc_save(const cp_diagnostics_acc *a, cp_bytes *out);
cp_diagnostics_acc *cp_diagnostics_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

/* ads.csv */
typedef struct cp_ads_acc cp_ads_acc;
cp_ads_acc *cp_ads_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_ads_acc_add(cp_ads_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_ads_acc_emit(cp_ads_acc *a, cp_summary *sum, cp_error *err);
void cp_ads_acc_free(cp_ads_acc *a);
cp_result cp_ads_acc_merge(cp_ads_acc *into, const cp_ads_acc *from, cp_error *err);
void cp_ads_acc_save(const cp_ads_acc *a, cp_bytes *out);
cp_ads_acc *cp_ads_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

/* attribution.csv */
typedef struct cp_attribution_acc cp_attribution_acc;
cp_attribution_acc *cp_attribution_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_attribution_acc_add(cp_attribution_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_attribution_acc_emit(cp_attribution_acc *a, cp_summary *sum, cp_error *err);
void cp_attribution_acc_free(cp_attribution_acc *a);
cp_result cp_attribution_acc_merge(cp_attribution_acc *into, const cp_attribution_acc *from, cp_error *err);
void cp_attribution_acc_save(const cp_attribution_acc *a, cp_bytes *out);
cp_attribution_acc *cp_attribution_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

/* customers, segments, pareto, cohorts, cohorts_histogram, feedback, cac, clv_model.json */
typedef struct cp_customers_acc cp_customers_acc;
cp_customers_acc *cp_customers_acc_new(const cp_report_options *opt); /* NULL: out of memory */
cp_result cp_customers_acc_add(cp_customers_acc *a, cp_report_ctx *ctx, cp_error *err);
cp_result cp_customers_acc_emit(cp_customers_acc *a, cp_summary *sum, cp_error *err);
void cp_customers_acc_free(cp_customers_acc *a);
cp_result cp_customers_acc_merge(cp_customers_acc *into, const cp_customers_acc *from, cp_error *err);
void cp_customers_acc_save(const cp_customers_acc *a, cp_bytes *out);
cp_customers_acc *cp_customers_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

#endif

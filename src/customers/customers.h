/* customers.h -- internals of the customer evaluation (SPEC R10), shared by
 * customers.c (R10.1 per-customer figures, R10.2 segments and Pareto, R10.3
 * cohorts, R10.5 the CLV columns and clv_model.json), feedback.c (R10.6) and
 * cac.c (R10.4).  cp_customers_write() (report.h) and the cp_customers_acc
 * halves (report/partial.h) are the entry points.
 */
#ifndef CLICKPATH_CUSTOMERS_H
#define CLICKPATH_CUSTOMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "clickpath/report.h"
#include "report/table.h"
#include "util/bytes.h"

#define CP_DAY_MS INT64_C(86400000)

/* R10.2 segments, in segments.csv's row order. */
typedef enum cp_segment {
    CP_SEG_HIGH_VALUE = 0,
    CP_SEG_CHURN_RISK = 1,
    CP_SEG_POTENTIAL = 2,
    CP_SEG_REPEAT = 3,
    CP_N_SEGMENTS = 4
} cp_segment;

const char *cp_segment_name(cp_segment s);

/* One customer (R10.1): an identity with a purchase at or before as-of.
 * Every figure uses only the events at or before as-of.  segment and the
 * rfm scores need every customer: they are set at emit. */
typedef struct cp_customer {
    cp_str id;
    uint32_t first_row;        /* its first purchase line (R10.4) */
    int64_t first_ts_ms, last_ts_ms; /* first and last purchase line */
    int64_t second_order_ts_ms; /* first line of its second order; INT64_MIN if none (R10.3) */
    int64_t last_activity_ms;  /* last accepted event of any kind */
    int64_t orders, units, gmv_micros, units_returned, refunds_micros, orders_recent;
    /* R10.5 summary up to the calibration end (days in the report tz) */
    int32_t first_day, last_day;
    int64_t n_days;            /* distinct purchase days; 0 = no purchase by then */
    int64_t repeat_micros;     /* purchases on the days after the first day */
    uint8_t segment, rfm_r, rfm_f, rfm_m;
} cp_customer;

/* A customer table: one partition's (cp_customers_collect), or every
 * customer's at emit, sorted by identity bytes. */
typedef struct cp_customer_table {
    cp_customer *c;
    size_t n;
} cp_customer_table;

/* Builds the table of ctx's run (one partition): every per-customer figure
 * of R10.1 and the R10.5 summary, in no particular order; ids and first_row
 * are the partition's, segment and rfm are left 0.  cal_end_ms: the R10.5
 * calibration end (<= as-of). */
cp_result cp_customers_collect(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer_table *out,
                               cp_error *err);
void cp_customer_table_free(cp_customer_table *t);


/* feedback.c: feedback.csv (R10.6); *rate_num / *rate_den give the account
 * rate for the summary. */
cp_result cp_feedback_write(const cp_report_ctx *ctx, int64_t *rate_num, int64_t *rate_den, cp_error *err);

/* cac.c: cac.csv (R10.4). */
cp_result cp_cac_write(const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err);

/* The same two in halves for partitioned runs (report/partial.h): add()
 * takes one partition, emit() writes the file.  cac's add() takes the
 * partition's customer table (cp_customers_collect on that partition). */
typedef struct cp_feedback_acc cp_feedback_acc;
cp_feedback_acc *cp_feedback_acc_new(const cp_report_options *opt);
cp_result cp_feedback_acc_add(cp_feedback_acc *a, const cp_report_ctx *ctx, cp_error *err);
cp_result cp_feedback_acc_emit(cp_feedback_acc *a, int64_t *rate_num, int64_t *rate_den, cp_error *err);
void cp_feedback_acc_free(cp_feedback_acc *a);
cp_result cp_feedback_acc_merge(cp_feedback_acc *into, const cp_feedback_acc *from, cp_error *err);
void cp_feedback_acc_save(const cp_feedback_acc *a, cp_bytes *out);
cp_feedback_acc *cp_feedback_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

typedef struct cp_cac_acc cp_cac_acc;
cp_cac_acc *cp_cac_acc_new(const cp_report_options *opt);
cp_result cp_cac_acc_add(cp_cac_acc *a, const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err);
cp_result cp_cac_acc_emit(cp_cac_acc *a, cp_error *err);
void cp_cac_acc_free(cp_cac_acc *a);
cp_result cp_cac_acc_merge(cp_cac_acc *into, const cp_cac_acc *from, cp_error *err);
void cp_cac_acc_save(const cp_cac_acc *a, cp_bytes *out);
cp_cac_acc *cp_cac_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err);

cp_result cp_customers_oom(cp_error *err);

#endif /* CLICKPATH_CUSTOMERS_H */

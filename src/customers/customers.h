/* customers.h -- internals of the customer evaluation (SPEC R10), shared by
 * customers.c (R10.1 per-customer figures, R10.2 segments and Pareto, R10.3
 * cohorts, R10.5 the CLV columns and clv_model.json), feedback.c (R10.6) and
 * cac.c (R10.4).  cp_customers_write() (report.h) is the entry point.
 */
#ifndef CLICKPATH_CUSTOMERS_H
#define CLICKPATH_CUSTOMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "clickpath/report.h"
#include "report/table.h"

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
 * Every figure uses only the events at or before as-of. */
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

/* The customer table, sorted by identity bytes. */
typedef struct cp_customer_table {
    cp_customer *c;
    size_t n;
} cp_customer_table;

/* Builds the table from ctx (R10.1, R10.2): figures, RFM, segments.
 * cal_end_ms: the R10.5 calibration end (<= as-of). */
cp_result cp_customers_collect(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer_table *out,
                               cp_error *err);
void cp_customer_table_free(cp_customer_table *t);


/* feedback.c: feedback.csv (R10.6); *rate_num / *rate_den give the account
 * rate for the summary. */
cp_result cp_feedback_write(const cp_report_ctx *ctx, int64_t *rate_num, int64_t *rate_den, cp_error *err);

/* cac.c: cac.csv (R10.4). */
cp_result cp_cac_write(const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err);

cp_result cp_customers_oom(cp_error *err);

#endif /* CLICKPATH_CUSTOMERS_H */

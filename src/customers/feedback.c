/* feedback.c -- the negative feedback rate (SPEC R10.6, R8 feedback.csv), the
 * marketplace's account-health figure.
 *
 * Orders placed in the 90 days up to as-of: an order's time is its first
 * purchase line (cp_order.first_ts_ms), inside [as-of - 90 d, as-of].  An
 * order's feedback is its latest `feedback` event at or before as-of in R1.6
 * order (rows are already in that order, so the last one seen wins), matched
 * by order id.  Negative: rating 1 or 2.  Per ASIN: the orders holding a
 * purchase line (at or before as-of) of that ASIN.
 * Rows: the account row (key empty), then ASIN rows by ASIN bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "customers/customers.h"
#include "report/table.h"
#include "util/check.h"

#define FEEDBACK_WINDOW_MS (90 * CP_DAY_MS)

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct asin_fb {
    cp_str asin;
    int64_t orders, feedback_orders, negative;
} asin_fb;

static int cmp_asin_fb(const void *a, const void *b, void *s) {
    return cp_strings_cmp(s, ((const asin_fb *)a)->asin, ((const asin_fb *)b)->asin);
}

static void row(cp_table *t, const cp_strings *str, const char *scope, cp_str key, int64_t orders, int64_t fb,
                int64_t neg) {
    cp_table_cstr(t, scope);
    cp_table_sid(t, str, key);
    cp_table_int(t, orders);
    cp_table_int(t, fb);
    cp_table_int(t, neg);
    cp_table_ratio(t, neg, orders);
    cp_table_end_row(t);
}

cp_result cp_feedback_write(const cp_report_ctx *ctx, int64_t *rate_num, int64_t *rate_den, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_report_options *opt = ctx->opt;
    int64_t as_of = ctx->as_of_ms, from = as_of - FEEDBACK_WINDOW_MS;
    size_t n_orders = 0;
    const cp_order *orders = cp_run_orders(ctx->run, &n_orders);
    uint8_t *latest = calloc(n_orders ? n_orders : 1, 1); /* latest rating, 0 = none */
    size_t n_pairs = 0, cap_pairs = 1024;
    uint64_t *pairs = malloc(cap_pairs * sizeof *pairs); /* asin << 32 | order */
    if (!latest || !pairs) {
        free(latest);
        free(pairs);
        return cp_customers_oom(err);
    }
    for (size_t i = 0; i < ev->n && ev->ts_ms[i] <= as_of; i++) {
        uint32_t o = ev->order[i];
        if (o == CP_NONE) continue;
        if (ev->type[i] == CP_FEEDBACK) {
            latest[o] = ev->rating[i]; /* R1.6 order: the last one seen is the latest */
        } else if (ev->type[i] == CP_PURCHASE && ev->asin[i] != CP_STR_NONE) {
            CP_TESTCASE(orders[o].first_ts_ms == from);
            if (orders[o].first_ts_ms < from || orders[o].first_ts_ms > as_of) continue;
            if (n_pairs == cap_pairs) {
                uint64_t *grown = realloc(pairs, 2 * cap_pairs * sizeof *pairs);
                if (!grown) {
                    free(latest);
                    free(pairs);
                    return cp_customers_oom(err);
                }
                pairs = grown;
                cap_pairs *= 2;
            }
            pairs[n_pairs++] = (uint64_t)ev->asin[i] << 32 | o;
        }
    }
    int64_t acc_orders = 0, acc_fb = 0, acc_neg = 0;
    for (size_t o = 0; o < n_orders; o++) {
        if (orders[o].first_ts_ms < from || orders[o].first_ts_ms > as_of) continue;
        acc_orders++;
        if (latest[o]) acc_fb++;
        if (latest[o] == 1 || latest[o] == 2) acc_neg++;
    }
    qsort(pairs, n_pairs, sizeof *pairs, cmp_u64);
    size_t n_asins = 0;
    asin_fb *asins = malloc((n_pairs ? n_pairs : 1) * sizeof *asins);
    if (!asins) {
        free(latest);
        free(pairs);
        return cp_customers_oom(err);
    }
    for (size_t k = 0; k < n_pairs; k++) {
        if (k > 0 && pairs[k] == pairs[k - 1]) continue; /* one order counts once per ASIN */
        cp_str asin = (cp_str)(pairs[k] >> 32);
        uint32_t o = (uint32_t)pairs[k];
        if (n_asins == 0 || asins[n_asins - 1].asin != asin) asins[n_asins++] = (asin_fb){.asin = asin};
        asin_fb *a = &asins[n_asins - 1];
        a->orders++;
        if (latest[o]) a->feedback_orders++;
        if (latest[o] == 1 || latest[o] == 2) a->negative++;
    }
    qsort_r(asins, n_asins, sizeof *asins, cmp_asin_fb, (void *)ctx->str);
    static const char *const cols[] = {"scope", "key", "orders", "feedback_orders", "negative_feedback_orders",
                                       "negative_feedback_rate"};
    cp_result rc = CP_OK;
    cp_table *t = cp_table_open(opt->out_dir, "feedback", opt->format, cols, 6, err);
    if (!t) rc = err ? err->code : CP_EIO;
    if (!rc) {
        row(t, ctx->str, "account", CP_STR_NONE, acc_orders, acc_fb, acc_neg);
        for (size_t k = 0; k < n_asins; k++)
            row(t, ctx->str, "asin", asins[k].asin, asins[k].orders, asins[k].feedback_orders, asins[k].negative);
        rc = cp_table_close(t, err);
    }
    *rate_num = acc_neg;
    *rate_den = acc_orders;
    free(latest);
    free(pairs);
    free(asins);
    return rc;
}

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
 *
 * In halves (report/partial.h): add() counts one partition's orders -- an
 * order id and its feedback are in one partition only, so the counts add up
 * -- into the account counters and one row per ASIN, keyed by the ASIN's
 * bytes in the accumulator's own string table; emit() sorts the rows by
 * those bytes and writes the file.  merge() adds the other accumulator's
 * counters and rows, keyed by the ASIN's bytes; save() writes the account
 * counters and the rows (ASIN bytes, counts) and load() reads them back,
 * checking that every row is whole, that its counts fit (0 <= negative <=
 * with feedback <= orders) and that no ASIN comes twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customers/customers.h"
#include "report/table.h"
#include "util/check.h"
#include "util/rowmap.h"
#include "util/rowmask.h"
#include "util/strings.h"

#define FEEDBACK_WINDOW_MS (90 * CP_DAY_MS)
#define FEEDBACK_MAGIC UINT32_C(0x42464350) /* "PCFB" */

/* One row per ASIN; the key (an id in the accumulator's strings) first, as
 * the rowmap wants. */
typedef struct asin_fb {
    cp_str asin;
    int64_t orders, feedback_orders, negative;
} asin_fb;

struct cp_feedback_acc {
    const cp_report_options *opt;
    cp_strings *str; /* ASIN bytes */
    cp_rowmap rows;  /* asin_fb by ASIN */
    int64_t orders, feedback_orders, negative; /* the account */
};

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

cp_feedback_acc *cp_feedback_acc_new(const cp_report_options *opt) {
    cp_feedback_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    a->str = cp_strings_new();
    if (!a->str) {
        free(a);
        return NULL;
    }
    cp_rowmap_init(&a->rows, sizeof(asin_fb), 1);
    return a;
}

void cp_feedback_acc_free(cp_feedback_acc *a) {
    if (!a) return;
    cp_rowmap_free(&a->rows);
    cp_strings_free(a->str);
    free(a);
}

/* dst += src, field by field; false (dst unchanged) when a sum overflows,
 * which only damaged saved states can cause. */
static bool add_counts(int64_t dst[3], const int64_t src[3]) {
    int64_t t[3];
    for (int k = 0; k < 3; k++)
        if (__builtin_add_overflow(dst[k], src[k], &t[k])) return false;
    memcpy(dst, t, sizeof t);
    return true;
}

enum { ADD_OK, ADD_OOM, ADD_OVERFLOW };

/* Adds counts to the row of ASIN s[0..len) (made when missing; *created
 * says which). */
static int add_asin_bytes(cp_feedback_acc *a, const char *s, size_t len, const asin_fb *part, bool *created) {
    int oom = 0;
    cp_str id = cp_strings_intern(a->str, s, len, &oom);
    if (oom) return ADD_OOM;
    uint32_t r = cp_rowmap_get(&a->rows, id, 0, 0, created);
    if (r == CP_ROWMAP_OOM) return ADD_OOM;
    asin_fb *row = CP_ROWMAP_AT(&a->rows, asin_fb, r);
    const int64_t add[3] = {part->orders, part->feedback_orders, part->negative};
    int64_t sum[3] = {row->orders, row->feedback_orders, row->negative};
    if (!add_counts(sum, add)) return ADD_OVERFLOW;
    row->orders = sum[0];
    row->feedback_orders = sum[1];
    row->negative = sum[2];
    return ADD_OK;
}

/* Adds one ASIN's counts of this partition to its row. */
static bool add_asin(cp_feedback_acc *a, const cp_strings *str, cp_str asin, const asin_fb *part) {
    size_t len;
    const char *s = cp_strings_get(str, asin, &len);
    return add_asin_bytes(a, s, len, part, NULL) == ADD_OK; /* a partition's counts cannot overflow */
}

cp_result cp_feedback_acc_add(cp_feedback_acc *a, const cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
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
    /* rows with an order are purchases, returns and feedback: never an
     * impression (util/rowmask.h); rows are in time order */
    for (cp_rows r = cp_rows_not(ev->type, ev->n, CP_IMPRESSION); cp_rows_next(&r);) {
        size_t i = r.i;
        if (ev->ts_ms[i] > as_of) break;
        uint32_t o = ev->order[r.k];
        if (o == CP_NONE) continue;
        if (ev->type[i] == CP_FEEDBACK) {
            latest[o] = ev->rating[r.k]; /* R1.6 order: the last one seen is the latest */
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
    for (size_t o = 0; o < n_orders; o++) {
        if (orders[o].first_ts_ms < from || orders[o].first_ts_ms > as_of) continue;
        a->orders++;
        if (latest[o]) a->feedback_orders++;
        if (latest[o] == 1 || latest[o] == 2) a->negative++;
    }
    qsort(pairs, n_pairs, sizeof *pairs, cmp_u64);
    bool ok = true;
    asin_fb cur = {0};
    for (size_t k = 0; k < n_pairs && ok; k++) {
        if (k > 0 && pairs[k] == pairs[k - 1]) continue; /* one order counts once per ASIN */
        cp_str asin = (cp_str)(pairs[k] >> 32);
        uint32_t o = (uint32_t)pairs[k];
        if (k > 0 && asin != cur.asin) {
            ok = add_asin(a, ctx->str, cur.asin, &cur);
            cur = (asin_fb){0};
        }
        cur.asin = asin;
        cur.orders++;
        if (latest[o]) cur.feedback_orders++;
        if (latest[o] == 1 || latest[o] == 2) cur.negative++;
    }
    if (ok && n_pairs) ok = add_asin(a, ctx->str, cur.asin, &cur);
    free(latest);
    free(pairs);
    return ok ? CP_OK : cp_customers_oom(err);
}

static int cmp_row(const void *x, const void *y, void *u) {
    const cp_feedback_acc *a = u;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    return cp_strings_cmp(a->str, CP_ROWMAP_AT(&a->rows, asin_fb, i)->asin,
                          CP_ROWMAP_AT(&a->rows, asin_fb, j)->asin);
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

cp_result cp_feedback_acc_emit(cp_feedback_acc *a, int64_t *rate_num, int64_t *rate_den, cp_error *err) {
    const cp_report_options *opt = a->opt;
    size_t n = a->rows.n;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return cp_customers_oom(err);
    for (size_t k = 0; k < n; k++) order[k] = (uint32_t)k;
    qsort_r(order, n, sizeof *order, cmp_row, a);
    static const char *const cols[] = {"scope", "key", "orders", "feedback_orders", "negative_feedback_orders",
                                       "negative_feedback_rate"};
    cp_result rc = CP_OK;
    cp_table *t = cp_table_open(opt->out_dir, "feedback", opt->format, cols, 6, err);
    if (!t) rc = err ? err->code : CP_EIO;
    if (!rc) {
        row(t, a->str, "account", CP_STR_NONE, a->orders, a->feedback_orders, a->negative);
        for (size_t k = 0; k < n; k++) {
            const asin_fb *r = CP_ROWMAP_AT(&a->rows, asin_fb, order[k]);
            row(t, a->str, "asin", r->asin, r->orders, r->feedback_orders, r->negative);
        }
        rc = cp_table_close(t, err);
    }
    *rate_num = a->negative;
    *rate_den = a->orders;
    free(order);
    return rc;
}

cp_result cp_feedback_write(const cp_report_ctx *ctx, int64_t *rate_num, int64_t *rate_den, cp_error *err) {
    cp_feedback_acc *a = cp_feedback_acc_new(ctx->opt);
    if (!a) return cp_customers_oom(err);
    cp_result rc = cp_feedback_acc_add(a, ctx, err);
    if (!rc) rc = cp_feedback_acc_emit(a, rate_num, rate_den, err);
    cp_feedback_acc_free(a);
    return rc;
}

static cp_result bad_state(cp_error *err, const char *what) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "damaged feedback.csv accumulator: %s", what);
    }
    return CP_EFORMAT;
}

cp_result cp_feedback_acc_merge(cp_feedback_acc *into, const cp_feedback_acc *from, cp_error *err) {
    int64_t acct[3] = {into->orders, into->feedback_orders, into->negative};
    const int64_t add[3] = {from->orders, from->feedback_orders, from->negative};
    if (!add_counts(acct, add)) return bad_state(err, "the counts overflow");
    size_t n = from->rows.n; /* fixed first: into may be from */
    for (size_t k = 0; k < n; k++) {
        asin_fb r = *CP_ROWMAP_AT(&from->rows, asin_fb, k);
        size_t len;
        const char *s = cp_strings_get(from->str, r.asin, &len);
        int rc = add_asin_bytes(into, s, len, &r, NULL);
        if (rc == ADD_OOM) return cp_customers_oom(err);
        if (rc == ADD_OVERFLOW) return bad_state(err, "the counts overflow");
    }
    into->orders = acct[0];
    into->feedback_orders = acct[1];
    into->negative = acct[2];
    return CP_OK;
}

void cp_feedback_acc_save(const cp_feedback_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, FEEDBACK_MAGIC);
    cp_bytes_i64(out, a->orders);
    cp_bytes_i64(out, a->feedback_orders);
    cp_bytes_i64(out, a->negative);
    cp_bytes_u64(out, a->rows.n);
    for (size_t k = 0; k < a->rows.n; k++) {
        const asin_fb *r = CP_ROWMAP_AT(&a->rows, asin_fb, k);
        size_t len;
        const char *s = cp_strings_get(a->str, r->asin, &len);
        cp_bytes_str(out, s, len);
        cp_bytes_i64(out, r->orders);
        cp_bytes_i64(out, r->feedback_orders);
        cp_bytes_i64(out, r->negative);
    }
}

static bool counts_fit(int64_t orders, int64_t fb, int64_t neg) {
    return 0 <= neg && neg <= fb && fb <= orders;
}

cp_feedback_acc *cp_feedback_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    if (cp_bytes_get_u32(in) != FEEDBACK_MAGIC) {
        bad_state(err, in->bad ? "it ends early" : "it does not begin with its tag");
        in->bad = true;
        return NULL;
    }
    cp_feedback_acc *a = cp_feedback_acc_new(opt);
    if (!a) {
        cp_customers_oom(err);
        return NULL;
    }
    a->orders = cp_bytes_get_i64(in);
    a->feedback_orders = cp_bytes_get_i64(in);
    a->negative = cp_bytes_get_i64(in);
    uint64_t n = cp_bytes_get_u64(in);
    const char *why = NULL;
    if (in->bad) why = "it ends early";
    else if (!counts_fit(a->orders, a->feedback_orders, a->negative)) why = "the account counts do not fit";
    else if (n > (in->n - in->at) / (4 + 3 * 8)) why = "more ASIN rows than bytes"; /* each row >= 28 bytes */
    for (uint64_t k = 0; !why && k < n; k++) {
        size_t len;
        const char *s = cp_bytes_get_str(in, &len);
        asin_fb r = {0};
        r.orders = cp_bytes_get_i64(in);
        r.feedback_orders = cp_bytes_get_i64(in);
        r.negative = cp_bytes_get_i64(in);
        bool created = false;
        if (in->bad) why = "it ends early";
        else if (!len) why = "an ASIN row without an ASIN";
        else if (!counts_fit(r.orders, r.feedback_orders, r.negative)) why = "an ASIN row's counts do not fit";
        else {
            int rc = add_asin_bytes(a, s, len, &r, &created);
            if (rc == ADD_OOM) {
                cp_customers_oom(err);
                cp_feedback_acc_free(a);
                return NULL;
            }
            if (rc != ADD_OK || !created) why = "an ASIN comes twice";
        }
    }
    if (why) {
        bad_state(err, why);
        in->bad = true;
        cp_feedback_acc_free(a);
        return NULL;
    }
    return a;
}

/* customers.c -- customer evaluation (SPEC R10, R8): customers.csv (R10.1),
 * segments.csv and pareto.csv (R10.2), cohorts.csv and
 * cohorts_histogram.csv (R10.3), the CLV columns and clv_model.json (R10.5),
 * and the "customers" summary.  feedback.csv is in feedback.c (R10.6),
 * cac.csv in cac.c (R10.4).
 *
 * One pass over the by-identity permutation builds every customer: an
 * identity's rows come in time order, so its first purchase line, its second
 * order's first line and its calendar purchase days fall out of a linear
 * scan; distinct orders are counted with a per-order stamp array (no hash).
 * Choices where SPEC leaves room are in docs/customers.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "customers/clv.h"
#include "customers/customers.h"
#include "report/table.h"
#include "util/check.h"
#include "util/values.h"

static const char *const segment_names[CP_N_SEGMENTS] = {"high_value", "churn_risk", "potential", "repeat"};

const char *cp_segment_name(cp_segment s) { return (unsigned)s < CP_N_SEGMENTS ? segment_names[s] : "?"; }

cp_result cp_customers_oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the customer reports");
    }
    return CP_ENOMEM;
}

int64_t cp_div_round_even(int64_t num, int64_t den) {
    int64_t q = num / den, r = num % den; /* C truncates toward zero */
    if (r < 0) { r = -r; }
    int64_t twice = 2 * r;
    if (twice > den || (twice == den && (q & 1))) q += num < 0 ? -1 : 1;
    return q;
}

void cp_customer_table_free(cp_customer_table *t) {
    free(t->c);
    t->c = NULL;
    t->n = 0;
}

/* ---- R10.1: collection ------------------------------------------------------ */

static int cmp_customer_id(const void *a, const void *b, void *s) {
    return cp_strings_cmp(s, ((const cp_customer *)a)->id, ((const cp_customer *)b)->id);
}

/* A sort key and the position it belongs to. */
typedef struct rank_key {
    uint64_t v;
    uint32_t pos;
} rank_key;

/* Stable LSD radix sort of keys[0..n) by v ascending (8-bit digits; digits
 * equal in every key are skipped).  tmp holds n keys.  Returns the array
 * that holds the result (keys or tmp). */
static rank_key *radix_sort_keys(rank_key *keys, rank_key *tmp, size_t n) {
    size_t (*cnt)[256] = calloc(8, sizeof *cnt);
    if (!cnt) return NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = keys[i].v;
        for (int d = 0; d < 8; d++) cnt[d][(v >> (8 * d)) & 255]++;
    }
    rank_key *src = keys, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        if (n == 0 || cnt[d][(src[0].v >> (8 * d)) & 255] == n) continue; /* one bucket: nothing moves */
        size_t off = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = off;
            off += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[d][(src[i].v >> (8 * d)) & 255]++] = src[i];
        rank_key *sw = src;
        src = dst;
        dst = sw;
    }
    free(cnt);
    return src;
}

/* int64 -> uint64 with the same order. */
static inline uint64_t ord_i64(int64_t v) { return (uint64_t)v ^ (UINT64_C(1) << 63); }

/* R10.1: score = 1 + floor(5 * rank / n), rank from 0 in ascending
 * (value, identity bytes) order: a stable sort by value of the customers,
 * who are in identity byte order. */
static bool rfm_scores(cp_customer *c, size_t n, rank_key *keys, rank_key *tmp, int which) {
    for (size_t i = 0; i < n; i++) {
        keys[i].pos = (uint32_t)i;
        keys[i].v = ord_i64(which == 0   ? c[i].last_ts_ms
                            : which == 1 ? c[i].orders
                                         : c[i].gmv_micros - c[i].refunds_micros);
    }
    rank_key *sorted = radix_sort_keys(keys, tmp, n);
    if (!sorted) return false;
    for (size_t rank = 0; rank < n; rank++) {
        uint8_t score = (uint8_t)(1 + (5 * (uint64_t)rank) / n);
        cp_customer *cu = &c[sorted[rank].pos];
        if (which == 0) cu->rfm_r = score;
        else if (which == 1) cu->rfm_f = score;
        else cu->rfm_m = score;
    }
    return true;
}

/* The first 8 bytes of a string, big-endian, zero-padded: ordering by it
 * agrees with cp_strings_cmp wherever the prefixes differ. */
static uint64_t str_prefix(const cp_strings *str, cp_str id) {
    size_t len;
    const unsigned char *p = (const unsigned char *)cp_strings_get(str, id, &len);
    uint64_t v = 0;
    for (size_t k = 0; k < 8; k++) v = v << 8 | (k < len ? p[k] : 0);
    return v;
}

/* Sorts the customers by identity bytes (cp_strings_cmp): a radix sort by
 * the 8-byte prefix, then a comparison sort inside each run of equal
 * prefixes.  Distinct customers have distinct identities, so the order is
 * the one any correct sort gives. */
static bool sort_by_identity(cp_customer **cs_io, size_t n, const cp_strings *str) {
    cp_customer *cs = *cs_io;
    rank_key *keys = malloc((n ? n : 1) * sizeof *keys), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    cp_customer *out = malloc((n ? n : 1) * sizeof *out);
    rank_key *sorted = keys && tmp && out ? keys : NULL;
    if (sorted) {
        for (size_t i = 0; i < n; i++) {
            keys[i].v = str_prefix(str, cs[i].id);
            keys[i].pos = (uint32_t)i;
        }
        sorted = radix_sort_keys(keys, tmp, n);
    }
    if (!sorted) {
        free(keys);
        free(tmp);
        free(out);
        return false;
    }
    for (size_t i = 0; i < n; i++) out[i] = cs[sorted[i].pos];
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && sorted[j].v == sorted[i].v) j++;
        if (j - i > 1) qsort_r(out + i, j - i, sizeof *out, cmp_customer_id, (void *)str);
        i = j;
    }
    free(keys);
    free(tmp);
    free(cs);
    *cs_io = out;
    return true;
}

/* R10.2, first match wins. */
static cp_segment segment_of(const cp_customer *c, const cp_report_options *opt, int64_t as_of_ms) {
    int64_t net = c->gmv_micros - c->refunds_micros;
    /* return_rate < hv_max_return, exactly: returned * 1e6 < round(max * 1e6) * units */
    int64_t max_ppm = (int64_t)llround(opt->hv_max_return * 1e6);
    bool low_returns = (__int128)c->units_returned * 1000000 < (__int128)max_ppm * c->units;
    CP_TESTCASE(c->orders_recent == opt->hv_orders);
    CP_TESTCASE(net == opt->hv_clv_micros);
    if (c->orders_recent >= (int64_t)opt->hv_orders && net >= opt->hv_clv_micros && low_returns)
        return CP_SEG_HIGH_VALUE;
    /* "no event of any kind for more than 60 days": exactly 60 days is not churn */
    CP_TESTCASE(as_of_ms - c->last_activity_ms == opt->churn_days * CP_DAY_MS);
    if (as_of_ms - c->last_activity_ms > opt->churn_days * CP_DAY_MS) return CP_SEG_CHURN_RISK;
    if (c->orders == 1) return CP_SEG_POTENTIAL;
    return CP_SEG_REPEAT;
}

#define PREFETCH_AHEAD 24

cp_result cp_customers_collect(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer_table *out,
                               cp_error *err) {
    const cp_events *ev = ctx->ev;
    const uint32_t *perm = ctx->by_identity;
    const cp_report_options *opt = ctx->opt;
    int64_t as_of = ctx->as_of_ms;
    int64_t recent_from = as_of - opt->hv_days * CP_DAY_MS;
    size_t n_orders = 0;
    cp_run_orders(ctx->run, &n_orders);
    /* stamps: customer index + 1 that last counted the order */
    uint32_t *stamp = calloc(n_orders ? n_orders : 1, sizeof *stamp);
    uint32_t *stamp_recent = calloc(n_orders ? n_orders : 1, sizeof *stamp_recent);
    size_t cap = 1024, n = 0;
    cp_customer *cs = malloc(cap * sizeof *cs);
    if (!stamp || !stamp_recent || !cs) {
        free(stamp);
        free(stamp_recent);
        free(cs);
        return cp_customers_oom(err);
    }
    size_t i = 0;
    while (i < ev->n) {
        cp_str id = ev->identity[perm[i]];
        size_t j = i;
        while (j < ev->n && ev->identity[perm[j]] == id) j++;
        if (id == CP_STR_NONE) {
            i = j;
            continue;
        }
        if (n == cap) {
            cp_customer *grown = realloc(cs, 2 * cap * sizeof *cs);
            if (!grown) {
                free(stamp);
                free(stamp_recent);
                free(cs);
                return cp_customers_oom(err);
            }
            cs = grown;
            cap *= 2;
        }
        cp_customer c = {.id = id, .first_row = CP_NONE, .second_order_ts_ms = INT64_MIN,
                         .last_activity_ms = INT64_MIN};
        uint32_t mark = (uint32_t)n + 1;
        for (size_t k = i; k < j; k++) {
            uint32_t row = perm[k];
            if (k + PREFETCH_AHEAD < ev->n) { /* rows in identity order are scattered */
                uint32_t ahead = perm[k + PREFETCH_AHEAD];
                __builtin_prefetch(&ev->ts_ms[ahead]);
                __builtin_prefetch(&ev->type[ahead]);
                __builtin_prefetch(&ev->units[ahead]);
                __builtin_prefetch(&ev->money_micros[ahead]);
                __builtin_prefetch(&ev->order[ahead]);
                __builtin_prefetch(&ev->identity[ahead]);
            }
            int64_t ts = ev->ts_ms[row];
            if (ts > as_of) break; /* rows of an identity are in time order */
            c.last_activity_ms = ts;
            uint8_t type = ev->type[row];
            if (type == CP_RETURN) {
                c.units_returned += ev->units[row];
                c.refunds_micros += ev->money_micros[row];
                continue;
            }
            if (type != CP_PURCHASE) continue;
            if (c.first_row == CP_NONE) {
                c.first_row = row;
                c.first_ts_ms = ts;
            }
            c.last_ts_ms = ts;
            c.units += ev->units[row];
            c.gmv_micros += ev->money_micros[row];
            uint32_t o = ev->order[row];
            bool new_order = true, new_recent = ts >= recent_from;
            if (CP_ALWAYS(o != CP_NONE)) {
                new_order = stamp[o] != mark;
                stamp[o] = mark;
                if (new_recent) {
                    new_recent = stamp_recent[o] != mark;
                    stamp_recent[o] = mark;
                }
            }
            if (new_order) {
                c.orders++;
                if (c.orders == 2) c.second_order_ts_ms = ts; /* first line of the second order */
            }
            if (new_recent) c.orders_recent++;
            /* R10.5 summary: calendar purchase days up to the calibration end */
            if (ts <= cal_end_ms) {
                int32_t day = cp_tz_day(opt->tz, ts);
                if (c.n_days == 0) {
                    c.first_day = c.last_day = day;
                    c.n_days = 1;
                } else if (day > c.last_day) {
                    c.last_day = day;
                    c.n_days++;
                }
                if (day > c.first_day) c.repeat_micros += ev->money_micros[row];
            }
        }
        if (c.first_row != CP_NONE) cs[n++] = c;
        i = j;
    }
    free(stamp);
    free(stamp_recent);
    if (!sort_by_identity(&cs, n, ctx->str)) {
        free(cs);
        return cp_customers_oom(err);
    }
    if (n) {
        rank_key *keys = malloc(n * sizeof *keys), *tmp = malloc(n * sizeof *tmp);
        bool ok = keys && tmp;
        for (int w = 0; ok && w < 3; w++) ok = rfm_scores(cs, n, keys, tmp, w);
        free(keys);
        free(tmp);
        if (!ok) {
            free(cs);
            return cp_customers_oom(err);
        }
    }
    for (size_t k = 0; k < n; k++) cs[k].segment = (uint8_t)segment_of(&cs[k], opt, as_of);
    out->c = cs;
    out->n = n;
    return CP_OK;
}

#ifdef CLV_DEBUG
#include <time.h>
static double dbg_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#define PHASE(name) fprintf(stderr, "phase %-10s %.3f s\n", name, dbg_now() - t_phase), t_phase = dbg_now()
#else
#define PHASE(name) ((void)0)
#endif

/* ---- R10.5: the model --------------------------------------------------------- */

typedef struct clv_result {
    bool attempted, bg_ok, gg_ok;
    cp_bgnbd bg;
    cp_gamma_gamma gg;
    char bg_error[256], gg_error[256];
    double unit_days;
    int64_t cal_end_ms;
    size_t n_fitted, n_repeat;
    /* per customer (NAN when it has no purchase by the calibration end) */
    double *p_alive, *expected, *clv;
} clv_result;

static void clv_result_free(clv_result *m) {
    free(m->p_alive);
    free(m->expected);
    free(m->clv);
}

/* Summary key of a customer: x, t_x days, T days (each < 2^21). */
static uint64_t summary_key(const cp_customer *c, int32_t cal_day) {
    uint64_t x = (uint64_t)(c->n_days - 1), tx = (uint64_t)(c->last_day - c->first_day),
             T = (uint64_t)(cal_day - c->first_day);
    return x << 42 | tx << 21 | T;
}

/* Fits BG/NBD on the customers' summaries (grouped: customers with the same
 * (x, t_x, T) share one weighted observation) and Gamma-Gamma on the repeat
 * customers, then predicts per customer.  Failures to fit are recorded in m,
 * not returned: the other reports still get written.  Returns CP_ENOMEM only. */
static cp_result clv_run(const cp_report_ctx *ctx, const cp_customer_table *ct, int64_t cal_end_ms,
                         clv_result *m, cp_error *err) {
    const cp_report_options *opt = ctx->opt;
    memset(m, 0, sizeof *m);
    m->attempted = true;
    m->unit_days = opt->clv_week ? 7.0 : 1.0;
    m->cal_end_ms = cal_end_ms;
    int32_t cal_day = cp_tz_day(opt->tz, cal_end_ms);
    size_t n = ct->n;
    rank_key *kbuf = malloc((n ? n : 1) * sizeof *kbuf), *ktmp = malloc((n ? n : 1) * sizeof *ktmp);
    uint32_t *cust_u = malloc((n ? n : 1) * sizeof *cust_u); /* each customer's distinct summary */
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    double *gx = malloc((n ? n : 1) * sizeof *gx), *gz = malloc((n ? n : 1) * sizeof *gz);
    m->p_alive = malloc((n ? n : 1) * sizeof(double));
    m->expected = malloc((n ? n : 1) * sizeof(double));
    m->clv = malloc((n ? n : 1) * sizeof(double));
    double *ux = NULL, *utx = NULL, *uT = NULL, *uw = NULL, *u_palive = NULL, *u_exp = NULL, *u_disc = NULL;
    cp_result rc = CP_OK;
    if (!kbuf || !ktmp || !cust_u || !keys || !gx || !gz || !m->p_alive || !m->expected || !m->clv) {
        rc = cp_customers_oom(err);
        goto done;
    }
    size_t nk = 0, n_rep = 0;
    for (size_t i = 0; i < n; i++) {
        const cp_customer *c = &ct->c[i];
        cust_u[i] = UINT32_MAX;
        if (c->n_days == 0) continue;
        kbuf[nk].v = summary_key(c, cal_day);
        kbuf[nk].pos = (uint32_t)i;
        nk++;
        if (c->n_days > 1) {
            gx[n_rep] = (double)(c->n_days - 1);
            gz[n_rep] = (double)c->repeat_micros / 1e6 / (double)(c->n_days - 1);
            n_rep++;
        }
    }
    m->n_fitted = nk;
    m->n_repeat = n_rep;
    /* distinct keys ascending; each customer's index among them */
    const rank_key *sk = radix_sort_keys(kbuf, ktmp, nk);
    if (!sk) {
        rc = cp_customers_oom(err);
        goto done;
    }
    size_t nu = 0;
    for (size_t i = 0; i < nk; i++) {
        if (nu == 0 || sk[i].v != keys[nu - 1]) keys[nu++] = sk[i].v;
        cust_u[sk[i].pos] = (uint32_t)(nu - 1);
    }
    size_t cu = nu ? nu : 1;
    ux = malloc(cu * sizeof *ux);
    utx = malloc(cu * sizeof *utx);
    uT = malloc(cu * sizeof *uT);
    uw = calloc(cu, sizeof *uw);
    u_palive = malloc(cu * sizeof *u_palive);
    u_exp = malloc(cu * sizeof *u_exp);
    u_disc = malloc(cu * sizeof *u_disc);
    if (!ux || !utx || !uT || !uw || !u_palive || !u_exp || !u_disc) {
        rc = cp_customers_oom(err);
        goto done;
    }
    for (size_t u = 0; u < nu; u++) {
        ux[u] = (double)(keys[u] >> 42);
        utx[u] = (double)(keys[u] >> 21 & 0x1fffff) / m->unit_days;
        uT[u] = (double)(keys[u] & 0x1fffff) / m->unit_days;
    }
    /* weights: count customers per key */
    for (size_t i = 0; i < n; i++)
        if (cust_u[i] != UINT32_MAX) uw[cust_u[i]] += 1.0;
#ifdef CLV_DEBUG
    double t_phase = dbg_now();
    fprintf(stderr, "clv: %zu summaries, %zu distinct\n", nk, nu);
#endif
    cp_error e = {0};
    if (cp_bgnbd_fit(ux, utx, uT, uw, nu, &m->bg, &e) == CP_OK) m->bg_ok = true;
    else if (e.code == CP_ENOMEM) {
        rc = cp_customers_oom(err);
        goto done;
    } else snprintf(m->bg_error, sizeof m->bg_error, "%s", e.msg);
    PHASE("bgfit");
    memset(&e, 0, sizeof e);
    if (cp_gamma_gamma_fit(gx, gz, NULL, n_rep, &m->gg, &e) == CP_OK) m->gg_ok = true;
    else if (e.code == CP_ENOMEM) {
        rc = cp_customers_oom(err);
        goto done;
    } else snprintf(m->gg_error, sizeof m->gg_error, "%s", e.msg);
    if (m->gg_ok && !(m->gg.q > 1)) {
        m->gg_ok = false;
        snprintf(m->gg_error, sizeof m->gg_error,
                 "Gamma-Gamma: q = %.4g <= 1, so the expected spend is unbounded", m->gg.q);
    }

    PHASE("ggfit");
    /* predictions per distinct summary */
    double horizon_days = (double)opt->clv_horizon_ms / (double)CP_DAY_MS;
    double t = horizon_days / m->unit_days;
    for (size_t u = 0; m->bg_ok && u < nu; u++) {
        u_palive[u] = cp_bgnbd_p_alive(&m->bg, ux[u], utx[u], uT[u]);
        u_exp[u] = cp_bgnbd_expected(&m->bg, t, ux[u], utx[u], uT[u]);
        u_disc[u] = u_exp[u];
        if (opt->discount_rate > 0 && horizon_days > 0) {
            /* by 30-day periods: the purchases expected in each period are
             * discounted to the calibration end from the period's end */
            double prev = 0.0, acc = 0.0;
            for (double d0 = 0.0; d0 < horizon_days; d0 += 30.0) {
                double d1 = d0 + 30.0 < horizon_days ? d0 + 30.0 : horizon_days;
                double e1 = cp_bgnbd_expected(&m->bg, d1 / m->unit_days, ux[u], utx[u], uT[u]);
                acc += (e1 - prev) / pow(1.0 + opt->discount_rate, d1 / 365.0);
                prev = e1;
            }
            u_disc[u] = acc;
        }
    }
    PHASE("predict");
    for (size_t i = 0; i < n; i++) {
        const cp_customer *c = &ct->c[i];
        m->p_alive[i] = m->expected[i] = m->clv[i] = NAN;
        if (!m->bg_ok || c->n_days == 0) continue;
        if (!CP_ALWAYS(cust_u[i] != UINT32_MAX)) continue;
        size_t u = cust_u[i];
        m->p_alive[i] = u_palive[u];
        m->expected[i] = u_exp[u];
        if (m->gg_ok) {
            double x = (double)(c->n_days - 1);
            double zbar = x > 0 ? (double)c->repeat_micros / 1e6 / x : 0.0;
            m->clv[i] = u_disc[u] * cp_gamma_gamma_spend(&m->gg, x, zbar);
        }
    }
done:
    free(kbuf);
    free(ktmp);
    free(cust_u);
    free(keys);
    free(gx);
    free(gz);
    free(ux);
    free(utx);
    free(uT);
    free(uw);
    free(u_palive);
    free(u_exp);
    free(u_disc);
    return rc;
}

static void json_num(cp_buf *b, const char *key, double v, bool last) {
    if (isfinite(v)) cp_buf_printf(b, "    \"%s\": %.10g%s\n", key, v, last ? "" : ",");
    else cp_buf_printf(b, "    \"%s\": null%s\n", key, last ? "" : ",");
}

/* clv_model.json (R10.5), whatever opt->format is. */
static cp_result write_model_json(const cp_report_ctx *ctx, const clv_result *m, cp_error *err) {
    const cp_report_options *opt = ctx->opt;
    cp_buf b = {0};
    char ts[48], day[48];
    cp_fmt_ts(ts, m->cal_end_ms);
    cp_fmt_day(day, cp_tz_day(opt->tz, m->cal_end_ms));
    cp_buf_printf(&b, "{\n  \"fitted\": %s,\n", m->bg_ok ? "true" : "false");
    cp_buf_printf(&b, "  \"unit\": \"%s\",\n", opt->clv_week ? "week" : "day");
    cp_buf_printf(&b, "  \"calibration_end\": \"%s\",\n  \"calibration_end_day\": \"%s\",\n", ts, day);
    cp_buf_printf(&b, "  \"horizon_days\": %.10g,\n", (double)opt->clv_horizon_ms / (double)CP_DAY_MS);
    cp_buf_printf(&b, "  \"discount_rate\": %.10g,\n", opt->discount_rate);
    cp_buf_printf(&b, "  \"customers_fitted\": %zu,\n  \"repeat_customers\": %zu,\n", m->n_fitted, m->n_repeat);
    if (m->bg_ok) {
        cp_buf_puts(&b, "  \"bgnbd\": {\n");
        json_num(&b, "r", m->bg.r, false);
        json_num(&b, "alpha", m->bg.alpha, false);
        json_num(&b, "a", m->bg.a, false);
        json_num(&b, "b", m->bg.b, false);
        json_num(&b, "loglik", m->bg.loglik, false);
        cp_buf_printf(&b, "    \"converged\": %s,\n    \"iterations\": %d\n  },\n",
                      m->bg.converged ? "true" : "false", m->bg.iterations);
    } else {
        cp_buf_puts(&b, "  \"bgnbd\": null,\n  \"bgnbd_error\": ");
        cp_buf_json_str(&b, m->bg_error, strlen(m->bg_error));
        cp_buf_puts(&b, ",\n");
    }
    if (m->gg_ok) {
        cp_buf_puts(&b, "  \"gamma_gamma\": {\n");
        json_num(&b, "p", m->gg.p, false);
        json_num(&b, "q", m->gg.q, false);
        json_num(&b, "gamma", m->gg.gamma, false);
        json_num(&b, "loglik", m->gg.loglik, false);
        cp_buf_printf(&b, "    \"converged\": %s,\n    \"iterations\": %d,\n    \"customers\": %zu\n  }\n",
                      m->gg.converged ? "true" : "false", m->gg.iterations, m->gg.n_fitted);
    } else {
        cp_buf_puts(&b, "  \"gamma_gamma\": null,\n  \"gamma_gamma_error\": ");
        cp_buf_json_str(&b, m->gg_error, strlen(m->gg_error));
        cp_buf_puts(&b, "\n");
    }
    cp_buf_puts(&b, "}\n");
    cp_result rc = CP_OK;
    if (b.oom) rc = cp_customers_oom(err);
    else {
        char path[4096];
        snprintf(path, sizeof path, "%s/clv_model.json", opt->out_dir);
        FILE *f = fopen(path, "wb");
        bool ok = f && fwrite(b.p, 1, b.len, f) == b.len;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            rc = CP_EIO;
            if (err) {
                err->code = CP_EIO;
                err->file = NULL;
                err->line = 0;
                err->field = NULL;
                snprintf(err->msg, sizeof err->msg, "cannot write %.200s", path);
            }
        }
    }
    cp_buf_free(&b);
    return rc;
}

/* ---- writers ------------------------------------------------------------------ */

/* Money divided by a count (aov): a ratio in R8's sense, rounded half to
 * even to six decimals like cpc and cpm in ads.csv (R6.2); empty when the
 * count is zero.  docs/reports.md. */
static void table_money_per(cp_table *t, int64_t num_micros, int64_t den) {
    cp_table_ratio(t, num_micros, den * 1000000);
}

static void table_double_or_empty(cp_table *t, double v) {
    if (isfinite(v)) cp_table_double6(t, v);
    else cp_table_empty(t);
}

static cp_result write_customers_csv(const cp_report_ctx *ctx, const cp_customer_table *ct, const clv_result *m,
                                     cp_error *err) {
    const cp_report_options *opt = ctx->opt;
    static const char *const cols[] = {"customer", "first_purchase", "last_purchase", "orders", "units", "gmv",
                                       "units_returned", "refunds", "net_revenue", "return_rate", "aov",
                                       "orders_90d", "days_since_last_activity", "rfm", "segment", "p_alive",
                                       "expected_purchases", "predicted_clv"};
    bool model = m->bg_ok;
    cp_table *t = cp_table_open(opt->out_dir, "customers", opt->format, cols, model ? 18 : 15, err);
    if (!t) return err ? err->code : CP_EIO;
    for (size_t i = 0; i < ct->n; i++) {
        const cp_customer *c = &ct->c[i];
        cp_table_sid(t, ctx->str, c->id);
        cp_table_ts(t, c->first_ts_ms);
        cp_table_ts(t, c->last_ts_ms);
        cp_table_int(t, c->orders);
        cp_table_int(t, c->units);
        cp_table_money(t, c->gmv_micros);
        cp_table_int(t, c->units_returned);
        cp_table_money(t, c->refunds_micros);
        cp_table_money(t, c->gmv_micros - c->refunds_micros);
        cp_table_ratio(t, c->units_returned, c->units);
        table_money_per(t, c->gmv_micros, c->orders);
        cp_table_int(t, c->orders_recent);
        cp_table_int(t, (ctx->as_of_ms - c->last_activity_ms) / CP_DAY_MS);
        char rfm[4] = {(char)('0' + c->rfm_r), (char)('0' + c->rfm_f), (char)('0' + c->rfm_m), 0};
        cp_table_str(t, rfm, 3);
        cp_table_cstr(t, cp_segment_name((cp_segment)c->segment));
        if (model) {
            table_double_or_empty(t, m->p_alive[i]);
            table_double_or_empty(t, m->expected[i]);
            if (isfinite(m->clv[i])) cp_table_money(t, llround(m->clv[i] * 1e6));
            else cp_table_empty(t);
        }
        cp_table_end_row(t);
    }
    return cp_table_close(t, err);
}

typedef struct seg_totals {
    int64_t customers[CP_N_SEGMENTS], gmv[CP_N_SEGMENTS];
    int64_t total_gmv, top_customers, top_gmv;
} seg_totals;

static cp_result write_segments(const cp_report_ctx *ctx, const cp_customer_table *ct, seg_totals *st,
                                cp_error *err) {
    const cp_report_options *opt = ctx->opt;
    size_t n = ct->n;
    memset(st, 0, sizeof *st);
    /* customer positions by GMV descending, ties by identity bytes (R10.2):
     * a stable sort by the complemented key of the customers in identity
     * order */
    rank_key *kbuf = malloc((n ? n : 1) * sizeof *kbuf), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    rank_key *keys = NULL;
    if (kbuf && tmp) {
        for (size_t i = 0; i < n; i++) {
            st->customers[ct->c[i].segment]++;
            st->gmv[ct->c[i].segment] += ct->c[i].gmv_micros;
            st->total_gmv += ct->c[i].gmv_micros;
            kbuf[i].v = ~ord_i64(ct->c[i].gmv_micros);
            kbuf[i].pos = (uint32_t)i;
        }
        keys = radix_sort_keys(kbuf, tmp, n);
    }
    if (!keys) {
        free(kbuf);
        free(tmp);
        return cp_customers_oom(err);
    }
    st->top_customers = (int64_t)((n + 4) / 5); /* ceil(n / 5) */
    for (int64_t k = 0; k < st->top_customers; k++) st->top_gmv += ct->c[keys[k].pos].gmv_micros;

    static const char *const scols[] = {"segment", "customers", "share", "gmv", "gmv_share"};
    cp_table *t = cp_table_open(opt->out_dir, "segments", opt->format, scols, 5, err);
    if (!t) {
        free(kbuf);
        free(tmp);
        return err ? err->code : CP_EIO;
    }
    for (int s = 0; s < CP_N_SEGMENTS; s++) {
        cp_table_cstr(t, segment_names[s]);
        cp_table_int(t, st->customers[s]);
        cp_table_ratio(t, st->customers[s], (int64_t)n);
        cp_table_money(t, st->gmv[s]);
        cp_table_ratio(t, st->gmv[s], st->total_gmv);
        cp_table_end_row(t);
    }
    cp_table_cstr(t, "pareto_top20");
    cp_table_int(t, st->top_customers);
    cp_table_ratio(t, st->top_customers, (int64_t)n);
    cp_table_money(t, st->top_gmv);
    cp_table_ratio(t, st->top_gmv, st->total_gmv);
    cp_table_end_row(t);
    cp_result rc = cp_table_close(t, err);

    /* pareto.csv: the top ceil(d n / 10) customers by GMV for deciles 1..10 */
    static const char *const pcols[] = {"decile", "customers", "customer_share", "gmv", "gmv_share"};
    if (!rc) {
        t = cp_table_open(opt->out_dir, "pareto", opt->format, pcols, 5, err);
        if (!t) rc = err ? err->code : CP_EIO;
    }
    if (!rc) {
        int64_t cum = 0;
        size_t k = 0;
        for (int d = 1; d <= 10; d++) {
            size_t top = ((size_t)d * n + 9) / 10;
            while (k < top) cum += ct->c[keys[k++].pos].gmv_micros;
            cp_table_int(t, d);
            cp_table_int(t, (int64_t)top);
            cp_table_ratio(t, (int64_t)top, (int64_t)n);
            cp_table_money(t, cum);
            cp_table_ratio(t, cum, st->total_gmv);
            cp_table_end_row(t);
        }
        rc = cp_table_close(t, err);
    }
    free(kbuf);
    free(tmp);
    return rc;
}

/* R10.3 cohorts by month of first purchase (report tz). */
typedef struct cohort_row {
    int64_t customers, eligible[3], retained[3];
} cohort_row;

static int month_of(const cp_tz *tz, int64_t ts_ms) {
    int y;
    unsigned mo, d;
    cp_civil_from_days(cp_tz_day(tz, ts_ms), &y, &mo, &d);
    return y * 12 + (int)mo - 1;
}

static void cohort_add(cohort_row *r, const cp_customer *c, int64_t as_of_ms) {
    static const int64_t days[3] = {30, 60, 90};
    r->customers++;
    for (int k = 0; k < 3; k++) {
        int64_t w = days[k] * CP_DAY_MS;
        /* eligible: as-of - first purchase >= N days (exactly N is eligible) */
        CP_TESTCASE(as_of_ms - c->first_ts_ms == w);
        if (as_of_ms - c->first_ts_ms < w) continue;
        r->eligible[k]++;
        CP_TESTCASE(c->second_order_ts_ms - c->first_ts_ms == w);
        if (c->second_order_ts_ms != INT64_MIN && c->second_order_ts_ms - c->first_ts_ms <= w) r->retained[k]++;
    }
}

static void cohort_cells(cp_table *t, const cohort_row *r) {
    cp_table_int(t, r->customers);
    for (int k = 0; k < 3; k++) {
        cp_table_int(t, r->eligible[k]);
        cp_table_int(t, r->retained[k]);
        cp_table_ratio(t, r->retained[k], r->eligible[k]);
    }
    cp_table_end_row(t);
}

static cp_result write_cohorts(const cp_report_ctx *ctx, const cp_customer_table *ct, cohort_row *all,
                               cp_error *err) {
    const cp_report_options *opt = ctx->opt;
    size_t n = ct->n;
    memset(all, 0, sizeof *all);
    int mmin = 0, mmax = -1;
    int64_t max_gap_days = -1;
    for (size_t i = 0; i < n; i++) {
        int mo = month_of(opt->tz, ct->c[i].first_ts_ms);
        if (i == 0 || mo < mmin) mmin = mo;
        if (i == 0 || mo > mmax) mmax = mo;
        if (ct->c[i].second_order_ts_ms != INT64_MIN) {
            int64_t g = (ct->c[i].second_order_ts_ms - ct->c[i].first_ts_ms) / CP_DAY_MS;
            if (g > max_gap_days) max_gap_days = g;
        }
    }
    size_t n_months = n ? (size_t)(mmax - mmin + 1) : 0;
    cohort_row *rows = calloc(n_months ? n_months : 1, sizeof *rows);
    int64_t *hist = calloc((size_t)(max_gap_days + 1 > 0 ? max_gap_days + 1 : 1), sizeof *hist);
    if (!rows || !hist) {
        free(rows);
        free(hist);
        return cp_customers_oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        const cp_customer *c = &ct->c[i];
        cohort_add(all, c, ctx->as_of_ms);
        cohort_add(&rows[month_of(opt->tz, c->first_ts_ms) - mmin], c, ctx->as_of_ms);
        if (c->second_order_ts_ms != INT64_MIN) hist[(c->second_order_ts_ms - c->first_ts_ms) / CP_DAY_MS]++;
    }
    static const char *const cols[] = {"cohort", "customers", "eligible_30", "retained_30", "rate_30",
                                       "eligible_60", "retained_60", "rate_60", "eligible_90",
                                       "retained_90", "rate_90"};
    cp_result rc = CP_OK;
    cp_table *t = cp_table_open(opt->out_dir, "cohorts", opt->format, cols, 11, err);
    if (!t) rc = err ? err->code : CP_EIO;
    if (!rc) {
        cp_table_empty(t);
        cohort_cells(t, all);
        for (size_t k = 0; k < n_months; k++) {
            if (!rows[k].customers) continue;
            int mo = mmin + (int)k;
            char b[16];
            snprintf(b, sizeof b, "%04d-%02d", mo / 12, mo % 12 + 1);
            cp_table_cstr(t, b);
            cohort_cells(t, &rows[k]);
        }
        rc = cp_table_close(t, err);
    }
    static const char *const hcols[] = {"days_to_second_order", "customers"};
    if (!rc) {
        t = cp_table_open(opt->out_dir, "cohorts_histogram", opt->format, hcols, 2, err);
        if (!t) rc = err ? err->code : CP_EIO;
    }
    if (!rc) {
        for (int64_t d = 0; d <= max_gap_days; d++) {
            if (!hist[d]) continue;
            cp_table_int(t, d);
            cp_table_int(t, hist[d]);
            cp_table_end_row(t);
        }
        rc = cp_table_close(t, err);
    }
    free(rows);
    free(hist);
    return rc;
}

/* ---- entry point ----------------------------------------------------------------- */


cp_result cp_customers_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
#ifdef CLV_DEBUG
    double t_phase = dbg_now();
#endif
    const cp_report_options *opt = ctx->opt;
    /* R10.5: the calibration end defaults to as-of and never passes it
     * (customer figures use only events at or before as-of). */
    int64_t cal_end = opt->has_calibration_end && opt->calibration_end_ms < ctx->as_of_ms
                          ? opt->calibration_end_ms
                          : ctx->as_of_ms;
    cp_customer_table ct = {0};
    cp_result rc = cp_customers_collect(ctx, cal_end, &ct, err);
    if (rc) return rc;
    PHASE("collect");
    clv_result m = {0};
    if (opt->clv) rc = clv_run(ctx, &ct, cal_end, &m, err);
    PHASE("clv");
    if (!rc) rc = write_customers_csv(ctx, &ct, &m, err);
    PHASE("csv");
    seg_totals st;
    cohort_row all;
    int64_t fb_num = 0, fb_den = 0;
    if (!rc) rc = write_segments(ctx, &ct, &st, err);
    PHASE("segments");
    if (!rc) rc = write_cohorts(ctx, &ct, &all, err);
    PHASE("cohorts");
    if (!rc) rc = cp_feedback_write(ctx, &fb_num, &fb_den, err);
    PHASE("feedback");
    if (!rc) rc = cp_cac_write(ctx, &ct, err);
    PHASE("cac");
    if (!rc && m.attempted) rc = write_model_json(ctx, &m, err);
    if (!rc && sum) {
        int64_t units = 0, returned = 0, refunds = 0, repeaters = 0;
        for (size_t i = 0; i < ct.n; i++) {
            units += ct.c[i].units;
            returned += ct.c[i].units_returned;
            refunds += ct.c[i].refunds_micros;
            repeaters += ct.c[i].orders >= 2;
        }
        cp_summary_begin(sum, "customers");
        cp_summary_int(sum, "customers", (int64_t)ct.n);
        cp_summary_int(sum, "repeat_customers", repeaters);
        cp_summary_money(sum, "gmv", st.total_gmv);
        cp_summary_money(sum, "refunds", refunds);
        cp_summary_money(sum, "net_revenue", st.total_gmv - refunds);
        cp_summary_int(sum, "units", units);
        cp_summary_int(sum, "units_returned", returned);
        cp_summary_ratio(sum, "return_rate", returned, units);
        cp_summary_begin(sum, "segments");
        for (int s = 0; s < CP_N_SEGMENTS; s++) cp_summary_int(sum, segment_names[s], st.customers[s]);
        cp_summary_end(sum);
        cp_summary_ratio(sum, "pareto_top20_gmv_share", st.top_gmv, st.total_gmv);
        cp_summary_ratio(sum, "retention_90", all.retained[2], all.eligible[2]);
        cp_summary_ratio(sum, "negative_feedback_rate", fb_num, fb_den);
        cp_summary_begin(sum, "clv");
        cp_summary_bool(sum, "fitted", m.bg_ok);
        if (m.bg_ok) {
            cp_summary_double(sum, "r", m.bg.r);
            cp_summary_double(sum, "alpha", m.bg.alpha);
            cp_summary_double(sum, "a", m.bg.a);
            cp_summary_double(sum, "b", m.bg.b);
            cp_summary_double(sum, "loglik", m.bg.loglik);
        }
        if (m.gg_ok) {
            cp_summary_double(sum, "p", m.gg.p);
            cp_summary_double(sum, "q", m.gg.q);
            cp_summary_double(sum, "gamma", m.gg.gamma);
        }
        if (m.attempted && !m.bg_ok) cp_summary_str(sum, "error", m.bg_error);
        else if (m.attempted && !m.gg_ok) cp_summary_str(sum, "error", m.gg_error);
        cp_summary_end(sum);
        cp_summary_end(sum);

        char g[48], share[48];
        cp_fmt_money(g, st.total_gmv);
        cp_fmt_ratio(share, st.top_gmv, st.total_gmv);
        cp_summary_human(sum, "customers: %zu (%lld repeat), GMV %s; top 20%% hold %s of GMV", ct.n,
                         (long long)repeaters, g, share[0] ? share : "-");
        cp_summary_human(sum, "segments: high_value %lld, churn_risk %lld, potential %lld, repeat %lld",
                         (long long)st.customers[0], (long long)st.customers[1], (long long)st.customers[2],
                         (long long)st.customers[3]);
        if (m.bg_ok)
            cp_summary_human(sum, "CLV model (per %s): BG/NBD r=%.4g alpha=%.4g a=%.4g b=%.4g%s",
                             opt->clv_week ? "week" : "day", m.bg.r, m.bg.alpha, m.bg.a, m.bg.b,
                             m.bg.converged ? "" : " (NOT converged)");
        else if (m.attempted)
            cp_summary_human(sum, "CLV model not fitted: %s", m.bg_error);
        if (m.bg_ok && !m.gg_ok) cp_summary_human(sum, "spend model not fitted: %s", m.gg_error);
    }
    clv_result_free(&m);
    cp_customer_table_free(&ct);
    return rc;
}

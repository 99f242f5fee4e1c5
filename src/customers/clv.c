/* clv.c -- BG/NBD and Gamma-Gamma maximum-likelihood fits and the per-customer
 * predictions of SPEC R10.5 (see clv.h).
 *
 * BG/NBD (Fader, Hardie & Lee 2005, eq. 6), per customer:
 *   ln L = ln A1 + ln A2 + ln(A3 + [x > 0] A4)
 *   ln A1 = lnG(r + x) - lnG(r) + r ln alpha
 *   ln A2 = lnG(a + b) + lnG(b + x) - lnG(b) - lnG(a + b + x)
 *   ln A3 = -(r + x) ln(alpha + T)
 *   ln A4 = ln a - ln(b + x - 1) - (r + x) ln(alpha + t_x)
 * The sum A3 + A4 is taken as log-sum-exp, so neither term can overflow.
 * The terms that depend on x only (A1, A2 and their derivatives) are computed
 * once per distinct x, so a fit costs a few logs per observation.
 *
 * Gamma-Gamma (Fader & Hardie 2013), per repeat customer with x transactions
 * of mean value zbar:
 *   ln L = lnG(px + q) - lnG(px) - lnG(q) + q ln gamma + (px - 1) ln zbar
 *          + px ln x - (px + q) ln(gamma + x zbar)
 *
 * Optimisation: parameters are fitted as logarithms (always positive), on
 * data rescaled so that the largest T is 10 (BG/NBD) or the mean zbar is 1
 * (Gamma-Gamma), starting from 1 for every parameter.  GSL's vector_bfgs2
 * with the analytic gradient first; when it does not converge, GSL's
 * nmsimplex2 (robust far from the optimum) from the same start, then BFGS
 * again.  The objective returned to GSL is always finite (GSL's
 * simplex calls its error handler, which aborts by default, on a non-finite
 * value), and log-parameters are clamped to [-30, 30].  Converged means the
 * gradient of the mean log-likelihood with respect to the log-parameters is
 * below 1e-4 in every component (a 1% change of any parameter moves the
 * mean log-likelihood by less than 1e-6; on data where the MLE lies at the
 * boundary, e.g. a and b growing together without end when every customer
 * has the same dropout probability, the fit stops on that flat ridge).
 */
#include "customers/clv.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#define LOGP_MAX 30.0
#define BAD_F 1e300
#define MIN_CUSTOMERS 10.0

static cp_result model_error(cp_error *err, const char *msg) {
    if (err) {
        err->code = CP_EMODEL;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return CP_EMODEL;
}

static cp_result nomem(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory while fitting the CLV model");
    }
    return CP_ENOMEM;
}

/* lgamma without the global signgam of lgamma() (thread safety); every
 * argument here is positive. */
static double lng(double x) {
    int sign;
    return lgamma_r(x, &sign);
}

/* Digamma for x > 0: recurrence up to 6, then the asymptotic series. */
static double digamma(double x) {
    double acc = 0.0;
    while (x < 6.0) {
        acc -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))));
    return acc + log(x) - 0.5 / x + t;
}

static double clamp_logp(double v) {
    if (!(v > -LOGP_MAX)) return -LOGP_MAX; /* also NaN */
    if (v > LOGP_MAX) return LOGP_MAX;
    return v;
}

/* Sorted distinct values of x, and each observation's index into them. */
typedef struct xtable {
    double *xs;
    size_t n_xs;
    uint32_t *xi;
} xtable;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Hash of a double's bits (open addressing below). */
static inline uint64_t bits_of(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static inline size_t hash_u64(uint64_t u) {
    u ^= u >> 33;
    u *= UINT64_C(0xff51afd7ed558ccd);
    u ^= u >> 33;
    return (size_t)u;
}

typedef struct val_rank {
    double v;
    uint32_t id;
} val_rank;

static int cmp_val_rank(const void *a, const void *b) {
    double x = ((const val_rank *)a)->v, y = ((const val_rank *)b)->v;
    return (x > y) - (x < y);
}

/* The same table as the sort-and-search build below, in linear time when
 * every value is a non-negative number (no -0.0, no NaN): equal values then
 * have equal bits, so the distinct values are found with a hash table and
 * only they are sorted.  Returns false when it cannot take the fast path
 * (or memory runs out; the caller then tries the plain way). */
static bool xtable_build_hashed(xtable *t, const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (bits_of(x[i]) >> 63 || isnan(x[i])) return false;
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    uint32_t *slot = malloc(cap * sizeof *slot);
    val_rank *dv = malloc((n ? n : 1) * sizeof *dv);
    uint32_t *rank = NULL;
    if (!slot || !dv) {
        free(slot);
        free(dv);
        return false;
    }
    memset(slot, 0xff, cap * sizeof *slot);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = bits_of(x[i]);
        size_t h = hash_u64(u) & (cap - 1);
        while (slot[h] != UINT32_MAX && bits_of(dv[slot[h]].v) != u) h = (h + 1) & (cap - 1);
        if (slot[h] == UINT32_MAX) {
            slot[h] = (uint32_t)m;
            dv[m].v = x[i];
            dv[m].id = (uint32_t)m;
            m++;
        }
        t->xi[i] = slot[h]; /* the distinct id for now */
    }
    free(slot);
    rank = malloc((m ? m : 1) * sizeof *rank);
    if (!rank) {
        free(dv);
        return false;
    }
    qsort(dv, m, sizeof *dv, cmp_val_rank); /* distinct values: no ties */
    for (size_t k = 0; k < m; k++) {
        t->xs[k] = dv[k].v;
        rank[dv[k].id] = (uint32_t)k;
    }
    for (size_t i = 0; i < n; i++) t->xi[i] = rank[t->xi[i]];
    t->n_xs = m;
    free(rank);
    free(dv);
    return true;
}

static bool xtable_build(xtable *t, const double *x, size_t n) {
    t->xs = malloc((n ? n : 1) * sizeof *t->xs);
    t->xi = malloc((n ? n : 1) * sizeof *t->xi);
    if (!t->xs || !t->xi) return false;
    if (xtable_build_hashed(t, x, n)) return true;
    memcpy(t->xs, x, n * sizeof *x);
    qsort(t->xs, n, sizeof *t->xs, cmp_double);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || t->xs[i] != t->xs[m - 1]) t->xs[m++] = t->xs[i];
    t->n_xs = m;
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = m;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (t->xs[mid] <= x[i]) lo = mid;
            else hi = mid;
        }
        t->xi[i] = (uint32_t)lo;
    }
    return true;
}

static void xtable_free(xtable *t) {
    free(t->xs);
    free(t->xi);
}

/* ---- the optimiser driver -------------------------------------------------
 * Minimises f(theta) (and its gradient) over k log-parameters. */
typedef double (*objective_fn)(const double *theta, double *grad, void *user);

typedef struct opt_problem {
    objective_fn fn;
    void *user;
    size_t k;
    /* the last evaluation: GSL often asks again for a point it has just
     * seen, and the objective is deterministic, so the answer is reused */
    bool have, have_grad;
    double c_th[4], c_f, c_g[4];
} opt_problem;

/* pr->fn through the one-point cache (same values, bit for bit). */
static double eval_cached(opt_problem *pr, const double *th, double *grad) {
    size_t k = pr->k;
    if (pr->have && memcmp(th, pr->c_th, k * sizeof *th) == 0 && (!grad || pr->have_grad)) {
        if (grad) memcpy(grad, pr->c_g, k * sizeof *grad);
        return pr->c_f;
    }
    double g[4];
    double f = pr->fn(th, grad ? g : NULL, pr->user);
    memcpy(pr->c_th, th, k * sizeof *th);
    pr->c_f = f;
    pr->have = true;
    pr->have_grad = grad != NULL;
    if (grad) {
        memcpy(pr->c_g, g, k * sizeof *g);
        memcpy(grad, g, k * sizeof *g);
    }
    return f;
}

static double gsl_f(const gsl_vector *v, void *p) {
    opt_problem *pr = p;
    double th[4];
    for (size_t i = 0; i < pr->k; i++) th[i] = clamp_logp(gsl_vector_get(v, i));
    double f = eval_cached(pr, th, NULL);
    return isfinite(f) ? f : BAD_F;
}

static void gsl_fdf(const gsl_vector *v, void *p, double *f, gsl_vector *g) {
    opt_problem *pr = p;
    double th[4], gr[4];
    for (size_t i = 0; i < pr->k; i++) th[i] = clamp_logp(gsl_vector_get(v, i));
    double val = eval_cached(pr, th, gr);
    bool ok = isfinite(val);
    for (size_t i = 0; i < pr->k; i++) ok = ok && isfinite(gr[i]);
    if (f) *f = ok ? val : BAD_F;
    for (size_t i = 0; i < pr->k; i++) gsl_vector_set(g, i, ok ? gr[i] : 0.0);
}

static void gsl_df(const gsl_vector *v, void *p, gsl_vector *g) { gsl_fdf(v, p, NULL, g); }

/* BFGS (vector_bfgs2, analytic gradient) from theta (in/out); keeps the
 * end point only when it is no worse.  Returns whether it converged:
 * max |gradient| < 1e-4 with every log-parameter inside the clamp. */
static bool run_bfgs(opt_problem *pr, gsl_multimin_fdfminimizer *bf, gsl_vector *x, double *theta, int *iters) {
    size_t k = pr->k;
    gsl_multimin_function_fdf fdf = {.f = gsl_f, .df = gsl_df, .fdf = gsl_fdf, .n = k, .params = pr};
    for (size_t i = 0; i < k; i++) gsl_vector_set(x, i, theta[i]);
    gsl_multimin_fdfminimizer_set(bf, &fdf, x, 0.01, 0.1);
    double f0 = gsl_f(x, pr);
    for (int it = 0; it < 500; it++) {
        (*iters)++;
        if (gsl_multimin_fdfminimizer_iterate(bf)) break;
        if (gsl_multimin_test_gradient(bf->gradient, 1e-9) == GSL_SUCCESS) break;
    }
    if (bf->f <= f0 && isfinite(bf->f))
        for (size_t i = 0; i < k; i++) theta[i] = clamp_logp(gsl_vector_get(bf->x, i));
    double g[4];
    double fv = eval_cached(pr, theta, g);
    bool conv = isfinite(fv);
    for (size_t i = 0; i < k; i++) conv = conv && fabs(g[i]) < 1e-4;
    for (size_t i = 0; i < k; i++) conv = conv && fabs(theta[i]) < LOGP_MAX - 1e-9;
#ifdef CLV_DEBUG
    fprintf(stderr, "clv: f=%.12g g=%g %g %g th=%g %g %g iters=%d\n", fv, g[0], g[1], g[2], theta[0], theta[1],
            theta[2], *iters);
#endif
    return conv;
}

/* BFGS from theta first (a handful of evaluations on a smooth likelihood);
 * when that does not converge, the Nelder-Mead simplex from the same start
 * (robust far from the optimum), then BFGS again to polish.  theta in/out.
 * Returns false on an allocation failure. */
static bool minimise(opt_problem *pr, double *theta, bool *converged, int *iterations) {
    size_t k = pr->k;
    int iters = 0;
    double start[4];
    memcpy(start, theta, k * sizeof *theta);
    gsl_vector *x = gsl_vector_alloc(k), *step = gsl_vector_alloc(k);
    gsl_multimin_fminimizer *nm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, k);
    gsl_multimin_fdfminimizer *bf = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, k);
    bool ok = x && step && nm && bf;
    if (ok) {
        *converged = run_bfgs(pr, bf, x, theta, &iters);
        if (!*converged) {
            double best[4];
            memcpy(best, theta, k * sizeof *theta);
            double f_best = eval_cached(pr, best, NULL);
            gsl_multimin_function fn = {.f = gsl_f, .n = k, .params = pr};
            for (size_t i = 0; i < k; i++) {
                gsl_vector_set(x, i, start[i]);
                gsl_vector_set(step, i, 0.5);
            }
            gsl_multimin_fminimizer_set(nm, &fn, x, step);
            for (int it = 0; it < 4000; it++) {
                iters++;
                if (gsl_multimin_fminimizer_iterate(nm)) break;
                if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(nm), 1e-4) == GSL_SUCCESS) break;
            }
            for (size_t i = 0; i < k; i++) theta[i] = clamp_logp(gsl_vector_get(nm->x, i));
            *converged = run_bfgs(pr, bf, x, theta, &iters);
            double f = eval_cached(pr, theta, NULL);
            if (!*converged && !(f <= f_best)) memcpy(theta, best, k * sizeof *theta);
        }
    }
    *iterations = iters;
    gsl_multimin_fdfminimizer_free(bf);
    gsl_multimin_fminimizer_free(nm);
    gsl_vector_free(step);
    gsl_vector_free(x);
    return ok;
}

/* ---- BG/NBD ---------------------------------------------------------------- */

typedef struct bg_data {
    const double *x, *tx, *T, *w;
    size_t n;
    double w_sum;
    double scale; /* time multiplier applied to t_x and T */
    xtable xt, Tt, txt; /* distinct x, T and t_x values, and each row's index */
    /* per distinct x scratch, refreshed per evaluation */
    double *c_lnab; /* ln A1 + ln A2 without r ln alpha */
    double *c_dr, *c_da, *c_db; /* d/dr, d/da, d/db of the same */
    double *c_lnbx1;            /* ln(b + x - 1) for x > 0 */
    /* per distinct T and t_x: ln(alpha + v) and 1 / (alpha + v) */
    double *lT, *iT, *ltx, *itx;
    /* per observation, refreshed per evaluation: ln(A3 + [x > 0] A4) and
     * A4's share of the sum (the exp and log1p, computed on threads) */
    double *lse, *w4;
    unsigned threads; /* at most this many threads for the terms; 0 = all cores */
} bg_data;

/* Per-observation terms of bg_objective for rows [lo, hi).  Every row is
 * computed alone, with the same operations whichever thread runs it, and
 * the sums are taken afterwards in row order on one thread: the result is
 * bit-identical for any number of threads. */
typedef struct bg_chunk {
    const bg_data *d;
    size_t lo, hi;
    double r, lna;
} bg_chunk;

static void bg_terms(const bg_chunk *c) {
    const bg_data *d = c->d;
    double r = c->r, lna = c->lna;
    for (size_t i = c->lo; i < c->hi; i++) {
        uint32_t k = d->xt.xi[i], ti = d->Tt.xi[i];
        double x = d->x[i];
        double lnaT = d->lT[ti];
        double l3 = -(r + x) * lnaT;
        double lse = l3, w4 = 0.0;
        if (x > 0) {
            uint32_t si = d->txt.xi[i];
            double lnatx = d->ltx[si];
            double l4 = lna - d->c_lnbx1[k] - (r + x) * lnatx;
            /* log-sum-exp of l3 and l4 */
            double diff = l4 - l3;
            if (diff > 0) {
                double e = exp(-diff);
                lse = l4 + log1p(e);
                w4 = 1.0 / (1.0 + e);
            } else {
                double e = exp(diff);
                lse = l3 + log1p(e);
                w4 = e / (1.0 + e);
            }
        }
        d->lse[i] = lse;
        d->w4[i] = w4;
    }
}

static void *bg_terms_thread(void *arg) {
    bg_terms(arg);
    return NULL;
}

#define BG_MAX_THREADS 8
#define BG_ROWS_PER_THREAD 16384

/* bg_terms over all rows, split into equal chunks on up to
 * BG_MAX_THREADS threads (the calling thread runs the first chunk); falls
 * back to fewer threads when one cannot be started. */
static void bg_terms_all(const bg_data *d, double r, double lna) {
    long cpus = d->threads ? (long)d->threads : sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cpus > 1 ? (size_t)cpus : 1;
    if (nt > BG_MAX_THREADS) nt = BG_MAX_THREADS;
    if (nt > d->n / BG_ROWS_PER_THREAD) nt = d->n / BG_ROWS_PER_THREAD;
    if (nt < 1) nt = 1;
    bg_chunk ch[BG_MAX_THREADS];
    pthread_t tid[BG_MAX_THREADS];
    bool started[BG_MAX_THREADS] = {false};
    for (size_t t = 0; t < nt; t++)
        ch[t] = (bg_chunk){.d = d, .lo = d->n * t / nt, .hi = d->n * (t + 1) / nt, .r = r, .lna = lna};
    for (size_t t = 1; t < nt; t++) started[t] = pthread_create(&tid[t], NULL, bg_terms_thread, &ch[t]) == 0;
    bg_terms(&ch[0]);
    for (size_t t = 1; t < nt; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else bg_terms(&ch[t]);
    }
}

/* Mean negative log-likelihood at log-parameters th = ln(r, alpha, a, b), and
 * its gradient with respect to th when grad is not NULL.  Summaries share
 * few distinct x, T and t_x values (whole days), so the logs are taken once
 * per distinct value and a customer costs one exp and one log1p (none
 * without repeat purchases). */
static double bg_objective(const double *th, double *grad, void *user) {
    bg_data *d = user;
    double r = exp(th[0]), al = exp(th[1]), a = exp(th[2]), b = exp(th[3]);
    double lgr = lng(r), lgab = lng(a + b), lgb = lng(b), lna = log(a), lnal = log(al);
    double psr = 0, psab = 0, psb = 0;
    if (grad) {
        psr = digamma(r);
        psab = digamma(a + b);
        psb = digamma(b);
    }
    for (size_t k = 0; k < d->xt.n_xs; k++) {
        double x = d->xt.xs[k];
        d->c_lnab[k] = lng(r + x) - lgr + lgab + lng(b + x) - lgb - lng(a + b + x);
        d->c_lnbx1[k] = x > 0 ? log(b + x - 1) : 0.0;
        if (grad) {
            double psabx = digamma(a + b + x);
            d->c_dr[k] = digamma(r + x) - psr;
            d->c_da[k] = psab - psabx;
            d->c_db[k] = psab - psabx + digamma(b + x) - psb;
        }
    }
    for (size_t k = 0; k < d->Tt.n_xs; k++) {
        double v = al + d->Tt.xs[k] * d->scale;
        d->lT[k] = log(v);
        d->iT[k] = 1.0 / v;
    }
    for (size_t k = 0; k < d->txt.n_xs; k++) {
        double v = al + d->txt.xs[k] * d->scale;
        d->ltx[k] = log(v);
        d->itx[k] = 1.0 / v;
    }
    bg_terms_all(d, r, lna);
    double ll = 0, gr = 0, gal = 0, ga = 0, gb = 0;
    for (size_t i = 0; i < d->n; i++) {
        uint32_t k = d->xt.xi[i], ti = d->Tt.xi[i];
        double x = d->x[i], w = d->w ? d->w[i] : 1.0;
        double lnaT = d->lT[ti];
        double lse = d->lse[i], w4 = d->w4[i], lnatx = 0.0, iatx = 0.0;
        if (x > 0) {
            uint32_t si = d->txt.xi[i];
            lnatx = d->ltx[si];
            iatx = d->itx[si];
        }
        ll += w * (d->c_lnab[k] + r * lnal + lse);
        if (grad) {
            double w3 = 1.0 - w4;
            gr += w * (d->c_dr[k] + lnal - w3 * lnaT - w4 * lnatx);
            gal += w * (r / al - (r + x) * (w3 * d->iT[ti] + w4 * iatx));
            ga += w * (d->c_da[k] + w4 / a);
            gb += w * (d->c_db[k] - (x > 0 ? w4 / (b + x - 1) : 0.0));
        }
    }
    if (grad) {
        grad[0] = -gr * r / d->w_sum;
        grad[1] = -gal * al / d->w_sum;
        grad[2] = -ga * a / d->w_sum;
        grad[3] = -gb * b / d->w_sum;
    }
    return -ll / d->w_sum;
}

static void bg_data_free(bg_data *d) {
    xtable_free(&d->xt);
    xtable_free(&d->Tt);
    xtable_free(&d->txt);
    free(d->c_lnab);
    free(d->c_dr);
    free(d->c_da);
    free(d->c_db);
    free(d->c_lnbx1);
    free(d->lT);
    free(d->iT);
    free(d->ltx);
    free(d->itx);
    free(d->lse);
    free(d->w4);
}

static bool bg_data_init(bg_data *d, const double *x, const double *t_x, const double *T, const double *weight,
                         size_t n, double scale) {
    memset(d, 0, sizeof *d);
    d->x = x;
    d->tx = t_x;
    d->T = T;
    d->w = weight;
    d->n = n;
    d->scale = scale;
    for (size_t i = 0; i < n; i++) d->w_sum += weight ? weight[i] : 1.0;
    if (!xtable_build(&d->xt, x, n) || !xtable_build(&d->Tt, T, n) || !xtable_build(&d->txt, t_x, n))
        return false;
    size_t m = d->xt.n_xs ? d->xt.n_xs : 1;
    d->c_lnab = malloc(m * sizeof(double));
    d->c_dr = malloc(m * sizeof(double));
    d->c_da = malloc(m * sizeof(double));
    d->c_db = malloc(m * sizeof(double));
    d->c_lnbx1 = malloc(m * sizeof(double));
    size_t mt = d->Tt.n_xs ? d->Tt.n_xs : 1, mx = d->txt.n_xs ? d->txt.n_xs : 1;
    d->lT = malloc(mt * sizeof(double));
    d->iT = malloc(mt * sizeof(double));
    d->ltx = malloc(mx * sizeof(double));
    d->itx = malloc(mx * sizeof(double));
    d->lse = malloc((n ? n : 1) * sizeof(double));
    d->w4 = malloc((n ? n : 1) * sizeof(double));
    return d->lse && d->w4 && d->c_lnab && d->c_dr && d->c_da && d->c_db && d->c_lnbx1 && d->lT && d->iT && d->ltx && d->itx;
}

double cp_bgnbd_loglik(const cp_bgnbd *m, const double *x, const double *t_x, const double *T,
                       const double *weight, size_t n) {
    bg_data d;
    double ll = NAN;
    if (bg_data_init(&d, x, t_x, T, weight, n, 1.0) && d.w_sum > 0) {
        double th[4] = {log(m->r), log(m->alpha), log(m->a), log(m->b)};
        ll = -bg_objective(th, NULL, &d) * d.w_sum;
    }
    bg_data_free(&d);
    return ll;
}

cp_result cp_bgnbd_fit(const double *x, const double *t_x, const double *T, const double *weight, size_t n,
                       cp_bgnbd *out, cp_error *err) {
    return cp_bgnbd_fit_threads(x, t_x, T, weight, n, 0, out, err);
}

cp_result cp_bgnbd_fit_threads(const double *x, const double *t_x, const double *T, const double *weight,
                               size_t n, unsigned threads, cp_bgnbd *out, cp_error *err) {
    double w_sum = 0, w_rep = 0, t_max = 0;
    bool informative = false; /* some repeater with t_x < T, or a one-timer */
    for (size_t i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        if (!(x[i] >= 0 && x[i] == floor(x[i]) && t_x[i] >= 0 && T[i] >= t_x[i] && isfinite(T[i]) && w >= 0))
            return model_error(err, "BG/NBD: a summary is out of range (needs integer x >= 0 and 0 <= t_x <= T)");
        w_sum += w;
        if (x[i] > 0) w_rep += w;
        if (w > 0 && (x[i] == 0 || t_x[i] < T[i])) informative = true;
        if (T[i] > t_max) t_max = T[i];
    }
    if (w_sum < MIN_CUSTOMERS) {
        char msg[160];
        snprintf(msg, sizeof msg, "BG/NBD: %.0f customers are too few to fit the model (at least %.0f needed)",
                 w_sum, MIN_CUSTOMERS);
        return model_error(err, msg);
    }
    if (w_rep <= 0) return model_error(err, "BG/NBD: no customer made a repeat purchase, so the model cannot be fitted");
    if (!informative || t_max <= 0)
        return model_error(err, "BG/NBD: every customer is observed for no time after their last purchase");
    bg_data d;
    if (!bg_data_init(&d, x, t_x, T, weight, n, 10.0 / t_max)) {
        bg_data_free(&d);
        return nomem(err);
    }
    d.threads = threads;
    opt_problem pr = {.fn = bg_objective, .user = &d, .k = 4};
    double th[4] = {0, 0, 0, 0};
    bool conv = false;
    int iters = 0;
    bool ok = minimise(&pr, th, &conv, &iters);
    bg_data_free(&d);
    if (!ok) return nomem(err);
    cp_bgnbd m = {.r = exp(th[0]), .alpha = exp(th[1]) / (10.0 / t_max), .a = exp(th[2]), .b = exp(th[3]),
                  .converged = conv, .iterations = iters};
    m.loglik = cp_bgnbd_loglik(&m, x, t_x, T, weight, n);
    if (!isfinite(m.loglik) || !isfinite(m.alpha) || m.alpha <= 0)
        return model_error(err, "BG/NBD: the fit diverged (non-finite likelihood)");
    *out = m;
    return CP_OK;
}

double cp_bgnbd_p_alive(const cp_bgnbd *m, double x, double t_x, double T) {
    if (x <= 0) return 1.0;
    /* 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)), in logs */
    double l = log(m->a) - log(m->b + x - 1) + (m->r + x) * (log(m->alpha + T) - log(m->alpha + t_x));
    if (l > 700) return 0.0;
    return 1.0 / (1.0 + exp(l));
}

double cp_log_hyp2f1(double a, double b, double c, double z) {
    if (z == 0) return 0.0;
    /* sum_k (a)_k (b)_k / ((c)_k k!) z^k, rescaled when large */
    double sum = 1.0, term = 1.0, log_scale = 0.0;
    for (long k = 0; k < 2000000; k++) {
        double ratio = (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
        term *= ratio;
        sum += term;
        if (sum > 1e250) {
            sum *= 1e-250;
            term *= 1e-250;
            log_scale += 250 * log(10.0);
        }
        if (ratio < 1.0 && fabs(term) < 1e-16 * fabs(sum)) break;
        if (term == 0.0) break;
    }
    return log_scale + log(sum);
}

double cp_bgnbd_expected(const cp_bgnbd *m, double t, double x, double t_x, double T) {
    if (t <= 0) return 0.0;
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double z = t / (al + T + t);
    /* ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z), in logs */
    double lh = (r + x) * log((al + T) / (al + T + t)) + cp_log_hyp2f1(r + x, b + x, a + b + x - 1, z);
    double num = (a + b + x - 1) / (a - 1) * -expm1(lh);
    double den = 1.0;
    if (x > 0) {
        double l = log(a) - log(b + x - 1) + (r + x) * (log(al + T) - log(al + t_x));
        if (l > 700) return 0.0;
        den += exp(l);
    }
    return num / den;
}

/* ---- Gamma-Gamma ------------------------------------------------------------ */

typedef struct gg_data {
    double *x, *lnx, *zbar, *lnz, *w; /* the fitted observations, zbar rescaled */
    size_t n;
    double w_sum;
    /* Observations with the same (x, zbar, weight) have the same terms: they
     * are computed once per distinct triple u (arrays u_*), and summed per
     * observation in observation order, so the sums are bit for bit those of
     * a loop over the observations. */
    uint32_t *ui;  /* each observation's triple */
    size_t nu;
    double *u_x, *u_lnx, *u_z, *u_lnz, *u_w;
    double *t_ll, *t_gp, *t_gq, *t_gg; /* per triple, refreshed per evaluation */
    xtable xt; /* distinct x over the triples */
    double *c_ln, *c_dp, *c_dq; /* per distinct x */
} gg_data;

static double gg_objective(const double *th, double *grad, void *user) {
    gg_data *d = user;
    double p = exp(th[0]), q = exp(th[1]), g = exp(th[2]);
    double lgq = lng(q), lng_g = log(g), psq = grad ? digamma(q) : 0.0;
    for (size_t k = 0; k < d->xt.n_xs; k++) {
        double x = d->xt.xs[k];
        d->c_ln[k] = lng(p * x + q) - lng(p * x) - lgq + q * lng_g;
        if (grad) {
            double ps = digamma(p * x + q);
            d->c_dp[k] = x * (ps - digamma(p * x));
            d->c_dq[k] = ps - psq + lng_g;
        }
    }
    for (size_t u = 0; u < d->nu; u++) {
        uint32_t k = d->xt.xi[u];
        double x = d->u_x[u], w = d->u_w[u];
        double px = p * x, den = g + x * d->u_z[u], lden = log(den);
        d->t_ll[u] = w * (d->c_ln[k] + (px - 1) * d->u_lnz[u] + px * d->u_lnx[u] - (px + q) * lden);
        if (grad) {
            d->t_gp[u] = w * (d->c_dp[k] + x * (d->u_lnz[u] + d->u_lnx[u] - lden));
            d->t_gq[u] = w * (d->c_dq[k] - lden);
            d->t_gg[u] = w * (q / g - (px + q) / den);
        }
    }
    double ll = 0, gp = 0, gq = 0, gg = 0;
    for (size_t i = 0; i < d->n; i++) {
        uint32_t u = d->ui[i];
        ll += d->t_ll[u];
        if (grad) {
            gp += d->t_gp[u];
            gq += d->t_gq[u];
            gg += d->t_gg[u];
        }
    }
    if (grad) {
        grad[0] = -gp * p / d->w_sum;
        grad[1] = -gq * q / d->w_sum;
        grad[2] = -gg * g / d->w_sum;
    }
    return -ll / d->w_sum;
}

static void gg_data_free(gg_data *d) {
    free(d->x);
    free(d->lnx);
    free(d->zbar);
    free(d->lnz);
    free(d->w);
    free(d->ui);
    free(d->u_x);
    free(d->u_lnx);
    free(d->u_z);
    free(d->u_lnz);
    free(d->u_w);
    free(d->t_ll);
    free(d->t_gp);
    free(d->t_gq);
    free(d->t_gg);
    xtable_free(&d->xt);
    free(d->c_ln);
    free(d->c_dp);
    free(d->c_dq);
}

/* Groups the observations into distinct (x, zbar, w) triples by their bits
 * (an open-addressing hash; the values come from the observations, so a
 * triple's terms are exactly its observations' terms). */
static bool gg_group(gg_data *d) {
    size_t n = d->n, cap = 16;
    while (cap < 2 * n) cap *= 2;
    uint32_t *slot = malloc(cap * sizeof *slot);
    size_t c = n ? n : 1;
    d->ui = malloc(c * sizeof *d->ui);
    d->u_x = malloc(c * sizeof(double));
    d->u_lnx = malloc(c * sizeof(double));
    d->u_z = malloc(c * sizeof(double));
    d->u_lnz = malloc(c * sizeof(double));
    d->u_w = malloc(c * sizeof(double));
    if (!slot || !d->ui || !d->u_x || !d->u_lnx || !d->u_z || !d->u_lnz || !d->u_w) {
        free(slot);
        return false;
    }
    memset(slot, 0xff, cap * sizeof *slot);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bx = bits_of(d->x[i]), bz = bits_of(d->zbar[i]), bw = bits_of(d->w[i]);
        size_t h = hash_u64(bx ^ hash_u64(bz ^ hash_u64(bw))) & (cap - 1);
        for (;;) {
            uint32_t s = slot[h];
            if (s == UINT32_MAX) {
                slot[h] = (uint32_t)m;
                d->u_x[m] = d->x[i];
                d->u_lnx[m] = d->lnx[i];
                d->u_z[m] = d->zbar[i];
                d->u_lnz[m] = d->lnz[i];
                d->u_w[m] = d->w[i];
                d->ui[i] = (uint32_t)m++;
                break;
            }
            if (bits_of(d->u_x[s]) == bx && bits_of(d->u_z[s]) == bz && bits_of(d->u_w[s]) == bw) {
                d->ui[i] = s;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
    }
    free(slot);
    d->nu = m;
    size_t cu = m ? m : 1;
    d->t_ll = malloc(cu * sizeof(double));
    d->t_gp = malloc(cu * sizeof(double));
    d->t_gq = malloc(cu * sizeof(double));
    d->t_gg = malloc(cu * sizeof(double));
    return d->t_ll && d->t_gp && d->t_gq && d->t_gg;
}

/* Copies the usable observations, zbar divided by `scale`. */
static bool gg_data_init(gg_data *d, const double *x, const double *zbar, const double *weight, size_t n,
                         double scale) {
    memset(d, 0, sizeof *d);
    size_t cap = n ? n : 1;
    d->x = malloc(cap * sizeof(double));
    d->lnx = malloc(cap * sizeof(double));
    d->zbar = malloc(cap * sizeof(double));
    d->lnz = malloc(cap * sizeof(double));
    d->w = malloc(cap * sizeof(double));
    if (!d->x || !d->lnx || !d->zbar || !d->lnz || !d->w) return false;
    for (size_t i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        if (!(x[i] > 0 && zbar[i] > 0 && isfinite(zbar[i]) && w > 0)) continue;
        d->x[d->n] = x[i];
        d->lnx[d->n] = log(x[i]);
        d->zbar[d->n] = zbar[i] / scale;
        d->lnz[d->n] = log(zbar[i] / scale);
        d->w[d->n] = w;
        d->w_sum += w;
        d->n++;
    }
    if (!gg_group(d)) return false;
    if (!xtable_build(&d->xt, d->u_x, d->nu)) return false;
    size_t m = d->xt.n_xs ? d->xt.n_xs : 1;
    d->c_ln = malloc(m * sizeof(double));
    d->c_dp = malloc(m * sizeof(double));
    d->c_dq = malloc(m * sizeof(double));
    return d->c_ln && d->c_dp && d->c_dq;
}

double cp_gamma_gamma_loglik(const cp_gamma_gamma *m, const double *x, const double *zbar, const double *weight,
                             size_t n) {
    gg_data d;
    double ll = NAN;
    if (gg_data_init(&d, x, zbar, weight, n, 1.0) && d.w_sum > 0) {
        double th[3] = {log(m->p), log(m->q), log(m->gamma)};
        ll = -gg_objective(th, NULL, &d) * d.w_sum;
    }
    gg_data_free(&d);
    return ll;
}

cp_result cp_gamma_gamma_fit(const double *x, const double *zbar, const double *weight, size_t n,
                             cp_gamma_gamma *out, cp_error *err) {
    double sum = 0, cnt = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        if (x[i] > 0 && zbar[i] > 0 && isfinite(zbar[i]) && w > 0) {
            sum += w * zbar[i];
            cnt += w;
        }
    }
    if (cnt < MIN_CUSTOMERS) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "Gamma-Gamma: %.0f repeat customers with spend are too few to fit the model (at least %.0f needed)",
                 cnt, MIN_CUSTOMERS);
        return model_error(err, msg);
    }
    double scale = sum / cnt;
    gg_data d;
    if (!gg_data_init(&d, x, zbar, weight, n, scale)) {
        gg_data_free(&d);
        return nomem(err);
    }
    opt_problem pr = {.fn = gg_objective, .user = &d, .k = 3};
    double th[3] = {0, 0, 0};
    bool conv = false;
    int iters = 0;
    bool ok = minimise(&pr, th, &conv, &iters);
    size_t n_fit = d.n;
    gg_data_free(&d);
    if (!ok) return nomem(err);
    cp_gamma_gamma m = {.p = exp(th[0]), .q = exp(th[1]), .gamma = exp(th[2]) * scale,
                        .converged = conv, .iterations = iters, .n_fitted = n_fit};
    m.loglik = cp_gamma_gamma_loglik(&m, x, zbar, weight, n);
    if (!isfinite(m.loglik)) return model_error(err, "Gamma-Gamma: the fit diverged (non-finite likelihood)");
    *out = m;
    return CP_OK;
}

double cp_gamma_gamma_spend(const cp_gamma_gamma *m, double x, double zbar) {
    if (x <= 0) return m->q > 1 ? m->p * m->gamma / (m->q - 1) : NAN;
    double den = m->p * x + m->q - 1;
    return den > 0 ? m->p * (m->gamma + x * zbar) / den : NAN;
}

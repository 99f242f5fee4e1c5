/* clv.h -- predicted customer lifetime value (SPEC R10.5): the BG/NBD model
 * of repeat transactions (Fader, Hardie & Lee 2005, "Counting your customers
 * the easy way") and the Gamma-Gamma model of spend per transaction (Fader &
 * Hardie 2013, "The Gamma-Gamma model of monetary value").
 *
 * Both are fitted by maximum likelihood with GSL's gsl_multimin (Nelder-Mead
 * simplex, then BFGS with the analytic gradient) on log-parameters, so the
 * parameters stay positive without bounds.  The log-likelihoods are computed
 * in log-space (lgamma, log-sum-exp for BG/NBD's A3 + A4), so large x or T
 * never overflow.  No GSL special function is called: GSL's default error
 * handler aborts, and the library must neither abort nor change GSL's global
 * handler; the Gauss hypergeometric series and digamma are computed here.
 *
 * The fitting functions take plain arrays so that tests can call them on a
 * published summary (x, t_x, T, zbar) without a run.  Observations may carry
 * a weight (customers sharing one summary), so callers can group.
 *
 * Thread safety: every function is pure; any number may run at once.
 */
#ifndef CLICKPATH_CLV_H
#define CLICKPATH_CLV_H

#include <stdbool.h>
#include <stddef.h>

#include "clickpath/clickpath.h"

/* A fitted BG/NBD model.  Time is in the unit the summary was given in. */
typedef struct cp_bgnbd {
    double r, alpha, a, b;
    double loglik;     /* total log-likelihood (weighted), FHL 2005 eq. 6 */
    bool converged;    /* the gradient vanished within tolerance */
    int iterations;    /* simplex + BFGS iterations */
} cp_bgnbd;

/* A fitted Gamma-Gamma model (money in the unit zbar was given in). */
typedef struct cp_gamma_gamma {
    double p, q, gamma;
    double loglik;
    bool converged;
    int iterations;
    size_t n_fitted;   /* observations used (x > 0 and zbar > 0) */
} cp_gamma_gamma;

/* Fits BG/NBD to n summaries: x = repeat transactions (integer >= 0),
 * t_x = recency, T = age (0 <= t_x <= T), weight[i] customers share summary
 * i (weight NULL = 1 each).  Returns CP_OK, or CP_EMODEL with err->msg when
 * the data cannot support a fit (fewer than 10 customers, no repeat
 * customers, every customer a repeater with t_x == T, a summary out of
 * range, or an optimiser failure); *out is filled only on CP_OK. */
cp_result cp_bgnbd_fit(const double *x, const double *t_x, const double *T, const double *weight,
                       size_t n, cp_bgnbd *out, cp_error *err);
/* The same on at most `threads` threads (0 = all cores); the result is
 * bit-identical for any value. */
cp_result cp_bgnbd_fit_threads(const double *x, const double *t_x, const double *T, const double *weight,
                               size_t n, unsigned threads, cp_bgnbd *out, cp_error *err);

/* BG/NBD total log-likelihood of the summaries at given parameters. */
double cp_bgnbd_loglik(const cp_bgnbd *m, const double *x, const double *t_x, const double *T,
                       const double *weight, size_t n);

/* P(alive | x, t_x, T) (FHL 2005 eq. 11 in the note "Computing P(alive)"). */
double cp_bgnbd_p_alive(const cp_bgnbd *m, double x, double t_x, double T);

/* E[Y(t) | x, t_x, T]: expected transactions in (T, T + t] (FHL 2005 eq. 10). */
double cp_bgnbd_expected(const cp_bgnbd *m, double t, double x, double t_x, double T);

/* Fits Gamma-Gamma to the repeat customers: x transactions with mean value
 * zbar; observations with x <= 0 or zbar <= 0 are skipped (a zero mean has no
 * density).  CP_EMODEL when fewer than 10 remain or the fit fails. */
cp_result cp_gamma_gamma_fit(const double *x, const double *zbar, const double *weight, size_t n,
                             cp_gamma_gamma *out, cp_error *err);

/* Gamma-Gamma log-likelihood over the observations it would fit. */
double cp_gamma_gamma_loglik(const cp_gamma_gamma *m, const double *x, const double *zbar,
                             const double *weight, size_t n);

/* E[Z | x, zbar] (FH 2013 eq. 5): p (gamma + x zbar) / (p x + q - 1); for
 * x == 0 the population mean p gamma / (q - 1).  NaN when q <= 1. */
double cp_gamma_gamma_spend(const cp_gamma_gamma *m, double x, double zbar);

/* Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 as its logarithm
 * (the series, summed with rescaling so that large terms cannot overflow).
 * Needs c > 0; for the BG/NBD a, b, c are positive. */
double cp_log_hyp2f1(double a, double b, double c, double z);

#endif /* CLICKPATH_CLV_H */

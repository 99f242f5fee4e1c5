/* test_clv.c -- the CLV models of R10.5 against the published CDNOW results:
 * BG/NBD (Fader, Hardie & Lee 2005: r = 0.243, alpha = 4.414, a = 0.793,
 * b = 2.426, LL = -9582.4) and Gamma-Gamma (Fader & Hardie 2013: p = 6.25,
 * q = 3.74, gamma = 15.44), fitted on Hardie's calibration summary of the
 * 2,357-customer sample, plus the model's edge cases.  The end-to-end run of
 * the same data through the column mapping is in test_customers.c. */
#include <math.h>
#include <stdbool.h>

#include "testutil.h"

#include "clickpath/clickpath.h"
#include "customers/clv.h"

#define CLOSE(v, want, rel) assert_true(fabs((v) - (want)) <= (rel) * fabs(want))

typedef struct summary {
    double *x, *tx, *T, *zbar;
    size_t n;
} summary;

/* Reads cdnow_customers_summary_with_transactions.csv: ID,x,t_x,T,zbar
 * (CRLF, no final newline). */
static void load_summary(summary *s) {
    FILE *f = fopen(CP_SHARED_DATA("cdnow/cdnow_customers_summary_with_transactions.csv"), "r");
    assert_non_null(f);
    size_t cap = 4096;
    s->x = calloc(cap, sizeof(double));
    s->tx = calloc(cap, sizeof(double));
    s->T = calloc(cap, sizeof(double));
    s->zbar = calloc(cap, sizeof(double));
    s->n = 0;
    char line[256];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        double v[5];
        for (int k = 0; k < 5; k++) {
            char *end;
            v[k] = strtod(p, &end);
            assert_true(end != p);
            p = end + (*end == ',');
        }
        assert_true(s->n < cap);
        s->x[s->n] = v[1];
        s->tx[s->n] = v[2];
        s->T[s->n] = v[3];
        s->zbar[s->n] = v[4];
        s->n++;
    }
    fclose(f);
}

static void free_summary(summary *s) {
    free(s->x);
    free(s->tx);
    free(s->T);
    free(s->zbar);
}

/* R10.5: BG/NBD on the CDNOW calibration summary reproduces FHL 2005. */
static void r10_5_bgnbd_fit_reproduces_fhl2005_on_cdnow(void **state) {
    (void)state;
    summary s;
    load_summary(&s);
    assert_int_equal(s.n, 2357);
    cp_bgnbd m;
    cp_error err = {0};
    assert_int_equal(cp_bgnbd_fit(s.x, s.tx, s.T, NULL, s.n, &m, &err), CP_OK);
    assert_true(m.converged);
    CLOSE(m.r, 0.243, 0.005);
    CLOSE(m.alpha, 4.414, 0.005);
    CLOSE(m.a, 0.793, 0.005);
    CLOSE(m.b, 2.426, 0.005);
    CLOSE(m.loglik, -9582.4, 0.005);
    assert_true(fabs(m.loglik - -9582.4) < 0.1);
    free_summary(&s);
}

/* R10.5: Gamma-Gamma on CDNOW's 946 repeat customers reproduces FH 2013. */
static void r10_5_gamma_gamma_fit_reproduces_fh2013_on_cdnow(void **state) {
    (void)state;
    summary s;
    load_summary(&s);
    cp_gamma_gamma m;
    cp_error err = {0};
    assert_int_equal(cp_gamma_gamma_fit(s.x, s.zbar, NULL, s.n, &m, &err), CP_OK);
    assert_true(m.converged);
    assert_int_equal(m.n_fitted, 946);
    CLOSE(m.p, 6.25, 0.005);
    CLOSE(m.q, 3.74, 0.005);
    CLOSE(m.gamma, 15.44, 0.005);
    free_summary(&s);
}

/* R10.5 / FHL 2005 section 4: with the published parameters, the customer
 * with x = 2, t_x = 30.43, T = 38.86 weeks expects 1.226 purchases in the next
 * 39 weeks. */
static void r10_5_expected_purchases_published_example(void **state) {
    (void)state;
    cp_bgnbd m = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
    double e = cp_bgnbd_expected(&m, 39, 2, 30.43, 38.86);
    assert_true(fabs(e - 1.226) < 0.0005);
}

/* The same example with the parameters fitted here. */
static void r10_5_expected_purchases_with_fitted_model(void **state) {
    (void)state;
    summary s;
    load_summary(&s);
    cp_bgnbd m;
    assert_int_equal(cp_bgnbd_fit(s.x, s.tx, s.T, NULL, s.n, &m, NULL), CP_OK);
    CLOSE(cp_bgnbd_expected(&m, 39, 2, 30.43, 38.86), 1.226, 0.005);
    free_summary(&s);
}

/* P(alive) is 1 without repeat purchases (FHL 2005: the dropout can only
 * happen after a purchase) and falls as the customer stays away longer. */
static void r10_5_p_alive_is_one_without_repeats_and_falls_with_absence(void **state) {
    (void)state;
    cp_bgnbd m = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
    assert_true(cp_bgnbd_p_alive(&m, 0, 0, 30) == 1.0);
    double recent = cp_bgnbd_p_alive(&m, 3, 30, 31), old = cp_bgnbd_p_alive(&m, 3, 5, 31);
    assert_true(recent > old);
    assert_true(old > 0 && recent < 1);
    /* hand value: x = 3, so b + x - 1 = 4.426 and r + x = 3.243:
     * 1/(1 + 0.793/4.426 * ((4.414+31)/(4.414+30))^3.243) */
    double want = 1.0 / (1.0 + 0.793 / 4.426 * pow(35.414 / 34.414, 3.243));
    assert_true(fabs(recent - want) < 1e-12);
}

/* Frequent buyers in day units: x = 2000, long T -- no overflow, finite. */
static void r10_5_large_frequency_does_not_overflow(void **state) {
    (void)state;
    cp_bgnbd m = {.r = 0.5, .alpha = 30, .a = 0.8, .b = 2.5};
    double e = cp_bgnbd_expected(&m, 365, 2000, 700, 700);
    assert_true(isfinite(e) && e > 0);
    double p = cp_bgnbd_p_alive(&m, 2000, 100, 700);
    assert_true(isfinite(p) && p >= 0 && p < 1e-6);
}

/* The hypergeometric series: 2F1(1, 1; 2; z) = -ln(1 - z) / z. */
static void r10_5_hyp2f1_matches_closed_form(void **state) {
    (void)state;
    double z = 0.9;
    double want = -log1p(-z) / z;
    assert_true(fabs(exp(cp_log_hyp2f1(1, 1, 2, z)) - want) < 1e-10 * want);
    /* 2F1(a, b; b; z) = (1 - z)^-a */
    assert_true(fabs(cp_log_hyp2f1(2.5, 3, 3, 0.5) - -2.5 * log(0.5)) < 1e-10);
}

/* R10.5: a clear error when the data cannot support a fit. */
static void r10_5_no_repeat_customers_is_a_model_error(void **state) {
    (void)state;
    double x[20] = {0}, tx[20] = {0}, T[20];
    for (int i = 0; i < 20; i++) T[i] = 10 + i;
    cp_bgnbd m;
    cp_error err = {0};
    assert_int_equal(cp_bgnbd_fit(x, tx, T, NULL, 20, &m, &err), CP_EMODEL);
    assert_int_equal(err.code, CP_EMODEL);
    assert_non_null(strstr(err.msg, "repeat"));
}

static void r10_5_too_few_customers_is_a_model_error(void **state) {
    (void)state;
    double x[3] = {1, 2, 0}, tx[3] = {1, 2, 0}, T[3] = {5, 5, 5}, z[3] = {1, 2, 0};
    cp_bgnbd m;
    cp_gamma_gamma g;
    cp_error err = {0};
    assert_int_equal(cp_bgnbd_fit(x, tx, T, NULL, 3, &m, &err), CP_EMODEL);
    assert_non_null(strstr(err.msg, "too few"));
    assert_int_equal(cp_gamma_gamma_fit(x, z, NULL, 3, &g, &err), CP_EMODEL);
}

/* Weights are the same as repeating an observation. */
static void r10_5_weights_equal_repeated_rows(void **state) {
    (void)state;
    summary s;
    load_summary(&s);
    cp_bgnbd m = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
    double w[3] = {2, 1, 3};
    double x2[6] = {s.x[0], s.x[0], s.x[1], s.x[2], s.x[2], s.x[2]};
    double t2[6] = {s.tx[0], s.tx[0], s.tx[1], s.tx[2], s.tx[2], s.tx[2]};
    double T2[6] = {s.T[0], s.T[0], s.T[1], s.T[2], s.T[2], s.T[2]};
    double a = cp_bgnbd_loglik(&m, s.x, s.tx, s.T, w, 3);
    double b = cp_bgnbd_loglik(&m, x2, t2, T2, NULL, 6);
    assert_true(fabs(a - b) < 1e-9);
    free_summary(&s);
}

/* FH 2013 eq. 5: E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1). */
static void r10_5_gamma_gamma_conditional_spend(void **state) {
    (void)state;
    cp_gamma_gamma m = {.p = 6.25, .q = 3.74, .gamma = 15.44};
    /* x = 2, zbar = 40: 6.25 * (15.44 + 80) / (12.5 + 2.74) = 596.5 / 15.24 */
    assert_true(fabs(cp_gamma_gamma_spend(&m, 2, 40) - 596.5 / 15.24) < 1e-9);
    /* x = 0: population mean p gamma / (q - 1) = 96.5 / 2.74 */
    assert_true(fabs(cp_gamma_gamma_spend(&m, 0, 0) - 96.5 / 2.74) < 1e-9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r10_5_bgnbd_fit_reproduces_fhl2005_on_cdnow),
        cmocka_unit_test(r10_5_gamma_gamma_fit_reproduces_fh2013_on_cdnow),
        cmocka_unit_test(r10_5_expected_purchases_published_example),
        cmocka_unit_test(r10_5_expected_purchases_with_fitted_model),
        cmocka_unit_test(r10_5_p_alive_is_one_without_repeats_and_falls_with_absence),
        cmocka_unit_test(r10_5_large_frequency_does_not_overflow),
        cmocka_unit_test(r10_5_hyp2f1_matches_closed_form),
        cmocka_unit_test(r10_5_no_repeat_customers_is_a_model_error),
        cmocka_unit_test(r10_5_too_few_customers_is_a_model_error),
        cmocka_unit_test(r10_5_weights_equal_repeated_rows),
        cmocka_unit_test(r10_5_gamma_gamma_conditional_spend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

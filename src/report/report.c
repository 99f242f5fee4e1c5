/* report.c -- the report pipeline: options with SPEC's defaults, the context
 * every stage shares, and cp_report_all(), which runs the stages (R3, R4, R6,
 * R7, R10), the writers and rejects.csv (R1.4b), then summary.json (R8).
 *
 * cp_report_all runs them as tasks on a small pool of ctx.threads threads.
 * A task starts when the stages it reads are built (the data dependencies of
 * report.h: sessions, ads and attribution read only the quality stage's
 * columns, and each writer the stages it reports on).  Writers write their
 * own files, and each fills its own summary fragment; the fragments are
 * spliced in the one-thread order afterwards, so summary.json and the human
 * summary are byte for byte the same for any number of threads.  An error is
 * reported as the one-thread run reports it: the first failing task in that
 * order (tasks after a failure are not started, but tasks already running
 * finish, so files may exist that a one-thread run would not have written).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/partition.h"
#include "clickpath/report.h"
#include "ingest/partition_internal.h"
#include "ingest/run.h"
#include "quality/quality.h"
#include "report/merge.h"
#include "report/partial.h"
#include "report/present.h"
#include "report/table.h"
#include "util/parallel.h"
#include "util/rowmask.h"
#include "util/values.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)

/* The UTC zone is stateless: one shared instance, made once even when
 * several threads initialise options at the same time. */
static cp_tz *utc_zone;
static pthread_once_t utc_once = PTHREAD_ONCE_INIT;
static void utc_open(void) { utc_zone = cp_tz_open(NULL); }

void cp_report_options_init(cp_report_options *opt) {
    memset(opt, 0, sizeof *opt);
    pthread_once(&utc_once, utc_open);
    opt->tz = utc_zone;
    opt->format = CP_FORMAT_CSV;
    opt->session_rule = CP_SESSION_FIXED; /* R4.2 */
    opt->session_ms = 24 * HOUR_MS;
    opt->flood_clicks = 10;               /* R3.1.3 */
    opt->flood_window_ms = HOUR_MS;
    opt->dedup_window_ms = 72 * HOUR_MS;  /* R3.1.4 */
    opt->ads_window_ms = 7 * DAY_MS;      /* R6.1 */
    opt->offsite_window_ms = 14 * DAY_MS; /* R7.1 */
    opt->hv_orders = 2;                   /* R10.2 */
    opt->hv_days = 90;
    opt->hv_clv_micros = INT64_C(150000000);
    opt->hv_max_return = 0.05;
    opt->churn_days = 60;
    opt->clv = true;                      /* R10.5 */
    opt->clv_horizon_ms = 365 * DAY_MS;
    opt->target_acos = 0.25;              /* issue 8 */
}

static const char *const status_names[CP_N_CLICK_STATUS] = {"valid", "bot", "blocked_ip", "flood", "duplicate"};

const char *cp_click_status_name(cp_click_status s) {
    return (unsigned)s < CP_N_CLICK_STATUS ? status_names[s] : "unknown";
}

cp_result cp_report_ctx_init(cp_report_ctx *ctx, const cp_run *run, const cp_report_options *opt,
                             cp_error *err) {
    memset(ctx, 0, sizeof *ctx);
    ctx->run = run;
    ctx->ev = cp_run_events(run);
    ctx->str = cp_run_strings(run);
    ctx->by_identity = cp_run_by_identity(run);
    ctx->opt = opt;
    ctx->threads = cp_threads_resolve(run->opt.threads);
    /* R10.1: --as-of, else the latest accepted event time */
    if (opt->has_as_of) ctx->as_of_ms = opt->as_of_ms;
    else ctx->as_of_ms = ctx->ev->n ? ctx->ev->ts_ms[ctx->ev->n - 1] : 0;
    (void)err;
    return CP_OK;
}

void cp_report_ctx_free(cp_report_ctx *ctx) {
    free(ctx->status);
    free(ctx->click_of);
    free(ctx->landing_pv);
    free(ctx->session_of);
    free(ctx->pv_source);
    free(ctx->sessions);
    free(ctx->ad_credit);
    free(ctx->ad_same_asin);
    free(ctx->offsite_credit);
    memset(ctx, 0, sizeof *ctx);
}

/* The input part of summary.json (R8), also printed by
 * `clickpath validate --format json`. */
void cp_summary_inputs(const cp_run *run, cp_summary *sum);
void cp_summary_inputs(const cp_run *run, cp_summary *sum) {
    size_t n;
    const cp_input_stats *in = cp_run_inputs(run, &n);
    cp_summary_begin_array(sum, "inputs");
    for (size_t i = 0; i < n; i++) {
        cp_summary_begin(sum, NULL);
        cp_summary_str(sum, "file", in[i].path);
        cp_summary_int(sum, "lines", (int64_t)in[i].lines);
        cp_summary_int(sum, "accepted", (int64_t)in[i].accepted);
        cp_summary_int(sum, "rejected", (int64_t)in[i].rejected);
        cp_summary_int(sum, "blank_lines", (int64_t)in[i].blank_lines);
        cp_summary_end(sum);
    }
    cp_summary_end(sum);
    uint64_t acc = cp_run_accepted(run), rej = cp_run_rejected(run);
    cp_summary_int(sum, "accepted", (int64_t)acc);
    cp_summary_int(sum, "rejected", (int64_t)rej);
    uint64_t by[CP_N_REJECT_REASONS];
    cp_run_rejects_by_reason(run, by);
    cp_summary_begin(sum, "rejects_by_reason");
    for (int r = 0; r < CP_N_REJECT_REASONS; r++)
        if (by[r]) cp_summary_int(sum, cp_reject_reason_name((cp_reject_reason)r), (int64_t)by[r]);
    cp_summary_end(sum);
    cp_summary_ratio(sum, "reject_rate", (int64_t)rej, (int64_t)(acc + rej));
}

/* rejects.csv (R1.4b): file, line, reason, field, text; in input order. */
static cp_result write_rejects(const cp_run *run, const cp_report_options *opt, cp_error *err) {
    static const char *const cols[] = {"file", "line", "reason", "field", "text"};
    cp_table *t = cp_table_open(opt->out_dir, "rejects", opt->format, cols, 5, err);
    if (!t) return err ? err->code : CP_EIO;
    size_t n, n_in;
    const cp_reject *r = cp_run_rejects(run, &n);
    const cp_input_stats *in = cp_run_inputs(run, &n_in);
    for (size_t i = 0; i < n; i++) {
        cp_table_cstr(t, in[r[i].file].path);
        cp_table_int(t, (int64_t)r[i].line);
        cp_table_cstr(t, cp_reject_reason_name((cp_reject_reason)r[i].reason));
        cp_table_cstr(t, r[i].field);
        cp_table_cstr(t, r[i].text);
        cp_table_end_row(t);
    }
    return cp_table_close(t, err);
}

/* After the writers: summary.json, then report.xlsx and report.html, which
 * are built from the files just written (issue 8, present.h). */
static cp_result report_tail(const cp_report_options *opt, cp_summary *sum, cp_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", opt->out_dir);
    cp_result r = cp_summary_write(sum, path, err);
    if (!r && opt->xlsx) r = cp_xlsx_write(opt->out_dir, err);
    if (!r && opt->format == CP_FORMAT_CSV) r = cp_html_write(opt->out_dir, opt->asset_dir, opt->target_acos, err);
    return r;
}

/* ---- the pipeline ---------------------------------------------------------- */

/* Tasks in the one-thread order: the order of the summary fragments and of
 * error reports. */
enum {
    T_STATUS,        /* cp_quality_build: R3 status */
    T_LINKS,         /* cp_quality_build: R4.3 click_id links */
    T_SESSIONS,      /* cp_sessions_build */
    T_ADS,           /* cp_ads_build */
    T_ATTRIBUTION,   /* cp_attribution_build */
    T_W_QUALITY,
    T_W_BUSINESS,
    T_W_DIAGNOSTICS,
    T_W_ADS,
    T_W_ATTRIBUTION,
    T_W_CUSTOMERS,
    T_REJECTS,
    N_TASKS
};

#define BIT(t) (1u << (t))
#define QUALITY (BIT(T_STATUS) | BIT(T_LINKS))

typedef struct task_def {
    unsigned deps; /* tasks whose columns it reads */
    cp_result (*build)(cp_report_ctx *, cp_error *);
    cp_result (*write)(cp_report_ctx *, cp_summary *, cp_error *);
} task_def;

/* What each stage reads (report.h): sessions the links only (R4.3 sources);
 * ads and attribution the status only; every writer the quality columns and
 * the stages it reports on. */
static const task_def task_defs[N_TASKS] = {
    [T_STATUS] = {0, cp_quality_build_status, NULL},
    [T_LINKS] = {0, cp_quality_build_links, NULL},
    [T_SESSIONS] = {BIT(T_LINKS), cp_sessions_build, NULL},
    [T_ADS] = {BIT(T_STATUS), cp_ads_build, NULL},
    [T_ATTRIBUTION] = {BIT(T_STATUS), cp_attribution_build, NULL},
    [T_W_QUALITY] = {QUALITY, NULL, cp_quality_write},
    [T_W_BUSINESS] = {QUALITY | BIT(T_SESSIONS), NULL, cp_business_write},
    [T_W_DIAGNOSTICS] = {QUALITY | BIT(T_SESSIONS), NULL, cp_diagnostics_write},
    [T_W_ADS] = {QUALITY | BIT(T_ADS), NULL, cp_ads_write},
    [T_W_ATTRIBUTION] = {QUALITY | BIT(T_ATTRIBUTION), NULL, cp_attribution_write},
    [T_W_CUSTOMERS] = {QUALITY | BIT(T_ADS) | BIT(T_ATTRIBUTION), NULL, cp_customers_write},
    [T_REJECTS] = {0, NULL, NULL},
};

/* With more than one thread, ready tasks are taken in this order: the
 * stages that feed the most work first, the longest writers next, and
 * rejects.csv (ready at once) whenever a thread would otherwise wait. */
static const unsigned task_priority[N_TASKS] = {
    T_STATUS,    T_LINKS,       T_ADS,           T_ATTRIBUTION, T_SESSIONS,      T_W_ADS,
    T_W_CUSTOMERS, T_W_BUSINESS, T_W_ATTRIBUTION, T_W_QUALITY,  T_W_DIAGNOSTICS, T_REJECTS};

typedef struct pipeline {
    cp_report_ctx *ctx;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool serial;              /* one thread: tasks in the one-thread order */
    unsigned started, done;   /* bit sets of tasks */
    unsigned failed;          /* tasks that returned an error */
    cp_summary *frag[N_TASKS];
    cp_error err[N_TASKS];
    cp_result rc[N_TASKS];
#ifdef CP_REPORT_DEBUG
    double t_start;
#endif
} pipeline;

static cp_result run_task(pipeline *p, unsigned t) {
    const task_def *d = &task_defs[t];
    cp_report_ctx *ctx = p->ctx;
    cp_error *err = &p->err[t];
    if (d->build) return d->build(ctx, err);
    if (t == T_REJECTS) return write_rejects(ctx->run, ctx->opt, err);
    p->frag[t] = cp_summary_fragment();
    if (!p->frag[t]) {
        err->code = CP_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory for the summary");
        return CP_ENOMEM;
    }
    return d->write(ctx, p->frag[t], err);
}

/* The next task to start, or N_TASKS when none can start now.  *finished
 * is set when no task will ever start again.  Caller holds the lock. */
static unsigned next_task(const pipeline *p, bool *finished) {
    unsigned all = BIT(N_TASKS) - 1;
    /* after a failure nothing that comes later in the one-thread order starts */
    unsigned first_failed = p->failed ? (unsigned)__builtin_ctz(p->failed) : N_TASKS;
    *finished = true;
    for (unsigned k = 0; k < N_TASKS; k++) {
        unsigned t = p->serial ? k : task_priority[k];
        if (p->started & BIT(t) || t > first_failed) continue;
        if (p->failed & task_defs[t].deps) continue; /* never starts */
        *finished = false;
        if ((p->done & task_defs[t].deps) == task_defs[t].deps) return t;
    }
    if (p->started != (p->done & all)) *finished = false; /* running tasks may free others */
    return N_TASKS;
}

/* -DCP_REPORT_DEBUG prints "task T START +SECONDS" lines to stderr. */
#ifdef CP_REPORT_DEBUG
#include <time.h>
static double task_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif

static void *pipeline_worker(void *arg) {
    pipeline *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        bool finished;
        unsigned t = next_task(p, &finished);
        if (t == N_TASKS) {
            if (finished) break;
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        p->started |= BIT(t);
        pthread_mutex_unlock(&p->lock);
#ifdef CP_REPORT_DEBUG
        double t0 = task_clock();
#endif
        cp_result rc = run_task(p, t);
#ifdef CP_REPORT_DEBUG
        fprintf(stderr, "task %-2u %.3f +%.3f\n", t, t0 - p->t_start, task_clock() - t0);
#endif
        pthread_mutex_lock(&p->lock);
        p->rc[t] = rc;
        p->done |= BIT(t);
        if (rc != CP_OK) p->failed |= BIT(t);
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

cp_result cp_report_all(const cp_run *run, const cp_report_options *opt, cp_summary *sum, cp_error *err) {
    cp_result r = cp_mkdir_p(opt->out_dir, err);
    if (r) return r;
    cp_summary_inputs(run, sum);
    cp_report_ctx ctx;
    if ((r = cp_report_ctx_init(&ctx, run, opt, err))) return r;
    {
        char b[48];
        cp_fmt_ts(b, ctx.as_of_ms);
        cp_summary_str(sum, "as_of", b);
        cp_summary_str(sum, "tz", cp_tz_name(opt->tz));
    }
    pipeline p = {.ctx = &ctx, .serial = ctx.threads <= 1};
#ifdef CP_REPORT_DEBUG
    p.t_start = task_clock();
#endif
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    unsigned n_workers = ctx.threads < N_TASKS ? ctx.threads : N_TASKS;
    pthread_t tid[N_TASKS];
    bool started[N_TASKS] = {false};
    for (unsigned w = 1; w < n_workers; w++) started[w] = pthread_create(&tid[w], NULL, pipeline_worker, &p) == 0;
    pipeline_worker(&p);
    for (unsigned w = 1; w < n_workers; w++)
        if (started[w]) pthread_join(tid[w], NULL);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);

    /* the first error in the one-thread order; else the fragments, in it */
    for (unsigned t = 0; t < N_TASKS && !r; t++)
        if (p.failed & BIT(t)) {
            r = p.rc[t];
            if (err) *err = p.err[t];
        }
    for (unsigned t = 0; t < N_TASKS; t++) {
        if (!r) cp_summary_splice(sum, p.frag[t]);
        else cp_summary_free(p.frag[t]);
    }
    if (!r) r = report_tail(opt, sum, err);
#ifdef CP_REPORT_DEBUG
    fprintf(stderr, "pipeline end %.3f\n", task_clock() - p.t_start);
#endif
    cp_report_ctx_free(&ctx);
    return r;
}

/* ---- partitioned runs (clickpath/partition.h, docs/scale.md) --------------------------- */

static cp_result accs_oom(cp_error *err) {
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = CP_ENOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory for the report");
    }
    return CP_ENOMEM;
}

cp_result cp_accs_init(cp_accs *a, const cp_report_options *opt, cp_error *err) {
    a->quality = cp_quality_acc_new(opt);
    a->business = cp_business_acc_new(opt);
    a->diagnostics = cp_diagnostics_acc_new(opt);
    a->ads = cp_ads_acc_new(opt);
    a->attribution = cp_attribution_acc_new(opt);
    a->customers = cp_customers_acc_new(opt);
    if (a->quality && a->business && a->diagnostics && a->ads && a->attribution && a->customers) return CP_OK;
    cp_accs_free(a);
    return accs_oom(err);
}

void cp_accs_free(cp_accs *a) {
    cp_quality_acc_free(a->quality);
    cp_business_acc_free(a->business);
    cp_diagnostics_acc_free(a->diagnostics);
    cp_ads_acc_free(a->ads);
    cp_attribution_acc_free(a->attribution);
    cp_customers_acc_free(a->customers);
    memset(a, 0, sizeof *a);
}

cp_result cp_accs_add_frames(cp_accs *a, const cp_run *first, const cp_ingest_options *iopt,
                             const char *const *paths, size_t n_paths, const cp_report_options *opt,
                             int64_t as_of_ms, cp_error *err) {
    cp_run *run = cp_run_new(iopt, err);
    if (!run) return err ? err->code : CP_ENOMEM;
    cp_result r = cp_run_load_frames(run, first->inputs, first->fmt, first->n_inputs, paths, n_paths, err);
    if (!r) r = cp_run_finish(run, err);
    if (r) {
        cp_run_free(run);
        return r;
    }
    run->has_ua = first->has_ua; /* R3.1.1 over the whole input */
    run->flood_given = true;     /* R3.1.3 by address, over the whole input */
    cp_report_ctx ctx;
    if ((r = cp_report_ctx_init(&ctx, run, opt, err))) {
        cp_run_free(run);
        return r;
    }
    ctx.as_of_ms = as_of_ms;
    for (unsigned t = T_STATUS; t <= T_ATTRIBUTION && !r; t++) r = task_defs[t].build(&ctx, err);
    if (!r) r = cp_quality_acc_add(a->quality, &ctx, err);
    if (!r) r = cp_business_acc_add(a->business, &ctx, err);
    if (!r) r = cp_diagnostics_acc_add(a->diagnostics, &ctx, err);
    if (!r) r = cp_ads_acc_add(a->ads, &ctx, err);
    if (!r) r = cp_attribution_acc_add(a->attribution, &ctx, err);
    if (!r) r = cp_customers_acc_add(a->customers, &ctx, err);
    cp_report_ctx_free(&ctx);
    cp_run_free(run);
    return r;
}

cp_result cp_accs_merge(cp_accs *into, const cp_accs *from, cp_error *err) {
    cp_result r = cp_quality_acc_merge(into->quality, from->quality, err);
    if (!r) r = cp_business_acc_merge(into->business, from->business, err);
    if (!r) r = cp_diagnostics_acc_merge(into->diagnostics, from->diagnostics, err);
    if (!r) r = cp_ads_acc_merge(into->ads, from->ads, err);
    if (!r) r = cp_attribution_acc_merge(into->attribution, from->attribution, err);
    if (!r) r = cp_customers_acc_merge(into->customers, from->customers, err);
    return r;
}

void cp_accs_save(const cp_accs *a, cp_bytes *out) {
    cp_quality_acc_save(a->quality, out);
    cp_business_acc_save(a->business, out);
    cp_diagnostics_acc_save(a->diagnostics, out);
    cp_ads_acc_save(a->ads, out);
    cp_attribution_acc_save(a->attribution, out);
    cp_customers_acc_save(a->customers, out);
}

cp_result cp_accs_load(cp_accs *a, const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    cp_accs_free(a);
    a->quality = cp_quality_acc_load(opt, in, err);
    if (a->quality) a->business = cp_business_acc_load(opt, in, err);
    if (a->business) a->diagnostics = cp_diagnostics_acc_load(opt, in, err);
    if (a->diagnostics) a->ads = cp_ads_acc_load(opt, in, err);
    if (a->ads) a->attribution = cp_attribution_acc_load(opt, in, err);
    if (a->attribution) a->customers = cp_customers_acc_load(opt, in, err);
    if (a->customers) return CP_OK;
    cp_accs_free(a);
    return err && err->code ? err->code : CP_EFORMAT;
}

cp_result cp_accs_emit(cp_accs *a, const cp_run *first, const cp_report_options *opt, int64_t as_of_ms,
                       cp_summary *sum, cp_error *err) {
    cp_result r = cp_mkdir_p(opt->out_dir, err);
    if (r) return r;
    cp_summary_inputs(first, sum);
    {
        char b[48];
        cp_fmt_ts(b, as_of_ms);
        cp_summary_str(sum, "as_of", b);
        cp_summary_str(sum, "tz", cp_tz_name(opt->tz));
    }
    /* the writers' summary fragments in the one-thread order (task_defs) */
    r = cp_quality_acc_emit(a->quality, sum, err);
    if (!r) r = cp_business_acc_emit(a->business, sum, err);
    if (!r) r = cp_diagnostics_acc_emit(a->diagnostics, sum, err);
    if (!r) r = cp_ads_acc_emit(a->ads, sum, err);
    if (!r) r = cp_attribution_acc_emit(a->attribution, sum, err);
    if (!r) r = cp_customers_acc_emit(a->customers, sum, err);
    if (!r) r = write_rejects(first, opt, err);
    if (!r) r = report_tail(opt, sum, err);
    return r;
}

/* R10.1: --as-of, else the latest accepted event time of the whole input. */
int64_t cp_partitions_as_of(const cp_partitions *ps, const cp_report_options *opt) {
    return opt->has_as_of ? opt->as_of_ms : ps->any_event ? ps->max_ts : 0;
}

/* The partitions of one report, taken in order by several workers, each
 * with its own accumulators (merged at the end: the bytes do not depend on
 * which worker took which partition). */
typedef struct part_pool {
    cp_partitions *ps;
    const cp_report_options *opt;
    cp_ingest_options iopt; /* the workers' share of the threads */
    int64_t as_of_ms;
    pthread_mutex_t lock;
    unsigned next, done;
    unsigned failed_at;     /* the first partition that failed, or n_parts */
    cp_result rc;
    cp_error err;
} part_pool;

typedef struct part_worker {
    part_pool *pool;
    cp_accs accs;
    pthread_t tid;
    bool started;
} part_worker;

static void *part_worker_run(void *arg) {
    part_worker *w = arg;
    part_pool *pl = w->pool;
    cp_partitions *ps = pl->ps;
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        unsigned p = pl->failed_at == ps->n_parts ? pl->next++ : ps->n_parts;
        pthread_mutex_unlock(&pl->lock);
        if (p >= ps->n_parts) break;
        char path[PATH_MAX + 32];
        cp_partitions_part_path(ps, p, 0, path, sizeof path);
        const char *paths[1] = {path};
        cp_error e = {0};
        cp_result r = cp_accs_add_frames(&w->accs, ps->run, &pl->iopt, paths, 1, pl->opt, pl->as_of_ms, &e);
        cp_partitions_remove_part(ps, p); /* its disk space back at once */
        pthread_mutex_lock(&pl->lock);
        if (r && p < pl->failed_at) {
            pl->failed_at = p;
            pl->rc = r;
            pl->err = e;
        }
        pl->done++;
        if (!r && ps->popt.on_partition) ps->popt.on_partition(ps->popt.progress_user, pl->done, ps->n_parts);
        pthread_mutex_unlock(&pl->lock);
    }
    return NULL;
}

unsigned cp_partitions_workers(const cp_partitions *ps) {
    unsigned t = cp_threads_resolve(ps->iopt->threads);
    return t < 1 ? 1 : t;
}

cp_result cp_report_partitioned(cp_partitions *ps, const cp_report_options *opt, cp_summary *sum, cp_error *err) {
    cp_result r = cp_partitions_close_files(ps, err);
    if (r) return r;
    unsigned n_workers = cp_partitions_workers(ps);
    if (n_workers > ps->n_parts) n_workers = ps->n_parts ? ps->n_parts : 1;
    part_pool pl = {.ps = ps, .opt = opt, .iopt = *ps->iopt, .as_of_ms = cp_partitions_as_of(ps, opt),
                    .failed_at = ps->n_parts};
    unsigned threads = cp_threads_resolve(ps->iopt->threads);
    pl.iopt.threads = threads / n_workers ? threads / n_workers : 1;
    part_worker *w = calloc(n_workers, sizeof *w);
    if (!w) return accs_oom(err);
    for (unsigned k = 0; k < n_workers && !r; k++) {
        w[k].pool = &pl;
        r = cp_accs_init(&w[k].accs, opt, err);
    }
    if (!r) {
        pthread_mutex_init(&pl.lock, NULL);
        for (unsigned k = 1; k < n_workers; k++)
            w[k].started = pthread_create(&w[k].tid, NULL, part_worker_run, &w[k]) == 0;
        part_worker_run(&w[0]);
        for (unsigned k = 1; k < n_workers; k++)
            if (w[k].started) pthread_join(w[k].tid, NULL);
            else part_worker_run(&w[k]); /* no thread: its share here */
        pthread_mutex_destroy(&pl.lock);
        if (pl.failed_at < ps->n_parts) {
            r = pl.rc;
            if (err) *err = pl.err;
        }
    }
    for (unsigned k = 1; k < n_workers && !r; k++) r = cp_accs_merge(&w[0].accs, &w[k].accs, err);
    if (!r) r = cp_accs_emit(&w[0].accs, ps->run, opt, pl.as_of_ms, sum, err);
    for (unsigned k = 0; k < n_workers; k++) cp_accs_free(&w[k].accs);
    free(w);
    return r;
}

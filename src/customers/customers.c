/* customers.c -- customer evaluation (SPEC R10, R8): customers.csv (R10.1),
 * segments.csv and pareto.csv (R10.2), cohorts.csv and
 * cohorts_histogram.csv (R10.3), the CLV columns and clv_model.json (R10.5),
 * and the "customers" summary.  feedback.csv is in feedback.c (R10.6),
 * cac.csv in cac.c (R10.4).
 *
 * In halves (report/partial.h): add() collects one partition's customers
 * (every figure of a customer is per identity, so final in its partition)
 * and appends them, identities copied, to the accumulator; emit() sorts
 * them by identity bytes and does everything that needs every customer:
 * RFM ranks, segments, Pareto, cohorts, the CLV fit and its predictions.
 * The table is in the same order for any partitioning, so are the fit's
 * floating-point sums.  cp_customers_write() is one partition.
 *
 * One pass over the rows in row order builds every customer (each row added
 * to its identity's accumulator): an identity's rows come in time order, so
 * its first purchase line, its second order's first line and its calendar
 * purchase days fall out of a linear scan; distinct orders are counted with
 * a per-order flag for the order's owner and a pair set otherwise.
 * Choices where SPEC leaves room are in docs/customers.md.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "customers/clv.h"
#include "customers/customers.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/check.h"
#include "util/rowmask.h"
#include "util/strings.h"
#include "util/values.h"

static const char *const segment_names[CP_N_SEGMENTS] = {"high_value", "churn_risk", "potential", "repeat"};

/* The accumulator (report/partial.h): every customer of the partitions added
 * so far, unsorted, each figure final (a customer's events are all in one
 * partition), its identity copied into ids; first_row is its partition's
 * row and means nothing here.  The run-wide values come from the first
 * add(). */
struct cp_customers_acc {
    const cp_report_options *opt;
    bool have_run;          /* as_of_ms, cal_end_ms and threads are set */
    int64_t as_of_ms;
    int64_t cal_end_ms;     /* R10.5 calibration end */
    unsigned threads;       /* ctx->threads (0 = 1) */
    cp_strings *ids;        /* the customers' identities */
    cp_customer *c;
    size_t n, cap;
    cp_feedback_acc *fb;
    cp_cac_acc *cac;
};

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
            if (i + 16 < n) { /* the strings are scattered */
                size_t len_ahead;
                __builtin_prefetch(cp_strings_get(str, cs[i + 16].id, &len_ahead));
            }
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
    for (size_t i = 0; i < n; i++) {
        if (i + 16 < n) { /* gather of scattered customers */
            __builtin_prefetch(&cs[sorted[i + 16].pos]);
            __builtin_prefetch((const char *)&cs[sorted[i + 16].pos] + 64);
        }
        out[i] = cs[sorted[i].pos];
    }
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

#define PREFETCH_AHEAD 24

/* One part of the by-identity walk: the rows perm[lo, hi), which start and
 * end at identity boundaries.  stamp/stamp_recent: per order, the customer
 * index + 1 (within this part) that last counted it; zeroed by the caller. */
typedef struct collect_part {
    const cp_report_ctx *ctx;
    int64_t cal_end_ms;
    size_t lo, hi;
    uint32_t *stamp, *stamp_recent;
    cp_customer *cs; /* out: malloc'd, in walk order */
    size_t n;
    bool oom;
} collect_part;

static void *collect_part_run(void *arg) {
    collect_part *pt = arg;
    const cp_report_ctx *ctx = pt->ctx;
    const cp_events *ev = ctx->ev;
    const uint32_t *perm = ctx->by_identity;
    const cp_report_options *opt = ctx->opt;
    int64_t as_of = ctx->as_of_ms, cal_end_ms = pt->cal_end_ms;
    int64_t recent_from = as_of - opt->hv_days * CP_DAY_MS;
    uint32_t *stamp = pt->stamp, *stamp_recent = pt->stamp_recent;
    size_t cap = 1024, n = 0, end = pt->hi;
    cp_customer *cs = malloc(cap * sizeof *cs);
    if (!cs) {
        pt->oom = true;
        return NULL;
    }
    size_t i = pt->lo;
    while (i < end) {
        cp_str id = ev->identity[perm[i]];
        size_t j = i;
        while (j < end && ev->identity[perm[j]] == id) j++;
        if (id == CP_STR_NONE) {
            i = j;
            continue;
        }
        if (n == cap) {
            cp_customer *grown = realloc(cs, 2 * cap * sizeof *cs);
            if (!grown) {
                free(cs);
                pt->oom = true;
                return NULL;
            }
            cs = grown;
            cap *= 2;
        }
        cp_customer c = {.id = id, .first_row = CP_NONE, .second_order_ts_ms = INT64_MIN,
                         .last_activity_ms = INT64_MIN};
        uint32_t mark = (uint32_t)n + 1;
        for (size_t k = i; k < j; k++) {
            uint32_t row = perm[k];
            if (k + PREFETCH_AHEAD < end) { /* rows in identity order are scattered */
                uint32_t ahead = perm[k + PREFETCH_AHEAD];
                __builtin_prefetch(&ev->ts_ms[ahead]);
                __builtin_prefetch(&ev->type[ahead]);
                __builtin_prefetch(&ev->money_micros[ahead]);
                __builtin_prefetch(&ev->identity[ahead]);
            }
            int64_t ts = ev->ts_ms[row];
            if (ts > as_of) break; /* rows of an identity are in time order */
            c.last_activity_ms = ts;
            uint8_t type = ev->type[row];
            if (type == CP_RETURN) {
                c.units_returned += ev->units[cp_events_rank(ev, row)];
                c.refunds_micros += ev->money_micros[row];
                continue;
            }
            if (type != CP_PURCHASE) continue;
            if (c.first_row == CP_NONE) {
                c.first_row = row;
                c.first_ts_ms = ts;
            }
            c.last_ts_ms = ts;
            uint32_t sub = cp_events_rank(ev, row); /* a purchase: a sub row */
            c.units += ev->units[sub];
            c.gmv_micros += ev->money_micros[row];
            uint32_t o = ev->order[sub];
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
    pt->cs = cs;
    pt->n = n;
    return NULL;
}

/* Pairs (customer, order) where the customer is not the order's owner (the
 * identity of the order's first line, cp_order.identity): an open-addressing
 * set of keys slot << 33 | order << 1 | recent, + 1 (0 = empty). */
typedef struct pair_set {
    uint64_t *k;
    size_t cap, n;
    bool oom;
} pair_set;

/* Adds key; returns true when it was not there yet. */
static bool pair_set_add(pair_set *ps, uint64_t key) {
    key += 1;
    if (2 * (ps->n + 1) > ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 1024;
        uint64_t *k = calloc(cap, sizeof *k);
        if (!k) {
            ps->oom = true;
            return true;
        }
        for (size_t i = 0; i < ps->cap; i++) {
            if (!ps->k[i]) continue;
            size_t h = (size_t)cp_hash_u64(ps->k[i]) & (cap - 1);
            while (k[h]) h = (h + 1) & (cap - 1);
            k[h] = ps->k[i];
        }
        free(ps->k);
        ps->k = k;
        ps->cap = cap;
    }
    size_t h = (size_t)cp_hash_u64(key) & (ps->cap - 1);
    while (ps->k[h]) {
        if (ps->k[h] == key) return false;
        h = (h + 1) & (ps->cap - 1);
    }
    ps->k[h] = key;
    ps->n++;
    return true;
}

/* The customers from passes over the rows in row order (R1.6: by time,
 * then input order): the purchase and return lines added to their
 * identity's accumulator, then the last activity of each.  The rows of one
 * identity come in the same order as in the by-identity walk (ts, then
 * input order), so every figure is the same; the columns are read
 * sequentially and only the accumulator is random.  Purchases and returns
 * are a few percent of the rows: that pass visits them alone
 * (util/rowmask.h); the last activity (any event) is the last row of each
 * identity, one store a row into a table by identity.  "Counted this order
 * already": a flag per order for its owner identity, a pair set for any
 * other identity (shared order ids).  Customers come out in slot order;
 * the caller sorts them by identity bytes.  Returns false on OOM or when
 * the identity ids are too sparse for a table (*too_sparse, nothing done). */
static bool collect_by_rows(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer **cs_out, size_t *n_out,
                            bool *too_sparse) {
    const cp_events *ev = ctx->ev;
    const cp_report_options *opt = ctx->opt;
    int64_t as_of = ctx->as_of_ms;
    int64_t recent_from = as_of - opt->hv_days * CP_DAY_MS;
    size_t n_orders = 0;
    const cp_order *orders = cp_run_orders(ctx->run, &n_orders);
    size_t n_rows = 0; /* rows at or before as-of: a prefix, rows are in time order */
    uint32_t max_id = 0;
    while (n_rows < ev->n && ev->ts_ms[n_rows] <= as_of) {
        cp_str id = ev->identity[n_rows++];
        if (id != CP_STR_NONE && id > max_id) max_id = id;
    }
    *too_sparse = (uint64_t)max_id > 4 * (uint64_t)ev->n + (UINT64_C(1) << 20);
#ifdef CP_CUSTOMERS_FORCE_WALK /* tests the fallback */
    *too_sparse = true;
#endif
    if (*too_sparse) return false;
    uint32_t *slot_of = malloc(((size_t)max_id + 1) * sizeof *slot_of);
    uint8_t *counted = calloc(n_orders ? n_orders : 1, 1); /* bit 0: order, bit 1: recent (owner) */
    size_t cap = 1024, n = 0;
    cp_customer *cs = malloc(cap * sizeof *cs);
    pair_set ps = {0};
    bool ok = slot_of && counted && cs;
    if (ok) memset(slot_of, 0xff, ((size_t)max_id + 1) * sizeof *slot_of);
    for (cp_rows r = cp_rows_not(ev->type, n_rows, CP_IMPRESSION); ok && cp_rows_next(&r);) {
        size_t row = r.i;
        uint8_t type = ev->type[row];
        if (type != CP_PURCHASE && type != CP_RETURN) continue;
        cp_str id = ev->identity[row];
        if (id == CP_STR_NONE) continue;
        uint32_t sl = slot_of[id];
        if (sl == UINT32_MAX) {
            if (n == cap) {
                cp_customer *grown = realloc(cs, 2 * cap * sizeof *cs);
                if (!grown) {
                    ok = false;
                    break;
                }
                cs = grown;
                cap *= 2;
            }
            sl = slot_of[id] = (uint32_t)n++;
            cs[sl] = (cp_customer){.id = id, .first_row = CP_NONE, .second_order_ts_ms = INT64_MIN,
                                   .last_activity_ms = INT64_MIN};
        }
        cp_customer *c = &cs[sl];
        int64_t ts = ev->ts_ms[row];
        if (type == CP_RETURN) {
            c->units_returned += ev->units[r.k];
            c->refunds_micros += ev->money_micros[row];
            continue;
        }
        if (c->first_row == CP_NONE) {
            c->first_row = (uint32_t)row;
            c->first_ts_ms = ts;
        }
        c->last_ts_ms = ts;
        c->units += ev->units[r.k];
        c->gmv_micros += ev->money_micros[row];
        uint32_t o = ev->order[r.k];
        bool new_order = true, new_recent = ts >= recent_from;
        if (CP_ALWAYS(o != CP_NONE)) {
            if (orders[o].identity == id) {
                new_order = !(counted[o] & 1);
                counted[o] |= 1;
                if (new_recent) {
                    new_recent = !(counted[o] & 2);
                    counted[o] |= 2;
                }
            } else {
                uint64_t key = (uint64_t)sl << 33 | (uint64_t)o << 1;
                new_order = pair_set_add(&ps, key);
                if (new_recent) new_recent = pair_set_add(&ps, key | 1);
                if (ps.oom) ok = false;
            }
        }
        if (new_order) {
            c->orders++;
            if (c->orders == 2) c->second_order_ts_ms = ts; /* first line of the second order */
        }
        if (new_recent) c->orders_recent++;
        /* R10.5 summary: calendar purchase days up to the calibration end */
        if (ts <= cal_end_ms) {
            int32_t day = cp_tz_day(opt->tz, ts);
            if (c->n_days == 0) {
                c->first_day = c->last_day = day;
                c->n_days = 1;
            } else if (day > c->last_day) {
                c->last_day = day;
                c->n_days++;
            }
            if (day > c->first_day) c->repeat_micros += ev->money_micros[row];
        }
    }
    free(counted);
    free(ps.k);
    if (ok) {
        /* the last activity: the last row of the identity at or before
         * as-of (any event); slot_of now holds each identity's last row */
        for (size_t row = 0; row < n_rows; row++) slot_of[ev->identity[row]] = (uint32_t)row;
        for (size_t i = 0; i < n; i++) cs[i].last_activity_ms = ev->ts_ms[slot_of[cs[i].id]];
    }
    free(slot_of);
    if (!ok) {
        free(cs);
        return false;
    }
    size_t m = 0; /* keep the identities with a purchase */
    for (size_t i = 0; i < n; i++)
        if (cs[i].first_row != CP_NONE) cs[m++] = cs[i];
    *cs_out = cs;
    *n_out = m;
    return true;
}

/* Below this many rows the walk stays on one thread. */
#ifndef COLLECT_PARALLEL_MIN
#define COLLECT_PARALLEL_MIN (1u << 16)
#endif

/* The by-identity walk (used when the identity ids are too sparse for
 * collect_by_rows' table).  Returns nonzero on OOM. */
static int collect_by_walk(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer **cs_out, size_t *n_out) {
    const cp_events *ev = ctx->ev;
    const uint32_t *perm = ctx->by_identity;
    size_t n_orders = 0;
    cp_run_orders(ctx->run, &n_orders);
    /* Two parts split at an identity boundary, each with its own order
     * stamps (an order id may be shared by identities): the customers of
     * part 0 then part 1 are exactly the one-thread walk's. */
    size_t split = ev->n;
    if (ev->n >= COLLECT_PARALLEL_MIN) {
        split = ev->n / 2;
        while (split < ev->n && ev->identity[perm[split]] == ev->identity[perm[split - 1]]) split++;
    }
    collect_part part[2] = {{.ctx = ctx, .cal_end_ms = cal_end_ms, .lo = 0, .hi = split},
                            {.ctx = ctx, .cal_end_ms = cal_end_ms, .lo = split, .hi = ev->n}};
    size_t n_parts = split < ev->n ? 2 : 1;
    bool oom = false;
    for (size_t p = 0; p < n_parts; p++) {
        part[p].stamp = calloc(n_orders ? n_orders : 1, sizeof(uint32_t));
        part[p].stamp_recent = calloc(n_orders ? n_orders : 1, sizeof(uint32_t));
        oom |= !part[p].stamp || !part[p].stamp_recent;
    }
    if (!oom) {
        pthread_t tid;
        bool threaded = n_parts == 2 && ctx->threads > 1 && pthread_create(&tid, NULL, collect_part_run, &part[1]) == 0;
        collect_part_run(&part[0]);
        if (threaded) pthread_join(tid, NULL);
        else if (n_parts == 2) collect_part_run(&part[1]);
    }
    for (size_t p = 0; p < n_parts; p++) {
        free(part[p].stamp);
        free(part[p].stamp_recent);
        oom |= part[p].oom;
    }
    cp_customer *cs = NULL;
    size_t n = 0;
    if (!oom) { /* part 0's customers, then part 1's */
        n = part[0].n + part[1].n;
        cs = n_parts == 2 ? realloc(part[0].cs, (n ? n : 1) * sizeof *cs) : part[0].cs;
        if (cs) {
            part[0].cs = NULL;
            if (part[1].n) memcpy(cs + part[0].n, part[1].cs, part[1].n * sizeof *cs);
        } else oom = true;
    }
    free(part[0].cs);
    free(part[1].cs);
    if (oom) return 1;
    *cs_out = cs;
    *n_out = n;
    return 0;
}

cp_result cp_customers_collect(const cp_report_ctx *ctx, int64_t cal_end_ms, cp_customer_table *out,
                               cp_error *err) {
#ifdef CLV_DEBUG
    double t_phase = dbg_now();
#endif
    cp_customer *cs = NULL;
    size_t n = 0;
    bool too_sparse = false;
    if (!collect_by_rows(ctx, cal_end_ms, &cs, &n, &too_sparse)) {
        if (!too_sparse) return cp_customers_oom(err);
        if (collect_by_walk(ctx, cal_end_ms, &cs, &n)) return cp_customers_oom(err);
    }
    PHASE("c.walk");
    out->c = cs;
    out->n = n;
    return CP_OK;
}

/* The part of R10.1 and R10.2 that needs every customer at once: sorts the
 * table by identity bytes (ids: the strings of its ids), then RFM scores
 * and segments.  Returns false on OOM (the table is unchanged then). */
static bool rank_customers(cp_customer_table *t, const cp_strings *ids, const cp_report_options *opt,
                           int64_t as_of_ms) {
#ifdef CLV_DEBUG
    double t_phase = dbg_now();
#endif
    size_t n = t->n;
    if (!sort_by_identity(&t->c, n, ids)) return false;
    if (n) {
        rank_key *keys = malloc(n * sizeof *keys), *tmp = malloc(n * sizeof *tmp);
        bool ok = keys && tmp;
        for (int w = 0; ok && w < 3; w++) ok = rfm_scores(t->c, n, keys, tmp, w);
        free(keys);
        free(tmp);
        if (!ok) return false;
    }
    PHASE("c.sort+rfm");
    for (size_t k = 0; k < n; k++) t->c[k].segment = (uint8_t)segment_of(&t->c[k], opt, as_of_ms);
    return true;
}


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

typedef struct gg_task {
    const double *x, *zbar;
    size_t n;
    cp_gamma_gamma *gg;
    cp_result rc;
    cp_error err;
} gg_task;

static void *gg_task_run(void *arg) {
    gg_task *g = arg;
    g->rc = cp_gamma_gamma_fit(g->x, g->zbar, NULL, g->n, g->gg, &g->err);
    return NULL;
}

/* Predictions for the distinct summaries [lo, hi). */
typedef struct predict_part {
    const clv_result *m;
    const cp_report_options *opt;
    const double *ux, *utx, *uT;
    double *palive, *exp, *disc;
    size_t lo, hi;
    double t, horizon_days;
} predict_part;

static void *predict_run(void *arg) {
    const predict_part *p = arg;
    const clv_result *m = p->m;
    const cp_report_options *opt = p->opt;
    const double *ux = p->ux, *utx = p->utx, *uT = p->uT;
    double *u_palive = p->palive, *u_exp = p->exp, *u_disc = p->disc;
    double t = p->t, horizon_days = p->horizon_days;
    for (size_t u = p->lo; u < p->hi; u++) {
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
    return NULL;
}

/* Fits BG/NBD on the customers' summaries (grouped: customers with the same
 * (x, t_x, T) share one weighted observation) and Gamma-Gamma on the repeat
 * customers, then predicts per customer.  Failures to fit are recorded in m,
 * not returned: the other reports still get written.  Returns CP_ENOMEM only. */
static cp_result clv_run(const cp_customers_acc *a, const cp_customer_table *ct, clv_result *m, cp_error *err) {
    const cp_report_options *opt = a->opt;
    int64_t cal_end_ms = a->cal_end_ms;
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
    /* The two fits are independent: Gamma-Gamma runs on a second thread
     * while BG/NBD runs here (in line after it if no thread starts). */
    gg_task gt = {.x = gx, .zbar = gz, .n = n_rep, .gg = &m->gg};
    pthread_t gg_tid;
    bool gg_threaded = a->threads > 1 && pthread_create(&gg_tid, NULL, gg_task_run, &gt) == 0;
    cp_error e = {0};
    cp_result bg_rc = cp_bgnbd_fit_threads(ux, utx, uT, uw, nu, a->threads ? a->threads : 1, &m->bg, &e);
    if (gg_threaded) pthread_join(gg_tid, NULL);
    else gg_task_run(&gt);
    if (bg_rc == CP_OK) m->bg_ok = true;
    else if (e.code == CP_ENOMEM) {
        rc = cp_customers_oom(err);
        goto done;
    } else snprintf(m->bg_error, sizeof m->bg_error, "%s", e.msg);
    PHASE("bgfit");
    if (gt.rc == CP_OK) m->gg_ok = true;
    else if (gt.err.code == CP_ENOMEM) {
        rc = cp_customers_oom(err);
        goto done;
    } else snprintf(m->gg_error, sizeof m->gg_error, "%s", gt.err.msg);
    if (m->gg_ok && !(m->gg.q > 1)) {
        m->gg_ok = false;
        snprintf(m->gg_error, sizeof m->gg_error,
                 "Gamma-Gamma: q = %.4g <= 1, so the expected spend is unbounded", m->gg.q);
    }

    PHASE("ggfit");
    /* predictions per distinct summary */
    double horizon_days = (double)opt->clv_horizon_ms / (double)CP_DAY_MS;
    double t = horizon_days / m->unit_days;
    predict_part pp[2] = {{.m = m, .opt = opt, .ux = ux, .utx = utx, .uT = uT, .palive = u_palive,
                           .exp = u_exp, .disc = u_disc, .lo = 0, .hi = nu / 2, .t = t, .horizon_days = horizon_days},
                          {.m = m, .opt = opt, .ux = ux, .utx = utx, .uT = uT, .palive = u_palive,
                           .exp = u_exp, .disc = u_disc, .lo = nu / 2, .hi = nu, .t = t, .horizon_days = horizon_days}};
    if (m->bg_ok) { /* each summary's prediction depends only on it: same values on any thread */
        pthread_t ptid;
        bool pthreaded = nu >= 4096 && a->threads > 1 && pthread_create(&ptid, NULL, predict_run, &pp[1]) == 0;
        predict_run(&pp[0]);
        if (pthreaded) pthread_join(ptid, NULL);
        else predict_run(&pp[1]);
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
static cp_result write_model_json(const cp_customers_acc *a, const clv_result *m, cp_error *err) {
    const cp_report_options *opt = a->opt;
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

static cp_result write_customers_csv(const cp_customers_acc *a, const cp_customer_table *ct, const clv_result *m,
                                     cp_error *err) {
    const cp_report_options *opt = a->opt;
    static const char *const cols[] = {"customer", "first_purchase", "last_purchase", "orders", "units", "gmv",
                                       "units_returned", "refunds", "net_revenue", "return_rate", "aov",
                                       "orders_90d", "days_since_last_activity", "rfm", "segment", "p_alive",
                                       "expected_purchases", "predicted_clv"};
    bool model = m->bg_ok;
    cp_table *t = cp_table_open(opt->out_dir, "customers", opt->format, cols, model ? 18 : 15, err);
    if (!t) return err ? err->code : CP_EIO;
    for (size_t i = 0; i < ct->n; i++) {
        const cp_customer *c = &ct->c[i];
        cp_table_sid(t, a->ids, c->id);
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
        cp_table_int(t, (a->as_of_ms - c->last_activity_ms) / CP_DAY_MS);
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

static cp_result write_segments(const cp_customers_acc *a, const cp_customer_table *ct, seg_totals *st,
                                cp_error *err) {
    const cp_report_options *opt = a->opt;
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

static cp_result write_cohorts(const cp_customers_acc *a, const cp_customer_table *ct, cohort_row *all,
                               cp_error *err) {
    const cp_report_options *opt = a->opt;
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
        cohort_add(all, c, a->as_of_ms);
        cohort_add(&rows[month_of(opt->tz, c->first_ts_ms) - mmin], c, a->as_of_ms);
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

/* ---- the accumulator ----------------------------------------------------------- */

/* R10.5: the calibration end defaults to as-of and never passes it
 * (customer figures use only events at or before as-of). */
static void take_run_values(cp_customers_acc *a, int64_t as_of_ms, unsigned threads) {
    const cp_report_options *opt = a->opt;
    a->as_of_ms = as_of_ms;
    a->cal_end_ms = opt->has_calibration_end && opt->calibration_end_ms < as_of_ms ? opt->calibration_end_ms
                                                                                     : as_of_ms;
    a->threads = threads;
    a->have_run = true;
}

cp_customers_acc *cp_customers_acc_new(const cp_report_options *opt) {
    cp_customers_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    a->ids = cp_strings_new();
    a->fb = cp_feedback_acc_new(opt);
    a->cac = cp_cac_acc_new(opt);
    if (!a->ids || !a->fb || !a->cac) {
        cp_customers_acc_free(a);
        return NULL;
    }
    return a;
}

void cp_customers_acc_free(cp_customers_acc *a) {
    if (!a) return;
    cp_feedback_acc_free(a->fb);
    cp_cac_acc_free(a->cac);
    cp_strings_free(a->ids);
    free(a->c);
    free(a);
}

/* add(): feedback (R10.6) does not read the customers, so it runs on a
 * second thread while they are collected; cac (R10.4) reads the
 * partition's table, so it runs on a second thread while the table is
 * copied into the accumulator (in line with one thread, or if none starts).
 * Failures are reported in the serial order: collect, feedback, copy, cac. */
typedef struct feedback_add_task {
    cp_customers_acc *a;
    const cp_report_ctx *ctx;
    cp_result rc;
    cp_error err;
} feedback_add_task;

static void *feedback_add_run(void *arg) {
    feedback_add_task *f = arg;
    f->rc = cp_feedback_acc_add(f->a->fb, f->ctx, &f->err);
    return NULL;
}

typedef struct cac_add_task {
    cp_customers_acc *a;
    const cp_report_ctx *ctx;
    const cp_customer_table *ct;
    cp_result rc;
    cp_error err;
} cac_add_task;

static void *cac_add_run(void *arg) {
    cac_add_task *c = arg;
    c->rc = cp_cac_acc_add(c->a->cac, c->ctx, c->ct, &c->err);
    return NULL;
}

/* Appends the partition's customers (ids in str) with their identities
 * copied into a->ids.  Returns false on OOM. */
static bool append_customers(cp_customers_acc *a, const cp_strings *str, const cp_customer_table *ct) {
    if (a->cap - a->n < ct->n) {
        size_t cap = a->cap ? 2 * a->cap : 1024;
        if (cap < a->n + ct->n) cap = a->n + ct->n;
        cp_customer *grown = realloc(a->c, cap * sizeof *grown);
        if (!grown) return false;
        a->c = grown;
        a->cap = cap;
    }
    for (size_t i = 0; i < ct->n; i++) {
        if (i + 16 < ct->n) { /* the strings are scattered */
            size_t len_ahead;
            __builtin_prefetch(cp_strings_get(str, ct->c[i + 16].id, &len_ahead));
        }
        size_t len;
        const char *p = cp_strings_get(str, ct->c[i].id, &len);
        int oom = 0;
        cp_customer c = ct->c[i];
        c.id = cp_strings_intern(a->ids, p, len, &oom);
        if (oom) return false;
        a->c[a->n++] = c;
    }
    return true;
}

cp_result cp_customers_acc_add(cp_customers_acc *a, cp_report_ctx *ctx, cp_error *err) {
    if (!a->have_run) take_run_values(a, ctx->as_of_ms, ctx->threads);
    feedback_add_task fb = {.a = a, .ctx = ctx};
    pthread_t fb_tid;
    bool fb_threaded = ctx->threads > 1 && pthread_create(&fb_tid, NULL, feedback_add_run, &fb) == 0;
    cp_customer_table ct = {0};
    cp_error e_collect = {0};
    cp_result rc = cp_customers_collect(ctx, a->cal_end_ms, &ct, &e_collect);
    if (fb_threaded) pthread_join(fb_tid, NULL);
    else feedback_add_run(&fb);
    if (rc || fb.rc) {
        if (err) *err = rc ? e_collect : fb.err;
        cp_customer_table_free(&ct);
        return rc ? rc : fb.rc;
    }
    cac_add_task cac = {.a = a, .ctx = ctx, .ct = &ct};
    pthread_t cac_tid;
    bool cac_threaded = ctx->threads > 1 && pthread_create(&cac_tid, NULL, cac_add_run, &cac) == 0;
    bool copied = append_customers(a, ctx->str, &ct);
    if (cac_threaded) pthread_join(cac_tid, NULL);
    else cac_add_run(&cac);
    cp_customer_table_free(&ct);
    if (!copied) return cp_customers_oom(err);
    if (cac.rc && err) *err = cac.err;
    return cac.rc;
}

/* emit(): the CLV fit (R10.5) uses up to a->threads itself (BG/NBD terms,
 * Gamma-Gamma beside BG/NBD).  Then segments, cohorts, feedback and cac,
 * which do not read the model, are written on a second thread while
 * customers.csv is written here.  Each has its own result and error;
 * failures are reported in the serial order (clv, customers.csv, segments,
 * cohorts, feedback, cac), so the outcome is the same on any number of
 * threads. */
typedef struct side_task {
    cp_customers_acc *a;
    const cp_customer_table *ct;
    seg_totals st;
    cohort_row all;
    int64_t fb_num, fb_den;
    cp_result r_seg, r_coh, r_fb, r_cac;
    cp_error e_seg, e_coh, e_fb, e_cac;
} side_task;

static void *side_task_run(void *arg) {
    side_task *s = arg;
    cp_customers_acc *a = s->a;
    s->r_seg = write_segments(a, s->ct, &s->st, &s->e_seg);
    if (!s->r_seg) s->r_coh = write_cohorts(a, s->ct, &s->all, &s->e_coh);
    if (!s->r_seg && !s->r_coh) s->r_fb = cp_feedback_acc_emit(a->fb, &s->fb_num, &s->fb_den, &s->e_fb);
    if (!s->r_seg && !s->r_coh && !s->r_fb) s->r_cac = cp_cac_acc_emit(a->cac, &s->e_cac);
    return NULL;
}

/* Keeps the first failure: *rc set means an earlier step already failed. */
static void take_result(cp_result *rc, cp_error *err, cp_result r, const cp_error *e) {
    if (*rc || !r) return;
    *rc = r;
    if (err) *err = *e;
}

static void write_summary(const cp_customers_acc *a, const cp_customer_table *ct, const side_task *side,
                          const clv_result *m, cp_summary *sum) {
    const cp_report_options *opt = a->opt;
    const seg_totals *st = &side->st;
    int64_t units = 0, returned = 0, refunds = 0, repeaters = 0;
    for (size_t i = 0; i < ct->n; i++) {
        units += ct->c[i].units;
        returned += ct->c[i].units_returned;
        refunds += ct->c[i].refunds_micros;
        repeaters += ct->c[i].orders >= 2;
    }
    cp_summary_begin(sum, "customers");
    cp_summary_int(sum, "customers", (int64_t)ct->n);
    cp_summary_int(sum, "repeat_customers", repeaters);
    cp_summary_money(sum, "gmv", st->total_gmv);
    cp_summary_money(sum, "refunds", refunds);
    cp_summary_money(sum, "net_revenue", st->total_gmv - refunds);
    cp_summary_int(sum, "units", units);
    cp_summary_int(sum, "units_returned", returned);
    cp_summary_ratio(sum, "return_rate", returned, units);
    cp_summary_begin(sum, "segments");
    for (int s = 0; s < CP_N_SEGMENTS; s++) cp_summary_int(sum, segment_names[s], st->customers[s]);
    cp_summary_end(sum);
    cp_summary_ratio(sum, "pareto_top20_gmv_share", st->top_gmv, st->total_gmv);
    cp_summary_ratio(sum, "retention_90", side->all.retained[2], side->all.eligible[2]);
    cp_summary_ratio(sum, "negative_feedback_rate", side->fb_num, side->fb_den);
    cp_summary_begin(sum, "clv");
    cp_summary_bool(sum, "fitted", m->bg_ok);
    if (m->bg_ok) {
        cp_summary_double(sum, "r", m->bg.r);
        cp_summary_double(sum, "alpha", m->bg.alpha);
        cp_summary_double(sum, "a", m->bg.a);
        cp_summary_double(sum, "b", m->bg.b);
        cp_summary_double(sum, "loglik", m->bg.loglik);
    }
    if (m->gg_ok) {
        cp_summary_double(sum, "p", m->gg.p);
        cp_summary_double(sum, "q", m->gg.q);
        cp_summary_double(sum, "gamma", m->gg.gamma);
    }
    if (m->attempted && !m->bg_ok) cp_summary_str(sum, "error", m->bg_error);
    else if (m->attempted && !m->gg_ok) cp_summary_str(sum, "error", m->gg_error);
    cp_summary_end(sum);
    cp_summary_end(sum);

    char g[48], share[48];
    cp_fmt_money(g, st->total_gmv);
    cp_fmt_ratio(share, st->top_gmv, st->total_gmv);
    cp_summary_human(sum, "customers: %zu (%lld repeat), GMV %s; top 20%% hold %s of GMV", ct->n,
                     (long long)repeaters, g, share[0] ? share : "-");
    cp_summary_human(sum, "segments: high_value %lld, churn_risk %lld, potential %lld, repeat %lld",
                     (long long)st->customers[0], (long long)st->customers[1], (long long)st->customers[2],
                     (long long)st->customers[3]);
    if (m->bg_ok)
        cp_summary_human(sum, "CLV model (per %s): BG/NBD r=%.4g alpha=%.4g a=%.4g b=%.4g%s",
                         opt->clv_week ? "week" : "day", m->bg.r, m->bg.alpha, m->bg.a, m->bg.b,
                         m->bg.converged ? "" : " (NOT converged)");
    else if (m->attempted)
        cp_summary_human(sum, "CLV model not fitted: %s", m->bg_error);
    if (m->bg_ok && !m->gg_ok) cp_summary_human(sum, "spend model not fitted: %s", m->gg_error);
}

cp_result cp_customers_acc_emit(cp_customers_acc *a, cp_summary *sum, cp_error *err) {
#ifdef CLV_DEBUG
    double t_phase = dbg_now();
#endif
    const cp_report_options *opt = a->opt;
    if (!a->have_run) take_run_values(a, opt->has_as_of ? opt->as_of_ms : 0, 1); /* no partition */
    cp_customer_table ct = {a->c, a->n};
    bool ranked = rank_customers(&ct, a->ids, opt, a->as_of_ms);
    if (ct.c != a->c) { /* sorted into a new array of n */
        a->c = ct.c;
        a->cap = a->n;
    }
    if (!ranked) return cp_customers_oom(err);
    PHASE("rank");
    clv_result m = {0};
    cp_error e_clv = {0};
    cp_result clv_rc = opt->clv ? clv_run(a, &ct, &m, &e_clv) : CP_OK;
    PHASE("clv");
    side_task side = {.a = a, .ct = &ct};
    pthread_t side_tid;
    bool side_threaded = !clv_rc && a->threads > 1 && pthread_create(&side_tid, NULL, side_task_run, &side) == 0;
    cp_result rc = CP_OK;
    take_result(&rc, err, clv_rc, &e_clv);
    if (!rc) rc = write_customers_csv(a, &ct, &m, err);
    PHASE("csv");
    if (side_threaded) pthread_join(side_tid, NULL);
    else if (!clv_rc) side_task_run(&side);
    PHASE("side");
    take_result(&rc, err, side.r_seg, &side.e_seg);
    take_result(&rc, err, side.r_coh, &side.e_coh);
    take_result(&rc, err, side.r_fb, &side.e_fb);
    take_result(&rc, err, side.r_cac, &side.e_cac);
    if (!rc && m.attempted) rc = write_model_json(a, &m, err);
    if (!rc && sum) write_summary(a, &ct, &side, &m, sum);
    clv_result_free(&m);
    return rc;
}

/* The whole run: one partition. */
cp_result cp_customers_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_customers_acc *a = cp_customers_acc_new(ctx->opt);
    if (!a) return cp_customers_oom(err);
    cp_result rc = cp_customers_acc_add(a, ctx, err);
    if (!rc) rc = cp_customers_acc_emit(a, sum, err);
    cp_customers_acc_free(a);
    return rc;
}

/* ---- combining accumulators (report/partial.h) ------------------------------------ */

static cp_result acc_fail(cp_error *err, cp_result code, const char *msg) {
    if (err) {
        err->code = code;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "customer reports: %s", msg);
    }
    return code;
}

/* Room for k more customers in a->c.  Returns false on OOM. */
static bool reserve_customers(cp_customers_acc *a, size_t k) {
    if (a->cap - a->n >= k) return true;
    if (k > SIZE_MAX / sizeof *a->c - a->n) return false;
    size_t cap = a->cap ? 2 * a->cap : 1024;
    if (cap < a->n + k || cap > SIZE_MAX / sizeof *a->c) cap = a->n + k;
    cp_customer *grown = realloc(a->c, cap * sizeof *grown);
    if (!grown) return false;
    a->c = grown;
    a->cap = cap;
    return true;
}

/* merge(): every customer is final in the one partition that holds its
 * identity, so from's customers are appended, identities copied, as add()
 * appends a partition's; an identity on both sides means the accumulators
 * share a partition (or one was merged twice) and is refused before
 * anything changes.  The run-wide values come from whichever side had an
 * add(); two sides with different as-of times are refused.  The order of
 * the table does not matter: emit() sorts it by identity bytes. */
cp_result cp_customers_acc_merge(cp_customers_acc *into, const cp_customers_acc *from, cp_error *err) {
    if (into == from) return acc_fail(err, CP_EUSAGE, "an accumulator cannot be merged into itself");
    if (into->have_run && from->have_run && into->as_of_ms != from->as_of_ms)
        return acc_fail(err, CP_EUSAGE, "the partitions to merge were reported with different as-of times");
    for (size_t i = 0; i < from->n; i++) {
        size_t len;
        const char *p = cp_strings_get(from->ids, from->c[i].id, &len);
        if (cp_strings_find(into->ids, p, len) != CP_STR_NONE) {
            char m[200];
            snprintf(m, sizeof m, "customer \"%.*s\" is in both accumulators to merge", len > 64 ? 64 : (int)len,
                     p);
            return acc_fail(err, CP_EUSAGE, m);
        }
    }
    if (!reserve_customers(into, from->n)) return cp_customers_oom(err);
    for (size_t i = 0; i < from->n; i++) {
        size_t len;
        const char *p = cp_strings_get(from->ids, from->c[i].id, &len);
        int oom = 0;
        cp_customer c = from->c[i];
        c.id = cp_strings_intern(into->ids, p, len, &oom);
        if (oom) return cp_customers_oom(err);
        into->c[into->n++] = c;
    }
    if (!into->have_run && from->have_run) {
        into->as_of_ms = from->as_of_ms;
        into->cal_end_ms = from->cal_end_ms;
        into->threads = from->threads;
        into->have_run = true;
    }
    cp_result rc = cp_feedback_acc_merge(into->fb, from->fb, err);
    if (!rc) rc = cp_cac_acc_merge(into->cac, from->cac, err);
    return rc;
}

/* The saved form: a tag and version, the run-wide values, the customers
 * (identity bytes and every field), then feedback's and cac's states. */
#define CUSTOMERS_SAVE_TAG UINT32_C(0x55435043) /* "CPCU" */
#define CUSTOMERS_SAVE_VERSION 1u
/* The fewest bytes one saved customer takes (a 1-byte identity). */
#define CUSTOMER_MIN_BYTES (4 + 1 + 4 + 8 * 10 + 4 + 4 + 8 + 8 + 4)

void cp_customers_acc_save(const cp_customers_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, CUSTOMERS_SAVE_TAG);
    cp_bytes_u32(out, CUSTOMERS_SAVE_VERSION);
    cp_bytes_u8(out, a->have_run);
    cp_bytes_i64(out, a->as_of_ms);
    cp_bytes_i64(out, a->cal_end_ms);
    cp_bytes_u32(out, a->threads);
    cp_bytes_u64(out, a->n);
    for (size_t i = 0; i < a->n; i++) {
        const cp_customer *c = &a->c[i];
        size_t len;
        const char *p = cp_strings_get(a->ids, c->id, &len);
        cp_bytes_str(out, p, len);
        cp_bytes_u32(out, c->first_row);
        cp_bytes_i64(out, c->first_ts_ms);
        cp_bytes_i64(out, c->last_ts_ms);
        cp_bytes_i64(out, c->second_order_ts_ms);
        cp_bytes_i64(out, c->last_activity_ms);
        cp_bytes_i64(out, c->orders);
        cp_bytes_i64(out, c->units);
        cp_bytes_i64(out, c->gmv_micros);
        cp_bytes_i64(out, c->units_returned);
        cp_bytes_i64(out, c->refunds_micros);
        cp_bytes_i64(out, c->orders_recent);
        cp_bytes_u32(out, (uint32_t)c->first_day);
        cp_bytes_u32(out, (uint32_t)c->last_day);
        cp_bytes_i64(out, c->n_days);
        cp_bytes_i64(out, c->repeat_micros);
        uint8_t sc[4] = {c->segment, c->rfm_r, c->rfm_f, c->rfm_m};
        cp_bytes_put(out, sc, sizeof sc);
    }
    cp_feedback_acc_save(a->fb, out);
    cp_cac_acc_save(a->cac, out);
}

/* A loaded customer is one add() could have made (run values as_of_ms and
 * cal_end_ms, report time zone tz): timestamps in the input range and in
 * order, counts and money not negative, the R10.5 summary consistent.  So
 * emit() never meets a value the ranks, cohorts or the fit cannot take. */
static bool customer_valid(const cp_customer *c, const cp_tz *tz, int64_t as_of_ms, int64_t cal_end_ms) {
    if (c->first_ts_ms < CP_TS_MIN_MS || c->first_ts_ms > c->last_ts_ms || c->last_ts_ms > c->last_activity_ms ||
        c->last_activity_ms > as_of_ms || c->last_activity_ms > CP_TS_MAX_MS)
        return false;
    if ((c->second_order_ts_ms != INT64_MIN) != (c->orders >= 2) ||
        (c->orders >= 2 && (c->second_order_ts_ms < c->first_ts_ms || c->second_order_ts_ms > c->last_ts_ms)))
        return false;
    if (c->orders < 1 || c->units < c->orders || c->gmv_micros < 0 || c->units_returned < 0 ||
        c->refunds_micros < 0 || c->orders_recent < 0 || c->orders_recent > c->orders)
        return false;
    if (c->segment >= CP_N_SEGMENTS || c->rfm_r > 5 || c->rfm_f > 5 || c->rfm_m > 5) return false;
    if (c->n_days == 0) return c->repeat_micros == 0;
    /* last_day: the latest purchase day, which a time zone stepping back
     * over midnight may put a day past the last purchase's own day */
    return c->n_days > 0 && c->first_ts_ms <= cal_end_ms && c->first_day == cp_tz_day(tz, c->first_ts_ms) &&
           c->first_day <= c->last_day &&
           (int64_t)c->last_day - c->first_day <= (c->last_ts_ms - c->first_ts_ms) / CP_DAY_MS + 2 &&
           c->n_days <= (int64_t)c->last_day - c->first_day + 1 && c->repeat_micros >= 0 &&
           c->repeat_micros <= c->gmv_micros;
}

/* Reads the customers' own part of a saved state into a (new, empty). */
static cp_result load_customers(cp_customers_acc *a, cp_bytes_reader *in, cp_error *err) {
    const cp_report_options *opt = a->opt;
    uint32_t tag = cp_bytes_get_u32(in), version = cp_bytes_get_u32(in);
    if (!in->bad && tag != CUSTOMERS_SAVE_TAG)
        return acc_fail(err, CP_EFORMAT, "saved state is not a customers accumulator");
    if (!in->bad && version != CUSTOMERS_SAVE_VERSION)
        return acc_fail(err, CP_EFORMAT, "saved state has an unknown version");
    uint8_t have_run = cp_bytes_get_u8(in);
    a->as_of_ms = cp_bytes_get_i64(in);
    a->cal_end_ms = cp_bytes_get_i64(in);
    a->threads = cp_bytes_get_u32(in);
    uint64_t n = cp_bytes_get_u64(in);
    if (in->bad) return acc_fail(err, CP_EFORMAT, "saved state ends early");
    if (have_run > 1) return acc_fail(err, CP_EFORMAT, "saved state is damaged (run flag)");
    a->have_run = have_run;
    if (a->have_run) {
        int64_t cal_end = opt->has_calibration_end && opt->calibration_end_ms < a->as_of_ms
                              ? opt->calibration_end_ms
                              : a->as_of_ms;
        if (a->cal_end_ms != cal_end)
            return acc_fail(err, CP_EFORMAT, "saved state does not match the options (calibration end)");
        if (a->threads > 1024) return acc_fail(err, CP_EFORMAT, "saved state is damaged (thread count)");
    } else if (n || a->as_of_ms || a->cal_end_ms || a->threads) {
        return acc_fail(err, CP_EFORMAT, "saved state is damaged (customers without a partition)");
    }
    if (n > (in->n - in->at) / CUSTOMER_MIN_BYTES || n > UINT32_MAX)
        return acc_fail(err, CP_EFORMAT, "saved state is damaged (more customers than bytes)");
    if (!reserve_customers(a, (size_t)n)) return cp_customers_oom(err);
    /* the loaded sums must fit, as they did in the run that saved them */
    int64_t sum_units = 0, sum_returned = 0, sum_gmv = 0, sum_refunds = 0, sum_orders = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *p = cp_bytes_get_str(in, &len);
        cp_customer c = {0};
        c.first_row = cp_bytes_get_u32(in);
        c.first_ts_ms = cp_bytes_get_i64(in);
        c.last_ts_ms = cp_bytes_get_i64(in);
        c.second_order_ts_ms = cp_bytes_get_i64(in);
        c.last_activity_ms = cp_bytes_get_i64(in);
        c.orders = cp_bytes_get_i64(in);
        c.units = cp_bytes_get_i64(in);
        c.gmv_micros = cp_bytes_get_i64(in);
        c.units_returned = cp_bytes_get_i64(in);
        c.refunds_micros = cp_bytes_get_i64(in);
        c.orders_recent = cp_bytes_get_i64(in);
        c.first_day = (int32_t)cp_bytes_get_u32(in);
        c.last_day = (int32_t)cp_bytes_get_u32(in);
        c.n_days = cp_bytes_get_i64(in);
        c.repeat_micros = cp_bytes_get_i64(in);
        const uint8_t *sc = cp_bytes_get(in, 4);
        if (in->bad) return acc_fail(err, CP_EFORMAT, "saved state ends early");
        c.segment = sc[0];
        c.rfm_r = sc[1];
        c.rfm_f = sc[2];
        c.rfm_m = sc[3];
        if (len == 0 || !customer_valid(&c, opt->tz, a->as_of_ms, a->cal_end_ms) ||
            __builtin_add_overflow(sum_units, c.units, &sum_units) ||
            __builtin_add_overflow(sum_returned, c.units_returned, &sum_returned) ||
            __builtin_add_overflow(sum_gmv, c.gmv_micros, &sum_gmv) ||
            __builtin_add_overflow(sum_refunds, c.refunds_micros, &sum_refunds) ||
            __builtin_add_overflow(sum_orders, c.orders, &sum_orders))
            return acc_fail(err, CP_EFORMAT, "saved state is damaged (a customer's figures)");
        int oom = 0;
        uint32_t before = cp_strings_count(a->ids);
        c.id = cp_strings_intern(a->ids, p, len, &oom);
        if (oom) return cp_customers_oom(err);
        if (cp_strings_count(a->ids) == before)
            return acc_fail(err, CP_EFORMAT, "saved state is damaged (a customer twice)");
        a->c[a->n++] = c;
    }
    return CP_OK;
}

cp_customers_acc *cp_customers_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    cp_customers_acc *a = calloc(1, sizeof *a);
    if (!a) {
        cp_customers_oom(err);
        return NULL;
    }
    a->opt = opt;
    a->ids = cp_strings_new();
    if (!a->ids) {
        cp_customers_oom(err);
        cp_customers_acc_free(a);
        return NULL;
    }
    if (load_customers(a, in, err) || !(a->fb = cp_feedback_acc_load(opt, in, err)) ||
        !(a->cac = cp_cac_acc_load(opt, in, err))) {
        cp_customers_acc_free(a);
        return NULL;
    }
    return a;
}

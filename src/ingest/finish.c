/* finish.c -- turns loaded rows into the store every report reads.
 *
 * R1.6  rows sorted by ts_ms with an LSD radix sort, which is stable, so equal
 *       timestamps keep input order (first file first, then line).
 * R2.1  identity = customer; else the customer its visitor is first seen with
 *       (R1.6 order, anywhere in the input) unless --no-stitch; else visitor.
 * R1.3  orders: one entry per order id; purchase/return lines without an id
 *       share one synthetic order per (identity, ts_ms).
 * Then the by-identity permutation (identity, ts, input order) by a counting
 * sort over identity ids, stable over the time-sorted rows.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/run.h"

/* Sorts idx[0..n) by key (uint64) stably.  Returns -1 when out of memory. */
static int radix_sort_u64(uint64_t *key, uint32_t *idx, size_t n) {
    if (n < 2) return 0;
    uint64_t maxk = 0;
    for (size_t i = 0; i < n; i++) maxk |= key[i];
    int bits = 0;
    while (bits < 64 && (maxk >> bits)) bits++;
    uint64_t *k2 = malloc(n * sizeof *k2);
    uint32_t *i2 = malloc(n * sizeof *i2);
    if (!k2 || !i2) { free(k2); free(i2); return -1; }
    enum { DIGIT = 11, BUCKETS = 1 << DIGIT };
    size_t *count = malloc(BUCKETS * sizeof *count);
    if (!count) { free(k2); free(i2); return -1; }
    uint64_t *ks = key, *kd = k2;
    uint32_t *is = idx, *id = i2;
    for (int shift = 0; shift < bits; shift += DIGIT) {
        memset(count, 0, BUCKETS * sizeof *count);
        for (size_t i = 0; i < n; i++) count[(ks[i] >> shift) & (BUCKETS - 1)]++;
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) { size_t c = count[b]; count[b] = sum; sum += c; }
        for (size_t i = 0; i < n; i++) {
            size_t d = count[(ks[i] >> shift) & (BUCKETS - 1)]++;
            kd[d] = ks[i];
            id[d] = is[i];
        }
        uint64_t *tk = ks; ks = kd; kd = tk;
        uint32_t *ti = is; is = id; id = ti;
    }
    if (is != idx) {
        memcpy(idx, is, n * sizeof *idx);
        memcpy(key, ks, n * sizeof *key);
    }
    free(count);
    free(k2);
    free(i2);
    return 0;
}

/* Makes room for index n - 1 in the synthetic-key array. */
static bool grow_syn_ts(int64_t **a, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    size_t c = *cap ? *cap : 1024;
    while (c < n) c *= 2;
    int64_t *p = realloc(*a, c * sizeof *p);
    if (!p) return false;
    *a = p;
    *cap = c;
    return true;
}

/* Gathers columns into a new order: col[i] = old col[perm[i]]. */
typedef struct perm_job {
    void *slot;  /* address of the column's pointer (read and written with
                  * memcpy: the columns have different pointer types) */
    size_t elem; /* bytes per value: 1, 2, 4 or 8 */
} perm_job;

typedef struct perm_batch {
    perm_job *jobs;
    size_t begin, end;
    const uint32_t *perm;
    size_t n;
    bool ok;
} perm_batch;

static void *perm_run(void *arg) {
    perm_batch *b = arg;
    for (size_t j = b->begin; j < b->end; j++) {
        size_t sz = b->jobs[j].elem, n = b->n;
        void *old;
        memcpy(&old, b->jobs[j].slot, sizeof old);
        void *nc = malloc((n ? n : 1) * sz);
        if (!nc) { b->ok = false; continue; }
        const uint32_t *p = b->perm;
        switch (sz) {
        case 1: for (size_t i = 0; i < n; i++) ((uint8_t *)nc)[i] = ((const uint8_t *)old)[p[i]]; break;
        case 2: for (size_t i = 0; i < n; i++) ((uint16_t *)nc)[i] = ((const uint16_t *)old)[p[i]]; break;
        case 4: for (size_t i = 0; i < n; i++) ((uint32_t *)nc)[i] = ((const uint32_t *)old)[p[i]]; break;
        default: for (size_t i = 0; i < n; i++) ((uint64_t *)nc)[i] = ((const uint64_t *)old)[p[i]]; break;
        }
        free(old);
        memcpy(b->jobs[j].slot, &nc, sizeof nc);
    }
    return NULL;
}

cp_result cp_run_finish(cp_run *run, cp_error *err) {
    cp_events *e = &run->ev;
    size_t n = e->n;
    uint32_t *perm = NULL;
    uint64_t *key = NULL;
    uint32_t *first_cust = NULL, *order_of_str = NULL;
    int64_t *syn_ts = NULL; /* per order index: the synthetic key's ts */
    if (run->finished) return CP_OK;
    if (n >= UINT32_MAX) {
        if (err) { err->code = CP_EUSAGE; snprintf(err->msg, sizeof err->msg, "more than 4294967294 events in one run"); }
        return CP_EUSAGE;
    }
    perm = malloc((n ? n : 1) * sizeof *perm);
    key = malloc((n ? n : 1) * sizeof *key);
    if (!perm || !key) goto oom;
    for (size_t i = 0; i < n; i++) {
        perm[i] = (uint32_t)i;
        key[i] = (uint64_t)e->ts_ms[i]; /* R1.4b range: never negative */
    }
    if (radix_sort_u64(key, perm, n) != 0) goto oom;
    free(key);
    key = NULL;
    /* R2.1 identity, computed in R1.6 order through the permutation (before
     * the gather, so the raw visitor and customer columns need not be
     * gathered when they are not kept) */
    size_t n_str = (size_t)cp_strings_count(run->str) + 1;
    cp_str *identity = malloc((n ? n : 1) * sizeof *identity);
    if (!identity) goto oom;
    if (!run->opt.no_stitch) {
        first_cust = calloc(n_str, sizeof *first_cust);
        if (!first_cust) { free(identity); goto oom; }
        for (size_t k = 0; k < n; k++) {
            uint32_t i = perm[k];
            if (e->visitor[i] && e->customer[i] && !first_cust[e->visitor[i]])
                first_cust[e->visitor[i]] = e->customer[i];
        }
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t i = perm[k];
        cp_str id = e->customer[i];
        if (!id && first_cust && e->visitor[i]) id = first_cust[e->visitor[i]];
        if (!id) id = e->visitor[i];
        identity[k] = id; /* already in sorted order */
    }
    free(first_cust);
    first_cust = NULL;
    e->identity = identity;
    if (!run->opt.keep_raw_ids) {
        /* reports read identity only: 8 bytes an event saved */
        free(e->visitor);
        free(e->customer);
        e->visitor = e->customer = NULL;
    }
    {
        /* gather every column in the sorted order; the columns are
         * independent, so two threads share them */
        perm_job jobs[] = {
            {&e->ts_ms, 8}, {&e->money_micros, 8}, {&e->ip, 4}, {&e->ua, 4},
            {&e->referrer, 4}, {&e->asin, 4}, {&e->tag, 4},
            {&e->click_id, 4}, {&e->placement, 4}, {&e->order, 4},
            {&e->units, 4}, {&e->line, 4}, {&e->file, 2},
            {&e->type, 1}, {&e->flags, 1}, {&e->rating, 1},
            {&e->visitor, 4}, {&e->customer, 4}};
        size_t n_jobs = sizeof jobs / sizeof *jobs;
        if (!run->opt.keep_raw_ids) n_jobs -= 2;
        /* split by bytes: about half of each row's bytes per thread */
        perm_batch half[2] = {{jobs, 0, 4, perm, n, true}, {jobs, 4, n_jobs, perm, n, true}};
        pthread_t th;
        bool threaded = n >= 100000 && pthread_create(&th, NULL, perm_run, &half[1]) == 0;
        perm_run(&half[0]);
        if (threaded) pthread_join(th, NULL);
        else perm_run(&half[1]);
        if (!half[0].ok || !half[1].ok) goto oom;
    }
    run->cap = n;

    /* R1.3 orders.  order column holds the order string id until here. */
    order_of_str = calloc(n_str, sizeof *order_of_str); /* string id -> order index + 1 */
    if (!order_of_str) goto oom;
    size_t cap_orders = 1024;
    run->orders = malloc(cap_orders * sizeof *run->orders);
    if (!run->orders) goto oom;
    run->n_orders = 0;
    /* synthetic orders: (identity, ts) -> index, open addressing over rows */
    size_t cap_syn_ts = 0;
    size_t syn_cap = 1024;
    uint32_t *syn = calloc(syn_cap, sizeof *syn);
    size_t n_syn = 0;
    if (!syn) goto oom;
    for (size_t i = 0; i < n; i++) {
        uint8_t t = e->type[i];
        if (t != CP_PURCHASE && t != CP_RETURN && t != CP_FEEDBACK) { e->order[i] = CP_NONE; continue; }
        cp_str os = e->order[i];
        uint32_t oi;
        if (os) {
            oi = order_of_str[os];
            if (!oi) {
                if (run->n_orders == cap_orders) {
                    cap_orders *= 2;
                    cp_order *no = realloc(run->orders, cap_orders * sizeof *no);
                    if (!no) { free(syn); goto oom; }
                    run->orders = no;
                }
                run->orders[run->n_orders] = (cp_order){os, e->identity[i], INT64_MAX};
                oi = order_of_str[os] = (uint32_t)++run->n_orders;
            }
        } else if (t == CP_FEEDBACK) {
            e->order[i] = CP_NONE; /* cannot happen: R1.3 rejects it */
            continue;
        } else {
            if (n_syn * 2 >= syn_cap) {
                size_t ncap = syn_cap * 2;
                uint32_t *ns = calloc(ncap, sizeof *ns);
                if (!ns) { free(syn); goto oom; }
                for (size_t k = 0; k < syn_cap; k++) {
                    uint32_t v = syn[k];
                    if (!v) continue;
                    cp_order *o = &run->orders[v - 1];
                    uint64_t h = cp_hash_u64(((uint64_t)o->identity << 32) ^ (uint64_t)syn_ts[v - 1]);
                    size_t j = h & (ncap - 1);
                    while (ns[j]) j = (j + 1) & (ncap - 1);
                    ns[j] = v;
                }
                free(syn);
                syn = ns;
                syn_cap = ncap;
            }
            uint64_t h = cp_hash_u64(((uint64_t)e->identity[i] << 32) ^ (uint64_t)e->ts_ms[i]);
            size_t j = h & (syn_cap - 1);
            oi = 0;
            for (;; j = (j + 1) & (syn_cap - 1)) {
                uint32_t v = syn[j];
                if (!v) break;
                cp_order *o = &run->orders[v - 1];
                if (o->identity == e->identity[i] && syn_ts[v - 1] == e->ts_ms[i]) { oi = v; break; }
            }
            if (!oi) {
                if (run->n_orders == cap_orders) {
                    cap_orders *= 2;
                    cp_order *no = realloc(run->orders, cap_orders * sizeof *no);
                    if (!no) { free(syn); goto oom; }
                    run->orders = no;
                }
                run->orders[run->n_orders] = (cp_order){CP_STR_NONE, e->identity[i], INT64_MAX};
                oi = (uint32_t)++run->n_orders;
                if (!grow_syn_ts(&syn_ts, &cap_syn_ts, oi)) { free(syn); goto oom; }
                syn_ts[oi - 1] = e->ts_ms[i]; /* the synthetic key: every line shares it */
                syn[j] = oi;
                n_syn++;
            }
        }
        e->order[i] = oi - 1;
        cp_order *o = &run->orders[oi - 1];
        /* R10.6: an order's time is its first purchase line; an order made
         * only of returns (or feedback) has none and was never placed */
        if (t == CP_PURCHASE && e->ts_ms[i] < o->first_ts_ms) o->first_ts_ms = e->ts_ms[i];
    }
    free(syn);
    free(syn_ts);
    syn_ts = NULL;
    free(order_of_str);
    order_of_str = NULL;

    /* by-identity permutation: counting sort over identity ids (stable) */
    run->by_identity = malloc((n ? n : 1) * sizeof *run->by_identity);
    size_t *start = calloc(n_str + 1, sizeof *start);
    if (!run->by_identity || !start) { free(start); goto oom; }
    for (size_t i = 0; i < n; i++) start[e->identity[i] + 1]++;
    for (size_t s = 1; s <= n_str; s++) start[s] += start[s - 1];
    for (size_t i = 0; i < n; i++) run->by_identity[start[e->identity[i]]++] = (uint32_t)i;
    free(start);

    free(perm);
    run->finished = true;
    return CP_OK;
oom:
    free(syn_ts);
    free(perm);
    free(key);
    free(first_cust);
    free(order_of_str);
    if (err) { err->code = CP_ENOMEM; snprintf(err->msg, sizeof err->msg, "out of memory while sorting events"); }
    return CP_ENOMEM;
}

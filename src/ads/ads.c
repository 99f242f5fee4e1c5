/* ads.c -- sponsored-ads attribution and report (SPEC R6, R8 ads.csv, R3.3,
 * R3.4).
 *
 * cp_ads_build (R6.1): one pass over the events of each identity in time
 * order.  Only valid sponsored clicks and purchase lines can matter, so they
 * are gathered in one sequential pass over the columns and put in
 * (identity, ts, input order) by an LSD radix sort on the identity (rows are
 * already in R1.6 order) -- the same order as cp_run_by_identity, without
 * touching the other ~99% of the events.  Within a run of equal timestamps the clicks
 * are taken first, so a click with the purchase's own timestamp is a
 * candidate even when it comes later in input order; among clicks of equal
 * timestamp the last in R1.6 order wins.  State per identity: the latest
 * valid sponsored click on any ASIN, and per (identity, ASIN) the latest
 * valid sponsored click (one open-addressing table keyed by both, so it needs
 * no reset between identities).  A purchase line at t is credited to the
 * latest same-ASIN click when that is at or after t - window, else to the
 * latest click on any ASIN when that is in the window (other-ASIN sales).
 * Returns are never credited.  O(events).
 *
 * cp_ads_write (R6.2, R6.3, R8): rows keyed by (day, placement, asin), with
 * day = whole period or the report day (cp_tz_day) of the impression / click
 * itself; a credited purchase line adds to the rows of its CLICK's day
 * (R6.3) and placement+ASIN.  orders_7d counts distinct orders per row (an
 * order whose lines are credited to one row counts once).  bounced_clicks:
 * valid clicks whose click_id no loaded page view carries (R3.4; a click
 * re-using an earlier click's id shares that click's landing, as in
 * quality.c).  Events add to their daily row only (found through a small
 * table of (placement, asin) combos and a per-day index); whole-period rows
 * are the sums of their daily rows and the total the sum of the
 * whole-period rows, orders excepted (distinct, from sorted pairs).
 * Whole-period rows first (by campaign, ad_group, keyword,
 * asin in byte order), then daily rows by date and the same keys (R8).
 *
 * The writer is an accumulator (report/partial.h): cp_ads_acc_add builds a
 * partition's rows as above, in its own ids, then adds them to the
 * accumulator's rows keyed by content (copies of the campaign, ad group,
 * keyword and ASIN bytes), orders included -- an order never spans
 * partitions, so per-partition distinct counts add up.  cp_ads_acc_emit
 * sorts, computes the ratios and writes; cp_ads_write is new + add + emit.
 * Nothing is captured from a partition (emit needs only opt), so
 * cp_ads_acc_merge adds the other accumulator's rows by content just as add
 * does, and cp_ads_acc_save / cp_ads_acc_load write and read the strings
 * and rows (load checks counts against the bytes left, indices, duplicate
 * keys and ranges, and fails with CP_EFORMAT).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "quality/quality.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/check.h"
#include "util/daycache.h"
#include "util/rowmap.h"
#include "util/rowmask.h"
#include "util/sort.h"
#include "util/strings.h"
#include "util/values.h"

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the sponsored-ads stage");
    }
    return CP_ENOMEM;
}

static inline bool is_ad_click(const cp_report_ctx *ctx, uint32_t i) {
    const cp_events *ev = ctx->ev;
    return ev->type[i] == CP_CLICK && ev->placement[i] != CP_NONE && ctx->status[i] == CP_CLICK_VALID;
}

/* (identity, asin) -> latest valid sponsored click row. */
typedef struct last_slot {
    uint64_t key; /* identity << 32 | asin; 0 = empty (identity ids start at 1) */
    uint32_t row;
} last_slot;

cp_result cp_ads_build(cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n, n_sub = ctx->ev->sub.n;
    int64_t window = ctx->opt->ads_window_ms;
    free(ctx->ad_credit);
    free(ctx->ad_same_asin);
    /* per sub row (report.h): only purchases have a value */
    ctx->ad_credit = malloc((n_sub ? n_sub : 1) * sizeof *ctx->ad_credit);
    ctx->ad_same_asin = calloc(n_sub ? n_sub : 1, sizeof *ctx->ad_same_asin);
    if (!ctx->ad_credit || !ctx->ad_same_asin) return oom(err);
    memset(ctx->ad_credit, 0xff, n_sub * sizeof *ctx->ad_credit); /* CP_NONE */

    /* Only valid sponsored clicks and purchase lines matter: gathered in one
     * pass over the clicks and purchases (util/rowmask.h), into buffers
     * sized by their count, and put in identity order with a radix sort,
     * instead of walking every event through cp_run_by_identity. */
    const uint8_t *type = ev->type;
    size_t cap = cp_rows_count(cp_rows_of(type, n, CP_CLICK)) + cp_rows_count(cp_rows_of(type, n, CP_PURCHASE));
    if (!cap) return CP_OK;
    uint64_t *keys = malloc(cap * sizeof *keys), *tmp = malloc(cap * sizeof *tmp);
    if (!keys || !tmp) {
        free(keys);
        free(tmp);
        return oom(err);
    }
    size_t n_clicks = 0, n_purch = 0;
    uint32_t max_id = 0;
    for (cp_rows r = cp_rows_not(type, n, CP_IMPRESSION); cp_rows_next(&r);) {
        size_t i = r.i;
        if (type[i] == CP_PURCHASE) n_purch++;
        else if (is_ad_click(ctx, (uint32_t)i)) n_clicks++;
        else continue;
        cp_str id = ev->identity[i];
        if (id > max_id) max_id = id;
        keys[n_clicks + n_purch - 1] = (uint64_t)id << 32 | i;
    }
    size_t m = n_clicks + n_purch;
    size_t n_slots = 16;
    while (n_slots < n_clicks * 2) n_slots *= 2;
    last_slot *tab = n_clicks && n_purch ? calloc(n_slots, sizeof *tab) : NULL;
    const uint64_t *by = tab ? cp_sort_by_identity(keys, tmp, m, max_id, 1) : NULL;
    if (!by) {
        free(keys);
        free(tmp);
        free(tab);
        return n_clicks && n_purch ? oom(err) : CP_OK;
    }

    size_t g = 0;
    while (g < m) {
        uint32_t id = (uint32_t)(by[g] >> 32);
        size_t g_end = g;
        while (g_end < m && (uint32_t)(by[g_end] >> 32) == id) g_end++;
        uint32_t last_any = CP_NONE;
        size_t t0 = g;
        while (t0 < g_end) {
            int64_t t = ev->ts_ms[(uint32_t)by[t0]];
            size_t t1 = t0;
            while (t1 < g_end && ev->ts_ms[(uint32_t)by[t1]] == t) t1++;
            /* clicks of this timestamp first (R6.1: candidates by time alone) */
            for (size_t j = t0; j < t1; j++) {
                uint32_t r = (uint32_t)by[j];
                if (ev->type[r] == CP_PURCHASE) continue; /* else a valid sponsored click */
                last_any = r;
                uint64_t key = (uint64_t)id << 32 | ev->asin[r];
                size_t h = (size_t)cp_hash_u64(key) & (n_slots - 1);
                while (tab[h].key && tab[h].key != key) h = (h + 1) & (n_slots - 1);
                tab[h].key = key;
                tab[h].row = r;
            }
            for (size_t j = t0; j < t1; j++) {
                uint32_t r = (uint32_t)by[j];
                if (ev->type[r] != CP_PURCHASE || last_any == CP_NONE) continue;
                /* R6.1: t - window <= click time <= t, same ASIN first */
                uint64_t key = (uint64_t)id << 32 | ev->asin[r];
                size_t h = (size_t)cp_hash_u64(key) & (n_slots - 1);
                while (tab[h].key && tab[h].key != key) h = (h + 1) & (n_slots - 1);
                CP_TESTCASE(tab[h].key && ev->ts_ms[tab[h].row] == t - window);
                uint32_t k = cp_report_rank(ctx, r);
                if (tab[h].key && ev->ts_ms[tab[h].row] >= t - window) {
                    ctx->ad_credit[k] = tab[h].row;
                    ctx->ad_same_asin[k] = true;
                } else if (ev->ts_ms[last_any] >= t - window) {
                    ctx->ad_credit[k] = last_any; /* other-ASIN sales */
                }
            }
            t0 = t1;
        }
        g = g_end;
    }
    free(keys);
    free(tmp);
    free(tab);
    return CP_OK;
}

/* ---- the report ------------------------------------------------------------ */

#define WHOLE INT32_MIN

typedef struct ad_row {
    int32_t day;
    uint32_t placement;
    cp_str asin;
    uint32_t whole; /* daily row: index of its whole-period row */
    int64_t impressions, clicks, invalid_clicks, bounced_clicks;
    int64_t spend, invalid_cost;
    int64_t orders, units, sales, adv_sales;
} ad_row;

/* (day, placement, asin), the key at the head of an ad_row (rowmap.h) */
_Static_assert(offsetof(ad_row, whole) == 3 * sizeof(uint32_t), "ad_row begins with its rowmap key");

/* Row index of the key, created zeroed when missing; CP_ROWMAP_OOM when out
 * of memory (t->oom). */
static uint32_t rt_get(cp_rowmap *t, int32_t day, uint32_t placement, cp_str asin) {
    return cp_rowmap_get(t, (uint32_t)day, placement, asin, NULL);
}

typedef struct sort_ctx {
    const cp_strings *str;
    const cp_placement *pl;
    const ad_row *rows;
} sort_ctx;

static int row_cmp(const void *a, const void *b, void *arg) {
    const sort_ctx *s = arg;
    const ad_row *x = &s->rows[*(const uint32_t *)a], *y = &s->rows[*(const uint32_t *)b];
    bool xw = x->day == WHOLE, yw = y->day == WHOLE;
    if (xw != yw) return xw ? -1 : 1; /* R8: whole-period rows first */
    /* then by the key columns in column order: date, campaign, ad_group,
     * keyword, asin (R8) */
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    const cp_placement *px = &s->pl[x->placement], *py = &s->pl[y->placement];
    int c;
    if ((c = cp_strings_cmp(s->str, px->campaign, py->campaign))) return c;
    if ((c = cp_strings_cmp(s->str, px->ad_group, py->ad_group))) return c;
    if ((c = cp_strings_cmp(s->str, px->keyword, py->keyword))) return c;
    if ((c = cp_strings_cmp(s->str, x->asin, y->asin))) return c;
    return x->day < y->day ? -1 : x->day > y->day;
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Order key of a purchase line: its order, or the line itself when it has
 * none (cannot happen after R1.3's synthetic orders; kept distinct). */
static uint64_t order_key(const cp_events *ev, uint32_t k, uint32_t r) { /* k: r's rank */
    return ev->order[k] != CP_NONE ? ev->order[k] : (UINT64_C(1) << 32) | r;
}

/* (placement, asin) -> its whole-period row and the daily row of the day
 * it was last met on.  Rows come in time order, so an event's daily row is
 * mostly its combo's last one: one probe of this small table (a few hundred
 * combos) instead of two of the big row table.  Other days go through the
 * row map. */
typedef struct combo {
    uint64_t key;     /* placement << 32 | asin */
    uint32_t whole;   /* row index */
    int32_t cur_day;  /* the day of cur_row */
    uint32_t cur_row; /* daily row index + 1; 0 = an empty slot */
} combo;

typedef struct combo_table {
    combo *c;
    size_t n, n_slots; /* slots == c, open addressing; power of two, at most a quarter full */
    unsigned shift;    /* 64 - log2(n_slots) */
} combo_table;

/* Fibonacci hashing: one multiply, the top bits pick the slot. */
static inline size_t combo_slot(const combo_table *ct, uint64_t key) {
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> ct->shift);
}

static bool ct_grow(combo_table *ct) {
    size_t ns = ct->n_slots ? ct->n_slots * 2 : 256;
    combo *nc = calloc(ns, sizeof *nc);
    if (!nc) return false;
    combo_table g = {.c = nc, .n_slots = ns, .shift = (unsigned)__builtin_clzll((unsigned long long)ns) + 1};
    for (size_t i = 0; i < ct->n_slots; i++) {
        if (!ct->c[i].cur_row) continue;
        size_t h = combo_slot(&g, ct->c[i].key);
        while (nc[h].cur_row) h = (h + 1) & (ns - 1);
        nc[h] = ct->c[i];
    }
    free(ct->c);
    ct->c = nc;
    ct->n_slots = ns;
    ct->shift = g.shift;
    return true;
}

/* Row index of (day, placement, asin), its whole-period row (WHOLE,
 * placement, asin) created first when missing (the rows' creation order is
 * that of the first event of each key), and the daily row's whole set. */
static bool rows_of_slow(cp_rowmap *t, combo_table *ct, int32_t day, uint32_t placement, cp_str asin,
                         uint32_t *daily) {
    uint64_t key = (uint64_t)placement << 32 | asin;
    combo *c = NULL;
    if (ct->n_slots) {
        size_t h = combo_slot(ct, key);
        while (ct->c[h].cur_row && ct->c[h].key != key) h = (h + 1) & (ct->n_slots - 1);
        c = &ct->c[h];
    }
    uint32_t whole;
    if (!c || !c->cur_row) { /* a new combo */
        if ((ct->n + 1) * 4 > ct->n_slots && !ct_grow(ct)) return false;
        size_t h = combo_slot(ct, key);
        while (ct->c[h].cur_row) h = (h + 1) & (ct->n_slots - 1);
        c = &ct->c[h];
        whole = rt_get(t, WHOLE, placement, asin);
        ct->n++;
    } else {
        whole = c->whole;
    }
    uint32_t r = rt_get(t, day, placement, asin);
    if (t->oom) return false;
    CP_ROWMAP_AT(t, ad_row, r)->whole = whole;
    *c = (combo){.key = key, .whole = whole, .cur_day = day, .cur_row = r + 1};
    *daily = r;
    return true;
}

/* The same; inline for the common case, the combo's last day. */
static inline bool rows_of(cp_rowmap *t, combo_table *ct, int32_t day, uint32_t placement, cp_str asin,
                           uint32_t *daily) {
    if (ct->n_slots) {
        uint64_t key = (uint64_t)placement << 32 | asin;
        size_t h = combo_slot(ct, key);
        while (ct->c[h].cur_row && ct->c[h].key != key) h = (h + 1) & (ct->n_slots - 1);
        const combo *c = &ct->c[h];
        if (c->cur_row && c->cur_day == day) {
            *daily = c->cur_row - 1;
            return true;
        }
    }
    return rows_of_slow(t, ct, day, placement, asin, daily);
}

static void ct_free(combo_table *ct) { free(ct->c); }

/* Adds the summable figures of x to y (everything but orders). */
static void add_row(ad_row *y, const ad_row *x) {
    y->impressions += x->impressions;
    y->clicks += x->clicks;
    y->invalid_clicks += x->invalid_clicks;
    y->bounced_clicks += x->bounced_clicks;
    y->spend += x->spend;
    y->invalid_cost += x->invalid_cost;
    y->units += x->units;
    y->sales += x->sales;
    y->adv_sales += x->adv_sales;
}

/* ---- the accumulator (partial.h) ------------------------------------------ */

/* Rows keyed by content: the accumulator's own strings (copies of the
 * partitions' campaign, ad group, keyword and ASIN bytes), its own
 * placements (a cp_placement row per distinct triple of them), and one
 * ad_row per (day, placement, asin) of its ids, whole-period rows included.
 * Every figure is a sum: orders too, since an order never spans partitions
 * (a row's distinct orders in one partition are distinct from those of any
 * other).  `whole` is unused in these rows. */
struct cp_ads_acc {
    const cp_report_options *opt;
    cp_strings *str;
    cp_rowmap pl;   /* (campaign, ad_group, keyword) -> cp_placement */
    cp_rowmap rows; /* (day, placement, asin) -> ad_row */
    int64_t orders; /* distinct orders credited to any row, summed over partitions */
};

_Static_assert(sizeof(cp_placement) == 3 * sizeof(uint32_t), "cp_placement is its rowmap key");

cp_ads_acc *cp_ads_acc_new(const cp_report_options *opt) {
    cp_ads_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    a->str = cp_strings_new();
    if (!a->str) {
        free(a);
        return NULL;
    }
    cp_rowmap_init(&a->pl, sizeof(cp_placement), 3);
    cp_rowmap_init(&a->rows, sizeof(ad_row), 3);
    return a;
}

void cp_ads_acc_free(cp_ads_acc *a) {
    if (!a) return;
    cp_strings_free(a->str);
    cp_rowmap_free(&a->pl);
    cp_rowmap_free(&a->rows);
    free(a);
}

/* The accumulator's id of string `id` of a partition (its bytes copied). */
static cp_str copy_str(cp_ads_acc *a, const cp_strings *from, cp_str id, int *oom_flag) {
    size_t len;
    const char *p = cp_strings_get(from, id, &len);
    return cp_strings_intern(a->str, p, len, oom_flag);
}

/* A partition's ASIN id -> the accumulator's (a one-key rowmap row). */
typedef struct asin_map {
    cp_str part, acc;
} asin_map;

/* Adds rows t (placements pl, strings str: a partition's or another
 * accumulator's; t is not a->rows) to the accumulator's, keyed by content. */
static bool merge_rows(cp_ads_acc *a, const cp_strings *str, const cp_placement *pl, size_t n_pl,
                       const cp_rowmap *t) {
    uint32_t *pl_map = calloc(n_pl + 1, sizeof *pl_map); /* acc placement + 1, 0 = not yet */
    cp_rowmap am;
    cp_rowmap_init(&am, sizeof(asin_map), 1);
    bool ok = pl_map != NULL;
    int bad = 0;
    const ad_row *rows = t->rows;
    for (size_t i = 0; ok && i < t->n; i++) {
        const ad_row *x = &rows[i];
        uint32_t p = x->placement;
        if (!pl_map[p]) {
            cp_str c = copy_str(a, str, pl[p].campaign, &bad);
            cp_str g = copy_str(a, str, pl[p].ad_group, &bad);
            cp_str k = copy_str(a, str, pl[p].keyword, &bad);
            uint32_t q = bad ? CP_ROWMAP_OOM : cp_rowmap_get(&a->pl, c, g, k, NULL);
            if (q == CP_ROWMAP_OOM) { ok = false; break; }
            pl_map[p] = q + 1;
        }
        bool created;
        uint32_t m = cp_rowmap_get(&am, x->asin, 0, 0, &created);
        if (m == CP_ROWMAP_OOM) { ok = false; break; }
        asin_map *e = CP_ROWMAP_AT(&am, asin_map, m);
        if (created) {
            e->acc = copy_str(a, str, x->asin, &bad);
            if (bad) { ok = false; break; }
        }
        uint32_t j = cp_rowmap_get(&a->rows, (uint32_t)x->day, pl_map[p] - 1, e->acc, NULL);
        if (j == CP_ROWMAP_OOM) { ok = false; break; }
        ad_row *y = CP_ROWMAP_AT(&a->rows, ad_row, j);
        add_row(y, x);
        y->orders += x->orders;
    }
    cp_rowmap_free(&am);
    free(pl_map);
    return ok;
}

cp_result cp_ads_acc_add(cp_ads_acc *a, cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_tz *tz = a->opt->tz;
    size_t n = ev->n, n_pl;
    const cp_placement *pl = cp_run_placements(ctx->run, &n_pl);
    cp_rowmap t; /* (day, placement, asin) -> ad_row, this partition's ids */
    combo_table ct = {0};
    uint64_t *pairs = NULL, *orders = NULL;
    size_t n_pairs = 0, n_orders = 0, n_credited = 0;
    cp_result rc = CP_OK;
    ad_row *rows;

    cp_rowmap_init(&t, sizeof(ad_row), 3);
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PURCHASE); cp_rows_next(&r);)
        n_credited += ctx->ad_credit[cp_report_rank(ctx, r.i)] != CP_NONE;
    pairs = malloc((2 * n_credited + 1) * sizeof *pairs);
    orders = malloc((n_credited + 1) * sizeof *orders);
    cp_day_cache dc = {.tz = tz};
    if (!pairs || !orders) { rc = oom(err); goto out; }

    for (size_t i = 0; i < n; i++) {
        uint8_t ty = ev->type[i];
        if ((ty == CP_IMPRESSION || ty == CP_CLICK) && ev->placement[i] != CP_NONE) {
            /* daily rows only; whole-period rows are their sums (below) */
            uint32_t d;
            if (!rows_of(&t, &ct, cp_day_cache_get(&dc, ev->ts_ms[i]), ev->placement[i], ev->asin[i], &d)) {
                rc = oom(err);
                goto out;
            }
            bool valid = ctx->status[i] == CP_CLICK_VALID;
            int64_t cost = ev->money_micros[i];
            ad_row *r = CP_ROWMAP_AT(&t, ad_row, d);
            if (ty == CP_IMPRESSION) {
                /* R3.3: invalid impressions (bot, blocked_ip) are not counted;
                 * their cost is invalid_cost */
                if (valid) { r->impressions++; r->spend += cost; }
                else r->invalid_cost += cost;
            } else if (valid) {
                r->clicks++;
                r->spend += cost;
                if (cp_quality_landing(ctx, (uint32_t)i) == CP_NONE) r->bounced_clicks++; /* R3.4 */
            } else {
                r->invalid_clicks++;
                r->invalid_cost += cost;
            }
        } else if (ty == CP_PURCHASE) {
            uint32_t k = cp_report_rank(ctx, i), c = ctx->ad_credit[k];
            if (c == CP_NONE) continue;
            uint32_t d; /* R6.3: the click's day */
            if (!rows_of(&t, &ct, cp_tz_day(tz, ev->ts_ms[c]), ev->placement[c], ev->asin[c], &d)) {
                rc = oom(err);
                goto out;
            }
            ad_row *r = CP_ROWMAP_AT(&t, ad_row, d);
            uint32_t w = r->whole;
            r->units += ev->units[k];
            r->sales += ev->money_micros[i];
            if (ctx->ad_same_asin[k]) r->adv_sales += ev->money_micros[i];
            uint64_t ok = order_key(ev, k, (uint32_t)i);
            /* distinct (row, order) pairs; row < 2^31 and order key < 2^33 */
            pairs[n_pairs++] = (uint64_t)w << 33 | ok;
            pairs[n_pairs++] = (uint64_t)d << 33 | ok;
            orders[n_orders++] = ok;
        }
    }
    /* whole-period rows = the sums of their daily rows (orders excepted:
     * distinct, below).  The map is complete: its rows no longer move. */
    rows = t.rows;
    for (size_t i = 0; i < t.n; i++)
        if (rows[i].day != WHOLE) add_row(&rows[rows[i].whole], &rows[i]);
    qsort(pairs, n_pairs, sizeof *pairs, u64_cmp);
    for (size_t i = 0; i < n_pairs; i++)
        if (i == 0 || pairs[i] != pairs[i - 1]) rows[pairs[i] >> 33].orders++;
    qsort(orders, n_orders, sizeof *orders, u64_cmp);
    for (size_t i = 0; i < n_orders; i++)
        if (i == 0 || orders[i] != orders[i - 1]) a->orders++;
    if (!merge_rows(a, ctx->str, pl, n_pl, &t)) rc = oom(err);
out:
    cp_rowmap_free(&t);
    ct_free(&ct);
    free(pairs);
    free(orders);
    return rc;
}

/* ---- merge, save, load (partial.h) ----------------------------------------- */

cp_result cp_ads_acc_merge(cp_ads_acc *into, const cp_ads_acc *from, cp_error *err) {
    if (into == from) { /* from's partitions a second time: every sum doubles */
        for (size_t i = 0; i < into->rows.n; i++) {
            ad_row *y = CP_ROWMAP_AT(&into->rows, ad_row, i), x = *y;
            add_row(y, &x);
            y->orders += x.orders;
        }
        into->orders *= 2;
        return CP_OK;
    }
    /* rows keyed by content, as add() does: from's ids are its own */
    if (!merge_rows(into, from->str, from->pl.rows, from->pl.n, &from->rows)) return oom(err);
    into->orders += from->orders;
    return CP_OK;
}

/* The saved state (little-endian, util/bytes.h):
 *   u32 ADS_TAG, i64 orders,
 *   u32 n_pl, n_pl x (str campaign, str ad_group, str keyword),
 *   u32 n_rows, n_rows x (i32 day, u32 placement < n_pl, str asin,
 *     i64 impressions, clicks, invalid_clicks, bounced_clicks, spend,
 *     invalid_cost, orders, units, sales, adv_sales).
 * Placements and rows in their index order, so a load rebuilds the same
 * maps.  opt is not saved: load() is given the same one. */
#define ADS_TAG UINT32_C(0x31534441) /* "ADS1" */
#define PL_MIN_BYTES (3 * 4)
#define ROW_MIN_BYTES (3 * 4 + 10 * 8)
/* Counts a load accepts: far above any run, and low enough that emit's
 * clicks * 10^6 cannot overflow. */
#define COUNT_MAX (INT64_C(1) << 40)

static void put_sid(cp_bytes *out, const cp_strings *str, cp_str id) {
    size_t len;
    const char *p = cp_strings_get(str, id, &len);
    cp_bytes_str(out, p, len);
}

void cp_ads_acc_save(const cp_ads_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, ADS_TAG);
    cp_bytes_i64(out, a->orders);
    const cp_placement *pl = a->pl.rows;
    cp_bytes_u32(out, (uint32_t)a->pl.n);
    for (size_t i = 0; i < a->pl.n; i++) {
        put_sid(out, a->str, pl[i].campaign);
        put_sid(out, a->str, pl[i].ad_group);
        put_sid(out, a->str, pl[i].keyword);
    }
    const ad_row *rows = a->rows.rows;
    cp_bytes_u32(out, (uint32_t)a->rows.n);
    for (size_t i = 0; i < a->rows.n; i++) {
        const ad_row *r = &rows[i];
        cp_bytes_u32(out, (uint32_t)r->day);
        cp_bytes_u32(out, r->placement);
        put_sid(out, a->str, r->asin);
        const int64_t v[10] = {r->impressions, r->clicks, r->invalid_clicks, r->bounced_clicks, r->spend,
                               r->invalid_cost, r->orders, r->units, r->sales, r->adv_sales};
        for (size_t j = 0; j < 10; j++) cp_bytes_i64(out, v[j]);
    }
}

static cp_ads_acc *load_failed(cp_ads_acc *a, const cp_bytes_reader *in, const char *why, cp_error *err) {
    cp_ads_acc_free(a);
    if (!why) {
        oom(err);
        return NULL;
    }
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "damaged sponsored-ads state at byte %zu: %s", in->at, why);
    }
    return NULL;
}

static bool count_ok(int64_t v) { return v >= 0 && v <= COUNT_MAX; }

cp_ads_acc *cp_ads_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    cp_ads_acc *a = cp_ads_acc_new(opt);
    if (!a) {
        oom(err);
        return NULL;
    }
    if (cp_bytes_get_u32(in) != ADS_TAG || in->bad) return load_failed(a, in, "not a sponsored-ads state", err);
    a->orders = cp_bytes_get_i64(in);
    if (in->bad || !count_ok(a->orders)) return load_failed(a, in, "order count out of range", err);

    uint32_t n_pl = cp_bytes_get_u32(in);
    if (in->bad || n_pl > (in->n - in->at) / PL_MIN_BYTES)
        return load_failed(a, in, "placement count exceeds the data", err);
    for (uint32_t i = 0; i < n_pl; i++) {
        cp_str k[3];
        int no_mem = 0;
        for (int j = 0; j < 3; j++) {
            size_t len;
            const char *p = cp_bytes_get_str(in, &len);
            k[j] = cp_strings_intern(a->str, p, len, &no_mem);
        }
        if (in->bad) return load_failed(a, in, "truncated placement", err);
        bool created;
        uint32_t q = no_mem ? CP_ROWMAP_OOM : cp_rowmap_get(&a->pl, k[0], k[1], k[2], &created);
        if (q == CP_ROWMAP_OOM) return load_failed(a, in, NULL, err);
        if (!created) return load_failed(a, in, "a placement twice", err);
    }

    uint32_t n_rows = cp_bytes_get_u32(in);
    if (in->bad || n_rows > (in->n - in->at) / ROW_MIN_BYTES)
        return load_failed(a, in, "row count exceeds the data", err);
    ad_row tot = {0}; /* emit's sums of the whole-period rows must not overflow */
    for (uint32_t i = 0; i < n_rows; i++) {
        ad_row x = {0};
        x.day = (int32_t)cp_bytes_get_u32(in);
        x.placement = cp_bytes_get_u32(in);
        size_t len;
        const char *p = cp_bytes_get_str(in, &len);
        int64_t *const v[10] = {&x.impressions, &x.clicks, &x.invalid_clicks, &x.bounced_clicks, &x.spend,
                                &x.invalid_cost, &x.orders, &x.units, &x.sales, &x.adv_sales};
        for (size_t j = 0; j < 10; j++) *v[j] = cp_bytes_get_i64(in);
        if (in->bad) return load_failed(a, in, "truncated row", err);
        if (x.placement >= n_pl) return load_failed(a, in, "placement index out of range", err);
        if (!count_ok(x.impressions) || !count_ok(x.clicks) || !count_ok(x.invalid_clicks) ||
            !count_ok(x.bounced_clicks) || !count_ok(x.orders))
            return load_failed(a, in, "count out of range", err);
        if (x.day == WHOLE) {
            int64_t *const t[10] = {&tot.impressions, &tot.clicks, &tot.invalid_clicks, &tot.bounced_clicks,
                                    &tot.spend, &tot.invalid_cost, &tot.orders, &tot.units, &tot.sales,
                                    &tot.adv_sales};
            for (size_t j = 0; j < 10; j++)
                if (__builtin_add_overflow(*t[j], *v[j], t[j])) return load_failed(a, in, "sums overflow", err);
        }
        int no_mem = 0;
        x.asin = cp_strings_intern(a->str, p, len, &no_mem);
        bool created;
        uint32_t r = no_mem ? CP_ROWMAP_OOM : cp_rowmap_get(&a->rows, (uint32_t)x.day, x.placement, x.asin, &created);
        if (r == CP_ROWMAP_OOM) return load_failed(a, in, NULL, err);
        if (!created) return load_failed(a, in, "a row twice", err);
        *CP_ROWMAP_AT(&a->rows, ad_row, r) = x;
    }
    return a;
}

cp_result cp_ads_acc_emit(cp_ads_acc *a, cp_summary *sum, cp_error *err) {
    const cp_report_options *opt = a->opt;
    const cp_placement *pl = a->pl.rows;
    const ad_row *rows = a->rows.rows;
    size_t n_rows = a->rows.n;
    cp_table *tb = NULL;
    cp_result rc = CP_OK;
    ad_row tot = {0};

    /* the total = the sum of the whole-period rows, orders excepted
     * (distinct over the rows, counted at add) */
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i].day == WHOLE) add_row(&tot, &rows[i]);
    tot.orders = a->orders;

    uint32_t *idx = malloc((n_rows + 1) * sizeof *idx);
    if (!idx) return oom(err);
    for (size_t i = 0; i < n_rows; i++) idx[i] = (uint32_t)i;
    sort_ctx sc = {a->str, pl, rows};
    qsort_r(idx, n_rows, sizeof *idx, row_cmp, &sc);

    static const char *const cols[] = {
        "date", "campaign", "ad_group", "keyword", "asin", "impressions", "clicks",
        "invalid_clicks", "bounced_clicks", "spend", "invalid_cost", "ctr", "cpc", "cpm",
        "orders_7d", "units_7d", "sales_7d", "advertised_sales_7d", "acos", "roas", "cvr"};
    tb = cp_table_open(opt->out_dir, "ads", opt->format, cols, sizeof cols / sizeof *cols, err);
    if (!tb) { rc = err ? err->code : CP_EIO; goto out; }
    for (size_t k = 0; k < n_rows; k++) {
        const ad_row *r = &rows[idx[k]];
        if (r->day == WHOLE) cp_table_empty(tb);
        else cp_table_day(tb, r->day);
        cp_table_sid(tb, a->str, pl[r->placement].campaign);
        cp_table_sid(tb, a->str, pl[r->placement].ad_group);
        cp_table_sid(tb, a->str, pl[r->placement].keyword);
        cp_table_sid(tb, a->str, r->asin);
        cp_table_int(tb, r->impressions);
        cp_table_int(tb, r->clicks);
        cp_table_int(tb, r->invalid_clicks);
        cp_table_int(tb, r->bounced_clicks);
        cp_table_money(tb, r->spend);
        cp_table_money(tb, r->invalid_cost);
        /* R6.2 ratios; empty when the divisor is zero.  cpc = spend/clicks and
         * cpm = 1000 * spend / impressions in money units: spend is in micros,
         * so cpc = micros / (clicks * 10^6), cpm = micros / (impressions * 10^3). */
        cp_table_ratio(tb, r->clicks, r->impressions);
        cp_table_ratio(tb, r->spend, r->clicks * 1000000);
        cp_table_ratio(tb, r->spend, r->impressions * 1000);
        cp_table_int(tb, r->orders);
        cp_table_int(tb, r->units);
        cp_table_money(tb, r->sales);
        cp_table_money(tb, r->adv_sales);
        cp_table_ratio(tb, r->spend, r->sales);
        cp_table_ratio(tb, r->sales, r->spend);
        cp_table_ratio(tb, r->orders, r->clicks);
        cp_table_end_row(tb);
    }
    rc = cp_table_close(tb, err);
    tb = NULL;
    if (rc) goto out;

    cp_summary_begin(sum, "ads");
    cp_summary_int(sum, "impressions", tot.impressions);
    cp_summary_int(sum, "clicks", tot.clicks);
    cp_summary_int(sum, "invalid_clicks", tot.invalid_clicks);
    cp_summary_int(sum, "bounced_clicks", tot.bounced_clicks);
    cp_summary_money(sum, "spend", tot.spend);
    cp_summary_money(sum, "invalid_cost", tot.invalid_cost);
    cp_summary_int(sum, "orders_7d", tot.orders);
    cp_summary_int(sum, "units_7d", tot.units);
    cp_summary_money(sum, "sales_7d", tot.sales);
    cp_summary_money(sum, "advertised_sales_7d", tot.adv_sales);
    cp_summary_ratio(sum, "acos", tot.spend, tot.sales);
    cp_summary_ratio(sum, "roas", tot.sales, tot.spend);
    cp_summary_end(sum);
    {
        char sp[48], sa[48], ac[48];
        cp_fmt_money(sp, tot.spend);
        cp_fmt_money(sa, tot.sales);
        if (!cp_fmt_ratio(ac, tot.spend, tot.sales)) snprintf(ac, sizeof ac, "n/a");
        cp_summary_human(sum,
                         "Sponsored ads: %lld valid clicks (%lld invalid), spend %s, %lld orders and "
                         "sales %s credited within %lld days of a click (R6), ACoS %s",
                         (long long)tot.clicks, (long long)tot.invalid_clicks, sp, (long long)tot.orders,
                         sa, (long long)(opt->ads_window_ms / 86400000), ac);
    }
out:
    if (tb) cp_table_close(tb, NULL);
    free(idx);
    return rc;
}

cp_result cp_ads_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_ads_acc *a = cp_ads_acc_new(ctx->opt);
    if (!a) return oom(err);
    cp_result rc = cp_ads_acc_add(a, ctx, err);
    if (rc == CP_OK) rc = cp_ads_acc_emit(a, sum, err);
    cp_ads_acc_free(a);
    return rc;
}

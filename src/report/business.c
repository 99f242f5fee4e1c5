/* business.c -- the business report (SPEC R4.4, R8): business_asin.csv and
 * business_daily.csv, and the "business" summary.
 *
 * business_asin: per (day, ASIN) and per ASIN for the whole period
 *   sessions by source  R4.4: a session counts once per ASIN it viewed, with
 *                       the session's source, on the day of the session's
 *                       first page view of that ASIN;
 *   page views by source  the page view's own source (R4.3), its own day;
 *   add_to_carts, units_ordered, ordered_sales, order_items (purchase lines),
 *   units_returned, refunds: each event on its own day (R8);
 *   session_pct = ASIN sessions / account sessions of the same day (all
 *   sessions for the whole period); unit_session_pct = units / sessions.
 * business_daily: per day and whole period
 *   sessions by source, dated by the session's start (R4.4); page views by
 *   source; bounced_clicks: valid sponsored and off-site clicks with no loaded
 *   page view (R3.4) on the click's day; units and sales of purchase lines on
 *   their own day; orders: an order counts once, on the day of its first
 *   purchase line (as R10.6 dates an order), so the days add up to the
 *   whole-period figure.
 * Rows exist only for keys with some non-zero figure; whole-period rows come
 * first, then days, each sorted by date then ASIN bytes (R8).
 *
 * In two halves (partial.h): cp_business_acc_add() adds a partition's
 * figures into rows keyed by (day, ASIN bytes) and by day; every figure is
 * an integer sum and every session and order lies in one partition, so the
 * sums are those of the whole run.  cp_business_acc_emit() makes the
 * whole-period rows and the ratios and writes the files.
 * cp_business_write() is new + add + emit + free over one context.
 * cp_business_acc_merge() adds another accumulator's rows into these by
 * content; save() and load() carry the rows and their ASIN bytes between
 * processes.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "quality/quality.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/daycache.h"
#include "util/rowmap.h"
#include "util/rowmask.h"
#include "util/strings.h"
#include "util/values.h"

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the business report");
    }
    return CP_ENOMEM;
}

typedef struct asin_row {
    int32_t day;      /* INT32_MIN for the whole period */
    cp_str asin;
    int64_t sessions[CP_N_SOURCES];
    int64_t page_views[CP_N_SOURCES];
    int64_t add_to_carts, units, sales_micros, order_items, units_returned, refunds_micros;
} asin_row;

typedef struct day_row {
    int64_t sessions[CP_N_SOURCES];
    int64_t page_views[CP_N_SOURCES];
    int64_t bounced_clicks, units, sales_micros, orders;
} day_row;

/* (day, asin), the key at the head of an asin_row (rowmap.h) */
_Static_assert(offsetof(asin_row, sessions) == 2 * sizeof(uint32_t), "asin_row begins with its rowmap key");

/* The row of (day, asin), created zeroed when missing; NULL when out of
 * memory (t->oom set). */
static asin_row *table_get(cp_rowmap *t, int32_t day, cp_str asin) {
    uint32_t i = cp_rowmap_get(t, (uint32_t)day, asin, 0, NULL);
    return i == CP_ROWMAP_OOM ? NULL : CP_ROWMAP_AT(t, asin_row, i);
}

typedef struct str_key {
    const char *p;
    size_t len;
    cp_str id;
} str_key;

static int str_key_cmp(const void *a, const void *b) {
    const str_key *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, m);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

typedef struct sort_key {
    uint64_t key;
    uint32_t row;
} sort_key;

static int sort_key_cmp(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* a + b wrapping around instead of overflowing: the same as + for any real
 * figures, and no undefined behaviour when a damaged save that load()
 * could not tell from a real one is merged or emitted. */
static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* The three sources added up. */
static int64_t sum3(const int64_t v[CP_N_SOURCES]) { return wadd(wadd(v[0], v[1]), v[2]); }

static void write_asin_row(cp_table *t, const cp_strings *str, const asin_row *r,
                           int64_t account_sessions) {
    if (r->day == INT32_MIN) cp_table_empty(t);
    else cp_table_day(t, r->day);
    cp_table_sid(t, str, r->asin);
    int64_t s = sum3(r->sessions);
    int64_t pv = sum3(r->page_views);
    cp_table_int(t, s);
    for (int k = 0; k < CP_N_SOURCES; k++) cp_table_int(t, r->sessions[k]);
    cp_table_ratio(t, s, account_sessions);
    cp_table_int(t, pv);
    for (int k = 0; k < CP_N_SOURCES; k++) cp_table_int(t, r->page_views[k]);
    cp_table_int(t, r->add_to_carts);
    cp_table_int(t, r->units);
    cp_table_money(t, r->sales_micros);
    cp_table_int(t, r->order_items);
    cp_table_ratio(t, r->units, s);
    cp_table_int(t, r->units_returned);
    cp_table_money(t, r->refunds_micros);
    cp_table_end_row(t);
}

static void write_day_row(cp_table *t, int32_t day, bool whole, const day_row *d) {
    if (whole) cp_table_empty(t);
    else cp_table_day(t, day);
    cp_table_int(t, sum3(d->sessions));
    for (int k = 0; k < CP_N_SOURCES; k++) cp_table_int(t, d->sessions[k]);
    cp_table_int(t, sum3(d->page_views));
    for (int k = 0; k < CP_N_SOURCES; k++) cp_table_int(t, d->page_views[k]);
    cp_table_int(t, d->bounced_clicks);
    cp_table_int(t, d->units);
    cp_table_money(t, d->sales_micros);
    cp_table_int(t, d->orders);
    cp_table_end_row(t);
}

static bool day_row_nonzero(const day_row *d) {
    for (int k = 0; k < CP_N_SOURCES; k++)
        if (d->sessions[k] || d->page_views[k]) return true;
    return d->bounced_clicks || d->units || d->sales_micros || d->orders;
}

static void day_row_add(day_row *a, const day_row *b) {
    for (int k = 0; k < CP_N_SOURCES; k++) {
        a->sessions[k] = wadd(a->sessions[k], b->sessions[k]);
        a->page_views[k] = wadd(a->page_views[k], b->page_views[k]);
    }
    a->bounced_clicks = wadd(a->bounced_clicks, b->bounced_clicks);
    a->units = wadd(a->units, b->units);
    a->sales_micros = wadd(a->sales_micros, b->sales_micros);
    a->orders = wadd(a->orders, b->orders);
}

static void asin_row_add(asin_row *a, const asin_row *b) {
    for (int k = 0; k < CP_N_SOURCES; k++) {
        a->sessions[k] = wadd(a->sessions[k], b->sessions[k]);
        a->page_views[k] = wadd(a->page_views[k], b->page_views[k]);
    }
    a->add_to_carts = wadd(a->add_to_carts, b->add_to_carts);
    a->units = wadd(a->units, b->units);
    a->sales_micros = wadd(a->sales_micros, b->sales_micros);
    a->order_items = wadd(a->order_items, b->order_items);
    a->units_returned = wadd(a->units_returned, b->units_returned);
    a->refunds_micros = wadd(a->refunds_micros, b->refunds_micros);
}

/* ---- the accumulator (partial.h) ----------------------------------------
 * Rows keyed by content: ASINs are interned into the accumulator's own
 * string table (ids 1..n in first-seen order, which no output depends on),
 * days are report days of opt->tz, the same in every partition.  Every
 * figure is an integer sum, so partitions add in any order; ratios and the
 * whole-period rows are made at emit. */
typedef struct day_entry {
    int32_t day; /* the rowmap key */
    day_row d;
} day_entry;

_Static_assert(offsetof(day_entry, day) == 0, "day_entry begins with its rowmap key");

struct cp_business_acc {
    const cp_report_options *opt;
    cp_strings *asins; /* ASIN bytes; asin_row.asin ids are ids here */
    cp_rowmap at;      /* (day, asin) -> asin_row */
    cp_rowmap days;    /* day -> day_entry */
};

cp_business_acc *cp_business_acc_new(const cp_report_options *opt) {
    cp_business_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    a->asins = cp_strings_new();
    if (!a->asins) {
        free(a);
        return NULL;
    }
    cp_rowmap_init(&a->at, sizeof(asin_row), 2);
    cp_rowmap_init(&a->days, sizeof(day_entry), 1);
    return a;
}

void cp_business_acc_free(cp_business_acc *a) {
    if (!a) return;
    cp_strings_free(a->asins);
    cp_rowmap_free(&a->at);
    cp_rowmap_free(&a->days);
    free(a);
}

/* The day row of `day`, created zeroed when missing; NULL when out of memory. */
static day_row *day_get(cp_rowmap *m, int32_t day) {
    uint32_t i = cp_rowmap_get(m, (uint32_t)day, 0, 0, NULL);
    return i == CP_ROWMAP_OOM ? NULL : &CP_ROWMAP_AT(m, day_entry, i)->d;
}

/* The accumulator's id of the partition's string `id`, interned on first
 * use (ids[] maps partition ids, CP_NONE = not yet); CP_NONE when out of
 * memory.  CP_STR_NONE (no ASIN) stays CP_STR_NONE. */
static uint32_t acc_asin(cp_business_acc *a, const cp_strings *str, uint32_t *ids, cp_str id) {
    if (ids[id] != CP_NONE) return ids[id];
    size_t len = 0;
    const char *p = cp_strings_get(str, id, &len);
    int oom_flag = 0;
    cp_str k = cp_strings_intern(a->asins, p, len, &oom_flag);
    if (oom_flag) return CP_NONE;
    ids[id] = k;
    return k;
}

cp_result cp_business_acc_add(cp_business_acc *a, cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_strings *str = ctx->str;
    const cp_tz *tz = a->opt->tz;
    size_t n = ev->n;
    uint32_t n_str = cp_strings_count(str);
    cp_result rc = CP_OK;
    uint32_t *ids = malloc(((size_t)n_str + 1) * sizeof *ids); /* partition id -> ours */
    uint64_t *seen = NULL; /* (session, asin) pairs met, open addressing */
    size_t n_slots = 0;
    if (!ids) { rc = oom(err); goto done; }
    for (size_t s = 0; s <= n_str; s++) ids[s] = CP_NONE;

    cp_day_cache dc = {.tz = tz}; /* the passes below go in time order */
#define DAY_OF(ts) (cp_day_cache_get(&dc, (ts)))
#define ASIN_ROW(r, day, asin)                                                          \
    do {                                                                                \
        uint32_t k_ = acc_asin(a, str, ids, (asin));                                    \
        (r) = k_ == CP_NONE ? NULL : table_get(&a->at, (day), k_);                      \
        if (!(r)) { rc = oom(err); goto done; }                                         \
    } while (0)
#define DAY_ROW(d, day)                                                                 \
    do {                                                                                \
        (d) = day_get(&a->days, (day));                                                 \
        if (!(d)) { rc = oom(err); goto done; }                                         \
    } while (0)

    /* Sessions and ASIN sessions (R4.4), page views: the loaded page views
     * in row order (sequential reads of the columns).  A session's page
     * views come in time order, so the first one met of an ASIN in a
     * session is that session's first page view of it: a set of (session,
     * asin) pairs says which.  A session counts on the day of its first
     * page view. */
    {
        size_t n_pv = 0;
        for (uint32_t s = 0; s < ctx->n_sessions; s++) n_pv += ctx->sessions[s].n_page_views;
        n_slots = 16;
        while (n_slots < 2 * n_pv) n_slots *= 2;
        seen = calloc(n_slots, sizeof *seen);
        if (!seen) { rc = oom(err); goto done; }
        for (cp_rows rows = cp_rows_of(ev->type, n, CP_PAGE_VIEW); cp_rows_next(&rows);) {
            size_t i = rows.i;
            uint32_t k = cp_report_rank(ctx, i);
            uint32_t s = ctx->session_of[k];
            if (s == CP_NONE) continue; /* not loaded (R4.1) */
            const cp_session *se = &ctx->sessions[s];
            cp_str asin = ev->asin[i];
            int32_t day = DAY_OF(ev->ts_ms[i]);
            day_row *d;
            DAY_ROW(d, day);
            if (se->first_pv == i) d->sessions[se->source]++;
            d->page_views[ctx->pv_source[k]]++;
            asin_row *r;
            ASIN_ROW(r, day, asin);
            r->page_views[ctx->pv_source[k]]++;
            /* (session + 1, asin): never 0, the empty slot */
            uint64_t key = ((uint64_t)s + 1) << 32 | asin;
            size_t h = (size_t)cp_hash_u64(key) & (n_slots - 1);
            while (seen[h] && seen[h] != key) h = (h + 1) & (n_slots - 1);
            if (!seen[h]) {
                /* First page view of this ASIN in this session. */
                seen[h] = key;
                r->sessions[se->source]++;
            }
        }
    }

    /* Carts, purchases, returns on their own day; bounced clicks on the
     * click's day (R3.4). */
    for (cp_rows rows = cp_rows_not(ev->type, n, CP_IMPRESSION); cp_rows_next(&rows);) {
        size_t i = rows.i;
        uint8_t ty = ev->type[i];
        if (ty == CP_CLICK) {
            if (ctx->status[i] == CP_CLICK_VALID && cp_quality_landing(ctx, (uint32_t)i) == CP_NONE) {
                day_row *d;
                DAY_ROW(d, DAY_OF(ev->ts_ms[i]));
                d->bounced_clicks++;
            }
            continue;
        }
        if (ty != CP_ADD_TO_CART && ty != CP_PURCHASE && ty != CP_RETURN) continue;
        int32_t day = DAY_OF(ev->ts_ms[i]);
        if (ty == CP_PURCHASE) {
            day_row *d;
            DAY_ROW(d, day);
            d->units += ev->units[rows.k];
            d->sales_micros += ev->money_micros[i];
        }
        asin_row *r;
        ASIN_ROW(r, day, ev->asin[i]);
        if (ty == CP_ADD_TO_CART) {
            r->add_to_carts++;
        } else if (ty == CP_PURCHASE) {
            r->units += ev->units[rows.k];
            r->sales_micros += ev->money_micros[i];
            r->order_items++;
        } else {
            r->units_returned += ev->units[rows.k];
            r->refunds_micros += ev->money_micros[i];
        }
    }
    {
        /* An order lies in one partition only, so counts add up. */
        size_t n_orders = 0;
        const cp_order *ords = cp_run_orders(ctx->run, &n_orders);
        for (size_t o = 0; o < n_orders; o++)
            if (ords[o].first_ts_ms != INT64_MAX) {
                day_row *d;
                DAY_ROW(d, DAY_OF(ords[o].first_ts_ms));
                d->orders++;
            }
    }
#undef DAY_OF
#undef ASIN_ROW
#undef DAY_ROW
done:
    free(seen);
    free(ids);
    return rc;
}

/* Sort key of a signed day: its order as an unsigned number. */
static uint64_t day_key(int32_t day) { return (uint64_t)((uint32_t)day ^ UINT32_C(0x80000000)); }

cp_result cp_business_acc_emit(cp_business_acc *a, cp_summary *sum, cp_error *err) {
    static const char *const asin_cols[] = {
        "date", "asin", "sessions", "sessions_sponsored", "sessions_external",
        "sessions_organic", "session_pct", "page_views", "page_views_sponsored",
        "page_views_external", "page_views_organic", "add_to_carts", "units_ordered",
        "ordered_sales", "order_items", "unit_session_pct", "units_returned", "refunds"};
    static const char *const daily_cols[] = {
        "date", "sessions", "sessions_sponsored", "sessions_external", "sessions_organic",
        "page_views", "page_views_sponsored", "page_views_external", "page_views_organic",
        "bounced_clicks", "units", "sales", "orders"};
    const cp_report_options *opt = a->opt;
    const cp_strings *str = a->asins;
    uint32_t n_str = cp_strings_count(str);
    const asin_row *arows = a->at.rows;
    const day_entry *drows = a->days.rows;
    size_t n_rows = a->at.n, n_day_rows = a->days.n;
    cp_result rc = CP_OK;

    asin_row *whole = NULL;
    str_key *asins = NULL;
    sort_key *order = NULL, *dorder = NULL;
    uint32_t *rank = malloc(((size_t)n_str + 1) * sizeof *rank);
    cp_table *t = NULL;
    if (!rank) { rc = oom(err); goto done; }
    for (size_t s = 0; s <= n_str; s++) rank[s] = CP_NONE;

    /* Whole-period rows per ASIN = sums of its day rows (every figure is
     * dated exactly once).  ASINs with a row, sorted by bytes. */
    size_t n_asins = 0;
    for (size_t r = 0; r < n_rows; r++)
        if (rank[arows[r].asin] == CP_NONE) {
            rank[arows[r].asin] = 0; /* "seen" mark */
            n_asins++;
        }
    asins = malloc((n_asins ? n_asins : 1) * sizeof *asins);
    whole = calloc(n_asins ? n_asins : 1, sizeof *whole);
    order = malloc((n_rows ? n_rows : 1) * sizeof *order);
    dorder = malloc((n_day_rows ? n_day_rows : 1) * sizeof *dorder);
    if (!asins || !whole || !order || !dorder) { rc = oom(err); goto done; }
    {
        size_t k = 0;
        for (size_t s = 0; s <= n_str; s++)
            if (rank[s] == 0) {
                asins[k].p = cp_strings_get(str, (cp_str)s, &asins[k].len);
                asins[k].id = (cp_str)s;
                k++;
            }
    }
    qsort(asins, n_asins, sizeof *asins, str_key_cmp);
    for (size_t k = 0; k < n_asins; k++) {
        rank[asins[k].id] = (uint32_t)k;
        whole[k].day = INT32_MIN;
        whole[k].asin = asins[k].id;
    }
    for (size_t r = 0; r < n_rows; r++) {
        asin_row_add(&whole[rank[arows[r].asin]], &arows[r]);
        order[r].key = day_key(arows[r].day) << 32 | rank[arows[r].asin];
        order[r].row = (uint32_t)r;
    }
    qsort(order, n_rows, sizeof *order, sort_key_cmp);

    /* Days in date order; the account total is their sum. */
    day_row total = {0};
    for (size_t r = 0; r < n_day_rows; r++) {
        day_row_add(&total, &drows[r].d);
        dorder[r].key = day_key(drows[r].day);
        dorder[r].row = (uint32_t)r;
    }
    qsort(dorder, n_day_rows, sizeof *dorder, sort_key_cmp);
    int64_t all_sessions = sum3(total.sessions);

    t = cp_table_open(opt->out_dir, "business_asin", opt->format, asin_cols,
                      sizeof asin_cols / sizeof asin_cols[0], err);
    if (!t) { rc = err ? err->code : CP_EIO; goto done; }
    for (size_t k = 0; k < n_asins; k++) write_asin_row(t, str, &whole[k], all_sessions);
    {
        size_t j = 0; /* the day of row k in dorder, or past it: no sessions that day */
        for (size_t k = 0; k < n_rows; k++) {
            const asin_row *r = &arows[order[k].row];
            while (j < n_day_rows && drows[dorder[j].row].day < r->day) j++;
            int64_t day_sessions = 0;
            if (j < n_day_rows && drows[dorder[j].row].day == r->day) {
                const day_row *d = &drows[dorder[j].row].d;
                day_sessions = sum3(d->sessions);
            }
            write_asin_row(t, str, r, day_sessions);
        }
    }
    rc = cp_table_close(t, err);
    t = NULL;
    if (rc != CP_OK) goto done;

    t = cp_table_open(opt->out_dir, "business_daily", opt->format, daily_cols,
                      sizeof daily_cols / sizeof daily_cols[0], err);
    if (!t) { rc = err ? err->code : CP_EIO; goto done; }
    write_day_row(t, 0, true, &total);
    for (size_t k = 0; k < n_day_rows; k++) {
        const day_entry *e = &drows[dorder[k].row];
        if (day_row_nonzero(&e->d)) write_day_row(t, e->day, false, &e->d);
    }
    rc = cp_table_close(t, err);
    t = NULL;
    if (rc != CP_OK) goto done;

    {
        int64_t pv = sum3(total.page_views);
        cp_summary_begin(sum, "business");
        cp_summary_int(sum, "sessions", all_sessions);
        cp_summary_int(sum, "sessions_sponsored", total.sessions[CP_SRC_SPONSORED]);
        cp_summary_int(sum, "sessions_external", total.sessions[CP_SRC_EXTERNAL]);
        cp_summary_int(sum, "sessions_organic", total.sessions[CP_SRC_ORGANIC]);
        cp_summary_int(sum, "page_views", pv);
        cp_summary_int(sum, "bounced_clicks", total.bounced_clicks);
        cp_summary_int(sum, "units", total.units);
        cp_summary_money(sum, "sales", total.sales_micros);
        cp_summary_int(sum, "orders", total.orders);
        cp_summary_int(sum, "asins", (int64_t)n_asins);
        cp_summary_end(sum);
        char money[48];
        cp_fmt_money(money, total.sales_micros);
        cp_summary_human(sum, "sessions: %lld (sponsored %lld, external %lld, organic %lld), "
                              "page views %lld",
                         (long long)all_sessions, (long long)total.sessions[CP_SRC_SPONSORED],
                         (long long)total.sessions[CP_SRC_EXTERNAL],
                         (long long)total.sessions[CP_SRC_ORGANIC], (long long)pv);
        cp_summary_human(sum, "orders: %lld, units %lld, sales %s", (long long)total.orders,
                         (long long)total.units, money);
    }
done:
    if (t) cp_table_close(t, NULL);
    free(whole);
    free(asins);
    free(order);
    free(dorder);
    free(rank);
    return rc;
}

/* ---- merge, save, load (partial.h) ---------------------------------------
 * Nothing is captured at the first add() (opt, hence the time zone, comes
 * with new()), so an accumulator that never had one is just empty rows.
 * Rows of `from` are keyed into `into` by (day, ASIN bytes) and by day and
 * their figures added: the sums of having added from's partitions too. */
cp_result cp_business_acc_merge(cp_business_acc *into, const cp_business_acc *from, cp_error *err) {
    /* Counts, ids and rows are read again after every get: `into` may be
     * `from`, whose arrays then move as they grow. */
    uint32_t n_str = cp_strings_count(from->asins);
    size_t n_rows = from->at.n, n_days = from->days.n;
    uint32_t *ids = malloc(((size_t)n_str + 1) * sizeof *ids); /* from's id -> into's */
    if (!ids) return oom(err);
    for (size_t s = 0; s <= n_str; s++) ids[s] = CP_NONE;
    cp_result rc = CP_OK;
    for (size_t r = 0; r < n_rows; r++) {
        asin_row src = *CP_ROWMAP_AT(&from->at, asin_row, r);
        uint32_t k = acc_asin(into, from->asins, ids, src.asin);
        asin_row *dst = k == CP_NONE ? NULL : table_get(&into->at, src.day, k);
        if (!dst) { rc = oom(err); goto done; }
        asin_row_add(dst, &src);
    }
    for (size_t r = 0; r < n_days; r++) {
        day_entry src = *CP_ROWMAP_AT(&from->days, day_entry, r);
        day_row *dst = day_get(&into->days, src.day);
        if (!dst) { rc = oom(err); goto done; }
        day_row_add(dst, &src.d);
    }
done:
    free(ids);
    return rc;
}

/* The saved state, all numbers little-endian:
 *   u32 BUSINESS_MAGIC
 *   u32 n_str, then n_str strings: the ASINs of ids 1..n_str
 *   u64 n_rows, then per (day, ASIN) row: u32 day (as uint32), u32 ASIN id
 *       (0 = no ASIN), i64 sessions[3], page_views[3], add_to_carts, units,
 *       sales_micros, order_items, units_returned, refunds_micros
 *   u64 n_days, then per day row: u32 day, i64 sessions[3], page_views[3],
 *       bounced_clicks, units, sales_micros, orders
 * Rows in the accumulator's order (which no output depends on). */
#define BUSINESS_MAGIC UINT32_C(0x31535542) /* "BUS1" */
#define ASIN_ROW_BYTES (2 * 4 + 12 * 8)
#define DAY_ROW_BYTES (4 + 10 * 8)

void cp_business_acc_save(const cp_business_acc *a, cp_bytes *out) {
    uint32_t n_str = cp_strings_count(a->asins);
    cp_bytes_u32(out, BUSINESS_MAGIC);
    cp_bytes_u32(out, n_str);
    for (uint32_t s = 1; s <= n_str; s++) {
        size_t len = 0;
        const char *p = cp_strings_get(a->asins, (cp_str)s, &len);
        cp_bytes_str(out, p, len);
    }
    cp_bytes_u64(out, a->at.n);
    for (size_t r = 0; r < a->at.n; r++) {
        const asin_row *w = CP_ROWMAP_AT(&a->at, asin_row, r);
        cp_bytes_u32(out, (uint32_t)w->day);
        cp_bytes_u32(out, w->asin);
        for (int k = 0; k < CP_N_SOURCES; k++) cp_bytes_i64(out, w->sessions[k]);
        for (int k = 0; k < CP_N_SOURCES; k++) cp_bytes_i64(out, w->page_views[k]);
        cp_bytes_i64(out, w->add_to_carts);
        cp_bytes_i64(out, w->units);
        cp_bytes_i64(out, w->sales_micros);
        cp_bytes_i64(out, w->order_items);
        cp_bytes_i64(out, w->units_returned);
        cp_bytes_i64(out, w->refunds_micros);
    }
    cp_bytes_u64(out, a->days.n);
    for (size_t r = 0; r < a->days.n; r++) {
        const day_entry *e = CP_ROWMAP_AT(&a->days, day_entry, r);
        cp_bytes_u32(out, (uint32_t)e->day);
        for (int k = 0; k < CP_N_SOURCES; k++) cp_bytes_i64(out, e->d.sessions[k]);
        for (int k = 0; k < CP_N_SOURCES; k++) cp_bytes_i64(out, e->d.page_views[k]);
        cp_bytes_i64(out, e->d.bounced_clicks);
        cp_bytes_i64(out, e->d.units);
        cp_bytes_i64(out, e->d.sales_micros);
        cp_bytes_i64(out, e->d.orders);
    }
}

static cp_result damaged(cp_error *err, const char *what) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "damaged business report state: %s", what);
    }
    return CP_EFORMAT;
}

/* A count of records of at least `min_bytes` each that the rest of the
 * buffer can hold (bad set otherwise). */
static size_t get_count(cp_bytes_reader *in, bool wide, size_t min_bytes) {
    uint64_t n = wide ? cp_bytes_get_u64(in) : cp_bytes_get_u32(in);
    if (in->bad || n > (in->n - in->at) / min_bytes) {
        in->bad = true;
        return 0;
    }
    return (size_t)n;
}

cp_business_acc *cp_business_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    const char *why = NULL;
    uint32_t *ids = NULL;
    cp_business_acc *a = cp_business_acc_new(opt);
    if (!a) goto nomem;
    if (cp_bytes_get_u32(in) != BUSINESS_MAGIC) { why = "not a business report state"; goto bad; }
    size_t n_str = get_count(in, false, 4);
    if (in->bad) { why = "more ASINs than bytes"; goto bad; }
    ids = malloc((n_str + 1) * sizeof *ids); /* saved id -> ours */
    if (!ids) goto nomem;
    ids[0] = CP_STR_NONE;
    for (size_t s = 1; s <= n_str; s++) {
        size_t len = 0;
        const char *p = cp_bytes_get_str(in, &len);
        if (in->bad) { why = "truncated ASIN"; goto bad; }
        int oom_flag = 0;
        ids[s] = cp_strings_intern(a->asins, p, len, &oom_flag);
        if (oom_flag) goto nomem;
    }
    size_t n_rows = get_count(in, true, ASIN_ROW_BYTES);
    if (in->bad) { why = "more ASIN rows than bytes"; goto bad; }
    for (size_t r = 0; r < n_rows; r++) {
        asin_row w = {0};
        w.day = (int32_t)cp_bytes_get_u32(in);
        uint32_t id = cp_bytes_get_u32(in);
        for (int k = 0; k < CP_N_SOURCES; k++) w.sessions[k] = cp_bytes_get_i64(in);
        for (int k = 0; k < CP_N_SOURCES; k++) w.page_views[k] = cp_bytes_get_i64(in);
        w.add_to_carts = cp_bytes_get_i64(in);
        w.units = cp_bytes_get_i64(in);
        w.sales_micros = cp_bytes_get_i64(in);
        w.order_items = cp_bytes_get_i64(in);
        w.units_returned = cp_bytes_get_i64(in);
        w.refunds_micros = cp_bytes_get_i64(in);
        if (in->bad) { why = "truncated ASIN row"; goto bad; }
        if (id > n_str) { why = "ASIN row of an unknown ASIN"; goto bad; }
        if (w.day == INT32_MIN) { why = "ASIN row of no day"; goto bad; }
        bool neg = w.add_to_carts < 0 || w.order_items < 0;
        for (int k = 0; k < CP_N_SOURCES; k++) neg |= w.sessions[k] < 0 || w.page_views[k] < 0;
        if (neg) { why = "negative count in an ASIN row"; goto bad; }
        asin_row *dst = table_get(&a->at, w.day, ids[id]);
        if (!dst) goto nomem;
        asin_row_add(dst, &w);
    }
    size_t n_days = get_count(in, true, DAY_ROW_BYTES);
    if (in->bad) { why = "more day rows than bytes"; goto bad; }
    for (size_t r = 0; r < n_days; r++) {
        int32_t day = (int32_t)cp_bytes_get_u32(in);
        day_row d = {0};
        for (int k = 0; k < CP_N_SOURCES; k++) d.sessions[k] = cp_bytes_get_i64(in);
        for (int k = 0; k < CP_N_SOURCES; k++) d.page_views[k] = cp_bytes_get_i64(in);
        d.bounced_clicks = cp_bytes_get_i64(in);
        d.units = cp_bytes_get_i64(in);
        d.sales_micros = cp_bytes_get_i64(in);
        d.orders = cp_bytes_get_i64(in);
        if (in->bad) { why = "truncated day row"; goto bad; }
        bool neg = d.bounced_clicks < 0 || d.orders < 0;
        for (int k = 0; k < CP_N_SOURCES; k++) neg |= d.sessions[k] < 0 || d.page_views[k] < 0;
        if (neg) { why = "negative count in a day row"; goto bad; }
        day_row *dst = day_get(&a->days, day);
        if (!dst) goto nomem;
        day_row_add(dst, &d);
    }
    free(ids);
    return a;
nomem:
    oom(err);
    goto fail;
bad:
    in->bad = true;
    damaged(err, why);
fail:
    free(ids);
    cp_business_acc_free(a);
    return NULL;
}

cp_result cp_business_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_business_acc *a = cp_business_acc_new(ctx->opt);
    if (!a) return oom(err);
    cp_result rc = cp_business_acc_add(a, ctx, err);
    if (rc == CP_OK) rc = cp_business_acc_emit(a, sum, err);
    cp_business_acc_free(a);
    return rc;
}

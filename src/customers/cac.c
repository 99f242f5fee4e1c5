/* cac.c -- customer acquisition cost (SPEC R10.4, R8 cac.csv).
 *
 * Spend: the cost of valid impressions and clicks (R3.3: ctx->status == 0)
 * at or before as-of.  A sponsored impression or click costs its placement's
 * campaign; an off-site click costs its tag's registry campaign and channel
 * (R5.1 registry, opt->tags_path; a tag not in the registry has no campaign
 * or channel, so its cost is in no row).
 * New customers: customers (R10.1) whose first purchase line is credited to
 * it: by R6 (ctx->ad_credit) to a sponsored click of the campaign, by R7
 * (ctx->offsite_credit) to an off-site click of a tag of the campaign or
 * channel.  cac = spend / new_customers, written as a ratio (six decimals,
 * half to even); empty when there is no new customer.
 * Rows: sponsored campaigns, the sponsored channel (key `sponsored`, all
 * sponsored campaigns together), external campaigns, external channels; keys
 * by bytes.  A campaign or channel gets a row when it has an impression or
 * click at or before as-of (valid or not) or a new customer.  External
 * campaign rows are keyed by the registry's campaign name alone (two
 * channels using one campaign name share the row).
 *
 * In halves (report/partial.h): add() sums one partition into one row per
 * sponsored campaign, keyed by the campaign's bytes in the accumulator's own
 * string table (placements are partition-local), and one row per pair of
 * registry campaign and channel, keyed by their bytes (the registry is the
 * same file for every partition, loaded at the first add() to find the
 * tags); emit() rolls the pairs up by campaign and by channel and writes
 * the file.  Sums of integers, so any partitioning gives the same bytes.
 * A row exists only for what has an impression, a click or a new customer,
 * so a pair with a row has its campaign and channel rows in the file.
 *
 * merge() adds the other accumulator's rows, by bytes; save() writes the
 * rows and whether the registry was read (then emit() needs not read it
 * again), load() reads them back, checking every row, that new-customer
 * counts are not negative and that no key comes twice.  Sums that overflow
 * (only damaged saved states can make them) are CP_EFORMAT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customers/customers.h"
#include "report/table.h"
#include "tags/tags.h"
#include "util/rowmap.h"
#include "util/strings.h"

#define CAC_MAGIC UINT32_C(0x43414350) /* "PCAC" */

typedef struct acc {
    int64_t spend, new_customers;
    bool seen;
} acc;

/* One sponsored campaign: the key (an id in the accumulator's strings) first,
 * as the rowmap wants.  A row exists once the campaign has a placement with
 * an impression or click at or before as-of or a new customer. */
typedef struct camp_row {
    cp_str campaign;
    int64_t spend, new_customers;
} camp_row;

/* One pair of registry campaign and channel (either may be empty,
 * CP_STR_NONE), keys first.  A row exists once a registry entry of the pair
 * has a click at or before as-of or a new customer. */
typedef struct ext_row {
    cp_str campaign, channel;
    int64_t spend, new_customers;
} ext_row;

struct cp_cac_acc {
    const cp_report_options *opt;
    bool reg_loaded;    /* reg is read (add() needs it) */
    bool reg_ok;        /* the registry was read, here or in a merged or saved accumulator */
    cp_tag_registry reg;
    cp_strings *str;    /* campaign and channel bytes */
    cp_rowmap camps;    /* camp_row by sponsored campaign */
    cp_rowmap ext;      /* ext_row by registry campaign and channel */
};

typedef struct ext_sort {
    const cp_cac_acc *a;
    bool by_channel;
} ext_sort;

static cp_str ext_key(const ext_row *r, bool by_channel) {
    return by_channel ? r->channel : r->campaign;
}

static int cmp_ext(const void *x, const void *y, void *u) {
    const ext_sort *s = u;
    return cp_strings_cmp(s->a->str, ext_key(CP_ROWMAP_AT(&s->a->ext, ext_row, *(const uint32_t *)x), s->by_channel),
                          ext_key(CP_ROWMAP_AT(&s->a->ext, ext_row, *(const uint32_t *)y), s->by_channel));
}

static int cmp_camp(const void *x, const void *y, void *u) {
    const cp_cac_acc *a = u;
    return cp_strings_cmp(a->str, CP_ROWMAP_AT(&a->camps, camp_row, *(const uint32_t *)x)->campaign,
                          CP_ROWMAP_AT(&a->camps, camp_row, *(const uint32_t *)y)->campaign);
}

static void cac_row(cp_table *t, const char *source, const char *level, const char *key, size_t key_len,
                    int64_t spend, int64_t new_customers) {
    cp_table_cstr(t, source);
    cp_table_cstr(t, level);
    cp_table_str(t, key, key_len);
    cp_table_money(t, spend);
    cp_table_int(t, new_customers);
    /* money per customer: a ratio in R8's sense (six decimals, half to even),
     * like aov here and cpc in ads.csv; empty when no new customer
     * (multiplied in uint64_t: a damaged saved state may hold any count) */
    cp_table_ratio(t, spend, (int64_t)((uint64_t)new_customers * 1000000));
    cp_table_end_row(t);
}

/* Map from a tag's string id to its registry entry (open addressing). */
typedef struct tag_map {
    uint32_t *keys, *vals;
    size_t mask;
} tag_map;

static uint32_t tag_map_get(const tag_map *m, cp_str id) {
    if (!m->keys || id == CP_STR_NONE) return CP_NONE;
    for (size_t h = (size_t)cp_hash_u64(id) & m->mask;; h = (h + 1) & m->mask) {
        if (m->keys[h] == id) return m->vals[h];
        if (m->keys[h] == 0) return CP_NONE;
    }
}

cp_cac_acc *cp_cac_acc_new(const cp_report_options *opt) {
    cp_cac_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    a->str = cp_strings_new();
    if (!a->str) {
        free(a);
        return NULL;
    }
    cp_rowmap_init(&a->camps, sizeof(camp_row), 1);
    cp_rowmap_init(&a->ext, sizeof(ext_row), 2);
    return a;
}

void cp_cac_acc_free(cp_cac_acc *a) {
    if (!a) return;
    cp_rowmap_free(&a->camps);
    cp_rowmap_free(&a->ext);
    cp_strings_free(a->str);
    cp_tag_registry_free(&a->reg);
    free(a);
}

/* The registry of opt->tags_path (the same for every partition), once. */
static cp_result load_registry(cp_cac_acc *a, cp_error *err) {
    if (a->reg_loaded) return CP_OK;
    cp_result rc;
    if (a->opt->tags_path && (rc = cp_tag_registry_load(&a->reg, a->opt->tags_path, err))) return rc;
    a->reg_loaded = a->reg_ok = true;
    return CP_OK;
}

static cp_result overflow(cp_error *err) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "damaged cac.csv accumulator: the sums overflow");
    }
    return CP_EFORMAT;
}

/* *spend += spend, *nc += nc; false (nothing changed) on overflow. */
static bool add_sums(int64_t *spend, int64_t *nc, int64_t add_spend, int64_t add_nc) {
    int64_t s, c;
    if (__builtin_add_overflow(*spend, add_spend, &s) || __builtin_add_overflow(*nc, add_nc, &c)) return false;
    *spend = s;
    *nc = c;
    return true;
}

enum { ADD_OK, ADD_OOM, ADD_OVERFLOW };

/* Adds to the row of sponsored campaign s[0..len) (made when missing;
 * *created says which). */
static int add_camp(cp_cac_acc *a, const char *s, size_t len, int64_t spend, int64_t nc, bool *created) {
    int oom = 0;
    cp_str id = cp_strings_intern(a->str, s, len, &oom);
    uint32_t r = oom ? CP_ROWMAP_OOM : cp_rowmap_get(&a->camps, id, 0, 0, created);
    if (r == CP_ROWMAP_OOM) return ADD_OOM;
    camp_row *c = CP_ROWMAP_AT(&a->camps, camp_row, r);
    return add_sums(&c->spend, &c->new_customers, spend, nc) ? ADD_OK : ADD_OVERFLOW;
}

/* Adds to the row of registry campaign cs[0..cl) and channel hs[0..hl). */
static int add_ext(cp_cac_acc *a, const char *cs, size_t cl, const char *hs, size_t hl, int64_t spend, int64_t nc,
                   bool *created) {
    int oom = 0;
    cp_str camp = cp_strings_intern(a->str, cs, cl, &oom);
    cp_str chan = oom ? CP_STR_NONE : cp_strings_intern(a->str, hs, hl, &oom);
    uint32_t r = oom ? CP_ROWMAP_OOM : cp_rowmap_get(&a->ext, camp, chan, 0, created);
    if (r == CP_ROWMAP_OOM) return ADD_OOM;
    ext_row *e = CP_ROWMAP_AT(&a->ext, ext_row, r);
    return add_sums(&e->spend, &e->new_customers, spend, nc) ? ADD_OK : ADD_OVERFLOW;
}

static cp_result add_failed(int rc, cp_error *err) {
    return rc == ADD_OOM ? cp_customers_oom(err) : overflow(err);
}

cp_result cp_cac_acc_add(cp_cac_acc *a, const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err) {
    cp_result rc = load_registry(a, err);
    if (rc) return rc;
    const cp_events *ev = ctx->ev;
    const cp_tag_registry *reg = &a->reg;
    size_t n_pl = 0;
    const cp_placement *pl = cp_run_placements(ctx->run, &n_pl);

    acc *pacc = calloc(n_pl ? n_pl : 1, sizeof *pacc);
    acc *eacc = calloc(reg->n ? reg->n : 1, sizeof *eacc); /* per registry entry */
    tag_map tm = {0};
    size_t n_slots = 16;
    while (n_slots < 2 * reg->n) n_slots *= 2;
    tm.keys = calloc(n_slots, sizeof *tm.keys);
    tm.vals = calloc(n_slots, sizeof *tm.vals);
    tm.mask = n_slots - 1;
    if (!pacc || !eacc || !tm.keys || !tm.vals) {
        rc = cp_customers_oom(err);
        goto done;
    }
    for (size_t e = 0; e < reg->n; e++) {
        cp_str id = cp_strings_find(ctx->str, reg->e[e].tag, strlen(reg->e[e].tag));
        if (id == CP_STR_NONE) continue; /* a tag no event carries */
        size_t h = (size_t)cp_hash_u64(id) & tm.mask;
        while (tm.keys[h] && tm.keys[h] != id) h = (h + 1) & tm.mask;
        if (tm.keys[h]) continue; /* the registry keeps a tag's first row */
        tm.keys[h] = id;
        tm.vals[h] = (uint32_t)e;
    }
    /* spend (R10.4, R3.3) */
    for (size_t i = 0; i < ev->n && ev->ts_ms[i] <= ctx->as_of_ms; i++) {
        uint8_t type = ev->type[i];
        if (type != CP_IMPRESSION && type != CP_CLICK) continue;
        bool valid = !ctx->status || ctx->status[i] == CP_CLICK_VALID;
        acc *s = NULL;
        if (ev->placement[i] != CP_NONE) s = &pacc[ev->placement[i]];
        else if (type == CP_CLICK) {
            cp_str tag = ev->tag[cp_report_rank(ctx, i)];
            uint32_t e = tag != CP_STR_NONE ? tag_map_get(&tm, tag) : CP_NONE;
            if (e != CP_NONE) s = &eacc[e];
        }
        if (!s) continue;
        s->seen = true;
        if (valid) s->spend += ev->money_micros[i];
    }
    /* new customers: the first purchase line's credit (R6, R7) */
    for (size_t k = 0; k < ct->n; k++) {
        /* a purchase line: never an impression, so it has a rank (report.h) */
        uint32_t sub = cp_report_rank(ctx, ct->c[k].first_row);
        if (ctx->ad_credit && ctx->ad_credit[sub] != CP_NONE) {
            uint32_t p = ev->placement[ctx->ad_credit[sub]];
            if (p != CP_NONE) pacc[p].new_customers++;
        }
        if (ctx->offsite_credit && ctx->offsite_credit[sub] != CP_NONE) {
            uint32_t e = tag_map_get(&tm, ev->tag[cp_report_rank(ctx, ctx->offsite_credit[sub])]);
            if (e != CP_NONE) eacc[e].new_customers++;
        }
    }
    /* sponsored: placements into their campaign's row, by campaign bytes */
    for (size_t p = 0; p < n_pl; p++) {
        if (!pacc[p].seen && !pacc[p].new_customers) continue;
        size_t len;
        const char *s = cp_strings_get(ctx->str, pl[p].campaign, &len);
        int r = add_camp(a, s, len, pacc[p].spend, pacc[p].new_customers, NULL);
        if (r != ADD_OK) {
            rc = add_failed(r, err);
            goto done;
        }
    }
    /* external: registry entries into their (campaign, channel) row, by bytes
     * (a value's bytes up to its NUL, as the file shows it) */
    for (size_t e = 0; e < reg->n; e++) {
        if (!eacc[e].seen && !eacc[e].new_customers) continue;
        const char *cs = reg->e[e].campaign, *hs = reg->e[e].channel;
        int r = add_ext(a, cs, strlen(cs), hs, strlen(hs), eacc[e].spend, eacc[e].new_customers, NULL);
        if (r != ADD_OK) {
            rc = add_failed(r, err);
            goto done;
        }
    }
done:
    free(pacc);
    free(eacc);
    free(tm.keys);
    free(tm.vals);
    return rc;
}

cp_result cp_cac_acc_emit(cp_cac_acc *a, cp_error *err) {
    const cp_report_options *opt = a->opt;
    /* without any add(), a bad registry still fails as the whole-run writer did */
    cp_result rc = a->reg_ok ? CP_OK : load_registry(a, err);
    if (rc) return rc;
    size_t n_c = a->camps.n, n_e = a->ext.n;
    uint32_t *order = malloc((n_c > n_e ? n_c : n_e ? n_e : 1) * sizeof *order);
    if (!order) return cp_customers_oom(err);

    static const char *const cols[] = {"source", "level", "key", "spend", "new_customers", "cac"};
    cp_table *t = cp_table_open(opt->out_dir, "cac", opt->format, cols, 6, err);
    if (!t) {
        free(order);
        return err ? err->code : CP_EIO;
    }
    /* sponsored campaigns by campaign bytes, then the channel */
    for (size_t k = 0; k < n_c; k++) order[k] = (uint32_t)k;
    qsort_r(order, n_c, sizeof *order, cmp_camp, a);
    /* totals in uint64_t: rows loaded from a damaged state may overflow, and
     * wrap around rather than be undefined (real sums fit in int64_t) */
    uint64_t tot_spend = 0, tot_new = 0;
    for (size_t k = 0; k < n_c; k++) {
        const camp_row *c = CP_ROWMAP_AT(&a->camps, camp_row, order[k]);
        size_t len;
        const char *s = cp_strings_get(a->str, c->campaign, &len);
        cac_row(t, "sponsored", "campaign", s, len, c->spend, c->new_customers);
        tot_spend += (uint64_t)c->spend;
        tot_new += (uint64_t)c->new_customers;
    }
    if (n_c) cac_row(t, "sponsored", "channel", "sponsored", 9, (int64_t)tot_spend, (int64_t)tot_new);
    /* external: registry campaigns, then channels, each the sum of its pairs
     * (one id per bytes in a->str, so equal keys are equal ids) */
    for (int level = 0; level < 2; level++) {
        bool by_channel = level == 1;
        size_t m = 0;
        for (size_t e = 0; e < n_e; e++)
            if (ext_key(CP_ROWMAP_AT(&a->ext, ext_row, e), by_channel) != CP_STR_NONE) order[m++] = (uint32_t)e;
        ext_sort es = {a, by_channel};
        qsort_r(order, m, sizeof *order, cmp_ext, &es);
        for (size_t k = 0; k < m;) {
            cp_str key = ext_key(CP_ROWMAP_AT(&a->ext, ext_row, order[k]), by_channel);
            uint64_t spend = 0, nc = 0;
            for (; k < m && ext_key(CP_ROWMAP_AT(&a->ext, ext_row, order[k]), by_channel) == key; k++) {
                spend += (uint64_t)CP_ROWMAP_AT(&a->ext, ext_row, order[k])->spend;
                nc += (uint64_t)CP_ROWMAP_AT(&a->ext, ext_row, order[k])->new_customers;
            }
            size_t len;
            const char *s = cp_strings_get(a->str, key, &len);
            cac_row(t, "external", by_channel ? "channel" : "campaign", s, len, (int64_t)spend, (int64_t)nc);
        }
    }
    rc = cp_table_close(t, err);
    free(order);
    return rc;
}

cp_result cp_cac_write(const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err) {
    cp_cac_acc *a = cp_cac_acc_new(ctx->opt);
    if (!a) return cp_customers_oom(err);
    cp_result rc = cp_cac_acc_add(a, ctx, ct, err);
    if (!rc) rc = cp_cac_acc_emit(a, err);
    cp_cac_acc_free(a);
    return rc;
}

cp_result cp_cac_acc_merge(cp_cac_acc *into, const cp_cac_acc *from, cp_error *err) {
    size_t n_c = from->camps.n, n_e = from->ext.n; /* fixed first: into may be from */
    for (size_t k = 0; k < n_c; k++) {
        camp_row c = *CP_ROWMAP_AT(&from->camps, camp_row, k);
        size_t len;
        const char *s = cp_strings_get(from->str, c.campaign, &len);
        int r = add_camp(into, s, len, c.spend, c.new_customers, NULL);
        if (r != ADD_OK) return add_failed(r, err);
    }
    for (size_t k = 0; k < n_e; k++) {
        ext_row e = *CP_ROWMAP_AT(&from->ext, ext_row, k);
        size_t cl, hl;
        const char *cs = cp_strings_get(from->str, e.campaign, &cl);
        const char *hs = cp_strings_get(from->str, e.channel, &hl);
        int r = add_ext(into, cs, cl, hs, hl, e.spend, e.new_customers, NULL);
        if (r != ADD_OK) return add_failed(r, err);
    }
    into->reg_ok |= from->reg_ok;
    return CP_OK;
}

void cp_cac_acc_save(const cp_cac_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, CAC_MAGIC);
    cp_bytes_u8(out, a->reg_ok);
    cp_bytes_u64(out, a->camps.n);
    for (size_t k = 0; k < a->camps.n; k++) {
        const camp_row *c = CP_ROWMAP_AT(&a->camps, camp_row, k);
        size_t len;
        const char *s = cp_strings_get(a->str, c->campaign, &len);
        cp_bytes_str(out, s, len);
        cp_bytes_i64(out, c->spend);
        cp_bytes_i64(out, c->new_customers);
    }
    cp_bytes_u64(out, a->ext.n);
    for (size_t k = 0; k < a->ext.n; k++) {
        const ext_row *e = CP_ROWMAP_AT(&a->ext, ext_row, k);
        size_t cl, hl;
        const char *cs = cp_strings_get(a->str, e->campaign, &cl);
        const char *hs = cp_strings_get(a->str, e->channel, &hl);
        cp_bytes_str(out, cs, cl);
        cp_bytes_str(out, hs, hl);
        cp_bytes_i64(out, e->spend);
        cp_bytes_i64(out, e->new_customers);
    }
}

static cp_cac_acc *load_failed(cp_cac_acc *a, cp_bytes_reader *in, cp_error *err, const char *why) {
    if (why && err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "damaged cac.csv accumulator: %s", why);
    }
    if (why) in->bad = true;
    cp_cac_acc_free(a);
    return NULL;
}

cp_cac_acc *cp_cac_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    uint32_t magic = cp_bytes_get_u32(in);
    if (magic != CAC_MAGIC)
        return load_failed(NULL, in, err, in->bad ? "it ends early" : "it does not begin with its tag");
    cp_cac_acc *a = cp_cac_acc_new(opt);
    if (!a) {
        cp_customers_oom(err);
        return NULL;
    }
    uint8_t reg_ok = cp_bytes_get_u8(in);
    if (in->bad) return load_failed(a, in, err, "it ends early");
    if (reg_ok > 1) return load_failed(a, in, err, "a flag is neither 0 nor 1");
    a->reg_ok = reg_ok;
    /* the sponsored campaigns (>= 20 bytes each), then the pairs (>= 24) */
    for (int table = 0; table < 2; table++) {
        size_t row_min = table == 0 ? 4 + 2 * 8 : 2 * 4 + 2 * 8;
        uint64_t n = cp_bytes_get_u64(in);
        if (in->bad) return load_failed(a, in, err, "it ends early");
        if (n > (in->n - in->at) / row_min) return load_failed(a, in, err, "more rows than bytes");
        for (uint64_t k = 0; k < n; k++) {
            size_t cl, hl = 0;
            const char *cs = cp_bytes_get_str(in, &cl), *hs = table ? cp_bytes_get_str(in, &hl) : NULL;
            int64_t spend = cp_bytes_get_i64(in), nc = cp_bytes_get_i64(in);
            if (in->bad) return load_failed(a, in, err, "it ends early");
            if (nc < 0) return load_failed(a, in, err, "a negative count of new customers");
            bool created = false;
            int r = table ? add_ext(a, cs, cl, hs, hl, spend, nc, &created)
                          : add_camp(a, cs, cl, spend, nc, &created);
            if (r == ADD_OOM) {
                cp_customers_oom(err);
                return load_failed(a, in, err, NULL);
            }
            if (r != ADD_OK || !created) return load_failed(a, in, err, "a key comes twice");
        }
    }
    return a;
}

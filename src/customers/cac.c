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
 * string table (placements are partition-local), and one per registry entry
 * (the registry is the same file for every partition, loaded at the first
 * add()); emit() rolls the entries up by campaign and channel and writes the
 * file.  Sums of integers, so any partitioning gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "customers/customers.h"
#include "report/table.h"
#include "tags/tags.h"
#include "util/rowmap.h"
#include "util/strings.h"

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

struct cp_cac_acc {
    const cp_report_options *opt;
    bool reg_loaded;
    cp_tag_registry reg;
    acc *eacc;          /* per registry entry */
    cp_strings *str;    /* sponsored campaign bytes */
    cp_rowmap camps;    /* camp_row by campaign */
};

typedef struct entry_sort {
    const cp_tag_registry *reg;
    bool by_channel;
} entry_sort;

static const char *entry_key(const cp_tag_registry *reg, uint32_t e, bool by_channel) {
    return by_channel ? reg->e[e].channel : reg->e[e].campaign;
}

static int cmp_entry(const void *a, const void *b, void *u) {
    const entry_sort *s = u;
    return strcmp(entry_key(s->reg, *(const uint32_t *)a, s->by_channel),
                  entry_key(s->reg, *(const uint32_t *)b, s->by_channel));
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
     * like aov here and cpc in ads.csv; empty when no new customer */
    cp_table_ratio(t, spend, new_customers * 1000000);
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
    return a;
}

void cp_cac_acc_free(cp_cac_acc *a) {
    if (!a) return;
    cp_rowmap_free(&a->camps);
    cp_strings_free(a->str);
    free(a->eacc);
    cp_tag_registry_free(&a->reg);
    free(a);
}

/* The registry of opt->tags_path (the same for every partition), once. */
static cp_result load_registry(cp_cac_acc *a, cp_error *err) {
    if (a->reg_loaded) return CP_OK;
    cp_result rc;
    if (a->opt->tags_path && (rc = cp_tag_registry_load(&a->reg, a->opt->tags_path, err))) return rc;
    a->eacc = calloc(a->reg.n ? a->reg.n : 1, sizeof *a->eacc);
    if (!a->eacc) return cp_customers_oom(err);
    a->reg_loaded = true;
    return CP_OK;
}

cp_result cp_cac_acc_add(cp_cac_acc *a, const cp_report_ctx *ctx, const cp_customer_table *ct, cp_error *err) {
    cp_result rc = load_registry(a, err);
    if (rc) return rc;
    const cp_events *ev = ctx->ev;
    const cp_tag_registry *reg = &a->reg;
    acc *eacc = a->eacc;
    size_t n_pl = 0;
    const cp_placement *pl = cp_run_placements(ctx->run, &n_pl);

    acc *pacc = calloc(n_pl ? n_pl : 1, sizeof *pacc);
    tag_map tm = {0};
    size_t n_slots = 16;
    while (n_slots < 2 * reg->n) n_slots *= 2;
    tm.keys = calloc(n_slots, sizeof *tm.keys);
    tm.vals = calloc(n_slots, sizeof *tm.vals);
    tm.mask = n_slots - 1;
    if (!pacc || !tm.keys || !tm.vals) {
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
        else if (type == CP_CLICK && ev->tag[i] != CP_STR_NONE) {
            uint32_t e = tag_map_get(&tm, ev->tag[i]);
            if (e != CP_NONE) s = &eacc[e];
        }
        if (!s) continue;
        s->seen = true;
        if (valid) s->spend += ev->money_micros[i];
    }
    /* new customers: the first purchase line's credit (R6, R7) */
    for (size_t k = 0; k < ct->n; k++) {
        uint32_t row = ct->c[k].first_row;
        if (ctx->ad_credit && ctx->ad_credit[row] != CP_NONE) {
            uint32_t p = ev->placement[ctx->ad_credit[row]];
            if (p != CP_NONE) pacc[p].new_customers++;
        }
        if (ctx->offsite_credit && ctx->offsite_credit[row] != CP_NONE) {
            uint32_t e = tag_map_get(&tm, ev->tag[ctx->offsite_credit[row]]);
            if (e != CP_NONE) eacc[e].new_customers++;
        }
    }
    /* sponsored: placements into their campaign's row, by campaign bytes */
    for (size_t p = 0; p < n_pl; p++) {
        if (!pacc[p].seen && !pacc[p].new_customers) continue;
        size_t len;
        const char *s = cp_strings_get(ctx->str, pl[p].campaign, &len);
        int oom = 0;
        cp_str id = cp_strings_intern(a->str, s, len, &oom);
        uint32_t r = oom ? CP_ROWMAP_OOM : cp_rowmap_get(&a->camps, id, 0, 0, NULL);
        if (r == CP_ROWMAP_OOM) {
            rc = cp_customers_oom(err);
            goto done;
        }
        camp_row *c = CP_ROWMAP_AT(&a->camps, camp_row, r);
        c->spend += pacc[p].spend;
        c->new_customers += pacc[p].new_customers;
    }
done:
    free(pacc);
    free(tm.keys);
    free(tm.vals);
    return rc;
}

cp_result cp_cac_acc_emit(cp_cac_acc *a, cp_error *err) {
    const cp_report_options *opt = a->opt;
    /* without any add(), a bad registry still fails as the whole-run writer did */
    cp_result rc = load_registry(a, err);
    if (rc) return rc;
    const cp_tag_registry *reg = &a->reg;
    size_t n_c = a->camps.n;
    uint32_t *order = malloc((n_c > reg->n ? n_c : reg->n ? reg->n : 1) * sizeof *order);
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
    int64_t tot_spend = 0, tot_new = 0;
    for (size_t k = 0; k < n_c; k++) {
        const camp_row *c = CP_ROWMAP_AT(&a->camps, camp_row, order[k]);
        size_t len;
        const char *s = cp_strings_get(a->str, c->campaign, &len);
        cac_row(t, "sponsored", "campaign", s, len, c->spend, c->new_customers);
        tot_spend += c->spend;
        tot_new += c->new_customers;
    }
    if (n_c) cac_row(t, "sponsored", "channel", "sponsored", 9, tot_spend, tot_new);
    /* external: registry campaigns, then channels */
    const acc *eacc = a->eacc;
    for (int level = 0; level < 2; level++) {
        bool by_channel = level == 1;
        size_t m = 0;
        for (size_t e = 0; e < reg->n; e++)
            if ((eacc[e].seen || eacc[e].new_customers) && entry_key(reg, (uint32_t)e, by_channel)[0])
                order[m++] = (uint32_t)e;
        entry_sort es = {reg, by_channel};
        qsort_r(order, m, sizeof *order, cmp_entry, &es);
        for (size_t k = 0; k < m;) {
            const char *key = entry_key(reg, order[k], by_channel);
            int64_t spend = 0, nc = 0;
            for (; k < m && strcmp(entry_key(reg, order[k], by_channel), key) == 0; k++) {
                spend += eacc[order[k]].spend;
                nc += eacc[order[k]].new_customers;
            }
            cac_row(t, "external", by_channel ? "channel" : "campaign", key, strlen(key), spend, nc);
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

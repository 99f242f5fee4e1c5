/* quality.c -- traffic quality (SPEC R3) and the click_id links of R4.3.
 *
 * cp_quality_build fills, for one finished run:
 *   status      R3.1: every click valid or invalid with the first reason of
 *               bot, blocked_ip, flood, duplicate; R3.2: impressions bot or
 *               blocked_ip (an impression without a user agent is valid).
 *   ua_rule_on  R3.1.1: an empty user agent is a bot only when some accepted
 *               event of the input carries one.
 *   click_of    R4.3: a click_id belongs to the first click carrying it.
 *   landing_pv  R4.3: a click's landing page view is the first loaded page
 *               view carrying its id (set on the first click of an id only).
 *               Both per non-impression row (report.h, events.h: ev->sub): links are
 *               read for clicks and page views only.
 * cp_quality_write writes invalid_clicks.csv (R8) and the "quality" summary,
 * through the accumulator of report/partial.h (cp_quality_acc_*), which adds
 * the figures of one partition at a time, and combines accumulators of
 * separate partitions (merge, save, load).
 *
 * Cost: the bot list and the blocklist are consulted once per distinct user
 * agent / address string (verdicts cached by cp_str id).  Flood groups clicks
 * by address with a counting sort (stable, so R1.6 order survives) and slides
 * a window; duplicates use one open-addressing table keyed by (identity,
 * target).  Everything is O(events + strings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "quality/quality.h"
#include "report/partial.h"
#include "report/table.h"
#include "util/parallel.h"
#include "util/rowmask.h"
#include "util/values.h"

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the traffic-quality stage");
    }
    return CP_ENOMEM;
}

/* Verdict caches per string id: 0 = not computed, 1 = no, 2 = yes. */
enum { V_UNKNOWN = 0, V_NO = 1, V_YES = 2 };

/* ---- R3.1.4 duplicate: open addressing on (identity, target) ------------ */
typedef struct dedup_slot {
    uint32_t identity, campaign, ad_group, keyword, asin; /* campaign 0 = off-site: ad_group = tag */
    uint32_t used;
    int64_t last_valid_ms;
} dedup_slot;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t dedup_hash(const dedup_slot *k) {
    uint64_t h = mix64((uint64_t)k->identity << 32 | k->campaign);
    h = mix64(h ^ ((uint64_t)k->ad_group << 32 | k->keyword));
    return mix64(h ^ k->asin);
}

static bool dedup_eq(const dedup_slot *a, const dedup_slot *b) {
    return a->identity == b->identity && a->campaign == b->campaign &&
           a->ad_group == b->ad_group && a->keyword == b->keyword && a->asin == b->asin;
}

static cp_result load_lists(const cp_report_options *opt, cp_botlist *bots,
                            cp_cidr_set *blocked, cp_error *err) {
    cp_result rc = opt->bot_list_path ? cp_botlist_load(bots, opt->bot_list_path, err)
                                      : cp_botlist_builtin(bots, err);
    if (rc != CP_OK) return rc;
    memset(blocked, 0, sizeof *blocked);
    if (opt->ip_blocklist_path) {
        rc = cp_cidr_set_load(blocked, opt->ip_blocklist_path, err);
        if (rc != CP_OK) { cp_botlist_free(bots); return rc; }
    }
    return CP_OK;
}

/* R3.1.1 bot and R3.1.2 blocked_ip (R3.2: impressions too), a row at a
 * time: rows are split into equal parts, one per thread, each with its own
 * verdict caches (a user agent or address is matched once per part), so
 * the statuses do not depend on the threads. */
typedef struct bot_ip_job {
    const cp_report_ctx *ctx;
    const cp_botlist *bots;
    const cp_cidr_set *blocked;
    uint8_t *status;
    size_t n_clicks[CP_MAX_THREADS];
    bool oom[CP_MAX_THREADS];
} bot_ip_job;

static void bot_ip_part(void *arg, unsigned part, unsigned n_parts) {
    bot_ip_job *j = arg;
    const cp_events *ev = j->ctx->ev;
    const cp_strings *str = j->ctx->str;
    const bool ua_rule_on = j->ctx->ua_rule_on;
    uint8_t *status = j->status;
    size_t lo, hi, n_clicks = 0;
    cp_part_range(ev->n, part, n_parts, &lo, &hi);
    size_t n_ids = (size_t)cp_strings_count(str) + 1;
    uint8_t *ua_verdict = calloc(n_ids, 1), *ip_verdict = calloc(n_ids, 1);
    if (!ua_verdict || !ip_verdict) {
        free(ua_verdict);
        free(ip_verdict);
        j->oom[part] = true;
        return;
    }
    for (size_t i = lo; i < hi; i++) {
        uint8_t t = ev->type[i];
        if (t != CP_CLICK && t != CP_IMPRESSION) continue;
        if (t == CP_CLICK) n_clicks++;
        cp_str ua = ev->ua[i];
        if (ua == CP_STR_NONE) {
            /* An impression without a user agent is valid (R3.2). */
            if (t == CP_CLICK && ua_rule_on) { status[i] = CP_CLICK_BOT; continue; }
        } else {
            if (ua_verdict[ua] == V_UNKNOWN) {
                size_t len;
                const char *s = cp_strings_get(str, ua, &len);
                ua_verdict[ua] = cp_botlist_match(j->bots, s, len) ? V_YES : V_NO;
            }
            if (ua_verdict[ua] == V_YES) { status[i] = CP_CLICK_BOT; continue; }
        }
        cp_str ip = ev->ip[i];
        if (ip != CP_STR_NONE && j->blocked->n) {
            if (ip_verdict[ip] == V_UNKNOWN) {
                size_t len;
                const char *s = cp_strings_get(str, ip, &len);
                ip_verdict[ip] = cp_cidr_set_contains(j->blocked, s, len) ? V_YES : V_NO;
            }
            if (ip_verdict[ip] == V_YES) status[i] = CP_CLICK_BLOCKED_IP;
        }
    }
    free(ua_verdict);
    free(ip_verdict);
    j->n_clicks[part] = n_clicks;
}

cp_result cp_quality_build_status(cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_strings *str = ctx->str;
    const cp_report_options *opt = ctx->opt;
    size_t n = ev->n;
    uint32_t n_str = cp_strings_count(str);
    cp_result rc;

    cp_botlist bots;
    cp_cidr_set blocked;
    rc = load_lists(opt, &bots, &blocked, err);
    if (rc != CP_OK) return rc;

    ctx->ua_rule_on = cp_run_has_user_agents(ctx->run);
    uint8_t *status = calloc(n ? n : 1, 1);
    uint32_t *group_start = NULL, *grouped = NULL;
    dedup_slot *table = NULL;
    if (!status) {
        rc = oom(err);
        goto done;
    }

    /* R3.1.1 bot, R3.1.2 blocked_ip; R3.2 the same for impressions. */
    size_t n_clicks = 0;
    {
        bot_ip_job bj = {.ctx = ctx, .bots = &bots, .blocked = &blocked, .status = status};
        unsigned nt = cp_threads_for(ctx->threads ? ctx->threads : 1, n, 4096);
        cp_parallel_run(nt, bot_ip_part, &bj);
        for (unsigned p = 0; p < nt; p++) {
            if (bj.oom[p]) { rc = oom(err); goto done; }
            n_clicks += bj.n_clicks[p];
        }
    }

    /* R3.1.3 flood.  Group clicks by address (the identity when there is no
     * ip) with a counting sort over string ids: bucket ip for an address,
     * n_str + 1 + identity for an identity, so the two never mix.  Within a
     * group rows stay in R1.6 order, so timestamps do not decrease and the
     * clicks in (t - window, t] at or before click k are k - j + 1 for the
     * first j whose ts > t - window. */
    /* A partition of a --memory run (docs/scale.md) holds only some of an
     * address's clicks: their verdict was decided over the whole input and
     * comes as CP_EV_FLOOD.  Clicks without an address count per identity,
     * which a partition holds whole. */
    bool by_ip_given = cp_run_flood_given(ctx->run);
    size_t n_grouped = n_clicks;
    if (by_ip_given) {
        for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
            size_t i = r.i;
            if (ev->ip[i] == CP_STR_NONE) continue;
            n_grouped--;
            if ((ev->flags[i] & CP_EV_FLOOD) && status[i] == CP_CLICK_VALID) status[i] = CP_CLICK_FLOOD;
        }
    }
    if (n_grouped > 0) {
        size_t n_buckets = 2 * ((size_t)n_str + 1);
        group_start = calloc(n_buckets + 1, sizeof *group_start);
        grouped = malloc(n_clicks * sizeof *grouped);
        if (!group_start || !grouped) { rc = oom(err); goto done; }
        for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
            size_t i = r.i;
            if (by_ip_given && ev->ip[i] != CP_STR_NONE) continue;
            size_t b = ev->ip[i] != CP_STR_NONE ? ev->ip[i] : (size_t)n_str + 1 + ev->identity[i];
            group_start[b + 1]++;
        }
        for (size_t b = 0; b < n_buckets; b++) group_start[b + 1] += group_start[b];
        /* Fill using group_start as cursors, then restore by shifting. */
        for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
            size_t i = r.i;
            if (by_ip_given && ev->ip[i] != CP_STR_NONE) continue;
            size_t b = ev->ip[i] != CP_STR_NONE ? ev->ip[i] : (size_t)n_str + 1 + ev->identity[i];
            grouped[group_start[b]++] = (uint32_t)i;
        }
        /* After filling, group_start[b] is the end of bucket b = start of b+1. */
        int64_t window = opt->flood_window_ms;
        uint32_t limit = opt->flood_clicks;
        size_t g0 = 0;
        while (g0 < n_grouped) {
            const cp_str *key_col = ev->ip[grouped[g0]] != CP_STR_NONE ? ev->ip : ev->identity;
            bool by_ip = ev->ip[grouped[g0]] != CP_STR_NONE;
            size_t g1 = g0 + 1;
            while (g1 < n_grouped) {
                uint32_t r = grouped[g1];
                bool r_ip = ev->ip[r] != CP_STR_NONE;
                if (r_ip != by_ip || key_col[r] != key_col[grouped[g0]]) break;
                g1++;
            }
            size_t j = g0;
            for (size_t k = g0; k < g1; k++) {
                int64_t t = ev->ts_ms[grouped[k]];
                while (j < k && ev->ts_ms[grouped[j]] <= t - window) j++;
                uint64_t count = k - j + 1;
                if (count > limit && status[grouped[k]] == CP_CLICK_VALID)
                    status[grouped[k]] = CP_CLICK_FLOOD;
            }
            g0 = g1;
        }
        free(group_start);
        group_start = NULL;
        free(grouped);
        grouped = NULL;
    }

    /* R3.1.4 duplicate, anchored on the last *valid* click of (identity,
     * target): an invalid click never moves the anchor. */
    if (n_clicks > 0) {
        size_t cap = 16;
        while (cap < 2 * n_clicks) cap *= 2;
        table = calloc(cap, sizeof *table);
        if (!table) { rc = oom(err); goto done; }
        const cp_placement *pl = cp_run_placements(ctx->run, NULL);
        for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
            size_t i = r.i;
            if (status[i] != CP_CLICK_VALID) continue;
            dedup_slot k = {0};
            k.identity = ev->identity[i];
            if (ev->placement[i] != CP_NONE) {
                const cp_placement *p = &pl[ev->placement[i]];
                k.campaign = p->campaign;
                k.ad_group = p->ad_group;
                k.keyword = p->keyword;
                k.asin = ev->asin[i];
            } else {
                k.ad_group = ev->tag[cp_report_rank(ctx, i)];
            }
            size_t h = (size_t)dedup_hash(&k) & (cap - 1);
            while (table[h].used && !dedup_eq(&table[h], &k)) h = (h + 1) & (cap - 1);
            int64_t t = ev->ts_ms[i];
            if (table[h].used) {
                int64_t gap_ms = t - table[h].last_valid_ms;
                /* Less than the window is a duplicate; exactly the window
                 * counts again. */
                if (gap_ms < opt->dedup_window_ms) { status[i] = CP_CLICK_DUPLICATE; continue; }
            } else {
                table[h] = k;
                table[h].used = 1;
            }
            table[h].last_valid_ms = t;
        }
        free(table);
        table = NULL;
    }

    ctx->status = status;
    status = NULL;
    rc = CP_OK;
done:
    free(status);
    free(group_start);
    free(grouped);
    free(table);
    cp_botlist_free(&bots);
    cp_cidr_set_free(&blocked);
    return rc;
}

cp_result cp_quality_build_links(cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n, n_sub = ctx->ev->sub.n;
    uint32_t n_str = cp_strings_count(ctx->str);
    /* per sub row (report.h): an impression's click_id is never read */
    uint32_t *click_of = malloc((n_sub ? n_sub : 1) * sizeof *click_of);
    uint32_t *landing = malloc((n_sub ? n_sub : 1) * sizeof *landing);
    uint32_t *first_click = malloc(((size_t)n_str + 1) * sizeof *first_click);
    if (!click_of || !landing || !first_click) {
        free(click_of);
        free(landing);
        free(first_click);
        return oom(err);
    }
    /* R4.3 click_id links.  first_click: per click_id string, the first
     * click row in R1.6 order. */
    for (size_t s = 0; s <= n_str; s++) first_click[s] = CP_NONE;
    memset(landing, 0xff, n_sub * sizeof *landing); /* CP_NONE */
    for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
        cp_str c = ev->click_id[cp_report_rank(ctx, r.i)];
        if (c != CP_STR_NONE && first_click[c] == CP_NONE) first_click[c] = (uint32_t)r.i;
    }
    /* every sub row (first_click[CP_STR_NONE] stays CP_NONE); the first
     * loaded page view of each click, in row order */
    for (cp_rows r = cp_rows_not(ev->type, n, CP_IMPRESSION); cp_rows_next(&r);) {
        uint32_t f = first_click[ev->click_id[r.k]];
        click_of[r.k] = f;
        if (f != CP_NONE && ev->type[r.i] == CP_PAGE_VIEW && (ev->flags[r.i] & CP_EV_LOADED)) {
            uint32_t *l = &landing[cp_report_rank(ctx, f)];
            if (*l == CP_NONE) *l = (uint32_t)r.i;
        }
    }
    free(first_click);
    ctx->click_of = click_of;
    ctx->landing_pv = landing;
    return CP_OK;
}

cp_result cp_quality_build(cp_report_ctx *ctx, cp_error *err) {
    cp_result rc = cp_quality_build_status(ctx, err);
    if (rc == CP_OK) rc = cp_quality_build_links(ctx, err);
    return rc;
}

/* ---- writer: accumulator (report/partial.h) -------------------------------
 * Figures are sums over the partitions.  Each invalid click is kept as a row
 * of its cells (strings copied into one pool, so nothing points into a
 * partition's run) and its R1.6 key; emit sorts the rows by (ts, file, line)
 * -- the order of a single run -- and writes them. */

typedef struct inv_row {
    int64_t ts_ms;
    uint64_t seq;    /* add order: ties beyond (ts, file, line) keep it */
    uint64_t off;    /* identity, ip, target back to back in pool */
    uint32_t line;
    uint32_t identity_len, ip_len, target_len;
    uint16_t file;   /* index into the input list */
    uint8_t reason;  /* cp_click_status */
} inv_row;

struct cp_quality_acc {
    const cp_report_options *opt;
    uint64_t clicks, by_reason[CP_N_CLICK_STATUS], bounced;
    uint64_t impressions, invalid_impressions;
    int64_t invalid_cost, spend;
    bool ua_rule_on; /* any add's (R3.1.1: some event of the input has a UA) */
    char **inputs;   /* copies of the input paths, by file index */
    size_t n_inputs;
    inv_row *rows;
    size_t n_rows, cap_rows;
    cp_buf pool;     /* the rows' cell bytes */
    cp_buf target;   /* scratch for one target */
};

cp_quality_acc *cp_quality_acc_new(const cp_report_options *opt) {
    cp_quality_acc *a = calloc(1, sizeof *a);
    if (a) a->opt = opt;
    return a;
}

void cp_quality_acc_free(cp_quality_acc *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n_inputs; i++) free(a->inputs[i]);
    free(a->inputs);
    free(a->rows);
    cp_buf_free(&a->pool);
    cp_buf_free(&a->target);
    free(a);
}

/* Copies the input paths this partition knows and the accumulator does not
 * yet (the list is the same for every partition: normally only the first
 * add copies). */
static bool acc_take_inputs(cp_quality_acc *a, const cp_run *run) {
    size_t n = 0;
    const cp_input_stats *in = cp_run_inputs(run, &n);
    if (n <= a->n_inputs) return true;
    char **p = realloc(a->inputs, n * sizeof *p);
    if (!p) return false;
    a->inputs = p;
    for (size_t i = a->n_inputs; i < n; i++) {
        const char *s = in[i].path;
        p[i] = NULL;
        if (s) {
            size_t len = strlen(s);
            p[i] = malloc(len + 1);
            if (!p[i]) return false; /* n_inputs stays i: free() sees only what was made */
            memcpy(p[i], s, len + 1);
        }
        a->n_inputs = i + 1;
    }
    return true;
}

static void pool_put_sid(cp_buf *pool, const cp_strings *str, cp_str id, uint32_t *len_out) {
    size_t len;
    const char *s = cp_strings_get(str, id, &len);
    cp_buf_put(pool, s, len);
    *len_out = (uint32_t)len;
}

cp_result cp_quality_acc_add(cp_quality_acc *a, cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_strings *str = ctx->str;
    const cp_placement *pl = cp_run_placements(ctx->run, NULL);
    if (!acc_take_inputs(a, ctx->run)) return oom(err);
    if (ctx->ua_rule_on) a->ua_rule_on = true;

    cp_buf *target = &a->target;
    for (size_t i = 0; i < ev->n; i++) {
        uint8_t ty = ev->type[i];
        if (ty == CP_IMPRESSION) {
            a->impressions++;
            if (ctx->status[i] != CP_CLICK_VALID) {
                a->invalid_impressions++;
                a->invalid_cost += ev->money_micros[i];
            } else {
                a->spend += ev->money_micros[i];
            }
            continue;
        }
        if (ty != CP_CLICK) continue;
        a->clicks++;
        uint8_t st = ctx->status[i];
        a->by_reason[st]++;
        if (st == CP_CLICK_VALID) {
            a->spend += ev->money_micros[i];
            if (cp_quality_landing(ctx, (uint32_t)i) == CP_NONE) a->bounced++; /* R3.4 */
            continue;
        }
        a->invalid_cost += ev->money_micros[i];

        if (a->n_rows == a->cap_rows) {
            size_t cap = a->cap_rows ? 2 * a->cap_rows : 256;
            inv_row *r = realloc(a->rows, cap * sizeof *r);
            if (!r) return oom(err);
            a->rows = r;
            a->cap_rows = cap;
        }
        inv_row *r = &a->rows[a->n_rows];
        r->ts_ms = ev->ts_ms[i];
        r->seq = a->n_rows;
        r->file = ev->file[i];
        r->line = ev->line[i];
        r->reason = st;
        r->off = a->pool.len;
        pool_put_sid(&a->pool, str, ev->identity[i], &r->identity_len);
        pool_put_sid(&a->pool, str, ev->ip[i], &r->ip_len);
        target->len = 0;
        size_t len;
        const char *s;
        if (ev->placement[i] != CP_NONE) {
            const cp_placement *p = &pl[ev->placement[i]];
            cp_buf_puts(target, "ad:");
            s = cp_strings_get(str, p->campaign, &len);
            cp_buf_put(target, s, len);
            cp_buf_put(target, "|", 1);
            s = cp_strings_get(str, p->ad_group, &len);
            cp_buf_put(target, s, len);
            cp_buf_put(target, "|", 1);
            s = cp_strings_get(str, p->keyword, &len);
            cp_buf_put(target, s, len);
            cp_buf_put(target, "|", 1);
            s = cp_strings_get(str, ev->asin[i], &len);
            cp_buf_put(target, s, len);
        } else {
            cp_buf_puts(target, "tag:");
            s = cp_strings_get(str, ev->tag[cp_report_rank(ctx, i)], &len);
            cp_buf_put(target, s, len);
        }
        if (target->oom) return oom(err);
        cp_buf_put(&a->pool, target->p, target->len);
        r->target_len = (uint32_t)target->len;
        if (a->pool.oom) return oom(err);
        a->n_rows++;
    }
    return CP_OK;
}

/* R1.6: timestamp, then input order (file, line). */
static int inv_row_cmp(const void *pa, const void *pb) {
    const inv_row *x = pa, *y = pb;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return 0;
}

cp_result cp_quality_acc_emit(cp_quality_acc *a, cp_summary *sum, cp_error *err) {
    static const char *const cols[] = {"file", "line", "ts", "identity", "ip", "target", "reason"};
    /* One partition adds its rows in R1.6 order already. */
    bool sorted = true;
    for (size_t k = 1; k < a->n_rows && sorted; k++)
        if (inv_row_cmp(&a->rows[k - 1], &a->rows[k]) > 0) sorted = false;
    if (!sorted) qsort(a->rows, a->n_rows, sizeof *a->rows, inv_row_cmp);

    cp_table *t = cp_table_open(a->opt->out_dir, "invalid_clicks", a->opt->format, cols,
                                sizeof cols / sizeof cols[0], err);
    if (!t) return err ? err->code : CP_EIO;
    for (size_t k = 0; k < a->n_rows; k++) {
        const inv_row *r = &a->rows[k];
        const char *cell = a->pool.p + r->off;
        cp_table_cstr(t, r->file < a->n_inputs ? a->inputs[r->file] : NULL);
        cp_table_int(t, r->line);
        cp_table_ts(t, r->ts_ms);
        cp_table_str(t, cell, r->identity_len);
        cell += r->identity_len;
        cp_table_str(t, cell, r->ip_len);
        cell += r->ip_len;
        cp_table_str(t, cell, r->target_len);
        cp_table_cstr(t, cp_click_status_name((cp_click_status)r->reason));
        cp_table_end_row(t);
    }
    cp_result rc = cp_table_close(t, err);
    if (rc != CP_OK) return rc;

    const uint64_t *by_reason = a->by_reason;
    uint64_t invalid = a->clicks - by_reason[CP_CLICK_VALID];
    cp_summary_begin(sum, "quality");
    cp_summary_int(sum, "clicks", (int64_t)a->clicks);
    cp_summary_int(sum, "valid_clicks", (int64_t)by_reason[CP_CLICK_VALID]);
    cp_summary_int(sum, "invalid_clicks", (int64_t)invalid);
    cp_summary_begin(sum, "invalid_by_reason");
    for (int s = CP_CLICK_BOT; s < CP_N_CLICK_STATUS; s++)
        cp_summary_int(sum, cp_click_status_name((cp_click_status)s), (int64_t)by_reason[s]);
    cp_summary_end(sum);
    cp_summary_money(sum, "invalid_cost", a->invalid_cost);
    cp_summary_money(sum, "spend", a->spend);
    cp_summary_int(sum, "bounced_clicks", (int64_t)a->bounced);
    cp_summary_int(sum, "impressions", (int64_t)a->impressions);
    cp_summary_int(sum, "invalid_impressions", (int64_t)a->invalid_impressions);
    cp_summary_bool(sum, "ua_rule_on", a->ua_rule_on);
    cp_summary_end(sum);

    char money[48];
    cp_fmt_money(money, a->invalid_cost);
    cp_summary_human(sum,
                     "clicks: %llu valid, %llu invalid (bot %llu, blocked_ip %llu, flood %llu, "
                     "duplicate %llu), invalid cost %s, bounced %llu",
                     (unsigned long long)by_reason[CP_CLICK_VALID], (unsigned long long)invalid,
                     (unsigned long long)by_reason[CP_CLICK_BOT],
                     (unsigned long long)by_reason[CP_CLICK_BLOCKED_IP],
                     (unsigned long long)by_reason[CP_CLICK_FLOOD],
                     (unsigned long long)by_reason[CP_CLICK_DUPLICATE], money,
                     (unsigned long long)a->bounced);
    if (!a->ua_rule_on)
        cp_summary_human(sum, "no event carries a user agent: the empty-user-agent bot rule "
                              "(R3.1.1) is off");
    return CP_OK;
}

/* ---- merge, save, load (report/partial.h) ---------------------------------
 * merge appends from's rows with their pool bytes (offsets moved by into's
 * pool length) and their seq moved past into's rows, so from's rows keep
 * their order among themselves and come after into's, as if from's
 * partitions had been added after into's; emit sorts by (ts, file, line)
 * anyway.  The input list is the same for every partition: whichever side
 * knows more of it gives the rest.  ua_rule_on is any side's.
 *
 * Saved state, after a tag: the counts, the input list (a flag per path:
 * NULL or not), then each row with its three cells as strings.  load checks
 * what add() guarantees: clicks = the sum by reason, one row per invalid
 * click, every reason an invalid one, seq below the row count. */

#define QUALITY_TAG UINT32_C(0x31415143) /* "CQA1" */
/* Smallest saved row: ts, seq, line, file, reason, three empty strings. */
#define QUALITY_ROW_MIN (8 + 8 + 4 + 4 + 1 + 3 * 4)

static cp_result damaged(cp_error *err, const char *what) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "saved traffic-quality state is damaged: %s", what);
    }
    return CP_EFORMAT;
}

/* *x += v; false (and *x unchanged) when the sum leaves int64. */
static bool add_i64(int64_t *x, int64_t v) {
    if ((v > 0 && *x > INT64_MAX - v) || (v < 0 && *x < INT64_MIN - v)) return false;
    *x += v;
    return true;
}

static bool rows_reserve(cp_quality_acc *a, size_t extra) {
    if (extra <= a->cap_rows - a->n_rows) return true;
    if (extra > SIZE_MAX / sizeof *a->rows - a->n_rows) return false;
    size_t need = a->n_rows + extra;
    size_t cap = a->cap_rows <= SIZE_MAX / 2 / sizeof *a->rows ? 2 * a->cap_rows : need;
    if (cap < need) cap = need;
    if (cap < 256) cap = 256;
    inv_row *r = realloc(a->rows, cap * sizeof *r);
    if (!r) return false;
    a->rows = r;
    a->cap_rows = cap;
    return true;
}

/* Copies the input paths `from` knows and `into` does not yet. */
static bool take_inputs_of(cp_quality_acc *into, const cp_quality_acc *from) {
    if (from->n_inputs <= into->n_inputs) return true;
    char **p = realloc(into->inputs, from->n_inputs * sizeof *p);
    if (!p) return false;
    into->inputs = p;
    for (size_t i = into->n_inputs; i < from->n_inputs; i++) {
        const char *s = from->inputs[i];
        p[i] = NULL;
        if (s) {
            size_t len = strlen(s);
            p[i] = malloc(len + 1);
            if (!p[i]) return false; /* n_inputs stays i */
            memcpy(p[i], s, len + 1);
        }
        into->n_inputs = i + 1;
    }
    return true;
}

cp_result cp_quality_acc_merge(cp_quality_acc *into, const cp_quality_acc *from, cp_error *err) {
    int64_t invalid_cost = into->invalid_cost, spend = into->spend;
    if (!add_i64(&invalid_cost, from->invalid_cost) || !add_i64(&spend, from->spend))
        return damaged(err, "money sums overflow");
    if (!take_inputs_of(into, from)) return oom(err);
    if (!rows_reserve(into, from->n_rows)) return oom(err);
    uint64_t base_off = into->pool.len;
    if (from->pool.len) {
        cp_buf_put(&into->pool, from->pool.p, from->pool.len);
        if (into->pool.oom) return oom(err);
    }
    /* Nothing fails from here on. */
    uint64_t base_seq = into->n_rows;
    for (size_t k = 0; k < from->n_rows; k++) {
        inv_row r = from->rows[k];
        r.off += base_off;
        r.seq += base_seq;
        into->rows[into->n_rows++] = r;
    }
    into->clicks += from->clicks;
    for (int s = 0; s < CP_N_CLICK_STATUS; s++) into->by_reason[s] += from->by_reason[s];
    into->bounced += from->bounced;
    into->impressions += from->impressions;
    into->invalid_impressions += from->invalid_impressions;
    into->invalid_cost = invalid_cost;
    into->spend = spend;
    if (from->ua_rule_on) into->ua_rule_on = true;
    return CP_OK;
}

void cp_quality_acc_save(const cp_quality_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, QUALITY_TAG);
    cp_bytes_u32(out, CP_N_CLICK_STATUS);
    cp_bytes_u64(out, a->clicks);
    for (int s = 0; s < CP_N_CLICK_STATUS; s++) cp_bytes_u64(out, a->by_reason[s]);
    cp_bytes_u64(out, a->bounced);
    cp_bytes_u64(out, a->impressions);
    cp_bytes_u64(out, a->invalid_impressions);
    cp_bytes_i64(out, a->invalid_cost);
    cp_bytes_i64(out, a->spend);
    cp_bytes_u8(out, a->ua_rule_on);
    cp_bytes_u64(out, a->n_inputs);
    for (size_t i = 0; i < a->n_inputs; i++) {
        const char *s = a->inputs[i];
        cp_bytes_u8(out, s != NULL);
        if (s) cp_bytes_str(out, s, strlen(s));
    }
    cp_bytes_u64(out, a->n_rows);
    for (size_t k = 0; k < a->n_rows; k++) {
        const inv_row *r = &a->rows[k];
        const char *cell = a->pool.p + r->off;
        cp_bytes_i64(out, r->ts_ms);
        cp_bytes_u64(out, r->seq);
        cp_bytes_u32(out, r->line);
        cp_bytes_u32(out, r->file);
        cp_bytes_u8(out, r->reason);
        cp_bytes_str(out, cell, r->identity_len);
        cp_bytes_str(out, cell + r->identity_len, r->ip_len);
        cp_bytes_str(out, cell + r->identity_len + r->ip_len, r->target_len);
    }
}

/* The body of load: fills a (fresh) from in; CP_OK or the error. */
static cp_result quality_read(cp_quality_acc *a, cp_bytes_reader *in, cp_error *err) {
    if (cp_bytes_get_u32(in) != QUALITY_TAG || in->bad) return damaged(err, "not a saved state");
    if (cp_bytes_get_u32(in) != CP_N_CLICK_STATUS) return damaged(err, "wrong number of reasons");
    a->clicks = cp_bytes_get_u64(in);
    uint64_t by_sum = 0;
    for (int s = 0; s < CP_N_CLICK_STATUS; s++) {
        a->by_reason[s] = cp_bytes_get_u64(in);
        if (a->by_reason[s] > UINT64_MAX - by_sum) return damaged(err, "click counts overflow");
        by_sum += a->by_reason[s];
    }
    a->bounced = cp_bytes_get_u64(in);
    a->impressions = cp_bytes_get_u64(in);
    a->invalid_impressions = cp_bytes_get_u64(in);
    a->invalid_cost = cp_bytes_get_i64(in);
    a->spend = cp_bytes_get_i64(in);
    uint8_t ua = cp_bytes_get_u8(in);
    if (in->bad) return damaged(err, "truncated");
    if (by_sum != a->clicks) return damaged(err, "click counts do not add up");
    if (ua > 1) return damaged(err, "bad flag");
    a->ua_rule_on = ua;

    uint64_t n_inputs = cp_bytes_get_u64(in);
    if (in->bad || n_inputs > in->n - in->at) return damaged(err, "input count exceeds the data");
    if (n_inputs) {
        a->inputs = calloc((size_t)n_inputs, sizeof *a->inputs);
        if (!a->inputs) return oom(err);
    }
    for (size_t i = 0; i < n_inputs; i++) {
        uint8_t has = cp_bytes_get_u8(in);
        if (has > 1) return damaged(err, "bad flag");
        a->n_inputs = i + 1;
        if (!has) continue;
        size_t len;
        const char *s = cp_bytes_get_str(in, &len);
        if (in->bad) return damaged(err, "truncated");
        if (memchr(s, '\0', len)) return damaged(err, "NUL in an input path");
        a->inputs[i] = malloc(len + 1);
        if (!a->inputs[i]) return oom(err);
        memcpy(a->inputs[i], s, len);
        a->inputs[i][len] = '\0';
    }

    uint64_t n_rows = cp_bytes_get_u64(in);
    if (in->bad || n_rows > (in->n - in->at) / QUALITY_ROW_MIN)
        return damaged(err, "row count exceeds the data");
    if (n_rows != a->clicks - a->by_reason[CP_CLICK_VALID])
        return damaged(err, "row count is not the invalid-click count");
    if (!rows_reserve(a, (size_t)n_rows)) return oom(err);
    for (size_t k = 0; k < n_rows; k++) {
        inv_row r = {0};
        r.ts_ms = cp_bytes_get_i64(in);
        r.seq = cp_bytes_get_u64(in);
        r.line = cp_bytes_get_u32(in);
        uint32_t file = cp_bytes_get_u32(in);
        r.reason = cp_bytes_get_u8(in);
        size_t len[3];
        const char *cell[3];
        for (int c = 0; c < 3; c++) cell[c] = cp_bytes_get_str(in, &len[c]);
        if (in->bad) return damaged(err, "truncated");
        if (r.seq >= n_rows || file > UINT16_MAX || r.reason < CP_CLICK_BOT ||
            r.reason >= CP_N_CLICK_STATUS)
            return damaged(err, "bad row");
        r.file = (uint16_t)file;
        r.off = a->pool.len;
        r.identity_len = (uint32_t)len[0];
        r.ip_len = (uint32_t)len[1];
        r.target_len = (uint32_t)len[2];
        for (int c = 0; c < 3; c++) cp_buf_put(&a->pool, cell[c], len[c]);
        if (a->pool.oom) return oom(err);
        a->rows[a->n_rows++] = r;
    }
    return CP_OK;
}

cp_quality_acc *cp_quality_acc_load(const cp_report_options *opt, cp_bytes_reader *in,
                                    cp_error *err) {
    cp_quality_acc *a = cp_quality_acc_new(opt);
    if (!a) { oom(err); return NULL; }
    if (quality_read(a, in, err) != CP_OK) {
        cp_quality_acc_free(a);
        return NULL;
    }
    return a;
}

cp_result cp_quality_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_quality_acc *a = cp_quality_acc_new(ctx->opt);
    if (!a) return oom(err);
    cp_result rc = cp_quality_acc_add(a, ctx, err);
    if (rc == CP_OK) rc = cp_quality_acc_emit(a, sum, err);
    cp_quality_acc_free(a);
    return rc;
}

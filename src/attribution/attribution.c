/* attribution.c -- off-site attribution with tracking tags (SPEC R7, R8
 * attribution.csv, R5.1 registry).
 *
 * cp_attribution_build (R7.1): one pass over each identity's events in time
 * order: the valid off-site clicks and the conversions, gathered in one
 * sequential pass and radix-sorted by identity (rows are in R1.6 order, so
 * the result is cp_run_by_identity's order restricted to them; the same for
 * the purchase lines of new_to_brand).  Within equal timestamps clicks are taken
 * first, so a click at the conversion's own time is a candidate.  A
 * conversion -- a loaded page view (R4.1), an add_to_cart, a purchase line --
 * at t is credited to the latest valid off-site click (a click with a tag) of
 * its identity with t - window <= click time <= t, on any ASIN.  Sponsored
 * clicks do not compete (R7.1).  O(events).
 *
 * cp_attribution_write (R7.1a, R7.2, R8): per tag, per day and for the whole
 * period; credited conversions are dated by their click's day.  Roll-ups per
 * campaign (channel, publisher, campaign), publisher (channel, publisher) and
 * channel, whole period only, over the registered tags; tags not in the
 * registry (all of them when there is no --tags) have tag rows only.
 * purchases and new_to_brand_purchases count distinct orders per row.
 * new_to_brand: the order's identity has no purchase line of another order
 * in [t - 365 d, t), t = the order's first line; a purchase exactly 365 days
 * before counts (the order is not new to the brand), 365 d + 1 ms before does
 * not.  Diagnostics on whole-period rows (docs/attribution.md).
 *
 * The writer is an accumulator (report/partial.h): add() folds one
 * partition's figures in, keyed by content (tag name, (day, tag), the
 * registry's roll-up keys); emit() writes.  Distinct orders and new_to_brand
 * are exact per partition (an order and its identities lie in one), so they
 * add up.  SHARED_TAG and ASIN_MISMATCH keep, per tag, the first hits in
 * R1.6 order -- (ts, file, line), the same in every partition -- and merge
 * them by that order.  cp_attribution_write is new + add + emit + free.
 * merge() adds another accumulator's tags by name and its day rows by (day,
 * tag name), sums everything (distinct orders included: partitions are
 * disjoint) and merges the first hits by the same order.  The registry is
 * copied into the accumulator when it is made ready; save() writes it with
 * the rest, and an accumulator that never had an add() takes it from the
 * other side of a merge or from the bytes; accumulators of different
 * registries do not merge (CP_EFORMAT).
 *
 * Row order: whole-period rows first -- tag rows by tag, then campaign rows
 * by (channel, publisher, campaign), publisher rows, channel rows -- then the
 * daily tag rows by tag and date.  Strings compare in byte order.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickpath/report.h"
#include "quality/quality.h"
#include "report/partial.h"
#include "report/table.h"
#include "tags/tags.h"
#include "util/check.h"
#include "util/rowmap.h"
#include "util/rowmask.h"
#include "util/sort.h"
#include "util/strings.h"
#include "util/values.h"

#define DAY_MS INT64_C(86400000)
#define NTB_WINDOW_MS (365 * DAY_MS)

static cp_result oom(cp_error *err) {
    if (err) {
        err->code = CP_ENOMEM;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "out of memory in the off-site attribution stage");
    }
    return CP_ENOMEM;
}

static inline bool is_offsite_click(const cp_report_ctx *ctx, uint32_t i) {
    return ctx->ev->type[i] == CP_CLICK && ctx->ev->tag[cp_report_rank(ctx, i)] != CP_STR_NONE;
}

/* Rows matching `want` (1 valid off-site click, 2 conversion: a loaded page
 * view, an add_to_cart or a purchase line, 4 purchase line) as (identity <<
 * 32 | row) keys in (identity, ts, input order); *out = NULL when none.
 * *buf is the allocation to free.
 *
 * No impression is ever wanted: one pass over the other rows
 * (util/rowmask.h; purchases alone for want 4), into a buffer sized by
 * their count.  They are a few percent of the rows, spread over the
 * columns, so a column read is mostly a cache miss: each row reads only
 * the columns its type needs. */
static bool rows_by_identity(const cp_report_ctx *ctx, unsigned want, uint64_t **out, size_t *m_out,
                             uint64_t **buf) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n;
    *out = *buf = NULL;
    *m_out = 0;
    const uint8_t *type = ev->type, *flags = ev->flags, *status = ctx->status;
    const cp_str *tag = ev->tag;
    cp_rows rows = want & ~4u ? cp_rows_not(type, n, CP_IMPRESSION) : cp_rows_of(type, n, CP_PURCHASE);
    size_t cap = cp_rows_count(rows);
    if (!cap) return true;
    uint64_t *keys = malloc(2 * cap * sizeof *keys); /* the keys, then the sort's scratch */
    if (!keys) return false;
    uint32_t max_id = 0;
    size_t m = 0;
    for (cp_rows r = rows; cp_rows_next(&r);) {
        size_t i = r.i;
        bool keep;
        switch (type[i]) {
        case CP_CLICK: /* (clicks only in the walk over every non-impression row: r.k is the rank) */
            keep = (want & 1) && tag[r.k] != CP_STR_NONE && status[i] == CP_CLICK_VALID;
            break;
        case CP_PAGE_VIEW: keep = (want & 2) && (flags[i] & CP_EV_LOADED); break;
        case CP_ADD_TO_CART: keep = want & 2; break;
        case CP_PURCHASE: keep = want & (2 | 4); break;
        default: keep = false; break;
        }
        if (!keep) continue;
        cp_str id = ev->identity[i];
        if (id > max_id) max_id = id;
        keys[m++] = (uint64_t)id << 32 | i;
    }
    if (!m) {
        free(keys);
        return true;
    }
    *out = cp_sort_by_identity(keys, keys + m, m, max_id, 1);
    if (!*out) {
        free(keys);
        return false;
    }
    *buf = keys;
    *m_out = m;
    return true;
}

cp_result cp_attribution_build(cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    size_t n = ev->n, n_sub = ctx->ev->sub.n;
    int64_t window = ctx->opt->offsite_window_ms;
    free(ctx->offsite_credit);
    /* per sub row (report.h): only conversions have a value */
    ctx->offsite_credit = malloc((n_sub ? n_sub : 1) * sizeof *ctx->offsite_credit);
    if (!ctx->offsite_credit) return oom(err);
    memset(ctx->offsite_credit, 0xff, n_sub * sizeof *ctx->offsite_credit); /* CP_NONE */
    /* Only valid off-site clicks and conversions matter: gathered in one
     * sequential pass and radix-sorted by identity, instead of a walk of
     * every event through cp_run_by_identity. */
    bool any_click = false;
    for (size_t i = 0; i < n && !any_click; i++)
        any_click = is_offsite_click(ctx, (uint32_t)i) && ctx->status[i] == CP_CLICK_VALID;
    if (!any_click) return CP_OK;
    uint64_t *by, *buf;
    size_t m;
    if (!rows_by_identity(ctx, 1 | 2, &by, &m, &buf)) return oom(err);
    size_t g = 0;
    while (g < m) {
        uint32_t id = (uint32_t)(by[g] >> 32);
        uint32_t last = CP_NONE;
        size_t t0 = g;
        while (t0 < m && (uint32_t)(by[t0] >> 32) == id) {
            int64_t t = ev->ts_ms[(uint32_t)by[t0]];
            size_t t1 = t0;
            while (t1 < m && (uint32_t)(by[t1] >> 32) == id && ev->ts_ms[(uint32_t)by[t1]] == t) t1++;
            for (size_t k = t0; k < t1; k++)
                if (ev->type[(uint32_t)by[k]] == CP_CLICK) last = (uint32_t)by[k]; /* a valid off-site click */
            if (last != CP_NONE) {
                CP_TESTCASE(ev->ts_ms[last] == t - window);
                if (ev->ts_ms[last] >= t - window)
                    for (size_t k = t0; k < t1; k++)
                        if (ev->type[(uint32_t)by[k]] != CP_CLICK)
                            ctx->offsite_credit[cp_report_rank(ctx, (uint32_t)by[k])] = last;
            }
            t0 = t1;
        }
        g = t0;
    }
    free(buf);
    return CP_OK;
}

/* ---- the report ------------------------------------------------------------ */

enum { D_NO_CLICKS = 0, D_NO_CONVERSIONS, D_UNKNOWN_TAG, D_ASIN_MISMATCH, D_SHARED_TAG, D_HIGH_INVALID, N_DIAG };
static const char *const diag_names[N_DIAG] = {"NO_CLICKS",    "NO_CONVERSIONS", "UNKNOWN_TAG",
                                               "ASIN_MISMATCH", "SHARED_TAG",     "HIGH_INVALID"};
/* What each code means and what to check (human summary). */
static const char *const diag_text[N_DIAG] = {
    "no valid click: check that the link is published and carries the tag exactly as registered",
    "valid clicks but no purchase credited within the window: check the landing page, price, "
    "stock and whether the audience fits the product",
    "clicks carry a tag that is not in the registry: register it (clickpath tag new) or fix the "
    "typo in the link; its figures roll up to no campaign or channel",
    "clicks land on another ASIN than the registry's: the link or the registry row names the "
    "wrong product",
    "clicks of one tag come from more than one referring site: a tag should be placed by one "
    "publisher only, or the channel figures mix",
    "over 20% of the clicks are invalid (bots, blocked addresses, floods, duplicates): check the "
    "publisher's traffic before paying for it",
};

typedef struct fig {
    int64_t clicks, invalid, dpv, atc, purchases, units, sales, ntb;
} fig;

/* An event's place in R1.6 order, the same in every partition: (ts, file,
 * line) is the global order, and a partition's rows are that order
 * restricted. */
typedef struct pos {
    int64_t ts;
    uint32_t file, line;
} pos;

static int pos_cmp(const pos *x, const pos *y) {
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static pos pos_of(const cp_events *ev, uint32_t i) {
    return (pos){ev->ts_ms[i], ev->file[i], ev->line[i]};
}

/* A valid click's referring site (SHARED_TAG): where it is, the site's hash
 * and its text.  In the accumulator `name` is the site (site_hash's text) in
 * the accumulator's misc strings; while a partition is read it is the
 * click's referrer in the partition's strings. */
typedef struct site {
    bool set;
    pos at;
    uint64_t hash;
    cp_str name;
} site;

typedef struct tag_info {
    const cp_tag_entry *reg;  /* NULL = unknown tag */
    fig f;
    /* SHARED_TAG over every partition so far: the first valid click with a
     * referring site in R1.6 order, and the first after it from another
     * site (set: the tag is shared) */
    site first, other;
    /* ASIN_MISMATCH: the first valid click in R1.6 order landing on another
     * ASIN than the registry's, and that ASIN (accumulator's misc strings) */
    bool mismatch;
    pos mismatch_at;
    cp_str landed_asin;
    uint32_t campaign_row, publisher_row, channel_row; /* roll-up rows */
    /* the partition being added: the same, found as today's single pass
     * finds them (stops at the first hit), strings in the partition's */
    site p_first, p_other;
    bool p_mismatch;
    pos p_mismatch_at;
    cp_str p_landed_asin;
    cp_str p_reg_asin;        /* registry asin in the partition's strings (0: none there) */
} tag_info;

typedef struct day_row {
    int32_t day;
    uint32_t tag;
    fig f;
} day_row;

typedef struct roll_row {
    int level; /* 1 campaign, 2 publisher, 3 channel */
    const char *channel, *publisher, *campaign;
    fig f; /* purchases and ntb summed by add(); the rest summed from the tags at emit */
} roll_row;

typedef struct credited_line {
    uint32_t tag, day_row;
    uint64_t order;
    bool ntb;
} credited_line;

/* The accumulator (partial.h).  Rows are keyed by content: tag i is the
 * string i + 1 of `names` (registered tags first, in file order, then the
 * others as partitions bring them); day rows by (day, tag index); roll-up
 * rows come from the registry alone.  Everything grows with tags and
 * (day, tag) rows, never with events. */
struct cp_attribution_acc {
    const cp_report_options *opt;
    bool ready;               /* registry loaded, its tags and roll-ups made */
    cp_tag_entry *reg;        /* the registry's entries, in file order (own copy) */
    size_t n_reg;
    char *reg_text;           /* their strings */
    cp_strings *names;        /* tag names: tag i has id i + 1 */
    cp_strings *misc;         /* referring sites and landed ASINs of the diagnostics */
    tag_info *tags;
    size_t n_tags, cap_tags;
    cp_rowmap dt;             /* (day, tag) -> day_row */
    roll_row *roll;
    size_t n_roll;
    int64_t purchases, ntb;   /* distinct orders of the whole report */
};

/* The referring site of a referrer URL: the host, lower-cased, without
 * scheme, user info, port and a leading "www.".  Hash 0 when empty. */
static uint64_t site_hash(const char *s, size_t len, char *out, size_t cap) {
    const char *p = s, *end = s + len;
    const char *sch = memmem(p, len, "://", 3);
    if (sch) p = sch + 3;
    const char *h = p;
    while (h < end && *h != '/' && *h != '?' && *h != '#') h++;
    const char *at = memchr(p, '@', (size_t)(h - p));
    if (at) p = at + 1;
    const char *colon = memchr(p, ':', (size_t)(h - p));
    if (colon) h = colon;
    if (h - p > 4 && (p[0] | 32) == 'w' && (p[1] | 32) == 'w' && (p[2] | 32) == 'w' && p[3] == '.') p += 4;
    size_t n = 0;
    char buf[256];
    for (const char *c = p; c < h && n < sizeof buf; c++)
        buf[n++] = (*c >= 'A' && *c <= 'Z') ? (char)(*c + 32) : *c;
    if (out && cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(out, buf, k);
        out[k] = '\0';
    }
    if (!n) return 0;
    uint64_t v = cp_hash_bytes(buf, n);
    return v ? v : 1;
}

/* (day, tag), the key at the head of a day_row (rowmap.h) */
_Static_assert(offsetof(day_row, f) == 2 * sizeof(uint32_t), "day_row begins with its rowmap key");

/* Row index of (day, tag) in the map of day_rows, created zeroed when
 * missing; CP_ROWMAP_OOM when out of memory (t->oom). */
static uint32_t day_get(cp_rowmap *t, int32_t day, uint32_t tag) {
    return cp_rowmap_get(t, (uint32_t)day, tag, 0, NULL);
}

static const char *tag_name(const cp_attribution_acc *a, uint32_t t) { return cp_str_c(a->names, t + 1); }

static int tag_name_cmp(const void *x, const void *y, void *arg) {
    const cp_attribution_acc *a = arg;
    return strcmp(tag_name(a, *(const uint32_t *)x), tag_name(a, *(const uint32_t *)y));
}

/* registered tags by (channel, publisher, campaign) */
static int tag_group_cmp(const void *a, const void *b, void *arg) {
    const tag_info *tags = arg;
    const cp_tag_entry *x = tags[*(const uint32_t *)a].reg, *y = tags[*(const uint32_t *)b].reg;
    int c;
    if ((c = strcmp(x->channel, y->channel))) return c;
    if ((c = strcmp(x->publisher, y->publisher))) return c;
    return strcmp(x->campaign, y->campaign);
}

static int day_cmp(const void *x, const void *y, void *arg) {
    const cp_attribution_acc *a = arg;
    const day_row *rows = a->dt.rows;
    const day_row *p = &rows[*(const uint32_t *)x], *q = &rows[*(const uint32_t *)y];
    /* R8: by the key columns in column order: date first, then tag */
    if (p->day != q->day) return p->day < q->day ? -1 : 1;
    return strcmp(tag_name(a, p->tag), tag_name(a, q->tag));
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void diag_codes(const fig *f, const tag_info *ti, bool tag_level, bool on[N_DIAG]) {
    memset(on, 0, N_DIAG * sizeof *on);
    on[D_NO_CLICKS] = f->clicks == 0;
    on[D_NO_CONVERSIONS] = f->clicks > 0 && f->purchases == 0;
    if (tag_level) {
        on[D_UNKNOWN_TAG] = ti->reg == NULL;
        on[D_ASIN_MISMATCH] = ti->mismatch;
        on[D_SHARED_TAG] = ti->other.set;
    }
    /* R7.2: over 20% invalid, i.e. invalid / (valid + invalid) > 1/5 */
    CP_TESTCASE(f->invalid * 5 == f->clicks + f->invalid);
    on[D_HIGH_INVALID] = f->invalid * 5 > f->clicks + f->invalid;
}

static void write_fig(cp_table *tb, const fig *f) {
    cp_table_int(tb, f->clicks);
    cp_table_int(tb, f->invalid);
    cp_table_int(tb, f->dpv);
    cp_table_int(tb, f->atc);
    cp_table_int(tb, f->purchases);
    cp_table_int(tb, f->units);
    cp_table_money(tb, f->sales);
    cp_table_int(tb, f->ntb);
    cp_table_ratio(tb, f->dpv, f->clicks);
    cp_table_ratio(tb, f->atc, f->clicks);
    cp_table_ratio(tb, f->purchases, f->clicks);
}

static void write_diag(cp_table *tb, const bool on[N_DIAG]) {
    char b[128];
    size_t n = 0;
    for (int d = 0; d < N_DIAG; d++) {
        if (!on[d]) continue;
        n += (size_t)snprintf(b + n, sizeof b - n, "%s%s", n ? ";" : "", diag_names[d]);
    }
    cp_table_str(tb, b, n);
}

/* the order-free sums; purchases and ntb count distinct orders instead */
static void add_fig(fig *a, const fig *b) {
    a->clicks += b->clicks;
    a->invalid += b->invalid;
    a->dpv += b->dpv;
    a->atc += b->atc;
    a->units += b->units;
    a->sales += b->sales;
}

/* ---- the accumulator ------------------------------------------------------ */

cp_attribution_acc *cp_attribution_acc_new(const cp_report_options *opt) {
    cp_attribution_acc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->opt = opt;
    cp_rowmap_init(&a->dt, sizeof(day_row), 2);
    a->names = cp_strings_new();
    a->misc = cp_strings_new();
    if (!a->names || !a->misc) {
        cp_attribution_acc_free(a);
        return NULL;
    }
    return a;
}

void cp_attribution_acc_free(cp_attribution_acc *a) {
    if (!a) return;
    free(a->reg);
    free(a->reg_text);
    cp_strings_free(a->names);
    cp_strings_free(a->misc);
    free(a->tags);
    cp_rowmap_free(&a->dt);
    free(a->roll);
    free(a);
}

/* Index of the tag named p[0..len), made (unknown, zeroed) when missing;
 * CP_NONE when out of memory. */
static uint32_t tag_get(cp_attribution_acc *a, const char *p, size_t len) {
    cp_str id = cp_strings_find(a->names, p, len);
    if (id) return id - 1;
    if (a->n_tags == a->cap_tags) {
        size_t nc = a->cap_tags ? a->cap_tags * 2 : 64;
        tag_info *nt = realloc(a->tags, nc * sizeof *nt);
        if (!nt) return CP_NONE;
        a->tags = nt;
        a->cap_tags = nc;
    }
    int bad = 0;
    id = cp_strings_intern(a->names, p, len, &bad);
    if (bad || id != a->n_tags + 1) return CP_NONE; /* ids are 1..n in creation order */
    memset(&a->tags[a->n_tags], 0, sizeof *a->tags);
    return (uint32_t)a->n_tags++;
}

/* A registry entry's five strings, not NUL-terminated: tag, channel,
 * publisher, campaign, asin. */
typedef struct reg_src {
    const char *p[5];
    size_t len[5];
    uint64_t line;
    bool multi_channel;
} reg_src;

static void reg_src_of(reg_src *s, const cp_tag_entry *e) {
    const char *f[5] = {e->tag, e->channel, e->publisher, e->campaign, e->asin};
    for (int k = 0; k < 5; k++) {
        s->p[k] = f[k];
        s->len[k] = strlen(f[k]);
    }
    s->line = e->line;
    s->multi_channel = e->multi_channel;
}

/* Makes the accumulator's copy of a registry of n entries (replacing any
 * earlier one).  False when out of memory. */
static bool reg_set(cp_attribution_acc *a, const reg_src *src, size_t n) {
    free(a->reg);
    free(a->reg_text);
    a->reg = NULL;
    a->reg_text = NULL;
    a->n_reg = 0;
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) total += src[i].len[k] + 1;
    a->reg = malloc((n ? n : 1) * sizeof *a->reg);
    a->reg_text = malloc(total);
    if (!a->reg || !a->reg_text) return false;
    char *w = a->reg_text;
    for (size_t i = 0; i < n; i++) {
        const char *f[5];
        for (int k = 0; k < 5; k++) {
            f[k] = w;
            if (src[i].len[k]) memcpy(w, src[i].p[k], src[i].len[k]);
            w += src[i].len[k];
            *w++ = '\0';
        }
        a->reg[i] = (cp_tag_entry){f[0], f[1], f[2], f[3], f[4], src[i].line, src[i].multi_channel};
    }
    a->n_reg = n;
    return true;
}

/* Makes the registry's tags (in file order, so that they exist, with zero
 * figures, whatever the partitions hold) and the roll-up rows over them,
 * sorted by their keys; then the accumulator is ready. */
static cp_result acc_init(cp_attribution_acc *a, cp_error *err) {
    if (a->n_tags) { /* the tags of an earlier attempt that ran out of memory */
        cp_strings *fresh = cp_strings_new();
        if (!fresh) return oom(err);
        cp_strings_free(a->names);
        a->names = fresh;
        a->n_tags = 0;
    }
    for (size_t i = 0; i < a->n_reg; i++) {
        const cp_tag_entry *e = &a->reg[i];
        size_t before = a->n_tags;
        uint32_t t = tag_get(a, e->tag, strlen(e->tag));
        if (t == CP_NONE) return oom(err);
        if (a->n_tags != before) a->tags[t].reg = e; /* a registry lists a tag once (tags.h) */
    }
    free(a->roll);
    a->n_roll = 0;
    uint32_t *idx = malloc((a->n_tags + 1) * sizeof *idx);
    a->roll = calloc(3 * a->n_tags + 1, sizeof *a->roll);
    if (!idx || !a->roll) {
        free(idx);
        return oom(err);
    }
    size_t m = 0;
    for (size_t i = 0; i < a->n_tags; i++)
        if (a->tags[i].reg) idx[m++] = (uint32_t)i;
    qsort_r(idx, m, sizeof *idx, tag_group_cmp, a->tags);
    /* campaign rows in (channel, publisher, campaign) order, then publisher
     * rows, then channel rows: three walks over one order */
    for (int level = 1; level <= 3; level++) {
        const cp_tag_entry *prev = NULL;
        for (size_t k = 0; k < m; k++) {
            tag_info *ti = &a->tags[idx[k]];
            const cp_tag_entry *e = ti->reg;
            bool same = prev && strcmp(prev->channel, e->channel) == 0 &&
                        (level == 3 || strcmp(prev->publisher, e->publisher) == 0) &&
                        (level >= 2 || strcmp(prev->campaign, e->campaign) == 0);
            if (!same) {
                roll_row *rr = &a->roll[a->n_roll++];
                rr->level = level;
                rr->channel = e->channel;
                rr->publisher = level <= 2 ? e->publisher : "";
                rr->campaign = level == 1 ? e->campaign : "";
            }
            uint32_t ri = (uint32_t)a->n_roll - 1;
            if (level == 1) ti->campaign_row = ri;
            else if (level == 2) ti->publisher_row = ri;
            else ti->channel_row = ri;
            prev = e;
        }
    }
    free(idx);
    a->ready = true;
    return CP_OK;
}

/* On first use: loads the registry (--tags) into the accumulator's copy and
 * makes its tags and roll-ups (acc_init). */
static cp_result acc_ready(cp_attribution_acc *a, cp_error *err) {
    if (a->ready) return CP_OK;
    cp_result rc;
    cp_tag_registry reg = {0};
    if (a->opt->tags_path && (rc = cp_tag_registry_load(&reg, a->opt->tags_path, err))) return rc;
    reg_src *src = malloc((reg.n + 1) * sizeof *src);
    bool ok = src != NULL;
    for (size_t i = 0; ok && i < reg.n; i++) reg_src_of(&src[i], &reg.e[i]);
    ok = ok && reg_set(a, src, reg.n);
    free(src);
    cp_tag_registry_free(&reg);
    if (!ok) return oom(err);
    return acc_init(a, err);
}

/* A partition's site in the accumulator's terms: its referrer's site text
 * interned into misc.  False when out of memory. */
static bool site_own(cp_attribution_acc *a, const cp_strings *str, site *s) {
    if (!s->set) return true;
    char text[128];
    size_t rl;
    const char *rs = cp_strings_get(str, s->name, &rl);
    site_hash(rs, rl, text, sizeof text);
    int bad = 0;
    s->name = cp_strings_intern(a->misc, text, strlen(text), &bad);
    return !bad;
}

/* The earlier of two sites, either possibly unset. */
static const site *site_earlier(const site *x, const site *y) {
    if (!x->set) return y;
    if (!y->set) return x;
    return pos_cmp(&x->at, &y->at) <= 0 ? x : y;
}

/* Merges (y1, y2) into (x1, x2), each pair being the first valid click with
 * a site in R1.6 order over its events and the first after it from another
 * site.  Over the union the first is the earlier of x1 and y1; the first
 * click of the other side from another site than that one is its own first
 * when the sites differ, else its own second; the union's second is the
 * earlier of those and the winning side's second.  So any grouping of the
 * events gives the single pass's answer. */
static void site_merge(site *x1, site *x2, const site *y1, const site *y2) {
    if (!y1->set) return;
    if (!x1->set) {
        *x1 = *y1;
        *x2 = *y2;
        return;
    }
    site first, cx, cy;
    if (pos_cmp(&y1->at, &x1->at) < 0) {
        first = *y1;
        cx = x1->hash != y1->hash ? *x1 : *x2;
        cy = *y2;
    } else {
        first = *x1;
        cx = *x2;
        cy = y1->hash != x1->hash ? *y1 : *y2;
    }
    *x1 = first;
    *x2 = *site_earlier(&cx, &cy);
}

cp_result cp_attribution_acc_add(cp_attribution_acc *a, cp_report_ctx *ctx, cp_error *err) {
    const cp_events *ev = ctx->ev;
    const cp_strings *str = ctx->str;
    const cp_tz *tz = a->opt->tz;
    size_t n = ev->n;
    uint32_t *tag_of = NULL; /* partition string id -> tag index + 1 */
    credited_line *cl = NULL;
    size_t n_cl = 0;
    uint64_t *pairs = NULL;
    uint8_t *ntb = NULL;
    uint32_t *ntb_row = NULL;
    cp_result rc;

    if ((rc = acc_ready(a, err))) return rc;
    for (size_t t = 0; t < a->n_tags; t++) {
        tag_info *ti = &a->tags[t];
        memset(&ti->p_first, 0, sizeof ti->p_first);
        memset(&ti->p_other, 0, sizeof ti->p_other);
        ti->p_mismatch = false;
        ti->p_landed_asin = CP_STR_NONE;
        ti->p_reg_asin = CP_STR_NONE;
    }
    tag_of = calloc((size_t)cp_strings_count(str) + 1, sizeof *tag_of);
    if (!tag_of) { rc = oom(err); goto out; }

    /* clicks (R7.2: valid ones in clicks; invalid_clicks), on their own day */
    for (cp_rows r = cp_rows_of(ev->type, n, CP_CLICK); cp_rows_next(&r);) {
        size_t i = r.i;
        if (!is_offsite_click(ctx, (uint32_t)i)) continue;
        cp_str sid = ev->tag[cp_report_rank(ctx, i)];
        if (!tag_of[sid]) {
            size_t len;
            const char *p = cp_strings_get(str, sid, &len);
            uint32_t t = tag_get(a, p, len);
            if (t == CP_NONE) { rc = oom(err); goto out; }
            const cp_tag_entry *e = a->tags[t].reg;
            if (e && e->asin[0]) a->tags[t].p_reg_asin = cp_strings_find(str, e->asin, strlen(e->asin));
            tag_of[sid] = t + 1;
        }
        uint32_t ti_i = tag_of[sid] - 1;
        uint32_t d = day_get(&a->dt, cp_tz_day(tz, ev->ts_ms[i]), ti_i);
        if (a->dt.oom) { rc = oom(err); goto out; }
        tag_info *ti = &a->tags[ti_i];
        day_row *dr = CP_ROWMAP_AT(&a->dt, day_row, d);
        if (ctx->status[i] != CP_CLICK_VALID) {
            ti->f.invalid++;
            dr->f.invalid++;
            continue;
        }
        ti->f.clicks++;
        dr->f.clicks++;
        /* SHARED_TAG: referring sites of the valid clicks */
        if (ev->referrer[i] && !ti->p_other.set) {
            size_t rl;
            const char *rs = cp_strings_get(str, ev->referrer[i], &rl);
            uint64_t h = site_hash(rs, rl, NULL, 0);
            site s = {true, pos_of(ev, (uint32_t)i), h, ev->referrer[i]};
            if (h && !ti->p_first.set) ti->p_first = s;
            else if (h && h != ti->p_first.hash) ti->p_other = s;
        }
        /* ASIN_MISMATCH: the landing page view's ASIN against the registry's */
        if (ti->reg && ti->reg->asin[0] && !ti->p_mismatch) {
            uint32_t pv = cp_quality_landing(ctx, (uint32_t)i);
            if (pv != CP_NONE && ev->asin[pv] && ev->asin[pv] != ti->p_reg_asin) {
                ti->p_mismatch = true;
                ti->p_mismatch_at = pos_of(ev, (uint32_t)i);
                ti->p_landed_asin = ev->asin[pv];
            }
        }
    }
    /* the partition's first sites and mismatches into the accumulator's */
    for (size_t t = 0; t < a->n_tags; t++) {
        tag_info *ti = &a->tags[t];
        if (!site_own(a, str, &ti->p_first) || !site_own(a, str, &ti->p_other)) { rc = oom(err); goto out; }
        site_merge(&ti->first, &ti->other, &ti->p_first, &ti->p_other);
        if (ti->p_mismatch && (!ti->mismatch || pos_cmp(&ti->p_mismatch_at, &ti->mismatch_at) < 0)) {
            size_t len;
            const char *p = cp_strings_get(str, ti->p_landed_asin, &len);
            int bad = 0;
            ti->landed_asin = cp_strings_intern(a->misc, p, len, &bad);
            if (bad) { rc = oom(err); goto out; }
            ti->mismatch = true;
            ti->mismatch_at = ti->p_mismatch_at;
        }
    }

    /* new to brand (R7.2), per order: no purchase line of another order of
     * the identity in [t - 365 d, t), judged at the order's first line in
     * R1.6 order -- the lowest row, whichever identity it belongs to (an
     * order id is a global string, R1.3, and may span identities; a
     * partition holds all of them, so this is exact per partition) */
    size_t n_orders;
    cp_run_orders(ctx->run, &n_orders);
    ntb = calloc(n_orders + 1, 1); /* 0 unseen, 1 not new, 2 new */
    ntb_row = malloc((n_orders + 1) * sizeof *ntb_row); /* the row ntb[o] was judged at */
    if (!ntb || !ntb_row) { rc = oom(err); goto out; }
    {
        /* purchase lines in (identity, ts, input order) */
        uint64_t *by, *buf;
        size_t m;
        if (!rows_by_identity(ctx, 4, &by, &m, &buf)) { rc = oom(err); goto out; }
        cp_str cur = CP_STR_NONE;
        bool have = false;
        int64_t prev = 0;
        for (size_t k = 0; k < m; k++) {
            uint32_t r = (uint32_t)by[k];
            if (ev->identity[r] != cur) { cur = ev->identity[r]; have = false; }
            if (ev->type[r] != CP_PURCHASE) continue;
            uint32_t o = ev->order[cp_report_rank(ctx, r)];
            int64_t t = ev->ts_ms[r];
            if (o != CP_NONE && (!ntb[o] || r < ntb_row[o])) {
                CP_TESTCASE(have && prev == t - NTB_WINDOW_MS);
                ntb[o] = (have && prev >= t - NTB_WINDOW_MS) ? 1 : 2;
                ntb_row[o] = r;
            }
            have = true;
            prev = t;
        }
        free(buf);
    }

    /* credited conversions, on their click's day (R7.1a) */
    size_t n_purch = 0;
    for (cp_rows r = cp_rows_of(ev->type, n, CP_PURCHASE); cp_rows_next(&r);)
        n_purch += ctx->offsite_credit[cp_report_rank(ctx, r.i)] != CP_NONE;
    cl = malloc((n_purch + 1) * sizeof *cl);
    if (!cl) { rc = oom(err); goto out; }
    /* only conversions are credited, never an impression */
    for (cp_rows r = cp_rows_not(ev->type, n, CP_IMPRESSION); cp_rows_next(&r);) {
        size_t i = r.i;
        uint32_t c = ctx->offsite_credit[r.k];
        if (c == CP_NONE) continue;
        uint32_t ti_i = tag_of[ev->tag[cp_report_rank(ctx, c)]] - 1;
        uint32_t d = day_get(&a->dt, cp_tz_day(tz, ev->ts_ms[c]), ti_i);
        if (a->dt.oom) { rc = oom(err); goto out; }
        fig *fs[2] = {&a->tags[ti_i].f, &CP_ROWMAP_AT(&a->dt, day_row, d)->f};
        for (int k = 0; k < 2; k++) {
            switch (ev->type[i]) {
            case CP_PAGE_VIEW: fs[k]->dpv++; break;
            case CP_ADD_TO_CART: fs[k]->atc++; break;
            default: fs[k]->units += ev->units[r.k]; fs[k]->sales += ev->money_micros[i]; break;
            }
        }
        if (ev->type[i] == CP_PURCHASE) {
            uint32_t o = ev->order[r.k];
            cl[n_cl].tag = ti_i;
            cl[n_cl].day_row = d;
            cl[n_cl].order = o; /* R1.3: every purchase has an order (synthetic when absent) */
            cl[n_cl].ntb = o != CP_NONE ? ntb[o] == 2 : true;
            n_cl++;
        }
    }

    /* distinct orders per row: (row id, order) pairs, row ids laid out as
     * [tags | day rows | roll-ups | total].  An order lies in one partition
     * (docs/scale.md), so the partitions' counts add up. */
    {
        uint64_t base_day = a->n_tags, base_roll = base_day + a->dt.n, total_id = base_roll + a->n_roll;
        day_row *drows = a->dt.rows; /* no day row is made past this point */
        pairs = malloc((6 * n_cl + 1) * sizeof *pairs);
        if (!pairs) { rc = oom(err); goto out; }
        size_t np = 0;
        for (size_t k = 0; k < n_cl; k++) {
            const tag_info *ti = &a->tags[cl[k].tag];
            uint64_t o = cl[k].order << 1 | cl[k].ntb; /* ntb is a property of the order */
            pairs[np++] = (uint64_t)cl[k].tag << 34 | o;
            pairs[np++] = (base_day + cl[k].day_row) << 34 | o;
            pairs[np++] = total_id << 34 | o;
            if (ti->reg) {
                pairs[np++] = (base_roll + ti->campaign_row) << 34 | o;
                pairs[np++] = (base_roll + ti->publisher_row) << 34 | o;
                pairs[np++] = (base_roll + ti->channel_row) << 34 | o;
            }
        }
        qsort(pairs, np, sizeof *pairs, u64_cmp);
        for (size_t k = 0; k < np; k++) {
            if (k && (pairs[k] >> 1) == (pairs[k - 1] >> 1)) continue;
            uint64_t row = pairs[k] >> 34;
            bool is_new = pairs[k] & 1;
            if (row == total_id) {
                a->purchases++;
                a->ntb += is_new;
                continue;
            }
            fig *f = row < base_day ? &a->tags[row].f
                   : row < base_roll ? &drows[row - base_day].f : &a->roll[row - base_roll].f;
            f->purchases++;
            f->ntb += is_new;
        }
    }
    rc = CP_OK;
out:
    free(tag_of);
    free(cl);
    free(pairs);
    free(ntb);
    free(ntb_row);
    return rc;
}

cp_result cp_attribution_acc_emit(cp_attribution_acc *a, cp_summary *sum, cp_error *err) {
    const cp_report_options *opt = a->opt;
    size_t n_tags, n_roll;
    const tag_info *tags;
    const day_row *drows;
    uint32_t *idx = NULL, *didx = NULL;
    roll_row *roll = NULL;
    cp_table *tb = NULL;
    cp_result rc;
    fig tot = {0};

    if ((rc = acc_ready(a, err))) return rc;
    n_tags = a->n_tags;
    n_roll = a->n_roll;
    tags = a->tags;
    drows = a->dt.rows;
    tot.purchases = a->purchases;
    tot.ntb = a->ntb;

    /* roll-up rows: their distinct orders from add(), the sums from their tags */
    idx = malloc((n_tags + 1) * sizeof *idx);
    didx = malloc((a->dt.n + 1) * sizeof *didx);
    roll = malloc((n_roll + 1) * sizeof *roll);
    if (!idx || !didx || !roll) { rc = oom(err); goto out; }
    if (n_roll) memcpy(roll, a->roll, n_roll * sizeof *roll);
    for (size_t i = 0; i < n_tags; i++) {
        const tag_info *ti = &tags[i];
        if (!ti->reg) continue;
        add_fig(&roll[ti->campaign_row].f, &ti->f);
        add_fig(&roll[ti->publisher_row].f, &ti->f);
        add_fig(&roll[ti->channel_row].f, &ti->f);
    }

    static const char *const cols[] = {
        "date", "level", "tag", "channel", "publisher", "campaign", "clicks", "invalid_clicks",
        "dpv", "atc", "purchases", "units", "sales", "new_to_brand_purchases", "dpv_rate",
        "atc_rate", "purchase_rate", "diagnostics"};
    tb = cp_table_open(opt->out_dir, "attribution", opt->format, cols, sizeof cols / sizeof *cols, err);
    if (!tb) { rc = err ? err->code : CP_EIO; goto out; }
    for (size_t i = 0; i < n_tags; i++) idx[i] = (uint32_t)i;
    qsort_r(idx, n_tags, sizeof *idx, tag_name_cmp, a);
    bool on[N_DIAG];
    size_t n_diag[N_DIAG] = {0};
    size_t n_unknown = 0;
    for (size_t k = 0; k < n_tags; k++) {
        const tag_info *ti = &tags[idx[k]];
        cp_table_empty(tb);
        cp_table_cstr(tb, "tag");
        cp_table_cstr(tb, tag_name(a, idx[k]));
        cp_table_cstr(tb, ti->reg ? ti->reg->channel : NULL);
        cp_table_cstr(tb, ti->reg ? ti->reg->publisher : NULL);
        cp_table_cstr(tb, ti->reg ? ti->reg->campaign : NULL);
        write_fig(tb, &ti->f);
        diag_codes(&ti->f, ti, true, on);
        write_diag(tb, on);
        cp_table_end_row(tb);
        for (int d = 0; d < N_DIAG; d++) n_diag[d] += on[d];
        n_unknown += ti->reg == NULL;
        add_fig(&tot, &ti->f);
    }
    static const char *const level_names[4] = {"tag", "campaign", "publisher", "channel"};
    for (size_t k = 0; k < n_roll; k++) {
        const roll_row *rr = &roll[k];
        cp_table_empty(tb);
        cp_table_cstr(tb, level_names[rr->level]);
        cp_table_empty(tb);
        cp_table_cstr(tb, rr->channel);
        cp_table_cstr(tb, rr->publisher);
        cp_table_cstr(tb, rr->campaign);
        write_fig(tb, &rr->f);
        diag_codes(&rr->f, NULL, false, on);
        write_diag(tb, on);
        cp_table_end_row(tb);
    }
    for (size_t i = 0; i < a->dt.n; i++) didx[i] = (uint32_t)i;
    qsort_r(didx, a->dt.n, sizeof *didx, day_cmp, a);
    for (size_t k = 0; k < a->dt.n; k++) {
        const day_row *dr = &drows[didx[k]];
        const tag_info *ti = &tags[dr->tag];
        cp_table_day(tb, dr->day);
        cp_table_cstr(tb, "tag");
        cp_table_cstr(tb, tag_name(a, dr->tag));
        cp_table_cstr(tb, ti->reg ? ti->reg->channel : NULL);
        cp_table_cstr(tb, ti->reg ? ti->reg->publisher : NULL);
        cp_table_cstr(tb, ti->reg ? ti->reg->campaign : NULL);
        write_fig(tb, &dr->f);
        cp_table_empty(tb); /* diagnostics: whole-period rows only (R8) */
        cp_table_end_row(tb);
    }
    rc = cp_table_close(tb, err);
    tb = NULL;
    if (rc) goto out;

    /* summary.json "attribution" and the human summary */
    cp_summary_begin(sum, "attribution");
    cp_summary_int(sum, "tags", (int64_t)n_tags);
    cp_summary_int(sum, "unknown_tags", (int64_t)n_unknown);
    cp_summary_int(sum, "clicks", tot.clicks);
    cp_summary_int(sum, "invalid_clicks", tot.invalid);
    cp_summary_int(sum, "dpv", tot.dpv);
    cp_summary_int(sum, "atc", tot.atc);
    cp_summary_int(sum, "purchases", tot.purchases);
    cp_summary_int(sum, "units", tot.units);
    cp_summary_money(sum, "sales", tot.sales);
    cp_summary_int(sum, "new_to_brand_purchases", tot.ntb);
    cp_summary_begin_array(sum, "diagnostics");
    for (size_t k = 0; k < n_tags; k++) {
        const tag_info *ti = &tags[idx[k]];
        const char *name = tag_name(a, idx[k]);
        diag_codes(&ti->f, ti, true, on);
        for (int d = 0; d < N_DIAG; d++) {
            if (!on[d]) continue;
            char x[512];
            switch (d) {
            case D_NO_CLICKS:
                snprintf(x, sizeof x, "tag %s has no valid click (%lld invalid): %s", name,
                         (long long)ti->f.invalid, diag_text[d]);
                break;
            case D_NO_CONVERSIONS:
                snprintf(x, sizeof x, "tag %s has %lld valid clicks and no credited purchase: %s", name,
                         (long long)ti->f.clicks, diag_text[d]);
                break;
            case D_ASIN_MISMATCH:
                snprintf(x, sizeof x, "clicks of tag %s land on %s, the registry says %s: %s", name,
                         cp_str_c(a->misc, ti->landed_asin), ti->reg->asin, diag_text[d]);
                break;
            case D_SHARED_TAG:
                snprintf(x, sizeof x, "clicks of tag %s come from %s and %s: %s", name,
                         cp_str_c(a->misc, ti->first.name), cp_str_c(a->misc, ti->other.name), diag_text[d]);
                break;
            case D_HIGH_INVALID:
                snprintf(x, sizeof x, "%lld of the %lld clicks of tag %s are invalid: %s",
                         (long long)ti->f.invalid, (long long)(ti->f.invalid + ti->f.clicks), name,
                         diag_text[d]);
                break;
            default:
                snprintf(x, sizeof x, "tag %s: %s", name, diag_text[d]);
                break;
            }
            cp_summary_begin(sum, NULL);
            cp_summary_str(sum, "code", diag_names[d]);
            cp_summary_str(sum, "tag", name);
            cp_summary_str(sum, "explanation", x);
            cp_summary_end(sum);
        }
    }
    cp_summary_end(sum);
    cp_summary_end(sum);
    {
        char sa[48];
        cp_fmt_money(sa, tot.sales);
        cp_summary_human(sum,
                         "Off-site attribution: %lld valid clicks (%lld invalid) on %zu tags (%zu not in "
                         "the registry); credited within %lld days (R7): %lld detail page views, %lld "
                         "add-to-carts, %lld purchases (%lld new to brand), sales %s",
                         (long long)tot.clicks, (long long)tot.invalid, n_tags, n_unknown,
                         (long long)(opt->offsite_window_ms / DAY_MS), (long long)tot.dpv,
                         (long long)tot.atc, (long long)tot.purchases, (long long)tot.ntb, sa);
        for (int d = 0; d < N_DIAG; d++) {
            if (!n_diag[d]) continue;
            char names[200];
            size_t w = 0, shown = 0;
            names[0] = '\0';
            for (size_t k = 0; k < n_tags && shown < 5; k++) {
                const tag_info *ti = &tags[idx[k]];
                diag_codes(&ti->f, ti, true, on);
                if (!on[d]) continue;
                int m = snprintf(names + w, sizeof names - w, "%s%s", shown ? ", " : "", tag_name(a, idx[k]));
                if (m < 0 || (size_t)m >= sizeof names - w) break;
                w += (size_t)m;
                shown++;
            }
            cp_summary_human(sum, "  %s on %zu tag%s (%s%s): %s", diag_names[d], n_diag[d],
                             n_diag[d] == 1 ? "" : "s", names, n_diag[d] > shown ? ", ..." : "",
                             diag_text[d]);
        }
    }
out:
    if (tb) cp_table_close(tb, NULL);
    free(idx);
    free(didx);
    free(roll);
    return rc;
}

/* ---- merge, save, load (partial.h) ---------------------------------------- */

static cp_result bad_data(cp_error *err, const char *what) {
    if (err) {
        err->code = CP_EFORMAT;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "off-site attribution state: %s", what);
    }
    return CP_EFORMAT;
}

/* every figure, distinct-order counts included: partitions are disjoint */
static void add_fig_all(fig *a, const fig *b) {
    add_fig(a, b);
    a->purchases += b->purchases;
    a->ntb += b->ntb;
}

static bool same_registry(const cp_attribution_acc *x, const cp_attribution_acc *y) {
    if (x->n_reg != y->n_reg) return false;
    for (size_t i = 0; i < x->n_reg; i++) {
        const cp_tag_entry *p = &x->reg[i], *q = &y->reg[i];
        if (strcmp(p->tag, q->tag) || strcmp(p->channel, q->channel) || strcmp(p->publisher, q->publisher) ||
            strcmp(p->campaign, q->campaign) || strcmp(p->asin, q->asin))
            return false;
    }
    return true;
}

/* A site of `from` in into's misc strings.  False when out of memory. */
static bool site_move(cp_attribution_acc *into, const cp_attribution_acc *from, site *s) {
    if (!s->set) return true;
    size_t len;
    const char *p = cp_strings_get(from->misc, s->name, &len);
    int bad = 0;
    s->name = cp_strings_intern(into->misc, p, len, &bad);
    return !bad;
}

cp_result cp_attribution_acc_merge(cp_attribution_acc *into, const cp_attribution_acc *from, cp_error *err) {
    cp_result rc;
    if (!from->ready) return CP_OK; /* nothing added, nothing captured */
    if (!into->ready) {
        /* the registry comes from the side that has it */
        reg_src *src = malloc((from->n_reg + 1) * sizeof *src);
        if (!src) return oom(err);
        for (size_t i = 0; i < from->n_reg; i++) reg_src_of(&src[i], &from->reg[i]);
        bool ok = reg_set(into, src, from->n_reg);
        free(src);
        if (!ok) return oom(err);
        if ((rc = acc_init(into, err))) return rc;
    }
    if (!same_registry(into, from) || into->n_roll != from->n_roll)
        return bad_data(err, "merging accumulators made with different tag registries");
    for (size_t t = 0; t < from->n_tags; t++) {
        const tag_info *fi = &from->tags[t];
        size_t len;
        const char *name = cp_strings_get(from->names, (cp_str)(t + 1), &len);
        uint32_t u = tag_get(into, name, len);
        if (u == CP_NONE) return oom(err);
        tag_info *ti = &into->tags[u];
        add_fig_all(&ti->f, &fi->f);
        site f1 = fi->first, f2 = fi->other;
        if (!site_move(into, from, &f1) || !site_move(into, from, &f2)) return oom(err);
        site_merge(&ti->first, &ti->other, &f1, &f2);
        if (fi->mismatch && (!ti->mismatch || pos_cmp(&fi->mismatch_at, &ti->mismatch_at) < 0)) {
            const char *p = cp_strings_get(from->misc, fi->landed_asin, &len);
            int bad = 0;
            cp_str s = cp_strings_intern(into->misc, p, len, &bad);
            if (bad) return oom(err);
            ti->mismatch = true;
            ti->mismatch_at = fi->mismatch_at;
            ti->landed_asin = s;
        }
    }
    /* from's tag t is into's tag of the same name: found again per day row */
    for (size_t i = 0; i < from->dt.n; i++) {
        const day_row *fr = CP_ROWMAP_AT(&from->dt, const day_row, i);
        size_t len;
        const char *name = cp_strings_get(from->names, fr->tag + 1, &len);
        cp_str u = cp_strings_find(into->names, name, len);
        uint32_t d = day_get(&into->dt, fr->day, u - 1);
        if (into->dt.oom) return oom(err);
        add_fig_all(&CP_ROWMAP_AT(&into->dt, day_row, d)->f, &fr->f);
    }
    for (size_t k = 0; k < from->n_roll; k++) add_fig_all(&into->roll[k].f, &from->roll[k].f);
    into->purchases += from->purchases;
    into->ntb += from->ntb;
    return CP_OK;
}

#define ACC_MAGIC UINT32_C(0x31525441) /* "ATR1" */

static void put_fig(cp_bytes *out, const fig *f) {
    const int64_t v[8] = {f->clicks, f->invalid, f->dpv, f->atc, f->purchases, f->units, f->sales, f->ntb};
    for (int k = 0; k < 8; k++) cp_bytes_i64(out, v[k]);
}

/* A figure as saved; false when out of the range any report can reach
 * (counts negative, or any value past 2^53), so that damaged bytes never
 * make the sums overflow. */
static bool get_fig(cp_bytes_reader *in, fig *f) {
    int64_t v[8];
    bool ok = true;
    for (int k = 0; k < 8; k++) {
        v[k] = cp_bytes_get_i64(in);
        ok = ok && v[k] <= (INT64_C(1) << 53) && v[k] >= -(INT64_C(1) << 53);
    }
    *f = (fig){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    return ok && f->clicks >= 0 && f->invalid >= 0 && f->dpv >= 0 && f->atc >= 0 && f->purchases >= 0 &&
           f->ntb >= 0;
}

static void put_pos(cp_bytes *out, const pos *p) {
    cp_bytes_i64(out, p->ts);
    cp_bytes_u32(out, p->file);
    cp_bytes_u32(out, p->line);
}

static pos get_pos(cp_bytes_reader *in) {
    pos p;
    p.ts = cp_bytes_get_i64(in);
    p.file = cp_bytes_get_u32(in);
    p.line = cp_bytes_get_u32(in);
    return p;
}

static void put_site(cp_bytes *out, const cp_attribution_acc *a, const site *s) {
    cp_bytes_u8(out, s->set);
    if (!s->set) return;
    put_pos(out, &s->at);
    cp_bytes_u64(out, s->hash);
    size_t len;
    const char *p = cp_strings_get(a->misc, s->name, &len);
    cp_bytes_str(out, p, len);
}

/* A saved site, its name interned into a's misc strings; false when the
 * bytes are not a site or out of memory (*oom_out). */
static bool get_site(cp_bytes_reader *in, cp_attribution_acc *a, site *s, bool *oom_out) {
    memset(s, 0, sizeof *s);
    uint8_t set = cp_bytes_get_u8(in);
    if (set > 1) return false;
    if (!set) return true;
    s->set = true;
    s->at = get_pos(in);
    s->hash = cp_bytes_get_u64(in);
    size_t len;
    const char *p = cp_bytes_get_str(in, &len);
    if (in->bad || !s->hash || !len) return false; /* a site has a host (site_hash) */
    int bad = 0;
    s->name = cp_strings_intern(a->misc, p, len, &bad);
    if (bad) *oom_out = true;
    return !bad;
}

/* Layout: magic, ready; when ready: the registry (count; per entry its five
 * strings, line, multi_channel), the tags in id order (count; per tag its
 * name, figures, first and other site, mismatch with position and landed
 * ASIN), the day rows (count; day, tag id, figures), the roll-up rows'
 * figures (count), the report's distinct orders and new-to-brand orders. */
void cp_attribution_acc_save(const cp_attribution_acc *a, cp_bytes *out) {
    cp_bytes_u32(out, ACC_MAGIC);
    cp_bytes_u8(out, a->ready);
    if (!a->ready) return;
    cp_bytes_u32(out, (uint32_t)a->n_reg);
    for (size_t i = 0; i < a->n_reg; i++) {
        const cp_tag_entry *e = &a->reg[i];
        const char *f[5] = {e->tag, e->channel, e->publisher, e->campaign, e->asin};
        for (int k = 0; k < 5; k++) cp_bytes_str(out, f[k], strlen(f[k]));
        cp_bytes_u64(out, e->line);
        cp_bytes_u8(out, e->multi_channel);
    }
    cp_bytes_u32(out, (uint32_t)a->n_tags);
    for (size_t t = 0; t < a->n_tags; t++) {
        const tag_info *ti = &a->tags[t];
        size_t len;
        const char *name = cp_strings_get(a->names, (cp_str)(t + 1), &len);
        cp_bytes_str(out, name, len);
        put_fig(out, &ti->f);
        put_site(out, a, &ti->first);
        put_site(out, a, &ti->other);
        cp_bytes_u8(out, ti->mismatch);
        if (ti->mismatch) {
            put_pos(out, &ti->mismatch_at);
            const char *p = cp_strings_get(a->misc, ti->landed_asin, &len);
            cp_bytes_str(out, p, len);
        }
    }
    cp_bytes_u32(out, (uint32_t)a->dt.n);
    for (size_t i = 0; i < a->dt.n; i++) {
        const day_row *dr = CP_ROWMAP_AT(&a->dt, const day_row, i);
        cp_bytes_u32(out, (uint32_t)dr->day);
        cp_bytes_u32(out, dr->tag);
        put_fig(out, &dr->f);
    }
    cp_bytes_u32(out, (uint32_t)a->n_roll);
    for (size_t k = 0; k < a->n_roll; k++) put_fig(out, &a->roll[k].f);
    cp_bytes_i64(out, a->purchases);
    cp_bytes_i64(out, a->ntb);
}

/* Whether n records of at least `each` bytes can remain in `in`. */
static bool fits(const cp_bytes_reader *in, uint64_t n, size_t each) {
    return !in->bad && n <= (in->n - in->at) / each;
}

#define FIG_BYTES (8 * 8)

static cp_result load_state(cp_attribution_acc *a, cp_bytes_reader *in, cp_error *err) {
    cp_result rc;
    if (cp_bytes_get_u32(in) != ACC_MAGIC) return bad_data(err, "not a saved attribution accumulator");
    uint8_t ready = cp_bytes_get_u8(in);
    if (in->bad || ready > 1) return bad_data(err, "damaged header");
    if (!ready) return CP_OK;

    /* the registry */
    uint32_t n_reg = cp_bytes_get_u32(in);
    if (!fits(in, n_reg, 5 * 4 + 8 + 1)) return bad_data(err, "registry count past the end of the data");
    reg_src *src = malloc(((size_t)n_reg + 1) * sizeof *src);
    if (!src) return oom(err);
    bool ok = true;
    for (uint32_t i = 0; i < n_reg && ok; i++) {
        for (int k = 0; k < 5; k++) {
            src[i].p[k] = cp_bytes_get_str(in, &src[i].len[k]);
            ok = ok && !memchr(src[i].p[k], '\0', src[i].len[k]);
        }
        src[i].line = cp_bytes_get_u64(in);
        uint8_t mc = cp_bytes_get_u8(in);
        src[i].multi_channel = mc != 0;
        ok = ok && !in->bad && mc <= 1 && src[i].len[0] > 0;
        for (uint32_t j = 0; ok && j < i; j++) /* a registry lists a tag once */
            ok = src[j].len[0] != src[i].len[0] || memcmp(src[j].p[0], src[i].p[0], src[i].len[0]);
    }
    if (!ok) {
        free(src);
        return bad_data(err, "damaged registry");
    }
    ok = reg_set(a, src, n_reg);
    free(src);
    if (!ok) return oom(err);
    if ((rc = acc_init(a, err))) return rc;

    /* the tags: the registry's first, then the others, each once */
    uint32_t n_tags = cp_bytes_get_u32(in);
    if (n_tags < a->n_tags || !fits(in, n_tags, 4 + FIG_BYTES + 3))
        return bad_data(err, "tag count out of range");
    for (uint32_t t = 0; t < n_tags; t++) {
        size_t len;
        const char *name = cp_bytes_get_str(in, &len);
        if (in->bad || !len) return bad_data(err, "damaged tag name");
        if (t < a->n_reg) {
            size_t rl;
            const char *rn = cp_strings_get(a->names, t + 1, &rl);
            if (rl != len || memcmp(rn, name, len)) return bad_data(err, "tags out of registry order");
        } else {
            if (cp_strings_find(a->names, name, len)) return bad_data(err, "a tag saved twice");
            if (tag_get(a, name, len) != t) return oom(err);
        }
        tag_info *ti = &a->tags[t];
        bool no_mem = false;
        if (!get_fig(in, &ti->f)) return bad_data(err, "damaged tag figures");
        if (!get_site(in, a, &ti->first, &no_mem) || !get_site(in, a, &ti->other, &no_mem))
            return no_mem ? oom(err) : bad_data(err, "damaged referring site");
        if (ti->other.set && (!ti->first.set || ti->other.hash == ti->first.hash))
            return bad_data(err, "damaged referring site");
        uint8_t mm = cp_bytes_get_u8(in);
        if (in->bad || mm > 1) return bad_data(err, "damaged tag");
        if (mm) {
            /* only a registered tag with an ASIN has a mismatch */
            if (!ti->reg || !ti->reg->asin[0]) return bad_data(err, "ASIN mismatch on a tag without a registry ASIN");
            ti->mismatch_at = get_pos(in);
            const char *p = cp_bytes_get_str(in, &len);
            if (in->bad || !len) return bad_data(err, "damaged ASIN mismatch");
            int bad = 0;
            cp_str s = cp_strings_intern(a->misc, p, len, &bad);
            if (bad) return oom(err);
            ti->mismatch = true;
            ti->landed_asin = s;
        }
    }

    /* the day rows */
    uint32_t n_day = cp_bytes_get_u32(in);
    if (!fits(in, n_day, 8 + FIG_BYTES)) return bad_data(err, "day row count past the end of the data");
    for (uint32_t i = 0; i < n_day; i++) {
        int32_t day = (int32_t)cp_bytes_get_u32(in);
        uint32_t tag = cp_bytes_get_u32(in);
        fig f;
        if (!get_fig(in, &f) || tag >= a->n_tags) return bad_data(err, "damaged day row");
        bool created = false;
        uint32_t d = cp_rowmap_get(&a->dt, (uint32_t)day, tag, 0, &created);
        if (a->dt.oom) return oom(err);
        if (!created) return bad_data(err, "a day row saved twice");
        CP_ROWMAP_AT(&a->dt, day_row, d)->f = f;
    }

    /* the roll-up rows, made from the registry */
    uint32_t n_roll = cp_bytes_get_u32(in);
    if (in->bad || n_roll != a->n_roll) return bad_data(err, "roll-up rows do not match the registry");
    for (uint32_t k = 0; k < n_roll; k++)
        if (!get_fig(in, &a->roll[k].f)) return bad_data(err, "damaged roll-up figures");
    a->purchases = cp_bytes_get_i64(in);
    a->ntb = cp_bytes_get_i64(in);
    if (in->bad) return bad_data(err, "truncated");
    if (a->purchases < 0 || a->ntb < 0 || a->purchases > (INT64_C(1) << 53) || a->ntb > a->purchases)
        return bad_data(err, "damaged order counts");
    return CP_OK;
}

cp_attribution_acc *cp_attribution_acc_load(const cp_report_options *opt, cp_bytes_reader *in, cp_error *err) {
    cp_attribution_acc *a = cp_attribution_acc_new(opt);
    if (!a) {
        oom(err);
        return NULL;
    }
    if (load_state(a, in, err)) {
        in->bad = true;
        cp_attribution_acc_free(a);
        return NULL;
    }
    return a;
}

cp_result cp_attribution_write(cp_report_ctx *ctx, cp_summary *sum, cp_error *err) {
    cp_attribution_acc *a = cp_attribution_acc_new(ctx->opt);
    if (!a) return oom(err);
    cp_result rc = cp_attribution_acc_add(a, ctx, err);
    if (!rc) rc = cp_attribution_acc_emit(a, sum, err);
    cp_attribution_acc_free(a);
    return rc;
}

/* gen.c -- `clickpath gen`: a deterministic, streaming generator of a
 * marketplace store's event log (R1) with exact ground truth for the invalid
 * clicks of R3.1, for who is who (R2) and for which clicks each purchase line
 * is credited to (R6.1, R7.1: truth_attribution.csv).
 *
 * Model.  The log is written actor by actor: a person (1-3 devices, each a
 * visitor id, who may sign in as the person's customer id), a bot, or a click
 * flood source.  An actor's events are generated into a buffer, sorted by
 * (ts, emission order), judged, and written as one block.  Blocks of
 * different actors are not in time order with each other; R1.6 orders them.
 *
 * Why the truth is exact while streaming.  Every rule of R3.1 looks only at
 * clicks sharing an ip (flood) or an identity (duplicate).  Every actor owns
 * its ip addresses (drawn from global counters, never reused) and its visitor
 * and customer ids (likewise), and a visitor is only ever seen with its own
 * actor's customer, so R2.1 stitching resolves inside the actor: a visitor's
 * identity is the actor's customer when any event of that visitor carries
 * it, else the visitor.  R1.6 order inside an actor is the sorted block
 * order, which is also the file order.  So the rules of R3.1, run on one
 * block, give the same answer as on the whole file.
 *
 * Determinism: one xoshiro256** stream seeded with splitmix64(--seed); no
 * clock, no rand(), no dependence on addresses.  Memory: the catalogue plus
 * one actor (bounded by construction), whatever --events is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gen/gen_internal.h"

#define MS_S INT64_C(1000)
#define MS_MIN (60 * MS_S)
#define MS_H (60 * MS_MIN)
#define MS_D (24 * MS_H)

/* R3.1 defaults (R3.2). */
#define FLOOD_CLICKS 10
#define FLOOD_WINDOW_MS MS_H
#define DEDUP_WINDOW_MS (72 * MS_H)

/* Sort keys: (ts - start) << 22 | index, where index is
 * the event's place in the actor's buffer (its emission order).  Inside the
 * period ts - start is
 * below 2^42 (--days <= 36500) and an actor emits far fewer than 2^22
 * events, so the key orders by (ts, emission order) -- R1.6 inside the
 * block -- and its low bits give the event back. */
#define SEQ_BITS 22
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)


enum { EV_IMPRESSION, EV_CLICK, EV_PAGE_VIEW, EV_ADD_TO_CART, EV_PURCHASE, EV_RETURN, EV_FEEDBACK };
static const char *const type_names[] = {"impression", "click",  "page_view", "add_to_cart",
                                         "purchase",   "return", "feedback"};

enum { R_VALID, R_BOT, R_BLOCKED_IP, R_FLOOD, R_DUPLICATE };
static const char *const reason_names[] = {"", "bot", "blocked_ip", "flood", "duplicate"};

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double unif(rng *r) { return (double)(next_u64(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n); n >= 1. */
static uint32_t below(rng *r, uint32_t n) { return (uint32_t)(((next_u64(r) >> 32) * (uint64_t)n) >> 32); }

/* Uniform integer in [lo, hi]. */
static int64_t range(rng *r, int64_t lo, int64_t hi) {
    int64_t v = lo + (int64_t)(unif(r) * (double)(hi - lo + 1));
    return v > hi ? hi : v; /* rounding of the product may reach hi + 1 */
}

static bool chance(rng *r, double p) { return unif(r) < p; }

/* ---- catalogue ----------------------------------------------------------- */

/* A string with its CSV field form (quoted when RFC 4180 needs it) and its
 * JSON string body (escaped, without the quotes). */
typedef struct gstr {
    char *csv;
    char *json;
    uint32_t csv_len, json_len;
} gstr;

typedef struct placement {
    uint32_t campaign, ad_group, keyword, asin; /* ad_group, keyword: gstr indexes */
} placement;

typedef struct campaign {
    gstr name;
    bool cpm;          /* billed per impression, else per click */
    int64_t base_micros; /* per impression (cpm) or per click (cpc) */
    uint32_t first_place, n_place;
} campaign;

enum { CH_GOOGLE, CH_FACEBOOK, CH_TIKTOK, CH_YOUTUBE, CH_EMAIL, N_CHANNELS };
static const char *const channel_names[] = {"google", "facebook", "tiktok", "youtube", "email"};
static const char *const referrers[] = {"https://www.google.com/", "https://l.facebook.com/",
                                        "https://www.tiktok.com/", "https://www.youtube.com/",
                                        "https://mail.google.com/"};

typedef struct tag {
    gstr name;
    uint32_t channel;
    uint32_t asin;         /* registered */
    uint32_t landing_asin; /* where its clicks land (differs: ASIN_MISMATCH) */
    int32_t alt_referrer;  /* -1, or a second site (SHARED_TAG) */
    int64_t cpc_micros;    /* 0: unpaid */
    bool registered;
} tag;

typedef struct ua_info {
    gstr s;
    bool bot;
} ua_info;

/* ---- one actor ----------------------------------------------------------- */

typedef struct gen_event {
    int64_t ts_ms;
    uint16_t vis;      /* index into the actor's visitors */
    uint8_t type;
    uint8_t has_customer;
    uint8_t ip;        /* index into the actor's ips */
    int8_t loaded;     /* -1 absent */
    uint8_t rating;    /* 0 absent */
    uint8_t units;     /* 0 absent */
    int16_t ua;        /* -1: empty */
    int16_t referrer;  /* -1 absent */
    int32_t asin;      /* -1 absent */
    int32_t placement; /* -1 absent */
    int32_t tag;       /* -1 absent */
    uint64_t click_id; /* 0 absent */
    uint64_t order;    /* 0 absent */
    int64_t cost_micros, price_micros, amount_micros; /* -1 absent */
} gen_event;

#define MAX_VIS 64
#define MAX_IP 4

typedef struct actor {
    uint64_t person;
    uint64_t customer;
    uint32_t n_vis;
    uint64_t vis_id[MAX_VIS];
    int16_t vis_ua[MAX_VIS];
    bool vis_mobile[MAX_VIS];
    bool vis_signin[MAX_VIS];
    uint32_t n_ip;
    char ip[MAX_IP][48];
    uint8_t ip_len[MAX_IP];
    gen_event *ev;
    size_t n_ev, cap_ev;
    uint64_t *order;   /* sort keys, then the block in R1.6 order */
    size_t cap_order;
    /* scratch for judging clicks */
    uint32_t *click_ix;
    uint32_t *click_pos; /* place of the click in the sorted block */
    uint8_t *reason;
    size_t cap_click;
} actor;

typedef struct gen {
    const cp_gen_options *opt;
    rng r;
    int64_t start_ms, end_ms;

    uint32_t n_asin;
    char (*asin)[11];
    int64_t *price_micros;

    uint32_t n_campaign;
    campaign *camp;
    uint32_t n_place;
    placement *place;
    uint32_t n_words; /* ad groups and keywords */
    gstr *words;

    uint32_t n_tag;   /* registered + unknown */
    uint32_t n_registered;
    tag *tags;

    uint32_t n_ua;
    ua_info *ua;
    uint32_t n_human_ua, n_desktop_ua;
    uint32_t first_bot_ua, n_bot_ua;
    gstr ref[N_CHANNELS];

    uint64_t next_actor, next_visitor, next_customer, next_order, next_click, next_ip4, next_ip6;
    uint8_t ip4_first[256];
    uint32_t n_ip4_first;

    actor a;
    bool oom;
    gen_event scratch; /* target of emit() when out of memory */

    gen_out ev_out, truth_out, people_out, attr_out;
    uint64_t n_written;
    int64_t cache_day;
    char cache_date[11];
} gen;

/* ---- strings ------------------------------------------------------------- */

static bool gstr_make(gstr *g, const char *s) {
    size_t n = strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    g->csv = malloc(2 * n + 3);
    g->json = malloc(6 * n + 1);
    if (!g->csv || !g->json)
        return false;
    size_t k = 0;
    if (quote)
        g->csv[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            g->csv[k++] = '"';
        g->csv[k++] = s[i];
    }
    if (quote)
        g->csv[k++] = '"';
    g->csv_len = (uint32_t)k;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            g->json[k++] = '\\';
            g->json[k++] = (char)c;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(g->json + k, "\\u00", 4);
            g->json[k + 4] = hex[c >> 4];
            g->json[k + 5] = hex[c & 15];
            k += 6;
        } else {
            g->json[k++] = (char)c;
        }
    }
    g->json_len = (uint32_t)k;
    return true;
}

static void gstr_free(gstr *g) {
    free(g->csv);
    free(g->json);
    g->csv = g->json = NULL;
}

/* ---- catalogue construction ------------------------------------------------ */

static const char *const nouns[] = {"garlic press", "skillet", "chef knife", "cutting board", "french press",
                                    "spice rack", "mixing bowl", "can opener", "salad spinner", "pepper mill",
                                    "dish rack", "ice cube tray", "measuring cups", "whisk", "baking sheet",
                                    "tea kettle", "lunch box", "water bottle", "cast iron pan", "knife sharpener"};
static const char *const adjectives[] = {"stainless", "best", "cheap", "large", "nonstick", "bamboo",
                                         "premium", "small", "professional", "eco"};
static const char *const themes[] = {"Kitchen", "Brand", "Competitor", "Gifts", "Launch", "Category", "Seasonal"};
static const char *const matches[] = {"Exact", "Phrase", "Broad", "Auto"};
static const char *const offsite_campaigns[] = {"spring-launch", "holiday-gifts", "influencer-q1",
                                                "newsletter-weekly", "retargeting", "brand-story"};
static const char *const publishers[N_CHANNELS][3] = {
    {"google-ads", "google-shopping", "search-partners"},
    {"meta-ads", "fb-group-cooks", "instagram-creator"},
    {"tiktok-ads", "creator-homechef", "tiktok-spark"},
    {"review-channel", "unboxing-weekly", "chef-vlog"},
    {"newsletter", "klaviyo-flow", "abandoned-cart"},
};
static const char *const tag_prefix[N_CHANNELS] = {"gg", "fb", "tt", "yt", "em"};

static const char base36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static bool catalogue_build(gen *g) {
    rng *r = &g->r;
    /* ASINs: "B0" + 8 base-36 digits of a bijection of the index, so unique. */
    g->n_asin = (uint32_t)range(r, 50, 300);
    g->asin = calloc(g->n_asin, sizeof *g->asin);
    g->price_micros = calloc(g->n_asin, sizeof *g->price_micros);
    if (!g->asin || !g->price_micros)
        return false;
    const uint64_t mod = UINT64_C(2821109907456); /* 36^8 */
    uint64_t off = next_u64(r) % mod;
    for (uint32_t i = 0; i < g->n_asin; i++) {
        uint64_t v = ((uint64_t)i * UINT64_C(2000000000003) + off) % mod; /* 2e12+3: coprime with 36 */
        g->asin[i][0] = 'B';
        g->asin[i][1] = '0';
        for (int k = 9; k >= 2; k--) {
            g->asin[i][k] = base36[v % 36];
            v /= 36;
        }
        g->asin[i][10] = '\0';
        /* $5.99..$149.99 in price bands, cheap ones most common */
        double u = unif(r);
        int64_t dollars = u < 0.4 ? range(r, 5, 19) : u < 0.75 ? range(r, 20, 49) : u < 0.93 ? range(r, 50, 99)
                                                                                           : range(r, 100, 149);
        g->price_micros[i] = dollars * 1000000 + 990000;
    }

    /* Words: ad group names then keywords, as interned gstrs. */
    size_t n_nouns = sizeof nouns / sizeof nouns[0];
    size_t n_adj = sizeof adjectives / sizeof adjectives[0];
    g->n_campaign = (uint32_t)range(r, 5, 15);
    g->camp = calloc(g->n_campaign, sizeof *g->camp);
    /* at most 4 ad groups x 6 keywords x 3 asins per campaign */
    size_t max_place = (size_t)g->n_campaign * 4 * 6 * 3;
    g->place = calloc(max_place, sizeof *g->place);
    g->words = calloc((size_t)g->n_campaign * 4 * 7, sizeof *g->words);
    if (!g->camp || !g->place || !g->words)
        return false;
    char buf[256];
    for (uint32_t c = 0; c < g->n_campaign; c++) {
        campaign *cp = &g->camp[c];
        /* one draw per statement: argument order is unspecified in C, and
         * the same seed must give the same bytes with every compiler */
        const char *theme = themes[below(r, 7)];
        const char *match = matches[below(r, 4)];
        snprintf(buf, sizeof buf, "SP - %s - %s %02u", theme, match, c + 1);
        if (!gstr_make(&cp->name, buf))
            return false;
        cp->cpm = chance(r, 0.3);
        cp->base_micros = cp->cpm ? range(r, 2000, 20000) : range(r, 300000, 2500000);
        cp->first_place = g->n_place;
        uint32_t n_groups = (uint32_t)range(r, 1, 4);
        for (uint32_t a = 0; a < n_groups; a++) {
            const char *noun = nouns[below(r, (uint32_t)n_nouns)];
            uint32_t ag = g->n_words;
            snprintf(buf, sizeof buf, "%s - %s", noun, matches[below(r, 4)]);
            if (!gstr_make(&g->words[g->n_words++], buf))
                return false;
            uint32_t asins[3];
            uint32_t n_asins = (uint32_t)range(r, 1, 3);
            for (uint32_t k = 0; k < n_asins; k++)
                asins[k] = below(r, g->n_asin);
            uint32_t n_kw = (uint32_t)range(r, 2, 6);
            for (uint32_t k = 0; k < n_kw; k++) {
                uint32_t kw = g->n_words;
                /* some keywords hold an inch mark: RFC 4180 quoting is exercised */
                if (chance(r, 0.1))
                    snprintf(buf, sizeof buf, "%s %u\"", noun, (unsigned)range(r, 8, 14));
                else if (k == 0)
                    snprintf(buf, sizeof buf, "%s", noun);
                else
                    snprintf(buf, sizeof buf, "%s %s %u", adjectives[below(r, (uint32_t)n_adj)], noun, k);
                if (!gstr_make(&g->words[g->n_words++], buf))
                    return false;
                for (uint32_t s = 0; s < n_asins; s++) {
                    g->place[g->n_place++] = (placement){c, ag, kw, asins[s]};
                    cp->n_place++;
                }
            }
        }
    }

    /* Off-site tags (R5.1), plus two unregistered ones (UNKNOWN_TAG). */
    uint32_t n_reg = (uint32_t)range(r, 20, 40);
    g->n_registered = n_reg;
    g->n_tag = n_reg + 2;
    g->tags = calloc(g->n_tag, sizeof *g->tags);
    if (!g->tags)
        return false;
    for (uint32_t t = 0; t < g->n_tag; t++) {
        tag *tg = &g->tags[t];
        tg->channel = t < N_CHANNELS ? t : t == N_CHANNELS + 1 ? CH_FACEBOOK : below(r, N_CHANNELS);
        tg->registered = t < n_reg;
        snprintf(buf, sizeof buf, "%s%s%02u-20", tg->registered ? "" : "zz", tag_prefix[tg->channel], t + 1);
        if (!gstr_make(&tg->name, buf))
            return false;
        tg->asin = below(r, g->n_asin);
        tg->landing_asin = tg->asin;
        tg->alt_referrer = -1;
        bool paid = tg->channel <= CH_TIKTOK && chance(r, 0.7);
        tg->cpc_micros = paid ? range(r, 200000, 1500000) : 0;
    }
    /* R7.2 diagnostics by construction: the tag after the channel seeds lands
     * on another ASIN (ASIN_MISMATCH); the next one is also posted on
     * YouTube (SHARED_TAG). */
    tag *mis = &g->tags[N_CHANNELS];
    mis->landing_asin = (mis->asin + 1 + below(r, g->n_asin - 1)) % g->n_asin;
    tag *shared = &g->tags[N_CHANNELS + 1];
    shared->alt_referrer = CH_YOUTUBE;

    for (int ch = 0; ch < N_CHANNELS; ch++)
        if (!gstr_make(&g->ref[ch], referrers[ch]))
            return false;

    /* User agents: humans (desktop first, then mobile), then bots. */
    uint32_t nh = 0, nb = 0;
    while (cp_gen_human_uas[nh])
        nh++;
    while (cp_gen_bot_uas[nb])
        nb++;
    g->n_ua = nh + nb;
    g->n_human_ua = nh;
    g->n_desktop_ua = 6;
    g->first_bot_ua = nh;
    g->n_bot_ua = nb;
    g->ua = calloc(g->n_ua, sizeof *g->ua);
    if (!g->ua)
        return false;
    for (uint32_t i = 0; i < g->n_ua; i++) {
        const char *s = i < nh ? cp_gen_human_uas[i] : cp_gen_bot_uas[i - nh];
        if (!gstr_make(&g->ua[i].s, s))
            return false;
        g->ua[i].bot = cp_gen_ua_is_bot(s);
    }

    /* First octets of public-looking IPv4 addresses. */
    for (int o = 1; o <= 223; o++) {
        if (o == 10 || o == 100 || o == 127 || o == 169 || o == 172 || o == 192 || o == 198 || o == 203)
            continue;
        g->ip4_first[g->n_ip4_first++] = (uint8_t)o;
    }
    return true;
}

static void catalogue_free(gen *g) {
    free(g->asin);
    free(g->price_micros);
    if (g->camp)
        for (uint32_t c = 0; c < g->n_campaign; c++)
            gstr_free(&g->camp[c].name);
    free(g->camp);
    free(g->place);
    if (g->words)
        for (uint32_t i = 0; i < g->n_words; i++)
            gstr_free(&g->words[i]);
    free(g->words);
    if (g->tags)
        for (uint32_t t = 0; t < g->n_tag; t++)
            gstr_free(&g->tags[t].name);
    free(g->tags);
    if (g->ua)
        for (uint32_t i = 0; i < g->n_ua; i++)
            gstr_free(&g->ua[i].s);
    free(g->ua);
    for (int ch = 0; ch < N_CHANNELS; ch++)
        gstr_free(&g->ref[ch]);
}

/* Popular products sell more: a skewed pick. */
static uint32_t pick_asin(gen *g) {
    double u = unif(&g->r);
    return (uint32_t)(u * u * g->n_asin);
}

static uint32_t pick_place(gen *g) {
    double u = unif(&g->r);
    return (uint32_t)(u * u * g->n_place);
}

static uint32_t pick_related_asin(gen *g, uint32_t asin) {
    if (chance(&g->r, 0.5))
        return asin;
    if (chance(&g->r, 0.6))
        return (asin + 1 + below(&g->r, 5)) % g->n_asin;
    return pick_asin(g);
}

/* ---- actor building ------------------------------------------------------ */

static void actor_begin(gen *g) {
    actor *a = &g->a;
    a->person = ++g->next_actor;
    a->customer = 0;
    a->n_vis = 0;
    a->n_ip = 0;
    a->n_ev = 0;
}

static uint32_t new_visitor(gen *g, int16_t ua, bool mobile) {
    actor *a = &g->a;
    uint32_t v = a->n_vis++;
    a->vis_id[v] = ++g->next_visitor;
    a->vis_ua[v] = ua;
    a->vis_mobile[v] = mobile;
    a->vis_signin[v] = false;
    return v;
}

/* A fresh address, never handed to another actor: IPv4 from a bijection of a
 * counter (first octet from a table, low 24 bits scrambled by an odd
 * multiplier), IPv6 from another counter in 2a0x:: space. */
static uint8_t new_ip(gen *g, bool v6) {
    actor *a = &g->a;
    uint8_t i = (uint8_t)a->n_ip++;
    char *p = a->ip[i];
    if (v6) {
        uint64_t n = g->next_ip6++;
        uint32_t hi = (uint32_t)((n * UINT64_C(2654435761)) & 0xffffffffu); /* bijective on 32 bits */
        uint32_t lo = (uint32_t)(n >> 32);
        a->ip_len[i] = (uint8_t)snprintf(p, 48, "2a02:%x:%x:%x::%x", 0x1000 + (unsigned)(lo & 0xefff),
                                         (unsigned)(hi >> 16), (unsigned)(hi & 0xffff), 1u + below(&g->r, 0xfffe));
    } else {
        uint64_t n = g->next_ip4++;
        uint32_t first = g->ip4_first[n % g->n_ip4_first];

        uint64_t rem = n % g->n_ip4_first, q = n / g->n_ip4_first;
        /* (rem, rest) -> n is one to one: rest - rem * c = q * odd (mod 2^24) */
        uint32_t rest = (uint32_t)((q * 2654435761u + rem * 0x5bd1e995u) & 0xffffffu);
        a->ip_len[i] = (uint8_t)snprintf(p, 48, "%u.%u.%u.%u", first, rest >> 16, (rest >> 8) & 255, rest & 255);
    }
    return i;
}

static gen_event *emit(gen *g, int type, int64_t ts_ms, uint32_t vis, uint8_t ip) {
    actor *a = &g->a;
    if (a->n_ev >= SEQ_MASK) { /* cannot happen: actors are far smaller */
        g->oom = true;
        return &g->scratch;
    }
    if (a->n_ev == a->cap_ev) {
        size_t cap = a->cap_ev ? a->cap_ev * 2 : 4096;
        gen_event *ev = realloc(a->ev, cap * sizeof *ev);
        if (!ev) {
            g->oom = true; /* keep going harmlessly; the run fails at the end */
            a->n_ev = 0;
            if (!a->ev)
                return &g->scratch;
        } else {
            a->ev = ev;
            a->cap_ev = cap;
        }
    }
    gen_event *e = &a->ev[a->n_ev++];
    e->ts_ms = ts_ms;
    e->vis = (uint16_t)vis;
    e->type = (uint8_t)type;
    e->has_customer = 0;
    e->ip = ip;
    e->loaded = -1;
    e->rating = 0;
    e->units = 0;
    e->ua = a->vis_ua[vis];
    e->referrer = -1;
    e->asin = e->placement = e->tag = -1;
    e->click_id = 0;
    e->order = 0;
    e->cost_micros = e->price_micros = e->amount_micros = -1;
    return e;
}

/* A signed-in device names the customer on most events (R2.1 material). */
static void sign(gen *g, gen_event *e) {
    if (g->a.vis_signin[e->vis] && chance(&g->r, 0.7))
        e->has_customer = 1;
}

static void emit_impression(gen *g, int64_t ts, uint32_t vis, uint8_t ip, uint32_t p) {
    gen_event *e = emit(g, EV_IMPRESSION, ts, vis, ip);
    const placement *pl = &g->place[p];
    e->placement = (int32_t)p;
    e->asin = (int32_t)pl->asin;
    const campaign *c = &g->camp[pl->campaign];
    if (c->cpm) /* CPM billing: +-20% around the campaign's price */
        e->cost_micros = c->base_micros * 8 / 10 + (int64_t)below(&g->r, (uint32_t)(c->base_micros * 4 / 10 + 1));
    sign(g, e);
}

/* Impressions of a search before time t: mostly from one campaign. */
static void emit_impressions(gen *g, int64_t t, uint32_t vis, uint8_t ip, uint32_t n, int32_t near_place) {
    rng *r = &g->r;
    uint32_t camp = near_place >= 0 ? g->place[near_place].campaign : below(r, g->n_campaign);
    const campaign *c = &g->camp[camp];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = chance(r, 0.6) ? c->first_place + below(r, c->n_place) : pick_place(g);
        emit_impression(g, t - range(r, 21 * MS_S, 20 * MS_MIN), vis, ip, p);
    }
}

/* A sponsored (placement >= 0) or off-site (tag >= 0) click at t; returns
 * the event's index.  landing_asin is where the click lands. */
static size_t emit_click(gen *g, int64_t t, uint32_t vis, uint8_t ip, int32_t p, int32_t tg, uint32_t *landing_asin) {
    rng *r = &g->r;
    gen_event *e = emit(g, EV_CLICK, t, vis, ip);
    e->click_id = ++g->next_click;
    if (p >= 0) {
        const placement *pl = &g->place[p];
        const campaign *c = &g->camp[pl->campaign];
        e->placement = p;
        e->asin = (int32_t)pl->asin;
        if (!c->cpm) /* CPC: +-25% around the campaign's bid */
            e->cost_micros = (c->base_micros * 3 / 4 + (int64_t)below(r, (uint32_t)(c->base_micros / 2 + 1))) / 10000 * 10000;
        *landing_asin = pl->asin;
    } else {
        const tag *tt = &g->tags[tg];
        e->tag = tg;
        e->asin = (int32_t)tt->landing_asin;
        e->referrer = (int16_t)(tt->alt_referrer >= 0 && chance(r, 0.3) ? tt->alt_referrer : (int32_t)tt->channel);
        if (tt->cpc_micros)
            e->cost_micros = tt->cpc_micros;
        *landing_asin = tt->landing_asin;
    }
    sign(g, e);
    return (size_t)(e - g->a.ev);
}

static void emit_page_view(gen *g, int64_t t, uint32_t vis, uint8_t ip, uint32_t asin, uint64_t click_id, int loaded) {
    gen_event *e = emit(g, EV_PAGE_VIEW, t, vis, ip);
    e->asin = (int32_t)asin;
    e->click_id = click_id;
    if (loaded == 0 || chance(&g->r, 0.1)) /* loaded is written now and then */
        e->loaded = (int8_t)loaded;
    sign(g, e);
}

/* R3.4 material: the landing of a click.  Returns false on a bounce. */
static bool emit_landing(gen *g, int64_t t, uint32_t vis, uint8_t ip, uint32_t asin, uint64_t click_id) {
    rng *r = &g->r;
    double u = unif(r);
    if (u < 0.035)
        return false; /* no page view at all */
    int64_t tl = t + range(r, 800, 8 * MS_S);
    if (u < 0.07) {
        emit_page_view(g, tl, vis, ip, asin, click_id, 0); /* left before it loaded */
        return false;
    }
    emit_page_view(g, tl, vis, ip, asin, click_id, 1);
    if (chance(r, 0.03)) /* a reload carries the id again (R9 repeat landing) */
        emit_page_view(g, tl + range(r, 5 * MS_MIN, 3 * MS_H), vis, ip, asin, click_id, 1);
    return true;
}

static uint8_t rating_draw(rng *r) {
    double u = unif(r);
    return u < 0.07 ? 1 : u < 0.12 ? 2 : u < 0.20 ? 3 : u < 0.40 ? 4 : 5;
}

/* A purchase of 1-3 lines at t (R1.3: some without an order id), with its
 * returns and feedback. */
static void emit_order(gen *g, int64_t t, uint32_t vis, uint8_t ip, uint32_t asin) {
    rng *r = &g->r;
    actor *a = &g->a;
    a->vis_signin[vis] = true; /* buying needs an account */
    bool no_id = chance(r, 0.03);
    uint64_t order = no_id ? 0 : ++g->next_order;
    uint32_t n_lines = chance(r, 0.15) ? (chance(r, 0.3) ? 3 : 2) : 1;
    if (n_lines > g->n_asin)
        n_lines = g->n_asin;
    uint32_t lines[3] = {asin, 0, 0};
    for (uint32_t k = 1; k < n_lines; k++) {
        uint32_t x;
        bool dup;
        do {
            x = pick_asin(g);
            dup = false;
            for (uint32_t j = 0; j < k; j++)
                dup |= lines[j] == x;
        } while (dup);
        lines[k] = x;
    }
    for (uint32_t k = 0; k < n_lines; k++) {
        gen_event *e = emit(g, EV_PURCHASE, t, vis, ip);
        e->has_customer = 1;
        e->order = order;
        e->asin = (int32_t)lines[k];
        double u = unif(r);
        uint8_t units = u < 0.7 ? 1 : u < 0.9 ? 2 : 3;
        e->units = units;
        int64_t price = g->price_micros[lines[k]];
        e->price_micros = price;
        if (chance(r, 0.05)) /* a coupon: the line total is given */
            e->amount_micros = units * price * 9 / 10 / 10000 * 10000;
        if (order && chance(r, 0.05)) {
            gen_event *rt = emit(g, EV_RETURN, t + range(r, 2 * MS_D, 30 * MS_D), vis, ip);
            rt->has_customer = 1;
            rt->order = order;
            rt->asin = (int32_t)lines[k];
            rt->units = (uint8_t)range(r, 1, units);
            rt->price_micros = price;
        }
    }
    if (order && chance(r, 0.10)) {
        int64_t tf = t + range(r, MS_D, 20 * MS_D);
        for (int rev = 0; rev < 2; rev++) {
            gen_event *f = emit(g, EV_FEEDBACK, tf, vis, ip);
            f->has_customer = 1;
            f->order = order;
            f->rating = rating_draw(r);
            if (chance(r, 0.5))
                f->asin = (int32_t)lines[0];
            if (!chance(r, 0.2))
                break;
            tf += range(r, MS_D, 15 * MS_D); /* revised later */
        }
    }
}

typedef struct person_ctx {
    uint32_t n_dev;
    uint8_t home_ip, mobile_ip;
    double p_buy;
} person_ctx;

static uint8_t ip_for(gen *g, const person_ctx *pc, uint32_t dev) {
    if (g->a.vis_mobile[dev] && chance(&g->r, 0.6))
        return pc->mobile_ip;
    return pc->home_ip;
}

static uint32_t pick_dev(gen *g, const person_ctx *pc) {
    if (pc->n_dev == 1 || chance(&g->r, 0.6))
        return 0;
    return 1 + below(&g->r, pc->n_dev - 1);
}

enum { ENTRY_SPONSORED, ENTRY_OFFSITE, ENTRY_ORGANIC };

/* Mean impressions per visit: ~250 impressions per sponsored click (CTR
 * about 0.4%) over the whole mix of visits. */
#define IMP_PER_VISIT_MAX 90

/* One shopping journey from t0: an entry (sponsored, off-site, organic),
 * 1-5 visits over days (returning to compare; re-clicks inside and outside
 * 72 h), maybe a purchase 0-20 days after the first click. */
static void journey(gen *g, const person_ctx *pc, int64_t t0) {
    rng *r = &g->r;
    double u = unif(r);
    int entry;
    int32_t place = -1, tg = -1;
    uint32_t asin;
    if (u < 0.45) {
        entry = ENTRY_SPONSORED;
        place = (int32_t)pick_place(g);
        asin = g->place[place].asin;
    } else if (u < 0.70) {
        entry = ENTRY_OFFSITE;
        tg = chance(r, 0.01) ? (int32_t)(g->n_registered + below(r, 2)) : (int32_t)below(r, g->n_registered);
        asin = g->tags[tg].landing_asin;
    } else {
        entry = ENTRY_ORGANIC;
        asin = pick_asin(g);
    }
    uint32_t n_visits = 1;
    while (n_visits < 5 && chance(r, 0.45))
        n_visits++;

    int64_t t = t0, first_click = -1;
    uint32_t dev = 0;
    uint8_t ip = pc->home_ip;
    for (uint32_t k = 0; k < n_visits; k++) {
        if (k > 0)
            t += chance(r, 0.45) ? range(r, 2 * MS_H, 70 * MS_H) : range(r, 3 * MS_D, 9 * MS_D);
        dev = pick_dev(g, pc);
        ip = ip_for(g, pc, dev);
        uint32_t n_imp = below(r, IMP_PER_VISIT_MAX * 2 + 1);
        bool click = (entry == ENTRY_SPONSORED && (k == 0 || chance(r, 0.5))) ||
                     (entry == ENTRY_OFFSITE && (k == 0 || chance(r, 0.35)));
        emit_impressions(g, t, dev, ip, n_imp, place);
        int64_t tv = t;
        if (click) {
            if (entry == ENTRY_SPONSORED) /* the ad was shown just before */
                emit_impression(g, t - range(r, MS_S, 20 * MS_S), dev, ip, (uint32_t)place);
            uint32_t land;
            size_t ci = emit_click(g, t, dev, ip, place, tg, &land);
            if (first_click < 0)
                first_click = t;
            if (!emit_landing(g, t, dev, ip, land, g->a.ev[ci].click_id))
                continue; /* bounced: nothing more in this visit */
            tv = t + 10 * MS_S;
        } else {
            emit_page_view(g, tv, dev, ip, asin, 0, 1);
        }
        uint32_t n_more = below(r, 5);
        for (uint32_t m = 0; m < n_more; m++) {
            tv += range(r, 20 * MS_S, 4 * MS_MIN);
            emit_page_view(g, tv, dev, ip, pick_related_asin(g, asin), 0, 1);
        }
        if (chance(r, 0.3)) {
            gen_event *e = emit(g, EV_ADD_TO_CART, tv + range(r, 5 * MS_S, MS_MIN), dev, ip);
            e->asin = (int32_t)asin;
            sign(g, e);
        }
    }
    if (!chance(r, pc->p_buy))
        return;
    if (chance(r, 0.45)) { /* buys at the end of the last visit */
        emit_order(g, t + range(r, 2 * MS_MIN, 30 * MS_MIN), dev, ip, asin);
        return;
    }
    /* comes back later, often on another device, and buys */
    int64_t base = first_click >= 0 ? first_click : t0;
    int64_t tb = base + range(r, 0, 20 * MS_D);
    if (tb < t)
        tb = t + range(r, MS_MIN, 2 * MS_H);
    dev = pick_dev(g, pc);
    ip = ip_for(g, pc, dev);
    emit_impressions(g, tb, dev, ip, below(r, IMP_PER_VISIT_MAX), -1);
    emit_page_view(g, tb, dev, ip, asin, 0, 1);
    emit_order(g, tb + range(r, MS_MIN, 20 * MS_MIN), dev, ip, asin);
}

static void gen_person(gen *g) {
    rng *r = &g->r;
    actor *a = &g->a;
    person_ctx pc = {0};
    double u = unif(r);
    pc.n_dev = u < 0.55 ? 1 : u < 0.88 ? 2 : 3;
    pc.home_ip = new_ip(g, chance(r, 0.15));
    pc.mobile_ip = new_ip(g, chance(r, 0.25));
    for (uint32_t d = 0; d < pc.n_dev; d++) {
        bool mobile = chance(r, d == 0 ? 0.55 : 0.6);
        int16_t ua = (int16_t)(mobile ? g->n_desktop_ua + below(r, g->n_human_ua - g->n_desktop_ua)
                                      : below(r, g->n_desktop_ua));
        uint32_t v = new_visitor(g, ua, mobile);
        a->vis_signin[v] = chance(r, d == 0 ? 0.5 : 0.3);
    }
    a->customer = ++g->next_customer;

    int64_t span = g->end_ms - g->start_ms;
    u = unif(r);
    uint32_t n_journeys;
    int64_t first, window;
    if (u < 0.62) { /* one visit's worth: most people */
        n_journeys = 1;
        pc.p_buy = 0.12;
        first = g->start_ms + (int64_t)(unif(r) * (double)span);
        window = 0;
    } else if (u < 0.90) { /* loyal: journeys spread over the months */
        n_journeys = (uint32_t)range(r, 2, 6);
        pc.p_buy = 0.45;
        first = g->start_ms + (int64_t)(unif(r) * 0.4 * (double)span);
        window = g->end_ms - first;
    } else { /* churned: a burst early on, then silence */
        n_journeys = (uint32_t)range(r, 2, 3);
        pc.p_buy = 0.5;
        first = g->start_ms + (int64_t)(unif(r) * 0.5 * (double)span);
        window = 25 * MS_D;
    }
    int64_t t = first;
    for (uint32_t j = 0; j < n_journeys; j++) {
        journey(g, &pc, t);
        if (window)
            t += range(r, MS_H, 2 * window / n_journeys);
    }
}

/* A crawler or scraper: bot user agent (sometimes none at all), datacenter
 * addresses, impressions, clicks and page views in bursts over days. */
static void gen_bot(gen *g) {
    rng *r = &g->r;
    int16_t ua = chance(r, 0.06) ? (int16_t)-1 : (int16_t)(g->first_bot_ua + below(r, g->n_bot_ua));
    uint32_t n_vis = (uint32_t)range(r, 1, 3);
    for (uint32_t v = 0; v < n_vis; v++)
        new_visitor(g, ua, false);
    uint32_t n_ip = (uint32_t)range(r, 1, 2);
    for (uint32_t i = 0; i < n_ip; i++)
        new_ip(g, chance(r, 0.1));
    int64_t t = g->start_ms + (int64_t)(unif(r) * (double)(g->end_ms - g->start_ms));
    uint32_t n_bursts = (uint32_t)range(r, 2, 8);
    for (uint32_t b = 0; b < n_bursts; b++) {
        uint32_t vis = below(r, n_vis);
        uint8_t ip = (uint8_t)below(r, n_ip);
        for (uint32_t i = 0, n = below(r, 40); i < n; i++) {
            gen_event *e = emit(g, EV_IMPRESSION, t - range(r, 0, 10 * MS_MIN), vis, ip);
            uint32_t p = pick_place(g);
            e->placement = (int32_t)p;
            e->asin = (int32_t)g->place[p].asin;
        }
        for (uint32_t i = 0, n = (uint32_t)range(r, 1, 4); i < n; i++) {
            int64_t tc = t + range(r, 0, 5 * MS_MIN);
            int32_t p = -1, tg = -1;
            if (chance(r, 0.6))
                p = (int32_t)pick_place(g);
            else
                tg = (int32_t)below(r, g->n_registered);
            uint32_t land;
            size_t ci = emit_click(g, tc, vis, ip, p, tg, &land);
            if (chance(r, 0.6))
                emit_page_view(g, tc + range(r, 200, 2 * MS_S), vis, ip, land, g->a.ev[ci].click_id, 1);
        }
        for (uint32_t i = 0, n = (uint32_t)range(r, 2, 10); i < n; i++) {
            int64_t tp = t + range(r, 0, 10 * MS_MIN);
            emit_page_view(g, tp, vis, ip, pick_asin(g), 0, 1);
        }
        t += range(r, 2 * MS_H, 6 * MS_D);
    }
}

/* Click fraud: one address sends 15-60 clicks within minutes from changing
 * visitor ids with browser user agents.  The 11th and later clicks in the
 * hour are flood; the first ten are judged like any click. */
static void gen_flood(gen *g) {
    rng *r = &g->r;
    uint8_t ip = new_ip(g, chance(r, 0.2));
    int32_t p = -1, tg = -1;
    if (chance(r, 0.7))
        p = (int32_t)pick_place(g);
    else
        tg = (int32_t)below(r, g->n_registered);
    uint32_t n = (uint32_t)range(r, 15, 60);
    int64_t t = g->start_ms + (int64_t)(unif(r) * (double)(g->end_ms - g->start_ms));
    int64_t span = range(r, 2 * MS_MIN, 20 * MS_MIN);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t vis;
        if (g->a.n_vis == 0 || chance(r, 0.8))
            vis = new_visitor(g, (int16_t)below(r, g->n_human_ua), false);
        else
            vis = below(r, g->a.n_vis);
        int64_t tc = t + (int64_t)((double)span * i / n) + range(r, 0, 3 * MS_S);
        if (p >= 0)
            emit_impression(g, tc - range(r, 500, 5 * MS_S), vis, ip, (uint32_t)p);
        uint32_t land;
        size_t ci = emit_click(g, tc, vis, ip, p, tg, &land);
        if (chance(r, 0.3))
            emit_page_view(g, tc + range(r, 300, 3 * MS_S), vis, ip, land, g->a.ev[ci].click_id, 1);
    }
}

/* ---- judging and writing one actor ---------------------------------------- */

static void sort_u64(uint64_t *a, size_t n) {
    while (n > 24) {
        /* quicksort, median of three, recursing on the smaller side */
        uint64_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        size_t left = j + 1;
        if (left < n - left) {
            sort_u64(a, left);
            a += left;
            n -= left;
        } else {
            sort_u64(a + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static void put2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* RFC 3339 UTC with milliseconds: 2025-01-01T00:00:00.123Z (24 bytes). */
static void put_ts(gen *g, gen_out *o, int64_t ms) {
    int64_t day = ms >= 0 ? ms / MS_D : -((-ms + MS_D - 1) / MS_D);
    int64_t in_day = ms - day * MS_D;
    if (day != g->cache_day) {
        int y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        char *c = g->cache_date;
        put2(c, (unsigned)y / 100);
        put2(c + 2, (unsigned)y % 100);
        c[4] = '-';
        put2(c + 5, m);
        c[7] = '-';
        put2(c + 8, d);
        c[10] = 'T';
        g->cache_day = day;
    }
    char *p = o->buf + o->len;
    memcpy(p, g->cache_date, 11);
    unsigned s = (unsigned)(in_day / 1000), msr = (unsigned)(in_day % 1000);
    put2(p + 11, s / 3600);
    p[13] = ':';
    put2(p + 14, s / 60 % 60);
    p[16] = ':';
    put2(p + 17, s % 60);
    p[19] = '.';
    p[20] = (char)('0' + msr / 100);
    put2(p + 21, msr % 100);
    p[23] = 'Z';
    o->len += 24;
}

static void put_id(gen_out *o, char prefix, uint64_t v) {
    gen_putc(o, prefix);
    gen_put_u64(o, v);
}

static void write_csv(gen *g, const gen_event *e) {
    gen_out *o = &g->ev_out;
    const actor *a = &g->a;
    put_ts(g, o, e->ts_ms);
    gen_putc(o, ',');
    const char *tn = type_names[e->type];
    gen_put(o, tn, strlen(tn));
    gen_putc(o, ',');
    put_id(o, 'v', a->vis_id[e->vis]);
    gen_putc(o, ',');
    if (e->has_customer)
        put_id(o, 'C', a->customer);
    gen_putc(o, ',');
    gen_put(o, a->ip[e->ip], a->ip_len[e->ip]);
    gen_putc(o, ',');
    if (e->ua >= 0)
        gen_put(o, g->ua[e->ua].s.csv, g->ua[e->ua].s.csv_len);
    gen_putc(o, ',');
    if (e->referrer >= 0)
        gen_put(o, g->ref[e->referrer].csv, g->ref[e->referrer].csv_len);
    gen_putc(o, ',');
    if (e->asin >= 0)
        gen_put(o, g->asin[e->asin], 10);
    gen_putc(o, ',');
    if (e->placement >= 0) {
        const placement *pl = &g->place[e->placement];
        const gstr *c = &g->camp[pl->campaign].name, *ag = &g->words[pl->ad_group], *kw = &g->words[pl->keyword];
        gen_put(o, c->csv, c->csv_len);
        gen_putc(o, ',');
        gen_put(o, ag->csv, ag->csv_len);
        gen_putc(o, ',');
        gen_put(o, kw->csv, kw->csv_len);
    } else {
        gen_put(o, ",,", 2);
    }
    gen_putc(o, ',');
    if (e->tag >= 0)
        gen_put(o, g->tags[e->tag].name.csv, g->tags[e->tag].name.csv_len);
    gen_putc(o, ',');
    if (e->click_id)
        put_id(o, 'c', e->click_id);
    gen_putc(o, ',');
    if (e->cost_micros >= 0)
        gen_put_money(o, e->cost_micros);
    gen_putc(o, ',');
    if (e->order)
        put_id(o, 'o', e->order);
    gen_putc(o, ',');
    if (e->units)
        gen_put_u64(o, e->units);
    gen_putc(o, ',');
    if (e->price_micros >= 0)
        gen_put_money(o, e->price_micros);
    gen_putc(o, ',');
    if (e->amount_micros >= 0)
        gen_put_money(o, e->amount_micros);
    gen_putc(o, ',');
    if (e->loaded >= 0)
        gen_putc(o, (char)('0' + e->loaded));
    gen_putc(o, ',');
    if (e->rating)
        gen_putc(o, (char)('0' + e->rating));
    gen_putc(o, '\n');
}

#define JKEY(o, lit) gen_put((o), (lit), sizeof(lit) - 1)

static void write_jsonl(gen *g, const gen_event *e) {
    gen_out *o = &g->ev_out;
    const actor *a = &g->a;
    JKEY(o, "{\"ts\":\"");
    put_ts(g, o, e->ts_ms);
    JKEY(o, "\",\"type\":\"");
    const char *tn = type_names[e->type];
    gen_put(o, tn, strlen(tn));
    JKEY(o, "\",\"visitor\":\"v");
    gen_put_u64(o, a->vis_id[e->vis]);
    if (e->has_customer) {
        JKEY(o, "\",\"customer\":\"C");
        gen_put_u64(o, a->customer);
    }
    JKEY(o, "\",\"ip\":\"");
    gen_put(o, a->ip[e->ip], a->ip_len[e->ip]);
    gen_putc(o, '"');
    if (e->ua >= 0) {
        JKEY(o, ",\"ua\":\"");
        gen_put(o, g->ua[e->ua].s.json, g->ua[e->ua].s.json_len);
        gen_putc(o, '"');
    }
    if (e->referrer >= 0) {
        JKEY(o, ",\"referrer\":\"");
        gen_put(o, g->ref[e->referrer].json, g->ref[e->referrer].json_len);
        gen_putc(o, '"');
    }
    if (e->asin >= 0) {
        JKEY(o, ",\"asin\":\"");
        gen_put(o, g->asin[e->asin], 10);
        gen_putc(o, '"');
    }
    if (e->placement >= 0) {
        const placement *pl = &g->place[e->placement];
        const gstr *c = &g->camp[pl->campaign].name, *ag = &g->words[pl->ad_group], *kw = &g->words[pl->keyword];
        JKEY(o, ",\"campaign\":\"");
        gen_put(o, c->json, c->json_len);
        JKEY(o, "\",\"ad_group\":\"");
        gen_put(o, ag->json, ag->json_len);
        JKEY(o, "\",\"keyword\":\"");
        gen_put(o, kw->json, kw->json_len);
        gen_putc(o, '"');
    }
    if (e->tag >= 0) {
        JKEY(o, ",\"tag\":\"");
        gen_put(o, g->tags[e->tag].name.json, g->tags[e->tag].name.json_len);
        gen_putc(o, '"');
    }
    if (e->click_id) {
        JKEY(o, ",\"click_id\":\"c");
        gen_put_u64(o, e->click_id);
        gen_putc(o, '"');
    }
    if (e->cost_micros >= 0) {
        JKEY(o, ",\"cost\":\"");
        gen_put_money(o, e->cost_micros);
        gen_putc(o, '"');
    }
    if (e->order) {
        JKEY(o, ",\"order\":\"o");
        gen_put_u64(o, e->order);
        gen_putc(o, '"');
    }
    if (e->units) {
        JKEY(o, ",\"units\":\"");
        gen_put_u64(o, e->units);
        gen_putc(o, '"');
    }
    if (e->price_micros >= 0) {
        JKEY(o, ",\"price\":\"");
        gen_put_money(o, e->price_micros);
        gen_putc(o, '"');
    }
    if (e->amount_micros >= 0) {
        JKEY(o, ",\"amount\":\"");
        gen_put_money(o, e->amount_micros);
        gen_putc(o, '"');
    }
    if (e->loaded >= 0) {
        JKEY(o, ",\"loaded\":\"");
        gen_putc(o, (char)('0' + e->loaded));
        gen_putc(o, '"');
    }
    if (e->rating) {
        JKEY(o, ",\"rating\":\"");
        gen_putc(o, (char)('0' + e->rating));
        gen_putc(o, '"');
    }
    JKEY(o, "}\n");
}

/* R3.1 on one actor's sorted block.  Every click has an ip, so flood counts
 * by ip; identity per R2.1 as explained at the top of this file. */
static bool actor_judge(gen *g, const uint64_t *order, size_t n, const bool *stitched) {
    actor *a = &g->a;
    size_t n_click = 0;
    for (size_t i = 0; i < n; i++)
        n_click += a->ev[order[i] & SEQ_MASK].type == EV_CLICK;
    if (n_click > a->cap_click) {
        uint32_t *ix = realloc(a->click_ix, n_click * sizeof *ix);
        if (ix)
            a->click_ix = ix;
        uint8_t *rs = realloc(a->reason, n_click);
        if (rs)
            a->reason = rs;
        uint32_t *ps = realloc(a->click_pos, n_click * sizeof *ps);
        if (ps)
            a->click_pos = ps;
        if (!ix || !rs || !ps)
            return false;
        a->cap_click = n_click;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (a->ev[order[i] & SEQ_MASK].type == EV_CLICK) {
            a->click_pos[k] = (uint32_t)i;
            a->click_ix[k++] = (uint32_t)(order[i] & SEQ_MASK);
        }
    for (size_t c = 0; c < n_click; c++) {
        const gen_event *e = &a->ev[a->click_ix[c]];
        /* 1. bot: listed UA, or empty UA (every generated input has UAs) */
        if (e->ua < 0 || g->ua[e->ua].bot) {
            a->reason[c] = R_BOT;
            continue;
        }
        /* 2. blocked_ip: no blocklist by default. */
        /* 3. flood: clicks of this ip in (t - 1 h, t], this one included */
        uint32_t count = 0;
        for (size_t j = c + 1; j-- > 0;) {
            const gen_event *f = &a->ev[a->click_ix[j]];
            if (f->ts_ms <= e->ts_ms - FLOOD_WINDOW_MS)
                break;
            count += f->ip == e->ip;
        }
        if (count > FLOOD_CLICKS) {
            a->reason[c] = R_FLOOD;
            continue;
        }
        /* 4. duplicate: a valid click of the same identity on the same
         * target less than 72 h before (in R1.6 order) */
        bool cust = e->has_customer || stitched[e->vis];
        a->reason[c] = R_VALID;
        for (size_t j = c; j-- > 0;) {
            const gen_event *f = &a->ev[a->click_ix[j]];
            if (e->ts_ms - f->ts_ms >= DEDUP_WINDOW_MS)
                break;
            if (a->reason[j] != R_VALID || f->placement != e->placement || f->tag != e->tag)
                continue;
            bool fcust = f->has_customer || stitched[f->vis];
            if (cust ? fcust : (!fcust && f->vis == e->vis)) {
                a->reason[c] = R_DUPLICATE;
                break;
            }
        }
    }
    return true;
}

/* R6.1 / R7.1 ground truth of one actor's sorted block, one line per
 * purchase line: truth_attribution.csv.  Exact for the same reasons as the
 * R3.1 truth (top of this file): identities and clicks never cross actors.
 * Deliberately the plain reading of the rules, a scan over all of the
 * actor's clicks per purchase (actors are small), sharing nothing with
 * src/ads or src/attribution:
 *   ad_click: the latest (last in R1.6 order = block order) valid sponsored
 *     click of the purchase's identity with t - 7 d <= click time <= t on the
 *     same ASIN (advertised = 1), else on any ASIN (advertised = 0);
 *   offsite_click: the latest valid off-site click (any tag, registered or
 *     not) of the identity with t - 14 d <= click time <= t, any ASIN.
 * Clicks with the purchase's own timestamp count even when they come later
 * in the block.  Identity (R2.1): the actor's customer for a stitched
 * visitor, else the visitor. */
#define ADS_WINDOW_MS (7 * MS_D)
#define OFFSITE_WINDOW_MS (14 * MS_D)

static void actor_attribution_truth(gen *g, const uint64_t *order, size_t n, const bool *stitched,
                                    uint64_t first_line) {
    actor *a = &g->a;
    gen_out *o = &g->attr_out;
    size_t n_click = 0;
    for (size_t i = 0; i < n; i++)
        n_click += a->ev[order[i] & SEQ_MASK].type == EV_CLICK;
    for (size_t i = 0; i < n; i++) {
        const gen_event *p = &a->ev[order[i] & SEQ_MASK];
        if (p->type != EV_PURCHASE)
            continue;
        int pid = stitched[p->vis] || p->has_customer ? -1 : (int)p->vis;
        int64_t t = p->ts_ms;
        size_t same = SIZE_MAX, any = SIZE_MAX, off = SIZE_MAX; /* click ordinals */
        for (size_t c = 0; c < n_click; c++) {
            const gen_event *e = &a->ev[a->click_ix[c]];
            int cid = stitched[e->vis] || e->has_customer ? -1 : (int)e->vis;
            if (a->reason[c] != R_VALID || cid != pid || e->ts_ms > t)
                continue;
            if (e->placement >= 0 && e->ts_ms >= t - ADS_WINDOW_MS) {
                any = c;
                if (e->asin == p->asin)
                    same = c;
            }
            if (e->tag >= 0 && e->ts_ms >= t - OFFSITE_WINDOW_MS)
                off = c;
        }
        size_t ad = same != SIZE_MAX ? same : any;
        int64_t sales = p->amount_micros >= 0 ? p->amount_micros : (int64_t)p->units * p->price_micros;
        gen_out_reserve(o);
        gen_put_u64(o, first_line + i);
        gen_putc(o, ',');
        gen_put_u64(o, p->units);
        gen_putc(o, ',');
        gen_put_money(o, sales);
        gen_putc(o, ',');
        if (ad != SIZE_MAX) {
            const gen_event *e = &a->ev[a->click_ix[ad]];
            const gstr *camp = &g->camp[g->place[e->placement].campaign].name;
            gen_put_u64(o, first_line + a->click_pos[ad]);
            gen_putc(o, ',');
            gen_putc(o, same != SIZE_MAX ? '1' : '0');
            gen_putc(o, ',');
            gen_put(o, camp->csv, camp->csv_len);
        } else {
            gen_put(o, ",,", 2);
        }
        gen_putc(o, ',');
        if (off != SIZE_MAX) {
            const gen_event *e = &a->ev[a->click_ix[off]];
            const gstr *tn = &g->tags[e->tag].name;
            gen_put_u64(o, first_line + a->click_pos[off]);
            gen_putc(o, ',');
            gen_put(o, tn->csv, tn->csv_len);
        } else {
            gen_putc(o, ',');
        }
        gen_putc(o, '\n');
    }
}

static bool actor_finish(gen *g) {
    actor *a = &g->a;
    if (a->n_ev > a->cap_order) {
        uint64_t *o = realloc(a->order, a->cap_ev * sizeof *o);
        if (!o)
            return false;
        a->order = o;
        a->cap_order = a->cap_ev;
    }
    /* keep the period [start, end), sorted by (ts, emission order) */
    uint64_t *order = a->order;
    size_t n = 0;
    for (size_t i = 0; i < a->n_ev; i++) {
        int64_t ts = a->ev[i].ts_ms;
        if (ts >= g->start_ms && ts < g->end_ms)
            order[n++] = ((uint64_t)(ts - g->start_ms) << SEQ_BITS) | i;
    }
    sort_u64(order, n);

    bool stitched[MAX_VIS] = {0}, used[MAX_VIS] = {0};
    for (size_t i = 0; i < n; i++) {
        const gen_event *e = &a->ev[order[i] & SEQ_MASK];
        used[e->vis] = true;
        if (e->has_customer)
            stitched[e->vis] = true;
    }
    if (!actor_judge(g, order, n, stitched))
        return false;

    bool jsonl = g->opt->jsonl;
    uint64_t first_line = g->n_written + (jsonl ? 1 : 2);
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const gen_event *e = &a->ev[order[i] & SEQ_MASK];
        gen_out_reserve(&g->ev_out);
        if (jsonl)
            write_jsonl(g, e);
        else
            write_csv(g, e);
        if (e->type == EV_CLICK) {
            uint8_t reason = a->reason[c++];
            if (reason != R_VALID) {
                gen_out *t = &g->truth_out;
                gen_out_reserve(t);
                gen_put_u64(t, first_line + i);
                gen_putc(t, ',');
                gen_put(t, reason_names[reason], strlen(reason_names[reason]));
                gen_putc(t, '\n');
            }
        }
    }
    actor_attribution_truth(g, order, n, stitched, first_line);
    g->n_written += n;
    for (uint32_t v = 0; v < a->n_vis; v++) {
        if (!used[v])
            continue;
        gen_out *p = &g->people_out;
        gen_out_reserve(p);
        put_id(p, 'v', a->vis_id[v]);
        JKEY(p, ",p");
        gen_put_u64(p, a->person);
        gen_putc(p, '\n');
    }
    return true;
}

/* ---- driver ---------------------------------------------------------------- */

void cp_gen_options_init(cp_gen_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->n_events = 1000000;
    opt->seed = 1;
    opt->out_dir = ".";
    opt->jsonl = false;
    opt->start_ms = INT64_C(1735689600000); /* 2025-01-01T00:00:00Z */
    opt->days = 120;
}

/* Fills *err with code and the message a1 a2 a3 (NULLs skipped), cut to
 * fit msg. */
static cp_result fail(cp_error *err, cp_result code, const char *a1, const char *a2, const char *a3) {
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        const char *parts[3] = {a1, a2, a3};
        size_t k = 0;
        for (int i = 0; i < 3; i++)
            for (const char *p = parts[i]; p && *p && k + 1 < sizeof err->msg; p++)
                err->msg[k++] = *p;
        err->msg[k] = '\0';
    }
    return code;
}

/* mkdir -p: creates each missing component. */
static bool make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return false;
            buf[i] = c;
        }
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool write_tags(gen *g, gen_out *o) {
    gen_out_reserve(o);
    JKEY(o, "tag,channel,publisher,campaign,asin\n");
    for (uint32_t t = 0; t < g->n_registered; t++) {
        const tag *tg = &g->tags[t];
        gen_out_reserve(o);
        gen_put(o, tg->name.csv, tg->name.csv_len);
        gen_putc(o, ',');
        const char *ch = channel_names[tg->channel];
        gen_put(o, ch, strlen(ch));
        gen_putc(o, ',');
        const char *pub = publishers[tg->channel][t % 3];
        gen_put(o, pub, strlen(pub));
        gen_putc(o, ',');
        const char *camp = offsite_campaigns[(t * 7 + tg->channel) % 6];
        gen_put(o, camp, strlen(camp));
        gen_putc(o, ',');
        gen_put(o, g->asin[tg->asin], 10);
        gen_putc(o, '\n');
    }
    return gen_out_close(o);
}

static cp_result out_error(cp_error *err, const gen_out *o) {
    char why[128];
    snprintf(why, sizeof why, ": %s", strerror(o->errno_saved));
    return fail(err, CP_EIO, "cannot write ", o->path, why);
}

cp_result cp_gen_run(const cp_gen_options *opt, uint64_t *stats_events, cp_error *err) {
    if (stats_events)
        *stats_events = 0;
    if (!opt || !opt->out_dir || !*opt->out_dir)
        return fail(err, CP_EUSAGE, "gen: no output directory", NULL, NULL);
    if (opt->days <= 0 || opt->days > 36500)
        return fail(err, CP_EUSAGE, "gen: --days must be 1..36500", NULL, NULL);
    if (!make_dirs(opt->out_dir))
        return fail(err, CP_EIO, "cannot create directory ", opt->out_dir, "");

    gen *g = calloc(1, sizeof *g);
    if (!g)
        return fail(err, CP_ENOMEM, "gen: out of memory", NULL, NULL);
    g->opt = opt;
    uint64_t x = opt->seed;
    for (int i = 0; i < 4; i++)
        g->r.s[i] = splitmix64(&x);
    g->start_ms = opt->start_ms;
    g->end_ms = opt->start_ms + (int64_t)opt->days * MS_D;
    g->cache_day = INT64_MIN;
    g->next_ip6 = 1;
    g->next_ip4 = 40503; /* skip the 1.0.0.x look of the first addresses */

    cp_result rc = CP_OK;
    if (!catalogue_build(g)) {
        rc = fail(err, CP_ENOMEM, "gen: out of memory", NULL, NULL);
        goto done;
    }
    gen_out tags_out;
    bool ok = gen_out_open(&tags_out, opt->out_dir, "tags.csv", 1 << 20);
    if (!ok || !write_tags(g, &tags_out)) {
        rc = out_error(err, &tags_out);
        gen_out_close(&tags_out);
        goto done;
    }
    gen_out *outs[4] = {&g->ev_out, &g->truth_out, &g->people_out, &g->attr_out};
    ok = gen_out_open_async(&g->ev_out, opt->out_dir, opt->jsonl ? "events.jsonl" : "events.csv", 8u << 20) &&
         gen_out_open(&g->truth_out, opt->out_dir, "truth_clicks.csv", 1u << 20) &&
         gen_out_open(&g->people_out, opt->out_dir, "truth_people.csv", 1u << 20) &&
         gen_out_open(&g->attr_out, opt->out_dir, "truth_attribution.csv", 1u << 20);
    if (ok) {
        if (!opt->jsonl)
            JKEY(&g->ev_out, "ts,type,visitor,customer,ip,ua,referrer,asin,campaign,ad_group,keyword,tag,"
                             "click_id,cost,order,units,price,amount,loaded,rating\n");
        JKEY(&g->truth_out, "line,reason\n");
        JKEY(&g->people_out, "visitor,person\n");
        JKEY(&g->attr_out, "line,units,sales,ad_click,advertised,campaign,offsite_click,tag\n");
        while (g->n_written < opt->n_events && !g->oom) {
            actor_begin(g);
            /* a bot and a flood early on, so that small runs have both */
            uint64_t k = g->a.person;
            double u = unif(&g->r);
            if (k == 3 || (k > 8 && u < 0.005))
                gen_bot(g);
            else if (k == 6 || (k > 8 && u < 0.0065))
                gen_flood(g);
            else
                gen_person(g);
            if (!actor_finish(g))
                g->oom = true;
            if (g->ev_out.failed || g->truth_out.failed || g->people_out.failed || g->attr_out.failed)
                break;
        }
    }
    for (int i = 0; i < 4; i++)
        gen_out_close(outs[i]);
    for (int i = 0; i < 4 && rc == CP_OK; i++)
        if (outs[i]->failed)
            rc = out_error(err, outs[i]);
    if (rc == CP_OK && g->oom)
        rc = fail(err, CP_ENOMEM, "gen: out of memory", NULL, NULL);
    if (stats_events)
        *stats_events = g->n_written;
done:
    catalogue_free(g);
    free(g->a.ev);
    free(g->a.click_ix);
    free(g->a.reason);
    free(g->a.click_pos);
    free(g->a.order);
    free(g);
    return rc;
}

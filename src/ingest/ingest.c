/* ingest.c -- reads event logs into the columnar store (SPEC R1).
 *
 * R1.1  format by content: JSON Lines when the first non-blank line starts
 *       with '{', CSV (RFC 4180) otherwise; compression by magic (reader.c).
 * R1.3  required fields per type.   R1.4  rejects with file, line, reason.
 * R1.4a column mapping: --map, --set, --ts-format, --input-tz, --delimiter,
 *       --no-header --columns, negative purchase units as returns.
 * R1.4b reject reasons in order: whole-line first, then fields, then values.
 * R1.5  money parsed straight into micro-units.
 *
 * Hot path: input is mapped (uncompressed files) or read in large blocks; a
 * CSV line's end, its delimiter and quote bit masks and an ASCII check come
 * from one vector pass (csv_scan_line over util/csvscan.c: SSE2, AVX2 or
 * AVX-512BW as the CPU allows; the quote-aware slow path runs only on lines
 * with an odd number of quotes); fields are cut at the delimiters outside
 * quotes, found from the masks, and are spans into the block (quoted fields
 * with doubled quotes and JSON strings with escapes are unescaped into a
 * per-record scratch buffer); strings are interned once; accepted rows are
 * laid out column by column on the parsing threads, so that the commit
 * copies columns.  No allocation per event except amortised column growth.
 *
 * Choices where SPEC is silent are listed in docs/input-format.md.
 */
#include <errno.h>
#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/mman.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/reader.h"
#include "ingest/run.h"
#include "util/check.h"
#include "util/csvscan.h"
#include "util/values.h"

#define MAX_RECORD_BYTES (1u << 20) /* R1.4b line_too_long: over 1 MiB */
#define BLOCK_BYTES (8u << 20)
#define REJECT_TEXT_CHARS 200
#define MAX_COLUMNS 4096
#define PARALLEL_MIN_BYTES (1u << 20) /* below this, one thread parses */

const char *const cp_field_names[CP_N_FIELDS] = {
    "ts", "type", "visitor", "customer", "ip", "ua", "referrer", "asin", "campaign",
    "ad_group", "keyword", "tag", "click_id", "cost", "order", "units", "price",
    "amount", "loaded", "rating"};

int cp_field_lookup(const char *name, size_t len) {
    for (int i = 0; i < CP_N_FIELDS; i++)
        if (strlen(cp_field_names[i]) == len && memcmp(cp_field_names[i], name, len) == 0) return i;
    return -1;
}

static const char *const reason_names[CP_N_REJECT_REASONS] = {
    "bad_encoding", "line_too_long", "csv_bad_quote", "csv_unterminated_quote",
    "bad_field_count", "bad_json", "missing_ts", "bad_ts", "missing_type", "bad_type",
    "click_campaign_and_tag", "click_without_campaign_or_tag", "missing_identity",
    "missing_campaign", "missing_order", "missing_asin", "bad_cost", "bad_units",
    "bad_price", "bad_amount", "bad_loaded", "bad_rating"};

const char *cp_reject_reason_name(cp_reject_reason r) {
    return (unsigned)r < CP_N_REJECT_REASONS ? reason_names[r] : "unknown";
}

static const char *const type_names[CP_N_EVENT_TYPES] = {
    "impression", "click", "page_view", "add_to_cart", "purchase", "return", "feedback"};

const char *cp_event_type_name(cp_event_type t) {
    return (unsigned)t < CP_N_EVENT_TYPES ? type_names[t] : "unknown";
}

const char *cp_result_name(cp_result r) {
    switch (r) {
    case CP_OK: return "CP_OK";
    case CP_ENOMEM: return "CP_ENOMEM";
    case CP_EIO: return "CP_EIO";
    case CP_EUSAGE: return "CP_EUSAGE";
    case CP_EFORMAT: return "CP_EFORMAT";
    case CP_EMODEL: return "CP_EMODEL";
    }
    return "CP_UNKNOWN";
}

static cp_result fail(cp_error *err, cp_result code, const char *file, uint64_t line,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static cp_result fail(cp_error *err, cp_result code, const char *file, uint64_t line,
                      const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    err->file = file;
    err->line = line;
    err->field = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- run lifecycle -------------------------------------------------------- */

static const char *dup_opt(cp_run *run, const char *s) {
    return s ? cp_arena_strdup(&run->arena, s) : NULL;
}

/* Splits "a+b+c" into names, unless `whole` should be kept (the caller
 * decides per file; here we keep both forms: names[0] = whole string when
 * it has no '+'). */
static cp_result parse_map(cp_run *run, const char *field, const char *cols, cp_error *err) {
    int f = cp_field_lookup(field, strlen(field));
    if (f < 0)
        return fail(err, CP_EUSAGE, NULL, 0, "--map %s=%s: unknown field '%s' (fields: ts, type, visitor, "
                    "customer, ip, ua, referrer, asin, campaign, ad_group, keyword, tag, click_id, cost, "
                    "order, units, price, amount, loaded, rating)", field, cols, field);
    if (!*cols) return fail(err, CP_EUSAGE, NULL, 0, "--map %s=: no column named", field);
    size_t n = 1;
    for (const char *p = cols; *p; p++) n += *p == '+';
    const char **names = cp_arena_alloc(&run->arena, (n + 1) * sizeof *names);
    if (!names) return fail(err, CP_ENOMEM, NULL, 0, "out of memory");
    /* names[0] is the whole text (a column literally named "a+b" wins);
     * names[1..n] are its parts. */
    names[0] = cp_arena_strdup(&run->arena, cols);
    const char *p = cols;
    for (size_t i = 1; i <= n; i++) {
        const char *e = strchr(p, '+');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        names[i] = cp_arena_strndup(&run->arena, p, len);
        p = e ? e + 1 : p + len;
    }
    run->src[f].names = names;
    run->src[f].n_names = n; /* parts; names[0] is the whole */
    return CP_OK;
}

cp_run *cp_run_new(const cp_ingest_options *opt, cp_error *err) {
    cp_run *run = calloc(1, sizeof *run);
    if (!run) {
        fail(err, CP_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    run->opt = *opt;
    run->opt.map = NULL;
    run->opt.set = NULL;
    run->opt.ts_format = dup_opt(run, opt->ts_format);
    run->opt.input_tz = dup_opt(run, opt->input_tz);
    run->opt.delimiter = dup_opt(run, opt->delimiter);
    run->opt.columns = dup_opt(run, opt->columns);
    run->str = cp_strings_new();
    if (!run->str) {
        fail(err, CP_ENOMEM, NULL, 0, "out of memory");
        goto bad;
    }
    run->input_tz = cp_tz_open(opt->input_tz);
    if (!run->input_tz) {
        fail(err, CP_EUSAGE, NULL, 0, "--input-tz %s: no such time zone in the system's tzdata "
             "(use an IANA name such as Europe/London)", opt->input_tz);
        goto bad;
    }
    /* Default source of each field: the column of the same name. */
    for (int f = 0; f < CP_N_FIELDS; f++) {
        const char **names = cp_arena_alloc(&run->arena, 2 * sizeof *names);
        if (!names) goto oom;
        names[0] = names[1] = cp_field_names[f];
        run->src[f].names = names;
        run->src[f].n_names = 1;
    }
    for (size_t i = 0; i < opt->n_map; i++)
        if (parse_map(run, opt->map[i].field, opt->map[i].columns, err) != CP_OK) goto bad;
    for (size_t i = 0; i < opt->n_set; i++) {
        int f = cp_field_lookup(opt->set[i].field, strlen(opt->set[i].field));
        if (f < 0) {
            fail(err, CP_EUSAGE, NULL, 0, "--set %s=%s: unknown field '%s'", opt->set[i].field,
                 opt->set[i].value, opt->set[i].field);
            goto bad;
        }
        run->src[f].constant = cp_arena_strdup(&run->arena, opt->set[i].value);
    }
    const char *d = opt->delimiter;
    if (d && strcmp(d, "ws") != 0 && strcmp(d, "tab") != 0 && strcmp(d, "\\t") != 0 && strlen(d) != 1) {
        fail(err, CP_EUSAGE, NULL, 0, "--delimiter %s: give one character, 'tab' or 'ws'", d);
        goto bad;
    }
    if (d && (strcmp(d, "\"") == 0 || strcmp(d, "\n") == 0 || strcmp(d, "\r") == 0)) {
        fail(err, CP_EUSAGE, NULL, 0, "--delimiter: a quote or line end cannot separate fields");
        goto bad;
    }
    if (opt->no_header && !opt->columns) {
        fail(err, CP_EUSAGE, NULL, 0, "--no-header needs --columns a,b,c to name the columns");
        goto bad;
    }
    return run;
oom:
    fail(err, CP_ENOMEM, NULL, 0, "out of memory");
bad:
    cp_run_free(run);
    return NULL;
}

void cp_run_free(cp_run *run) {
    if (!run) return;
    cp_events *e = &run->ev;
    free(e->ts_ms); free(e->type); free(e->flags); free(e->rating); free(e->file);
    free(e->line); free(e->visitor); free(e->customer); free(e->identity); free(e->ip);
    free(e->ua); free(e->referrer); free(e->asin); free(e->tag); free(e->click_id);
    free(e->placement); free(e->order); free(e->money_micros); free(e->units);
    free(e->sub.block);
    free(run->pl); free(run->pl_slots); free(run->orders); free(run->by_identity);
    free(run->inputs); free(run->rejects); free(run->fmt);
    cp_strings_free(run->str);
    cp_tz_free(run->input_tz);
    cp_arena_free(&run->arena);
    free(run);
}

/* ---- store growth ---------------------------------------------------------- */

#define GROW(ptr, cap) do { void *np_ = realloc((ptr), (cap) * sizeof *(ptr)); \
        if (!np_) return -1;                                   \
        (ptr) = np_; } while (0)

#define POPULATE_ROWS ((size_t)1 << 18)

/* Gives a column's bytes [from, to) their pages in one system call
 * (MADV_POPULATE_WRITE, Linux 5.14), where writing them would take a page
 * fault per 4 KiB.  Whole pages only; errors (an older kernel) are ignored:
 * the writes fault the pages in as before. */
static void populate(void *col, size_t from, size_t to) {
#if defined(MADV_POPULATE_WRITE)
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)col + from + page - 1) & ~(page - 1), e = ((uintptr_t)col + to) & ~(page - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)col;
    (void)from;
    (void)to;
#endif
}

/* Populates the columns' rows [from, to) (populate). */
static void populate_events(cp_events *e, size_t from, size_t to) {
#define POP(col) populate((col), from * sizeof *(col), to * sizeof *(col))
    POP(e->ts_ms); POP(e->type); POP(e->flags); POP(e->file); POP(e->line); POP(e->visitor);
    POP(e->customer); POP(e->ip); POP(e->ua); POP(e->referrer); POP(e->asin); POP(e->placement);
    POP(e->money_micros);
#undef POP
}

/* Grows the columns to at least `want` rows (0: double). */
static int reserve_events(cp_run *run, size_t want) {
    size_t cap = run->cap ? run->cap * 2 : 65536;
    if (want > cap) cap = want;
    cp_events *e = &run->ev;
    GROW(e->ts_ms, cap); GROW(e->type, cap); GROW(e->flags, cap); GROW(e->file, cap);
    GROW(e->line, cap); GROW(e->visitor, cap); GROW(e->customer, cap); GROW(e->ip, cap);
    GROW(e->ua, cap); GROW(e->referrer, cap); GROW(e->asin, cap); GROW(e->placement, cap);
    GROW(e->money_micros, cap);
    run->cap = cap;
    return 0;
}

/* Grows the sub columns (cp_events: the non-impression rows' tag, click_id,
 * order, units and rating) to at least `want` rows. */
static int reserve_sub(cp_run *run, size_t want) {
    size_t cap = run->sub_cap ? run->sub_cap * 2 : 4096;
    if (want > cap) cap = want;
    cp_events *e = &run->ev;
    GROW(e->tag, cap); GROW(e->click_id, cap); GROW(e->order, cap); GROW(e->units, cap); GROW(e->rating, cap);
    run->sub_cap = cap;
    return 0;
}


static uint32_t placement_index(cp_run *run, cp_str c, cp_str a, cp_str k) {
    if (run->n_pl * 2 >= (size_t)run->pl_mask) {
        uint32_t cap = run->pl_mask ? (run->pl_mask + 1) * 2 : 256;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return CP_NONE;
        for (size_t i = 0; i < run->n_pl; i++) {
            cp_placement *p = &run->pl[i];
            uint64_t h = cp_hash_u64(((uint64_t)p->campaign << 32) ^ ((uint64_t)p->ad_group << 16) ^ p->keyword);
            uint32_t j = (uint32_t)h & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(run->pl_slots);
        run->pl_slots = slots;
        run->pl_mask = cap - 1;
    }
    uint64_t h = cp_hash_u64(((uint64_t)c << 32) ^ ((uint64_t)a << 16) ^ k);
    uint32_t j = (uint32_t)h & run->pl_mask;
    for (;; j = (j + 1) & run->pl_mask) {
        uint32_t v = run->pl_slots[j];
        if (!v) break;
        cp_placement *p = &run->pl[v - 1];
        if (p->campaign == c && p->ad_group == a && p->keyword == k) return v - 1;
    }
    if (run->n_pl == run->cap_pl) {
        size_t cap = run->cap_pl ? run->cap_pl * 2 : 64;
        cp_placement *np = realloc(run->pl, cap * sizeof *np);
        if (!np) return CP_NONE;
        run->pl = np;
        run->cap_pl = cap;
    }
    run->pl[run->n_pl] = (cp_placement){c, a, k};
    run->pl_slots[j] = (uint32_t)run->n_pl + 1;
    return (uint32_t)run->n_pl++;
}

/* --delimiter: the CSV field separator; 0 for runs of spaces and tabs. */
static char delimiter_of(const cp_ingest_options *o) {
    const char *d = o->delimiter;
    if (!d) return ',';
    if (strcmp(d, "ws") == 0) return 0;
    if (strcmp(d, "tab") == 0 || strcmp(d, "\\t") == 0) return '\t';
    return d[0];
}

/* ---- per-file parsing state ------------------------------------------------ */

typedef struct span {
    const char *p;
    size_t len;
} span;

typedef struct file_ctx {
    cp_run *run;
    const char *path;
    uint16_t file_idx;
    cp_input_stats *stats;
    bool jsonl;
    char delim;      /* CSV delimiter; 0 = whitespace runs */
    size_t n_cols;   /* CSV: header field count */
    /* field -> slot plan: for each field up to 8 slots (joined) */
    int32_t slot_of[CP_N_FIELDS][8];
    uint8_t n_slots[CP_N_FIELDS];
    size_t n_slot_values; /* CSV: n_cols; JSONL: n_keys */
    /* plan_direct(): when no field is a constant or a join, field k is
     * column direct[k] (n_slot_values, an empty span, when absent) */
    bool direct_ok;
    uint32_t direct[CP_N_FIELDS];
    /* JSONL: needed key names -> slot */
    const char **key_names;
    size_t n_keys;
    uint32_t *key_slots; /* hash -> slot+1 */
    uint32_t key_mask;
    size_t populated; /* commit_part: the columns' rows [0, populated) have their pages */
    cp_error *err;
} file_ctx;

/* What one thread needs to parse records: the file's plan (read-only) and
 * its own buffers.  Unescaped text goes to scratch chunks that live until
 * worker_reset(), so spans stay valid until their rows are committed. */
typedef struct scratch_chunk {
    struct scratch_chunk *next;
    size_t cap;
    char data[];
} scratch_chunk;

/* The string fields of a parsed row (struct row). */
enum { S_VISITOR, S_CUSTOMER, S_IP, S_UA, S_REFERRER, S_ASIN, S_TAG, S_CLICK_ID, S_ORDER,
       S_CAMPAIGN, S_AD_GROUP, S_KEYWORD, N_S };

typedef struct worker {
    const file_ctx *fc;
    bool quotes_in_record; /* the record holds a quote: csv_split checks */
    cp_simd simd;          /* the instruction set of csv_scan_line; CP_SIMD_BYTES:
                            * no masks, csv_find_record and csv_split */
    uint64_t *dmask, *qmask; /* csv_masks(): delimiter and quote bits of a record */
    size_t mask_words;       /* capacity of each, grown to the longest record */
    const char *masked;      /* csv_scan_line(): the masks hold this line's bits */
    size_t masked_len;       /* ... its length (bits at and past it are clear) */
    bool masked_ascii;       /* ... and it has no byte >= 0x80 and no NUL */
    span last[N_S];        /* localize(): the last value of each string field */
    uint32_t last_lid[N_S]; /* ... and its id in the part's dictionary; both
                             * valid until worker_forget() */
    span s[N_S];           /* parse_event(): the current record's string fields */
    span *cols;            /* column/slot values of the current record */
    size_t cap_cols;
    scratch_chunk *chunks; /* head = current */
    char *scratch;
    size_t scratch_len, scratch_cap;
} worker;

/* Makes room for n more bytes of unescaped text (a record's worst case). */
static bool scratch_reserve(worker *w, size_t n) {
    if (w->scratch && w->scratch_len + n <= w->scratch_cap) return true;
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    scratch_chunk *c = malloc(sizeof *c + cap);
    if (!c) return false;
    c->cap = cap;
    c->next = w->chunks;
    w->chunks = c;
    w->scratch = c->data;
    w->scratch_len = 0;
    w->scratch_cap = cap;
    return true;
}

/* Forgets every span handed out; keeps the current chunk for reuse. */
static void worker_reset(worker *w) {
    if (!w->chunks) return;
    scratch_chunk *keep = w->chunks, *c = keep->next;
    while (c) {
        scratch_chunk *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    w->scratch_len = 0;
}

/* Forgets the remembered field values (localize): before the buffer
 * they point into is refilled. */
static void worker_forget(worker *w) {
    memset(w->last, 0, sizeof w->last);
}

static void worker_free(worker *w) {
    scratch_chunk *c = w->chunks;
    while (c) {
        scratch_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(w->cols);
    free(w->dmask);
    memset(w, 0, sizeof *w);
}

static bool worker_init(worker *w, const file_ctx *fc) {
    memset(w, 0, sizeof *w);
    w->fc = fc;
    w->simd = cp_simd_level();
    w->cap_cols = fc->n_slot_values;
    /* 65 spare spans: csv_split_bits stores a word's fields (and the last
     * field) before it checks their count */
    w->cols = malloc((w->cap_cols + 1 + 65) * sizeof *w->cols);
    if (w->cols) w->cols[w->cap_cols] = (span){"", 0}; /* plan_direct's absent column */
    return w->cols != NULL;
}

/* One parsed record.  An accepted one goes to the part's staged columns
 * (part_add); the committing thread reads the rejected and blank ones, and
 * every row of a run with a sink.  The string fields' spans stay in the
 * worker (worker.s), and in part.spans only for a run with a sink. */
enum { ROW_ACCEPTED = 0, ROW_REJECTED = 1, ROW_BLANK = 2 };
typedef struct row {
    uint64_t line;      /* physical line (relative to the part in a worker) */
    const char *rec;    /* the raw record, for a reject's text */
    size_t rec_len;
    int64_t ts, money;
    int32_t units;
    uint32_t lid[N_S]; /* the string fields' ids in the part's dictionary (localize) */
    uint32_t lpl;      /* ... and the placement's, CP_NONE when none */
    uint8_t kind, reason, type, flags, rating;
    int8_t field;
} row;

/* ---- UTF-8 validation (R1.4b bad_encoding) ---------------------------------- */

/* True when p[0..len) is valid UTF-8 without NUL bytes. */
static bool utf8_ok(const unsigned char *p, size_t len) {
    size_t i = 0;
    while (i < len) {
#if defined(__SSE2__)
        /* fast path: 16 ASCII bytes at a time, none NUL */
        const __m128i zero = _mm_setzero_si128();
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            if (_mm_movemask_epi8(v) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero))) break;
            i += 16;
        }
        if (i >= len) break;
#endif
        /* fast path: 8 ASCII bytes, none NUL */
        if (i + 8 <= len) {
            uint64_t v;
            memcpy(&v, p + i, 8);
            if (!(v & UINT64_C(0x8080808080808080)) &&
                !((v - UINT64_C(0x0101010101010101)) & ~v & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c == 0) return false;
        if (c < 0x80) { i++; continue; }
        size_t n;
        unsigned min;
        if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; min = 0x800; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = 0x10000; }
        else return false;
        if (len - i - 1 < n) return false;
        unsigned cp = c & (0x3f >> n);
        for (size_t k = 1; k <= n; k++) {
            unsigned cc = p[i + k];
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

/* ---- rejects ----------------------------------------------------------------- */

/* Length of the maximal well-formed prefix of a UTF-8 sequence at p (at most
 * `len` bytes): the whole character when valid, else how many bytes form the
 * longest start of one (at least 1), as Unicode's "maximal subpart" rule and
 * Python's errors="replace" do; *ok tells which. */
static size_t utf8_subpart(const unsigned char *p, size_t len, bool *ok) {
    unsigned c = p[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
    *ok = false;
    if (c >= 0x01 && c < 0x80) { *ok = true; return 1; }
    if (c >= 0xc2 && c <= 0xdf) need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else return 1;
    size_t i = 1;
    if (i < len && p[i] >= lo && p[i] <= hi) {
        i++;
        while (i < need && i < len && (p[i] & 0xc0) == 0x80) i++;
    }
    *ok = i == need;
    return i;
}

/* Copies at most REJECT_TEXT_CHARS characters of the raw record; ill-formed
 * UTF-8 (each maximal subpart) and NUL become U+FFFD so that rejects.csv is
 * valid UTF-8. */
static char *reject_text(cp_run *run, const char *p, size_t len) {
    size_t cap = REJECT_TEXT_CHARS * 4 + 1;
    char *out = cp_arena_alloc(&run->arena, cap);
    if (!out) return NULL;
    size_t o = 0, chars = 0, i = 0;
    const unsigned char *u = (const unsigned char *)p;
    while (i < len && chars < REJECT_TEXT_CHARS) {
        bool ok;
        size_t n = utf8_subpart(u + i, len - i, &ok);
        if (ok) {
            memcpy(out + o, p + i, n);
            o += n;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
        }
        i += n;
        chars++;
    }
    out[o] = '\0';
    return out;
}

static int add_reject(file_ctx *fc, uint64_t line, cp_reject_reason reason, int field,
                      const char *rec, size_t rec_len) {
    cp_run *run = fc->run;
    if (run->n_rejects == run->cap_rejects) {
        size_t cap = run->cap_rejects ? run->cap_rejects * 2 : 256;
        cp_reject *r = realloc(run->rejects, cap * sizeof *r);
        if (!r) return -1;
        run->rejects = r;
        run->cap_rejects = cap;
    }
    char *text = reject_text(run, rec, rec_len);
    if (!text) return -1;
    run->rejects[run->n_rejects++] = (cp_reject){
        .file = fc->file_idx, .reason = (uint8_t)reason, .line = line,
        .field = field >= 0 ? cp_field_names[field] : NULL, .text = text};
    run->reject_counts[reason]++;
    run->rejected++;
    fc->stats->rejected++;
    return 0;
}

int cp_run_add_reject(cp_run *run, const cp_reject *r) {
    if (run->n_rejects == run->cap_rejects) {
        size_t cap = run->cap_rejects ? run->cap_rejects * 2 : 256;
        cp_reject *nr = realloc(run->rejects, cap * sizeof *nr);
        if (!nr) return -1;
        run->rejects = nr;
        run->cap_rejects = cap;
    }
    char *text = cp_arena_strdup(&run->arena, r->text ? r->text : "");
    if (!text || r->reason >= CP_N_REJECT_REASONS) return -1;
    cp_reject *d = &run->rejects[run->n_rejects++];
    *d = *r;
    d->text = text;
    run->reject_counts[r->reason]++;
    run->rejected++;
    return 0;
}

static int reject_cmp(const void *a, const void *b) {
    const cp_reject *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

void cp_run_sort_rejects(cp_run *run) {
    if (run->n_rejects > 1) qsort(run->rejects, run->n_rejects, sizeof *run->rejects, reject_cmp);
}

/* ---- values -> event (R1.3, R1.4b fields and values) ------------------------- */

static inline bool bytes_eq(const char *a, const char *b, size_t n) {
    /* inline for the short fields of a row; memcmp's call costs more.  Two
     * overlapping loads cover a tail, so no byte loop but below 4 bytes. */
#if defined(__SSE2__)
    if (n >= 16) {
        /* 16 bytes a step: a user agent is a hundred bytes and more */
        for (size_t i = 0; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
            __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) != 0xffff) return false;
        }
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + n - 16));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + n - 16));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xffff;
    }
#endif
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* The event type named v, or -1: the length picks the one candidate (only
 * purchase and feedback share one). */
static int parse_type(span v) {
    int t;
    switch (v.len) {
    case 10: t = CP_IMPRESSION; break;
    case 5: t = CP_CLICK; break;
    case 9: t = CP_PAGE_VIEW; break;
    case 11: t = CP_ADD_TO_CART; break;
    case 8: t = v.p[0] == 'p' ? CP_PURCHASE : CP_FEEDBACK; break;
    case 6: t = CP_RETURN; break;
    default: return -1;
    }
    return bytes_eq(type_names[t], v.p, v.len) ? t : -1;
}

static bool parse_loaded(span v, bool *out) {
    if (v.len == 1 && (v.p[0] == '0' || v.p[0] == '1')) { *out = v.p[0] == '1'; return true; }
    if (v.len == 4 && strncasecmp(v.p, "true", 4) == 0) { *out = true; return true; }
    if (v.len == 5 && strncasecmp(v.p, "false", 5) == 0) { *out = false; return true; }
    return false;
}

/* Validates one record's field values (R1.3, R1.4b fields then values) into
 * *r, its string fields into s[].  Field k is f[ix[k]] (resolve_fields).
 * Never touches the run: safe on any thread. */
static void parse_event(const file_ctx *fc, const span *f, const uint32_t *ix, row *r, span *s) {
    const cp_run *run = fc->run;
#define REJECT(rsn, fld) do { r->kind = ROW_REJECTED; r->reason = (rsn); r->field = (fld); return; } while (0)
#define HAS(x) (f[ix[x]].len > 0)
    /* fields (R1.4b order) */
    int64_t ts;
    if (!HAS(CP_F_TS)) REJECT(CP_R_MISSING_TS, CP_F_TS);
    bool ts_ok = false;
    if (run->opt.ts_format)
        ts_ok = cp_parse_ts_format(f[ix[CP_F_TS]].p, f[ix[CP_F_TS]].len, run->opt.ts_format, run->input_tz, &ts);
    if (!ts_ok) ts_ok = cp_parse_ts(f[ix[CP_F_TS]].p, f[ix[CP_F_TS]].len, run->input_tz, &ts);
    if (!ts_ok) REJECT(CP_R_BAD_TS, CP_F_TS);
    if (!HAS(CP_F_TYPE)) REJECT(CP_R_MISSING_TYPE, CP_F_TYPE);
    int type = parse_type(f[ix[CP_F_TYPE]]);
    if (type < 0) REJECT(CP_R_BAD_TYPE, CP_F_TYPE);
    bool has_identity = HAS(CP_F_VISITOR) || HAS(CP_F_CUSTOMER);
    switch (type) {
    case CP_CLICK:
        if (HAS(CP_F_CAMPAIGN) && HAS(CP_F_TAG)) REJECT(CP_R_CLICK_CAMPAIGN_AND_TAG, CP_F_TAG);
        if (!HAS(CP_F_CAMPAIGN) && !HAS(CP_F_TAG)) REJECT(CP_R_CLICK_WITHOUT_CAMPAIGN_OR_TAG, CP_F_CAMPAIGN);
        if (!has_identity) REJECT(CP_R_MISSING_IDENTITY, CP_F_VISITOR);
        break;
    case CP_IMPRESSION:
        if (!HAS(CP_F_CAMPAIGN)) REJECT(CP_R_MISSING_CAMPAIGN, CP_F_CAMPAIGN);
        break;
    case CP_FEEDBACK:
        if (!has_identity) REJECT(CP_R_MISSING_IDENTITY, CP_F_VISITOR);
        if (!HAS(CP_F_ORDER)) REJECT(CP_R_MISSING_ORDER, CP_F_ORDER);
        break;
    default:
        if (!HAS(CP_F_ASIN)) REJECT(CP_R_MISSING_ASIN, CP_F_ASIN);
        if (!has_identity) REJECT(CP_R_MISSING_IDENTITY, CP_F_VISITOR);
        break;
    }
    /* values: every value present is checked, whatever the type */
    int64_t cost = 0, price = 0, amount = 0, units = 1;
    if (HAS(CP_F_COST) && (!cp_parse_decimal_micros(f[ix[CP_F_COST]].p, f[ix[CP_F_COST]].len, &cost) || cost < 0))
        REJECT(CP_R_BAD_COST, CP_F_COST);
    if (HAS(CP_F_UNITS)) {
        if (!cp_parse_int(f[ix[CP_F_UNITS]].p, f[ix[CP_F_UNITS]].len, &units) || units == 0 ||
            (units < 0 && type != CP_PURCHASE))
            REJECT(CP_R_BAD_UNITS, CP_F_UNITS);
    }
    if (HAS(CP_F_PRICE) && (!cp_parse_decimal_micros(f[ix[CP_F_PRICE]].p, f[ix[CP_F_PRICE]].len, &price) || price < 0))
        REJECT(CP_R_BAD_PRICE, CP_F_PRICE);
    bool negated = type == CP_PURCHASE && units < 0; /* R1.4a: a return */
    if (HAS(CP_F_AMOUNT)) {
        if (!cp_parse_decimal_micros(f[ix[CP_F_AMOUNT]].p, f[ix[CP_F_AMOUNT]].len, &amount))
            REJECT(CP_R_BAD_AMOUNT, CP_F_AMOUNT);
        if (negated) amount = -amount;
        if (amount < 0) REJECT(CP_R_BAD_AMOUNT, CP_F_AMOUNT);
    }
    bool loaded = true;
    if (HAS(CP_F_LOADED) && !parse_loaded(f[ix[CP_F_LOADED]], &loaded)) REJECT(CP_R_BAD_LOADED, CP_F_LOADED);
    int64_t rating = 0;
    if (HAS(CP_F_RATING)) {
        if (!cp_parse_int(f[ix[CP_F_RATING]].p, f[ix[CP_F_RATING]].len, &rating) || rating < 1 || rating > 5)
            REJECT(CP_R_BAD_RATING, CP_F_RATING);
    } else if (type == CP_FEEDBACK) {
        REJECT(CP_R_BAD_RATING, CP_F_RATING);
    }
    if (negated) {
        type = CP_RETURN;
        units = -units;
    }
    int64_t money = 0;
    uint8_t flags = 0;
    if (type == CP_PURCHASE || type == CP_RETURN) {
        if (HAS(CP_F_AMOUNT)) {
            money = amount;
            flags |= CP_EV_HAS_AMOUNT;
        } else if (HAS(CP_F_PRICE)) {
            /* units * price; a line total beyond 10^12 (the bound on amount)
             * is rejected as bad_price (docs/input-format.md). */
            __int128 total = (__int128)units * price;
            if (total > (__int128)1000000000000 * 1000000) REJECT(CP_R_BAD_PRICE, CP_F_PRICE);
            money = (int64_t)total;
        }
    } else if (type == CP_IMPRESSION || type == CP_CLICK) {
        money = cost;
        if (HAS(CP_F_COST)) flags |= CP_EV_HAS_COST;
    }
    if (type == CP_PAGE_VIEW && loaded) flags |= CP_EV_LOADED;
    if (negated) flags |= CP_EV_FROM_NEG;
#undef REJECT
    r->kind = ROW_ACCEPTED;
    r->ts = ts;
    r->type = (uint8_t)type;
    r->flags = flags;
    r->rating = type == CP_FEEDBACK ? (uint8_t)rating : 0;
    r->money = money;
    r->units = (type == CP_PURCHASE || type == CP_RETURN) ? (int32_t)units : 0;
    s[S_VISITOR] = f[ix[CP_F_VISITOR]];
    s[S_CUSTOMER] = f[ix[CP_F_CUSTOMER]];
    s[S_IP] = f[ix[CP_F_IP]];
    s[S_UA] = f[ix[CP_F_UA]];
    s[S_REFERRER] = f[ix[CP_F_REFERRER]];
    s[S_ASIN] = f[ix[CP_F_ASIN]];
    s[S_TAG] = f[ix[CP_F_TAG]];
    s[S_CLICK_ID] = f[ix[CP_F_CLICK_ID]];
    s[S_ORDER] = (type == CP_PURCHASE || type == CP_RETURN || type == CP_FEEDBACK) ? f[ix[CP_F_ORDER]] : (span){"", 0};
    s[S_CAMPAIGN] = f[ix[CP_F_CAMPAIGN]];
    s[S_AD_GROUP] = f[ix[CP_F_AD_GROUP]];
    s[S_KEYWORD] = f[ix[CP_F_KEYWORD]];
#undef HAS
}

/* Field k's index in resolve_fields' own spans: k. */
static const uint32_t field_ix[CP_N_FIELDS] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
_Static_assert(CP_N_FIELDS == 20, "field_ix lists every field");

/* Where a record's fields are for parse_event: field k is (*f)[(*ix)[k]].
 * When every field is one column or none (fc->direct_ok), the column spans
 * themselves, through fc->direct: nothing is copied.  Else the fields are
 * built in f from the column spans (R1.4a: constants, joined columns), in
 * field order. */
static void resolve_fields(worker *w, span *f, const span **fp, const uint32_t **ix) {
    const file_ctx *fc = w->fc;
    const cp_run *run = fc->run;
    if (fc->direct_ok) { /* the common case: one column per field */
        *fp = w->cols;
        *ix = fc->direct;
        return;
    }
    *fp = f;
    *ix = field_ix;
    for (int k = 0; k < CP_N_FIELDS; k++) {
        if (run->src[k].constant) {
            f[k].p = run->src[k].constant;
            f[k].len = strlen(run->src[k].constant);
            continue;
        }
        size_t ns = fc->n_slots[k];
        if (ns == 0) { f[k].p = ""; f[k].len = 0; continue; }
        if (ns == 1) {
            int32_t s = fc->slot_of[k][0];
            f[k] = s >= 0 ? w->cols[s] : (span){"", 0};
            continue;
        }
        /* joined: values with '|'; all empty = absent */
        size_t total = 0;
        bool any = false;
        for (size_t j = 0; j < ns; j++) {
            int32_t s = fc->slot_of[k][j];
            if (s >= 0) { total += w->cols[s].len; any |= w->cols[s].len > 0; }
            total++;
        }
        if (!any || !scratch_reserve(w, total)) { f[k].p = ""; f[k].len = 0; continue; }
        char *out = w->scratch + w->scratch_len;
        size_t o = 0;
        for (size_t j = 0; j < ns; j++) {
            if (j) out[o++] = '|';
            int32_t s = fc->slot_of[k][j];
            if (s >= 0 && w->cols[s].len) {
                memcpy(out + o, w->cols[s].p, w->cols[s].len);
                o += w->cols[s].len;
            }
        }
        w->scratch_len += o;
        f[k].p = out;
        f[k].len = o;
    }
}

/* ---- CSV ----------------------------------------------------------------------- */

static inline bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* Finds the end of the CSV record starting at p (RFC 4180: a quoted field may
 * hold line ends).  On return *rec_len is the record's length without its line
 * end, *consumed the bytes up to and including the line end, *newlines the
 * physical line ends inside the record, and the result says whether quoting
 * is intact.  Returns false ("need more") when the block ends before the
 * record does and more input may follow. */
typedef enum { REC_OK, REC_BAD_QUOTE, REC_UNTERMINATED } rec_status;

static bool csv_find_record(const char *p, size_t avail, bool eof, char delim, size_t *rec_len,
                            size_t *consumed, uint64_t *newlines, rec_status *st) {
    const char *nl = memchr(p, '\n', avail);
    size_t line_len = nl ? (size_t)(nl - p) : avail;
    if (!nl && !eof) {
        /* we may still decide early if no quote: but the record is incomplete */
        return false;
    }
    /* Fast path: the line end is outside quotes when the line holds an even
     * number of quote characters (each open/close and each doubled quote
     * adds to the count in pairs).  Quoting errors inside such a line are
     * found by csv_split; a record with a quoting error ends at its physical
     * line end anyway. */
    size_t quotes = 0;
    for (const char *q = memchr(p, '"', line_len); q; q = memchr(q + 1, '"', line_len - (size_t)(q + 1 - p)))
        quotes++;
    if (quotes % 2 == 0) {
        *rec_len = line_len;
        *consumed = nl ? line_len + 1 : line_len;
        *newlines = 0;
        *st = REC_OK;
        if (line_len > 0 && p[line_len - 1] == '\r') (*rec_len)--;
        return true;
    }
    /* slow path: quote-aware state machine */
    size_t i = 0;
    uint64_t nls = 0;
    bool field_start = true;
    if (delim == 0) while (i < avail && is_ws(p[i])) i++;
    for (;;) {
        if (i >= avail) {
            if (!eof) return false;
            *rec_len = avail;
            *consumed = avail;
            *newlines = nls;
            *st = REC_OK;
            if (avail > 0 && p[avail - 1] == '\r') (*rec_len)--;
            return true;
        }
        char c = p[i];
        if (field_start && c == '"') {
            /* quoted field */
            i++;
            for (;;) {
                const char *q = memchr(p + i, '"', avail - i);
                if (!q) {
                    if (!eof) return false;
                    for (size_t k = i; k < avail; k++) nls += p[k] == '\n';
                    *rec_len = avail;
                    *consumed = avail;
                    *newlines = nls;
                    *st = REC_UNTERMINATED;
                    return true;
                }
                for (const char *k = p + i; k < q; k++) nls += *k == '\n';
                i = (size_t)(q - p) + 1;
                if (i < avail && p[i] == '"') { i++; continue; } /* escaped quote */
                if (i >= avail && !eof) return false;
                break;
            }
            /* after the closing quote: delimiter, line end or end of input */
            if (i >= avail) continue;
            char d = p[i];
            bool is_delim = delim ? d == delim : is_ws(d);
            if (is_delim) {
                if (delim == 0) while (i < avail && is_ws(p[i])) i++;
                else i++;
                field_start = true;
                continue;
            }
            if (d == '\n' || (d == '\r' && i + 1 < avail && p[i + 1] == '\n') ||
                (d == '\r' && i + 1 == avail && eof))
                continue; /* handled at the top of the loop as a line end */
            if (d == '\r' && i + 1 >= avail && !eof) return false;
            goto bad_quote;
        }
        if (c == '\n') {
            *rec_len = i;
            *consumed = i + 1;
            *newlines = nls;
            *st = REC_OK;
            if (i > 0 && p[i - 1] == '\r') (*rec_len)--;
            return true;
        }
        if (c == '\r' && i + 1 < avail && p[i + 1] == '\n') { i++; continue; }
        if (c == '"') goto bad_quote;
        bool is_delim = delim ? c == delim : is_ws(c);
        if (is_delim) {
            if (delim == 0) while (i < avail && is_ws(p[i])) i++;
            else i++;
            field_start = true;
            continue;
        }
        field_start = false;
        i++;
    }
bad_quote: {
        /* after a quoting error the record ends at the end of its physical
         * line (docs/input-format.md) */
        const char *e = memchr(p + i, '\n', avail - i);
        if (!e && !eof) return false;
        size_t end = e ? (size_t)(e - p) : avail;
        for (size_t k = 0; k < i; k++) nls += p[k] == '\n';
        /* nls counted in quoted parts already; recount precisely */
        nls = 0;
        for (size_t k = 0; k < end; k++) nls += p[k] == '\n';
        *rec_len = end;
        *consumed = e ? end + 1 : end;
        *newlines = nls;
        *st = REC_BAD_QUOTE;
        if (end > 0 && p[end - 1] == '\r') (*rec_len)--;
        return true;
    }
}

/* The value of a quoted CSV field whose inner text is p[0, n): the text
 * itself, or with doubled quotes ("") made single in the worker's scratch
 * when esc. */
static span quoted_value(worker *w, const char *p, size_t n, bool esc) {
    if (!esc) return (span){p, n};
    char *out = w->scratch + w->scratch_len;
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        out[o++] = p[k];
        if (p[k] == '"') k++;
    }
    w->scratch_len += o;
    return (span){out, o};
}

/* Splits a record into column spans.  Returns the field count (may exceed
 * cap: extra fields are counted, not stored), or SIZE_MAX when the quoting is
 * broken (a quote inside an unquoted field, anything but a delimiter after a
 * closing quote, or a quoted field that does not close). */
static size_t csv_split(worker *w, const char *p, size_t len) {
    size_t n = 0, i = 0;
    char delim = w->fc->delim;
    if (delim == 0) {
        while (i < len && is_ws(p[i])) i++;
        while (len > i && is_ws(p[len - 1])) len--;
        if (i == len) return 0;
    }
    for (;;) {
        span v;
        if (i < len && p[i] == '"') {
            size_t start = ++i;
            bool esc = false;
            for (;;) {
                const char *q = memchr(p + i, '"', len - i);
                if (!q) return SIZE_MAX; /* unterminated within the record */
                size_t qi = (size_t)(q - p);
                if (qi + 1 < len && p[qi + 1] == '"') { esc = true; i = qi + 2; continue; }
                i = qi + 1;
                break;
            }
            if (i < len && (delim ? p[i] != delim : !is_ws(p[i]))) return SIZE_MAX;
            v = quoted_value(w, p + start, i - 1 - start, esc);
        } else {
            size_t start = i;
            if (delim) {
                /* fields are short and often empty: a plain loop beats a
                 * memchr call per field; a quote inside an unquoted field
                 * (R1.4b bad_quote) is looked for in the same loop */
                if (w->quotes_in_record) {
                    while (i < len && p[i] != delim && p[i] != '"') i++;
                    if (i < len && p[i] == '"') return SIZE_MAX;
                } else {
                    while (i < len && p[i] != delim) i++;
                }
            } else {
                while (i < len && !is_ws(p[i])) i++;
                if (w->quotes_in_record && memchr(p + start, '"', i - start)) return SIZE_MAX;
            }
            v = (span){p + start, i - start};
        }
        if (n < w->cap_cols) w->cols[n] = v;
        n++;
        if (i >= len) break;
        /* at a delimiter */
        if (delim) i++;
        else while (i < len && is_ws(p[i])) i++;
        if (delim && i == len) { /* trailing delimiter: one more empty field */
            if (n < w->cap_cols) w->cols[n] = (span){p + len, 0};
            n++;
            break;
        }
    }
    return n;
}

/* Makes room for `words` words in each of the delimiter and quote masks,
 * keeping what they hold; false when out of memory. */
static bool mask_grow(worker *w, size_t words) {
    size_t old = w->mask_words, cap = old ? old : 16;
    while (cap < words) cap *= 2;
    uint64_t *m = realloc(w->dmask, 2 * cap * sizeof *m);
    if (!m) return false;
    if (old) memmove(m + cap, m + old, old * sizeof *m); /* the quote words */
    w->dmask = m;
    w->qmask = m + cap;
    w->mask_words = cap;
    return true;
}

static inline bool mask_reserve(worker *w, size_t words) {
    return words <= w->mask_words || mask_grow(w, words);
}

/* Bit masks of a record's delimiter and quote bytes, 64 bytes to a word:
 * bit k of word j is byte 64j + k; bits past the end are clear.  SSE2 (every
 * x86-64) compares 16 bytes at once; elsewhere a plain loop.  For records
 * that csv_scan_line() has not already scanned. */
static bool csv_masks(worker *w, const char *p, size_t len, char delim) {
    size_t nw = len / 64 + 1;
    if (!mask_reserve(w, nw)) return false;
    for (size_t j = 0; j < nw; j++) {
        const char *c = p + j * 64;
        size_t avail = len - j * 64;
        char tail[64];
        if (avail < 64) {
            memset(tail, 0, sizeof tail);
            memcpy(tail, c, avail);
            c = tail;
        }
        uint64_t dm = 0, qm = 0;
#if defined(__SSE2__)
        const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"');
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c + 16 * k));
            dm |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) << (16 * k);
            qm |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
        }
#else
        for (int k = 0; k < 64; k++) {
            dm |= (uint64_t)(c[k] == delim) << k;
            qm |= (uint64_t)(c[k] == '"') << k;
        }
#endif
        w->dmask[j] = dm;
        w->qmask[j] = qm;
    }
    return true;
}

/* Finds the end of the CSV line at p and builds its delimiter and quote
 * masks (csv_split_bits) on the way: one pass over 64 bytes at a time
 * (cp_csv_scan: SSE2, AVX2 or AVX-512BW as the CPU allows), where
 * csv_find_record makes a memchr for the line end and one per quote, and the
 * masks and the UTF-8 check two more passes.  For a one-byte delimiter other
 * than a quote.  1: the line is p[0, *line_len), ended by '\n' or by the end
 * of the input, with an even number of quotes (so the line end is the
 * record's: see csv_find_record), and w->masked describes it; 0: let
 * csv_find_record decide (an odd number of quotes, a line longer than a
 * record may be, or out of memory); -1: the line may go on past avail. */
static int csv_scan_line(worker *w, const char *p, size_t avail, bool eof, char delim, size_t *line_len) {
    w->masked = NULL;
    size_t limit = avail < MAX_RECORD_BYTES + 64 ? avail : MAX_RECORD_BYTES + 64;
    uint64_t parity = 0; /* the quote words xor-ed: the parity of their count */
    bool not_ascii = false;
    size_t len = avail, j = 0, nl = SIZE_MAX;
    for (;;) {
        size_t off = j * 64;
        if (off >= limit) {
            if (limit < avail) return 0;  /* over MAX_RECORD_BYTES: the slow path */
            if (!eof) return -1;
            if (!mask_reserve(w, j + 1)) return 0;
            w->dmask[j] = w->qmask[j] = 0; /* the word of the end (csv_split_bits) */
            break;
        }
        /* whole words up to the limit (a limit below avail is a multiple of
         * 64 and leaves a byte past it), as many as the masks hold */
        size_t whole = (avail - off) / 64, room = w->mask_words - j;
        if (limit < avail && whole > (limit - off) / 64) whole = (limit - off) / 64;
        if (whole && room) {
            j += cp_csv_scan(w->simd, p + off, whole < room ? whole : room, delim, w->dmask + j, w->qmask + j,
                             &parity, &not_ascii, &nl);
            if (nl != SIZE_MAX) {
                len = off + nl;
                break;
            }
            continue;
        }
        if (!mask_reserve(w, j + 1)) return 0;
        if (whole) continue;
        /* the last bytes, fewer than 64: in a word padded with bytes that
         * are no line end, quote, NUL or high byte (and not the delimiter:
         * their bits are cleared) */
        size_t n = avail - off;
        char tail[64];
        memset(tail, 'x', sizeof tail);
        memcpy(tail, p + off, n);
        (void)cp_csv_scan(w->simd, tail, 1, delim, w->dmask + j, w->qmask + j, &parity, &not_ascii, &nl);
        if (nl != SIZE_MAX) {
            len = off + nl;
            break;
        }
        w->dmask[j] &= ~UINT64_C(0) >> (64 - n);
        if (!eof) return -1;
        break;
    }
    if (__builtin_parityll(parity)) return 0; /* a quoted line end, or a quoting error */
    *line_len = len;
    w->masked = p;
    w->masked_len = len;
    /* over whole words, so bytes of the next line may count: then
     * parse_record runs the exact check */
    w->masked_ascii = !not_ascii;
    return 1;
}

/* The prefix xor of x: bit k is the parity of bits 0..k.  Over a word of
 * quote bits it sets the bits from each opening quote up to (not including)
 * its closing one: the bytes inside quotes, as far as this word knows. */
static inline uint64_t prefix_xor(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* The first quote bit at or after byte `from` of a record of len bytes
 * (its masks' bits past len clear), or SIZE_MAX. */
static inline size_t next_quote(const uint64_t *qm, size_t from, size_t len) {
    size_t j = from / 64, nw = len / 64 + 1;
    if (j >= nw) return SIZE_MAX;
    uint64_t x = qm[j] & (~UINT64_C(0) << (from % 64));
    while (!x) {
        if (++j >= nw) return SIZE_MAX;
        x = qm[j];
    }
    return j * 64 + (size_t)__builtin_ctzll(x);
}

/* A field p[s, e) of csv_split_bits that holds a quote, the first at byte q:
 * its value as csv_split reads it, or {NULL, 0} for a quoting error.  It
 * must be quoted (the quote at s), each quote inside must be doubled and the
 * closing one must be its last byte, as csv_split's walk from s decides: a
 * quote followed by a quote is a doubled one, any other closes the field,
 * and the byte after the closing quote must be the delimiter at e or the
 * end. */
static span csv_quoted_field(worker *w, const char *p, size_t len, size_t s, size_t e, size_t q) {
    const span bad = {NULL, 0};
    if (q != s) return bad; /* a quote inside an unquoted field */
    bool esc = false;
    for (;;) {
        q = next_quote(w->qmask, q + 1, len);
        if (q >= e) return bad; /* no closing quote before the delimiter */
        if (q + 1 < e && p[q + 1] == '"') { /* a doubled quote */
            esc = true;
            q++;
            continue;
        }
        if (q + 1 != e) return bad; /* text after the closing quote */
        return quoted_value(w, p + s + 1, q - s - 1, esc);
    }
}

/* csv_split for a data record with a one-byte delimiter (not a quote): the
 * same fields and the same errors, from the bit masks (bits past len clear)
 * instead of byte by byte.  The delimiters that end fields are those with an
 * even number of quotes before them (outside quotes: prefix_xor); a field
 * without a quote is then the bytes between two of them, and only a field
 * with one is walked (csv_quoted_field).  This finds what csv_split finds:
 * on a record csv_split accepts, every field starts outside quotes and each
 * quoted one holds an even number of quotes, so both cut at the same
 * delimiters; and when every field cut here passes csv_quoted_field,
 * csv_split's walk takes the same fields one after another, so a record
 * csv_split rejects has a field that fails here. */
static size_t csv_split_bits(worker *w, const char *p, size_t len) {
    const uint64_t *dm = w->dmask, *qm = w->qmask;
    const size_t cap = w->cap_cols, nw = len / 64 + 1;
    /* fields go to out; past cap (a bad field count) they are counted in
     * `dropped` and overwrite one another in the spare spans after
     * cols[cap], which fit the at most 64 fields a word ends */
    span *out = w->cols, *const spare = w->cols + cap + 1;
    size_t dropped = 0, s = 0;         /* s: where the field starts */
    size_t q = next_quote(qm, 0, len); /* the next quote not taken yet */
    uint64_t inside = 0;               /* all ones: the word starts inside quotes */
    for (size_t j = 0; j < nw; j++) {
        uint64_t d = dm[j], qw = qm[j];
        if (qw) {
            uint64_t in = prefix_xor(qw) ^ inside;
            d &= ~in;
            inside = (uint64_t)-(int64_t)(in >> 63);
        } else {
            d &= ~inside;
        }
        if (out > spare) {
            dropped += (size_t)(out - spare);
            out = spare;
        }
        for (const size_t base = j * 64; d; d &= d - 1) {
            size_t e = base + (unsigned)__builtin_ctzll(d);
            span v = {p + s, e - s};
            if (q < e) {
                v = csv_quoted_field(w, p, len, s, e, q);
                if (!v.p) goto bad;
                q = next_quote(qm, e, len);
            }
            *out++ = v;
            s = e + 1;
        }
    }
    /* the last field, empty after a trailing delimiter */
    span v = {p + s, len - s};
    if (q < len) {
        v = csv_quoted_field(w, p, len, s, len, q);
        if (!v.p) goto bad;
    }
    *out++ = v;
    size_t n = (size_t)(out - w->cols) + dropped;
    if (n > cap) w->cols[cap] = (span){"", 0}; /* plan_direct's absent column, overwritten */
    return n;
bad:
    if (out > w->cols + cap || dropped) w->cols[cap] = (span){"", 0}; /* as above */
    return SIZE_MAX;
}

static bool blank(const char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
    return true;
}

/* Sets fc->direct when every field is one column or none (no --set, no
 * joined --map): resolve_fields then copies spans without looking at the
 * plan.  After the plan and n_slot_values are set. */
static void plan_direct(file_ctx *fc) {
    fc->direct_ok = true;
    for (int k = 0; k < CP_N_FIELDS; k++) {
        if (fc->run->src[k].constant || fc->n_slots[k] > 1 ||
            (fc->n_slots[k] == 1 && fc->slot_of[k][0] < 0)) {
            fc->direct_ok = false;
            return;
        }
        fc->direct[k] = fc->n_slots[k] ? (uint32_t)fc->slot_of[k][0] : (uint32_t)fc->n_slot_values;
    }
}

/* Maps the header's column names to field slots (R1.4a).  A --map naming a
 * column the header lacks is a usage error. */
static cp_result plan_csv(file_ctx *fc, span *names, size_t n) {
    cp_run *run = fc->run;
    for (int k = 0; k < CP_N_FIELDS; k++) {
        fc->n_slots[k] = 0;
        if (run->src[k].constant) continue;
        const char *const *nm = run->src[k].names;
        size_t parts = run->src[k].n_names;
        bool mapped = nm[0] != cp_field_names[k]; /* --map given */
        /* whole name first (a column literally named "a+b") */
        int32_t whole = -1;
        for (size_t c = 0; c < n; c++)
            if (strlen(nm[0]) == names[c].len && memcmp(nm[0], names[c].p, names[c].len) == 0) { whole = (int32_t)c; break; }
        if (whole >= 0 || parts == 1) {
            if (whole < 0 && mapped)
                return fail(fc->err, CP_EUSAGE, fc->path, 1, "%s: --map %s=%s: the header has no column '%s'",
                            fc->path, cp_field_names[k], nm[0], nm[0]);
            if (whole >= 0) { fc->slot_of[k][0] = whole; fc->n_slots[k] = 1; }
            continue;
        }
        if (parts > 8)
            return fail(fc->err, CP_EUSAGE, fc->path, 1, "--map %s: at most 8 columns can be joined", cp_field_names[k]);
        for (size_t j = 0; j < parts; j++) {
            int32_t col = -1;
            for (size_t c = 0; c < n; c++)
                if (strlen(nm[j + 1]) == names[c].len && memcmp(nm[j + 1], names[c].p, names[c].len) == 0) { col = (int32_t)c; break; }
            if (col < 0)
                return fail(fc->err, CP_EUSAGE, fc->path, 1, "%s: --map %s=%s: the header has no column '%s'",
                            fc->path, cp_field_names[k], nm[0], nm[j + 1]);
            fc->slot_of[k][j] = col;
        }
        fc->n_slots[k] = (uint8_t)parts;
    }
    return CP_OK;
}

/* ---- JSON Lines -------------------------------------------------------------------- */

static inline const char *json_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a JSON string at *pp (which points at the opening quote); unescapes
 * into scratch when needed. */
static bool json_string(worker *w, const char **pp, const char *e, span *out) {
    const char *p = *pp + 1, *start = p;
    bool esc = false;
    while (p < e && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) return false;
        if (c == '\\') { esc = true; p += 2; continue; }
        p++;
    }
    if (p >= e) return false;
    const char *end = p;
    *pp = end + 1;
    if (!esc) { *out = (span){start, (size_t)(end - start)}; return true; }
    char *o = w->scratch + w->scratch_len;
    size_t n = 0;
    for (p = start; p < end; p++) {
        if (*p != '\\') { o[n++] = *p; continue; }
        p++;
        switch (*p) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            if (end - p < 5) return false;
            unsigned cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexval(p[k]);
                if (h < 0) return false;
                cp = cp << 4 | (unsigned)h;
            }
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) { /* surrogate pair */
                if (end - p < 7 || p[1] != '\\' || p[2] != 'u') return false;
                unsigned lo = 0;
                for (int k = 3; k <= 6; k++) {
                    int h = hexval(p[k]);
                    if (h < 0) return false;
                    lo = lo << 4 | (unsigned)h;
                }
                if (lo < 0xdc00 || lo > 0xdfff) return false;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return false;
            }
            if (cp == 0) return false; /* NUL inside a value: bad_json */
            if (cp < 0x80) o[n++] = (char)cp;
            else if (cp < 0x800) { o[n++] = (char)(0xc0 | cp >> 6); o[n++] = (char)(0x80 | (cp & 0x3f)); }
            else if (cp < 0x10000) {
                o[n++] = (char)(0xe0 | cp >> 12); o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[n++] = (char)(0x80 | (cp & 0x3f));
            } else {
                o[n++] = (char)(0xf0 | cp >> 18); o[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[n++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default: return false;
        }
    }
    w->scratch_len += n;
    *out = (span){o, n};
    return true;
}

/* JSON number grammar; the value is its text. */
static bool json_number(const char **pp, const char *e, span *out) {
    const char *p = *pp, *s = p;
    if (p < e && *p == '-') p++;
    if (p >= e) return false;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < e && *p >= '0' && *p <= '9') p++;
    else return false;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') return false;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return false;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    *out = (span){s, (size_t)(p - s)};
    *pp = p;
    return true;
}

static int32_t key_slot(const file_ctx *fc, const char *p, size_t len) {
    uint32_t h = (uint32_t)cp_hash_bytes(p, len);
    for (uint32_t i = h & fc->key_mask;; i = (i + 1) & fc->key_mask) {
        uint32_t v = fc->key_slots[i];
        if (!v) return -1;
        const char *nm = fc->key_names[v - 1];
        if (strlen(nm) == len && memcmp(nm, p, len) == 0) return (int32_t)(v - 1);
    }
}

/* Parses one flat JSON object into slot values.  False = bad_json. */
static bool json_record(worker *w, const char *p, size_t len) {
    const file_ctx *fc = w->fc;
    const char *e = p + len;
    for (size_t i = 0; i < fc->n_keys; i++) w->cols[i] = (span){"", 0};
    p = json_ws(p, e);
    if (p >= e || *p != '{') return false;
    p = json_ws(p + 1, e);
    if (p < e && *p == '}') return json_ws(p + 1, e) == e;
    for (;;) {
        if (p >= e || *p != '"') return false;
        span key, val = {"", 0};
        if (!json_string(w, &p, e, &key)) return false;
        p = json_ws(p, e);
        if (p >= e || *p != ':') return false;
        p = json_ws(p + 1, e);
        if (p >= e) return false;
        char c = *p;
        if (c == '"') {
            if (!json_string(w, &p, e, &val)) return false;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (!json_number(&p, e, &val)) return false;
        } else if (e - p >= 4 && memcmp(p, "true", 4) == 0) {
            val = (span){p, 4}; p += 4;
        } else if (e - p >= 5 && memcmp(p, "false", 5) == 0) {
            val = (span){p, 5}; p += 5;
        } else if (e - p >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4; /* null = absent */
        } else {
            return false; /* object, array or garbage: not flat */
        }
        int32_t s = key_slot(fc, key.p, key.len);
        if (s >= 0) w->cols[s] = val; /* a repeated key: the last wins */
        p = json_ws(p, e);
        if (p < e && *p == ',') { p = json_ws(p + 1, e); continue; }
        if (p < e && *p == '}') return json_ws(p + 1, e) == e;
        return false;
    }
}

static cp_result plan_jsonl(file_ctx *fc) {
    cp_run *run = fc->run;
    size_t total = 0;
    for (int k = 0; k < CP_N_FIELDS; k++) total += 1 + run->src[k].n_names;
    fc->key_names = cp_arena_alloc(&run->arena, total * sizeof *fc->key_names);
    uint32_t cap = 64;
    while (cap < total * 2) cap *= 2;
    fc->key_slots = cp_arena_alloc(&run->arena, cap * sizeof *fc->key_slots);
    if (!fc->key_names || !fc->key_slots) return fail(fc->err, CP_ENOMEM, fc->path, 0, "out of memory");
    memset(fc->key_slots, 0, cap * sizeof *fc->key_slots);
    fc->key_mask = cap - 1;
    fc->n_keys = 0;
    for (int k = 0; k < CP_N_FIELDS; k++) {
        fc->n_slots[k] = 0;
        if (run->src[k].constant) continue;
        const char *const *nm = run->src[k].names;
        size_t parts = run->src[k].n_names;
        const char *const *list = parts == 1 ? nm : nm + 1;
        if (parts > 8) parts = 8;
        for (size_t j = 0; j < parts; j++) {
            const char *name = list[j];
            int32_t s = key_slot(fc, name, strlen(name));
            if (s < 0) {
                s = (int32_t)fc->n_keys;
                fc->key_names[fc->n_keys++] = name;
                uint32_t h = (uint32_t)cp_hash_bytes(name, strlen(name));
                uint32_t i = h & fc->key_mask;
                while (fc->key_slots[i]) i = (i + 1) & fc->key_mask;
                fc->key_slots[i] = (uint32_t)s + 1;
            }
            fc->slot_of[k][j] = s;
        }
        fc->n_slots[k] = (uint8_t)parts;
    }
    fc->n_slot_values = fc->n_keys;
    plan_direct(fc);
    return CP_OK;
}

/* ---- the record loop ----------------------------------------------------------------- */

/* Parses one record into *r (blank, rejected with its R1.4b reason, or an
 * event).  Safe on any thread.  Returns false when out of memory. */
static bool parse_record(worker *w, const char *rec, size_t len, rec_status st, row *r) {
    const file_ctx *fc = w->fc;
    r->rec = rec;
    r->rec_len = len;
    r->field = -1;
#define LINE_REJECT(rsn) do { r->kind = ROW_REJECTED; r->reason = (rsn); return true; } while (0)
    if (blank(rec, len) && st == REC_OK) {
        r->kind = ROW_BLANK;
        return true;
    }
    /* csv_scan_line() found this record's line end: its masks are built and
     * a line of plain ASCII needs no UTF-8 check */
    bool masked = w->masked == rec && len <= w->masked_len;
    bool ascii = masked && w->masked_ascii;
    w->masked = NULL;
    /* whole-line reasons, in R1.4b order */
    if (!ascii && !utf8_ok((const unsigned char *)rec, len)) LINE_REJECT(CP_R_BAD_ENCODING);
    if (len > MAX_RECORD_BYTES) LINE_REJECT(CP_R_LINE_TOO_LONG);
    if (!scratch_reserve(w, len * 4 + 64)) return false;
    if (fc->jsonl) {
        if (!json_record(w, rec, len)) LINE_REJECT(CP_R_BAD_JSON);
    } else {
        if (st == REC_BAD_QUOTE) LINE_REJECT(CP_R_CSV_BAD_QUOTE);
        if (st == REC_UNTERMINATED) LINE_REJECT(CP_R_CSV_UNTERMINATED_QUOTE);
        size_t n;
        if (fc->delim && fc->delim != '"' && w->simd != CP_SIMD_BYTES) {
            n = masked || csv_masks(w, rec, len, fc->delim) ? csv_split_bits(w, rec, len)
                                                            : SIZE_MAX - 1; /* out of memory */
        } else {
            w->quotes_in_record = memchr(rec, '"', len) != NULL;
            n = csv_split(w, rec, len);
        }
        if (n == SIZE_MAX - 1) return false; /* out of memory */
        if (n == SIZE_MAX) LINE_REJECT(CP_R_CSV_BAD_QUOTE);
        if (n != fc->n_cols) LINE_REJECT(CP_R_BAD_FIELD_COUNT);
    }
#undef LINE_REJECT
    span f[CP_N_FIELDS];
    const span *fp;
    const uint32_t *ix;
    resolve_fields(w, f, &fp, &ix);
    parse_event(fc, fp, ix, r, w->s);
    return true;
}

static cp_result setup_header(file_ctx *fc, const char *rec, size_t len, rec_status st) {
    cp_run *run = fc->run;
    if (st != REC_OK)
        return fail(fc->err, CP_EUSAGE, fc->path, 1, "%s: line 1: the header breaks CSV quoting", fc->path);
    /* names from the header, or from --columns */
    span *names = malloc(MAX_COLUMNS * sizeof *names);
    if (!names) return fail(fc->err, CP_ENOMEM, fc->path, 0, "out of memory");
    size_t n;
    cp_result rc = CP_OK;
    if (run->opt.columns) {
        n = 0;
        const char *p = run->opt.columns;
        while (n < MAX_COLUMNS) {
            const char *c = strchr(p, ',');
            size_t l = c ? (size_t)(c - p) : strlen(p);
            names[n++] = (span){p, l};
            if (!c) break;
            p = c + 1;
        }
    } else {
        worker w = {.fc = fc, .cols = names, .cap_cols = MAX_COLUMNS};
        if (!scratch_reserve(&w, len + 64)) { free(names); return fail(fc->err, CP_ENOMEM, fc->path, 0, "out of memory"); }
        w.quotes_in_record = memchr(rec, '"', len) != NULL;
        n = csv_split(&w, rec, len);
        if (n == SIZE_MAX) rc = fail(fc->err, CP_EUSAGE, fc->path, 1, "%s: line 1: the header breaks CSV quoting", fc->path);
        else if (n > MAX_COLUMNS) rc = fail(fc->err, CP_EUSAGE, fc->path, 1, "%s: more than %d columns", fc->path, MAX_COLUMNS);
        /* keep the names: they point into the block or the scratch */
        for (size_t i = 0; rc == CP_OK && i < n; i++) {
            names[i].p = cp_arena_strndup(&run->arena, names[i].p, names[i].len);
            if (!names[i].p) rc = fail(fc->err, CP_ENOMEM, fc->path, 0, "out of memory");
        }
        w.cols = NULL;
        worker_free(&w);
    }
    if (rc == CP_OK) {
        fc->n_cols = n;
        fc->n_slot_values = n;
        rc = plan_csv(fc, names, n);
        if (rc == CP_OK) plan_direct(fc);
    }
    free(names);
    return rc;
}

/* ---- parallel blocks ----------------------------------------------------------------- */

/* A part of a block parsed by one thread: records that start in
 * [start, end) of the block; `overflow` when the last one runs past `end`
 * (a quoted line end across the cut), in which case the block is parsed
 * again on one thread. */
/* A part's own dictionary: the distinct strings of its accepted rows and
 * their placements (campaign, ad group, keyword), numbered 1.. and 0.. in the
 * order the committing thread would first intern them -- rows in input
 * order, fields in enum order (S_VISITOR ... S_KEYWORD).  Interning a part's strings into
 * the run in that order (block_commit) therefore gives every string and
 * placement the id that one thread committing row by row gives it, while the
 * hashing and probing of every row happens on the parsing threads.  Spans
 * point into the block and the part's scratch, valid until the commit. */
typedef struct ldict {
    uint64_t *slots;     /* local_hash << 32 | local id, 0 = empty; mask + 1
                          * slots, at most half full */
    uint32_t mask;
    span *s;             /* [id] */
    uint32_t *h;         /* [id] cp_hash_bytes, low 32 bits (for the run's table) */
    uint32_t n, cap;     /* ids 1..n */
    uint32_t *pslots;    /* placement + 1, 0 = empty */
    uint32_t pmask;
    uint32_t (*pl)[3];   /* [placement] local ids of campaign, ad group, keyword */
    uint32_t np, pcap;
    uint32_t *gid;       /* block_commit: local id -> the run's id */
    uint32_t *gpl;       /* block_commit: local placement -> the run's */
    uint32_t gid_cap, gpl_cap;
} ldict;

static void ldict_free(ldict *d) {
    free(d->slots);
    free(d->s);
    free(d->h);
    free(d->pslots);
    free(d->pl);
    free(d->gid);
    free(d->gpl);
    memset(d, 0, sizeof *d);
}

/* Empties the dictionary for the next block, keeping its memory. */
static void ldict_reset(ldict *d) {
    if (d->n) memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
    if (d->np) memset(d->pslots, 0, ((size_t)d->pmask + 1) * sizeof *d->pslots);
    d->n = d->np = 0;
}

static bool ldict_rehash(uint32_t **slots, uint32_t *mask, uint32_t n, const uint32_t *hash_of_id, bool plus1) {
    uint32_t cap = *mask ? (*mask + 1) * 2 : 1024;
    uint32_t *ns = calloc(cap, sizeof *ns);
    if (!ns) return false;
    for (uint32_t id = plus1 ? 0 : 1; id < n + (plus1 ? 0 : 1); id++) {
        uint32_t i = hash_of_id[id] & (cap - 1);
        while (ns[i]) i = (i + 1) & (cap - 1);
        ns[i] = plus1 ? id + 1 : id;
    }
    free(*slots);
    *slots = ns;
    *mask = cap - 1;
    return true;
}

static inline uint64_t hash_mix(uint64_t a, uint64_t b) {
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The hash of a part's dictionary: 16 bytes to a multiply, where
 * cp_hash_bytes takes 8 and mixes more.  Most lookups find a string the part
 * has seen already; only a new one needs cp_hash_bytes (kept in ldict.h
 * for the run's table). */
static inline uint32_t local_hash(const char *p, size_t len) {
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, a, b;
    size_t n = len;
    while (n > 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        h = hash_mix(a ^ UINT64_C(0xa0761d6478bd642f), b ^ h);
        p += 16;
        n -= 16;
    }
    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = x;
        b = y;
    } else {
        a = n ? (uint64_t)(unsigned char)p[0] << 16 | (uint64_t)(unsigned char)p[n >> 1] << 8 |
                    (unsigned char)p[n - 1] : 0;
        b = 0;
    }
    h = hash_mix(a ^ UINT64_C(0xe7037ed1a0b428db), b ^ h);
    return (uint32_t)hash_mix(h, UINT64_C(0x8ebc6af09c88c6e3) ^ len);
}

/* Doubles the string slots (1024 at first), placing each entry again by the
 * hash it holds. */
static bool ldict_grow(ldict *d) {
    uint32_t cap = d->mask ? (d->mask + 1) * 2 : 1024;
    uint64_t *ns = calloc(cap, sizeof *ns);
    if (!ns) return false;
    for (uint32_t i = 0; d->mask && i <= d->mask; i++) {
        uint64_t e = d->slots[i];
        if (!e) continue;
        uint32_t j = (uint32_t)(e >> 32) & (cap - 1);
        while (ns[j]) j = (j + 1) & (cap - 1);
        ns[j] = e;
    }
    free(d->slots);
    d->slots = ns;
    d->mask = cap - 1;
    return true;
}

/* The local id of v (not empty), added when new; 0 when out of memory.  A
 * slot holds its entry's hash: a probe reads an entry's bytes only when the
 * hashes match. */
static uint32_t ldict_intern(ldict *d, span v) {
    uint32_t lh = local_hash(v.p, v.len);
    if (d->mask) {
        for (uint32_t i = lh & d->mask;; i = (i + 1) & d->mask) {
            uint64_t e = d->slots[i];
            if (!e) break;
            uint32_t id = (uint32_t)e;
            if ((uint32_t)(e >> 32) == lh && d->s[id].len == v.len && bytes_eq(d->s[id].p, v.p, v.len)) return id;
        }
    }
    if (d->n + 1 >= d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 1024;
        span *ns = realloc(d->s, cap * sizeof *ns);
        if (ns) d->s = ns;
        uint32_t *nh = realloc(d->h, cap * sizeof *nh);
        if (nh) d->h = nh;
        if (!ns || !nh) return 0;
        d->cap = cap;
    }
    if ((uint64_t)(d->n + 1) * 2 > d->mask && !ldict_grow(d)) return 0;
    uint32_t id = ++d->n;
    d->s[id] = v;
    d->h[id] = (uint32_t)cp_hash_bytes(v.p, v.len);
    uint32_t i = lh & d->mask;
    while (d->slots[i]) i = (i + 1) & d->mask;
    d->slots[i] = (uint64_t)lh << 32 | id;
    return id;
}

static uint32_t place_hash(const uint32_t k[3]) {
    return (uint32_t)cp_hash_u64(((uint64_t)k[0] << 32) ^ ((uint64_t)k[1] << 16) ^ k[2]);
}

/* The local placement of (campaign, ad group, keyword) local ids, added
 * when new; CP_NONE when out of memory. */
static uint32_t ldict_place(ldict *d, uint32_t c, uint32_t a, uint32_t k) {
    uint32_t key[3] = {c, a, k}, h = place_hash(key);
    if (d->pmask) {
        for (uint32_t i = h & d->pmask;; i = (i + 1) & d->pmask) {
            uint32_t q = d->pslots[i];
            if (!q) break;
            if (d->pl[q - 1][0] == c && d->pl[q - 1][1] == a && d->pl[q - 1][2] == k) return q - 1;
        }
    }
    if (d->np == d->pcap) {
        uint32_t cap = d->pcap ? d->pcap * 2 : 256;
        uint32_t (*np)[3] = realloc(d->pl, cap * sizeof *np);
        if (!np) return CP_NONE;
        d->pl = np;
        d->pcap = cap;
    }
    uint32_t q = d->np++;
    d->pl[q][0] = c;
    d->pl[q][1] = a;
    d->pl[q][2] = k;
    if ((uint64_t)d->np * 2 > d->pmask) {
        uint32_t *hs = malloc((size_t)d->np * sizeof *hs);
        bool ok = hs != NULL;
        if (ok) {
            for (uint32_t j = 0; j < d->np; j++) hs[j] = place_hash(d->pl[j]);
            ok = ldict_rehash(&d->pslots, &d->pmask, d->np, hs, true);
        }
        free(hs);
        if (!ok) { d->np--; return CP_NONE; }
    } else {
        uint32_t i = h & d->pmask;
        while (d->pslots[i]) i = (i + 1) & d->pmask;
        d->pslots[i] = q + 1;
    }
    return q;
}

/* Gives an accepted row's strings and placement their local ids, in field
 * order (the S_ enum), hashing them here on the parsing thread.  A field
 * equal to the same field of the part's last accepted row that had one
 * reuses its id without hashing or probing: logs run in streaks (one
 * visitor's events in a row share visitor, address and user agent).
 * Campaign, ad group and keyword count only when the campaign is there (a
 * placement).  Only spans inside the record (rec, len) are remembered:
 * unescaped text lives in scratch memory.  False when out of memory. */
static bool localize(worker *w, ldict *d, const char *rec, size_t len, row *r) {
    const span *s = w->s;
    int last = s[S_CAMPAIGN].len ? S_KEYWORD : S_ORDER;
    for (int k = 0; k <= last; k++) {
        span v = s[k];
        if (!v.len) { r->lid[k] = 0; continue; }
        span l = w->last[k];
        if (l.len == v.len && bytes_eq(l.p, v.p, v.len)) { r->lid[k] = w->last_lid[k]; continue; }
        uint32_t id = ldict_intern(d, v);
        if (!id) return false;
        r->lid[k] = id;
        bool inside = v.p >= rec && v.p + v.len <= rec + len;
        w->last[k] = inside ? v : (span){NULL, 0};
        w->last_lid[k] = id;
    }
    r->lpl = CP_NONE;
    if (s[S_CAMPAIGN].len) {
        r->lpl = ldict_place(d, r->lid[S_CAMPAIGN], r->lid[S_AD_GROUP], r->lid[S_KEYWORD]);
        if (r->lpl == CP_NONE) return false;
    }
    return true;
}

/* A part's accepted rows as the run's columns will hold them, but for their
 * strings and placement, which are in the part's numbering (ldict): the
 * parsing thread lays the rows out column by column, so that the commit,
 * on the one loading thread, copies whole columns and maps string ids in
 * tight loops instead of taking each row apart (part_stage, commit_part). */
enum { N_STAGED_S = S_ORDER + 1 }; /* the string columns: S_VISITOR .. S_ORDER */
/* S_TAG, S_CLICK_ID and S_ORDER are sub columns (cp_events), as are units
 * and rating: staged for the non-impression rows only, n_sub of them. */
static bool staged_sub_s(int k) { return k == S_TAG || k == S_CLICK_ID || k == S_ORDER; }
typedef struct staged {
    int64_t *ts, *money;
    int32_t *units;              /* per sub row */
    uint32_t *line;              /* relative to the part's first line */
    uint32_t *lid[N_STAGED_S];   /* local string ids (0: none); per sub row
                                  * for staged_sub_s(k) */
    uint32_t *lpl;               /* local placement, CP_NONE when none */
    uint8_t *type, *flags, *rating; /* rating per sub row */
    size_t n, n_sub, cap;        /* rows, non-impression rows, room for each */
    bool has_ua;                 /* a row has a user agent */
} staged;

static void staged_free(staged *g) {
    free(g->ts); free(g->money); free(g->units); free(g->line); free(g->lpl);
    free(g->type); free(g->flags); free(g->rating);
    for (int k = 0; k < N_STAGED_S; k++) free(g->lid[k]);
    memset(g, 0, sizeof *g);
}

#define STAGED_GROW(ptr, cap) do { void *np_ = realloc((ptr), (cap) * sizeof *(ptr)); \
        if (!np_) return false;                                \
        (ptr) = np_; } while (0)

/* Room for more staged rows; false when out of memory (what it holds is
 * kept either way). */
static bool staged_grow(staged *g) {
    size_t cap = g->cap ? g->cap * 2 : 1024;
    STAGED_GROW(g->ts, cap); STAGED_GROW(g->money, cap); STAGED_GROW(g->units, cap);
    STAGED_GROW(g->line, cap); STAGED_GROW(g->lpl, cap); STAGED_GROW(g->type, cap);
    STAGED_GROW(g->flags, cap); STAGED_GROW(g->rating, cap);
    for (int k = 0; k < N_STAGED_S; k++) STAGED_GROW(g->lid[k], cap);
    g->cap = cap;
    return true;
}

/* Each part is written on every record by its own thread (rows, counts,
 * the worker's remembered fields): parts start on 128-byte boundaries
 * (two cache lines, as the prefetcher pulls them) so that two threads never
 * write the same line. */
typedef struct part {
    _Alignas(128) worker w;
    ldict d;
    const char *buf;
    size_t start, end;
    bool eof_at_end; /* `end` is the end of the input */
    uint64_t off;    /* offset of buf[0] in the input (stripes) */
    bool overflow, oom;
    uint64_t newlines; /* physical lines consumed */
    size_t next;       /* where parsing stopped: the first record not parsed */
    row *rows;          /* rejected and blank rows (with a sink: every row) */
    span (*spans)[N_S]; /* [row] its string fields, for a run's sink only */
    size_t n_rows, cap_rows;
    staged st;          /* accepted rows (without a sink) */
    size_t n_records;   /* rows of any kind */
    size_t n_accepted;  /* rows of kind ROW_ACCEPTED */
    /* commit_part -> append_part: where the staged rows go */
    size_t dst_n0, dst_k0; /* first row, first sub row */
    uint32_t dst_line0;    /* the line of the part's first record (low 32 bits) */
} part;

/* The record at p (avail bytes; eof: nothing follows them): its length
 * without the line end, the bytes it takes with it, the line ends inside it
 * (quoted, CSV) and its quoting status.  False when the record may go on
 * past avail bytes. */
static bool next_record(const file_ctx *fc, worker *w, const char *p, size_t avail, bool eof, size_t *rec_len,
                        size_t *consumed, uint64_t *nls, rec_status *st) {
    if (!fc->jsonl && w && fc->delim && fc->delim != '"' && w->simd != CP_SIMD_BYTES) {
        /* with the masks for parse_record (csv_scan_line) */
        size_t line_len;
        int found = csv_scan_line(w, p, avail, eof, fc->delim, &line_len);
        if (found < 0) return false;
        if (found > 0) {
            *rec_len = line_len;
            *consumed = line_len < avail ? line_len + 1 : line_len;
            *nls = 0;
            *st = REC_OK;
            if (line_len > 0 && p[line_len - 1] == '\r') (*rec_len)--;
            return true;
        }
    }
    if (!fc->jsonl) return csv_find_record(p, avail, eof, fc->delim, rec_len, consumed, nls, st);
    const char *nl = memchr(p, '\n', avail);
    if (!nl && !eof) return false;
    *rec_len = nl ? (size_t)(nl - p) : avail;
    *consumed = nl ? *rec_len + 1 : *rec_len;
    if (*rec_len > 0 && p[*rec_len - 1] == '\r') (*rec_len)--;
    *nls = 0;
    *st = REC_OK;
    return true;
}

/* Room for more rows (and their spans, with a sink); false when out of
 * memory. */
static bool part_grow(part *pt, bool sink) {
    size_t cap = pt->cap_rows ? pt->cap_rows * 2 : 1024;
    row *nr = realloc(pt->rows, cap * sizeof *nr);
    if (!nr) return false;
    pt->rows = nr;
    if (sink) {
        span (*ns)[N_S] = realloc(pt->spans, cap * sizeof *ns);
        if (!ns) return false;
        pt->spans = ns;
    }
    pt->cap_rows = cap;
    return true;
}

/* Keeps a parsed row for the commit: an accepted one staged (a run with a
 * sink keeps every row whole, with the spans of its strings), any other in
 * rows.  False when out of memory. */
static bool part_add(part *pt, const row *r, bool sink) {
    if (r->kind == ROW_ACCEPTED && !sink) {
        staged *g = &pt->st;
        if (g->n == g->cap && !staged_grow(g)) return false;
        size_t i = g->n++;
        g->has_ua |= r->lid[S_UA] != 0; /* 0: no user agent (localize) */
        g->ts[i] = r->ts;
        g->money[i] = r->money;
        g->line[i] = (uint32_t)r->line; /* the column's width (commit_part) */
        for (int k = 0; k <= S_ASIN; k++) g->lid[k][i] = r->lid[k];
        g->lpl[i] = r->lpl;
        if (r->type != CP_IMPRESSION) { /* the sub columns */
            size_t k = g->n_sub++;
            g->units[k] = r->units;
            g->lid[S_TAG][k] = r->lid[S_TAG];
            g->lid[S_CLICK_ID][k] = r->lid[S_CLICK_ID];
            g->lid[S_ORDER][k] = r->lid[S_ORDER];
            g->rating[k] = r->rating;
        }
        /* the bytes last: a byte store may alias anything, so the compiler
         * reloads every pointer after one */
        uint8_t *type = g->type, *flags = g->flags;
        type[i] = r->type;
        flags[i] = r->flags;
        pt->n_accepted++;
        pt->n_records++;
        return true;
    }
    if (pt->n_rows == pt->cap_rows && !part_grow(pt, sink)) return false;
    pt->rows[pt->n_rows] = *r;
    if (sink && r->kind == ROW_ACCEPTED) memcpy(pt->spans[pt->n_rows], pt->w.s, sizeof pt->w.s);
    pt->n_rows++;
    pt->n_records++;
    if (r->kind == ROW_ACCEPTED) pt->n_accepted++;
    return true;
}

/* Forgets the part's rows (after their commit). */
static void part_clear(part *pt) {
    pt->n_rows = pt->n_records = pt->n_accepted = 0;
    pt->st.n = pt->st.n_sub = 0;
    pt->st.has_ua = false;
}

static void *part_run(void *arg) {
    part *pt = arg;
    const file_ctx *fc = pt->w.fc;
    const bool sink = fc->run->sink != NULL;
    size_t pos = pt->start;
    uint64_t line = 0;
    const cp_ingest_options *o = &fc->run->opt;
    unsigned stripes = o->stripe_count, stripe = o->stripe_index, shift = o->stripe_shift ? o->stripe_shift : 20;
    part_clear(pt);
    pt->overflow = pt->oom = false;
    worker_forget(&pt->w);
    ldict_reset(&pt->d);
    while (pos < pt->end) {
        const char *rec = pt->buf + pos;
        size_t rec_len, consumed;
        uint64_t nls;
        rec_status st;
        if (!next_record(fc, &pt->w, rec, pt->end - pos, pt->eof_at_end, &rec_len, &consumed, &nls, &st)) {
            pt->overflow = true; /* the record goes on past the end */
            break;
        }
        if (stripes > 1 && ((pt->off + pos) >> shift) % stripes != stripe) {
            /* another process's stripe (--mpi): only its lines are counted */
            pos += consumed;
            line += 1 + nls;
            continue;
        }
        row r;
        r.line = line;
        if (!parse_record(&pt->w, rec, rec_len, st, &r) ||
            (r.kind == ROW_ACCEPTED && !localize(&pt->w, &pt->d, rec, rec_len, &r)) || !part_add(pt, &r, sink)) {
            pt->oom = true;
            break;
        }
        pos += consumed;
        line += 1 + nls;
    }
    pt->newlines = line;
    pt->next = pos;
    return NULL;
}

static void part_free(part *pt) {
    worker_free(&pt->w);
    ldict_free(&pt->d);
    free(pt->rows);
    free(pt->spans);
    staged_free(&pt->st);
    memset(pt, 0, sizeof *pt);
}

/* A block of input and the parts it is parsed in.  Two blocks make the
 * parallel pipeline: while the pool parses one block, the loading thread
 * reads the next into the other block and commits the block before it, in
 * input order, then helps parse.  A block's rows point into its buffer and
 * its workers' scratch, so a block is refilled only after it is committed. */
typedef struct block {
    char *buf;
    char *base;              /* the allocation buf lies in (buf - base: the
                              * head room left of a taken chunk); NULL for a
                              * window of a mapped input */
    size_t cap, have, pos;   /* data is buf[0, have); the next record at pos */
    uint64_t off;            /* offset of buf[0] in the input (after decompression) */
    size_t region_end;       /* in flight: parts cover buf[pos, region_end) */
    part *parts;             /* n_parts parts, each with its own worker */
    bool in_flight;
} block;

/* The parsing threads of one input: threads - 1 of them, and the loading
 * thread, which joins in once it has committed the block before.  A block
 * is cut into more parts than threads (PARTS_PER_THREAD), taken one at a
 * time, so that no core waits at the end of a block for a part that a
 * busy neighbour slowed down. */
#define PARTS_PER_THREAD 8
typedef struct parse_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a block was started, appends were posted, or quit */
    pthread_cond_t done;  /* the block's last part was parsed */
    pthread_cond_t appended; /* the posted appends are all done */
    block *b;             /* the block in flight; NULL: none */
    size_t n_parts, next, n_done;
    /* block_commit: the committed parts whose rows are to be copied into
     * the columns (append_part), taken before any part to parse */
    const file_ctx *afc;
    part *aparts;
    size_t a_n, a_next, a_done;
    bool quit;
    size_t n_threads;
    pthread_t tid[64];
} parse_pool;

static void append_part(const file_ctx *fc, const part *pt);

/* Copies the posted parts' rows until none is left to take; caller holds
 * the lock. */
static void pool_append(parse_pool *p) {
    while (p->a_next < p->a_n) {
        const part *pt = &p->aparts[p->a_next++];
        const file_ctx *fc = p->afc;
        pthread_mutex_unlock(&p->lock);
        append_part(fc, pt);
        pthread_mutex_lock(&p->lock);
        if (++p->a_done == p->a_n) pthread_cond_signal(&p->appended);
    }
}

/* Appends (pool_append) first: the loading thread waits for them; then
 * parses parts of p->b until none is left to take.  Caller holds the lock. */
static void pool_help(parse_pool *p) {
    for (;;) {
        pool_append(p);
        if (!p->b || p->next >= p->n_parts) break;
        part *pt = &p->b->parts[p->next++];
        pthread_mutex_unlock(&p->lock);
        part_run(pt);
        pthread_mutex_lock(&p->lock);
        if (++p->n_done == p->n_parts) pthread_cond_signal(&p->done);
    }
}

static void *pool_thread(void *arg) {
    parse_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->quit) {
        pool_help(p);
        if (!p->quit) pthread_cond_wait(&p->work, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Starts up to want - 1 threads (fewer when the system refuses: the
 * loading thread parses what they would). */
static void pool_init(parse_pool *p, size_t want) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_cond_init(&p->appended, NULL);
    for (size_t k = 0; k + 1 < want && k < 64; k++) {
        if (pthread_create(&p->tid[k], NULL, pool_thread, p) != 0) break;
        p->n_threads++;
    }
}

static void pool_free(parse_pool *p) {
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (size_t k = 0; k < p->n_threads; k++) pthread_join(p->tid[k], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->appended);
    pthread_mutex_destroy(&p->lock);
}

/* Cuts buf[pos, region_end) at line ends into n_parts parts and hands them
 * to the pool. */
static void block_start(parse_pool *p, block *b, size_t n_parts, size_t region_end, bool eof_at_end) {
    size_t pos = b->pos, len = region_end - pos, cut = pos;
    b->region_end = region_end;
    for (size_t k = 0; k < n_parts; k++) {
        part *pt = &b->parts[k];
        pt->buf = b->buf;
        pt->off = b->off;
        pt->start = cut;
        size_t next = k + 1 == n_parts ? region_end : pos + len / n_parts * (k + 1);
        if (next < cut) next = cut;
        if (k + 1 < n_parts) {
            const char *nl = memchr(b->buf + next, '\n', region_end - next);
            next = nl ? (size_t)(nl - b->buf) + 1 : region_end;
        }
        pt->end = next;
        pt->eof_at_end = k + 1 == n_parts && eof_at_end;
        cut = next;
    }
    pthread_mutex_lock(&p->lock);
    p->b = b;
    p->n_parts = n_parts;
    p->next = p->n_done = 0;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    b->in_flight = true;
}

/* Parses what is left of the block in flight, waits for its last part:
 * 1 when every part parsed, 0 when the block must be parsed on one thread
 * instead (a quoted line end across a cut), -1 when out of memory. */
static int block_join(parse_pool *p, block *b, size_t n_parts) {
    pthread_mutex_lock(&p->lock);
    pool_help(p);
    while (p->n_done < p->n_parts) pthread_cond_wait(&p->done, &p->lock);
    p->b = NULL;
    pthread_mutex_unlock(&p->lock);
    b->in_flight = false;
    int result = 1;
    for (size_t k = 0; k < n_parts; k++) {
        if (b->parts[k].oom) result = -1;
        else if (b->parts[k].overflow && result == 1) result = 0;
    }
    return result;
}

static cp_text text_of(span v) { return (cp_text){v.len ? v.p : NULL, v.len}; }

/* An accepted row to the run's sink (a partitioned run's passes, which hold
 * no events and intern no strings). */
static int sink_row(file_ctx *fc, const row *r, const span *s, uint64_t line) {
    cp_row_view v = {.file = fc->file_idx, .line = (uint32_t)line, .rec = r->rec, .rec_len = r->rec_len,
                     .ts_ms = r->ts, .type = r->type, .visitor = text_of(s[S_VISITOR]),
                     .customer = text_of(s[S_CUSTOMER]), .ip = text_of(s[S_IP]),
                     .order = text_of(s[S_ORDER]), .click_id = text_of(s[S_CLICK_ID])};
    return fc->run->sink(fc->run->sink_user, &v);
}

/* Copies a committed part's staged rows into the columns at the rows
 * commit_part gave it (pt->dst_*), their strings and placements mapped to
 * the run's ids (d->gid, d->gpl).  Parts write disjoint rows, so the parts
 * of a block are appended on several threads at once (block_commit). */
static void append_part(const file_ctx *fc, const part *pt) {
    cp_events *e = &fc->run->ev;
    const ldict *d = &pt->d;
    const staged *st = &pt->st;
    const size_t m = st->n, n0 = pt->dst_n0;
    const uint32_t l0 = pt->dst_line0;
    if (!m) return; /* (the columns may not exist yet) */
    memcpy(e->ts_ms + n0, st->ts, m * sizeof *st->ts);
    memcpy(e->money_micros + n0, st->money, m * sizeof *st->money);
    memcpy(e->type + n0, st->type, m * sizeof *st->type);
    memcpy(e->flags + n0, st->flags, m * sizeof *st->flags);
    const size_t k0 = pt->dst_k0, m_sub = st->n_sub; /* the sub columns' rows */
    if (m_sub) { /* (the sub columns may not exist yet) */
        memcpy(e->units + k0, st->units, m_sub * sizeof *st->units);
        memcpy(e->rating + k0, st->rating, m_sub * sizeof *st->rating);
    }
    uint16_t *file = e->file + n0;
    const uint16_t file_idx = fc->file_idx;
    for (size_t i = 0; i < m; i++) file[i] = file_idx;
    uint32_t *ln = e->line + n0;
    for (size_t i = 0; i < m; i++) ln[i] = st->line[i] + l0;
    uint32_t *const cols[N_STAGED_S] = {
        [S_VISITOR] = e->visitor, [S_CUSTOMER] = e->customer, [S_IP] = e->ip, [S_UA] = e->ua,
        [S_REFERRER] = e->referrer, [S_ASIN] = e->asin, [S_TAG] = e->tag, [S_CLICK_ID] = e->click_id,
        [S_ORDER] = e->order};
    const uint32_t *g = d->gid;
    for (int k = 0; k < N_STAGED_S; k++) {
        bool sub = staged_sub_s(k);
        const size_t rows = sub ? m_sub : m;
        if (!rows) continue;
        uint32_t *dst = cols[k] + (sub ? k0 : n0);
        const uint32_t *lid = st->lid[k];
        for (size_t i = 0; i < rows; i++) dst[i] = g[lid[i]];
    }
    uint32_t *placement = e->placement + n0;
    const uint32_t *gpl = d->gpl;
    for (size_t i = 0; i < m; i++) placement[i] = st->lpl[i] == CP_NONE ? CP_NONE : gpl[st->lpl[i]];
}

/* Commits a parsed part in input order, advancing *line: its dictionary's
 * strings and placements are interned into the run in their local order
 * (the order one thread committing row by row would meet them), its rows
 * are given their place in the columns (the columns count them from here
 * on; append_part copies them there, with their ids mapped) and its
 * rejects are recorded.  The caller then appends the rows and resets the
 * part's worker.  0, or -1 when out of memory. */
static int commit_part(file_ctx *fc, part *pt, uint64_t *line) {
    cp_run *run = fc->run;
    ldict *d = &pt->d;
    size_t accepted = pt->n_accepted;
    if (!run->sink) {
        if (d->n + 1 > d->gid_cap) {
            uint32_t *g = realloc(d->gid, ((size_t)d->n + 1) * sizeof *g);
            if (!g) return -1;
            d->gid = g;
            d->gid_cap = d->n + 1;
        }
        if (d->np > d->gpl_cap) {
            uint32_t *g = realloc(d->gpl, (size_t)d->np * sizeof *g);
            if (!g) return -1;
            d->gpl = g;
            d->gpl_cap = d->np;
        }
        int oom = 0;
        d->gid[0] = CP_STR_NONE;
        for (uint32_t l = 1; l <= d->n; l++)
            d->gid[l] = cp_strings_intern_h(run->str, d->s[l].p, d->s[l].len, d->h[l], &oom);
        if (oom) return -1;
        for (uint32_t q = 0; q < d->np; q++) {
            d->gpl[q] = placement_index(run, d->gid[d->pl[q][0]], d->gid[d->pl[q][1]], d->gid[d->pl[q][2]]);
            if (d->gpl[q] == CP_NONE) return -1;
        }
        if (run->ev.n + accepted > run->cap && reserve_events(run, run->ev.n + accepted) != 0) return -1;
        if (run->ev.sub.n + pt->st.n_sub > run->sub_cap && reserve_sub(run, run->ev.sub.n + pt->st.n_sub) != 0)
            return -1;
    }
    cp_events *e = &run->ev;
    cp_input_stats *stats = fc->stats;
    stats->lines += pt->n_records;
    if (run->sink) {
        for (size_t i = 0; i < pt->n_rows; i++) {
            const row *r = &pt->rows[i];
            if (r->kind == ROW_BLANK) {
                stats->blank_lines++;
            } else if (r->kind == ROW_REJECTED) {
                if (add_reject(fc, r->line + *line, (cp_reject_reason)r->reason, r->field, r->rec, r->rec_len) != 0)
                    return -1;
            } else {
                if (r->lid[S_UA]) run->has_ua = true; /* 0: no user agent (localize) */
                if (sink_row(fc, r, pt->spans[i], r->line + *line) != 0) return -1;
            }
        }
    } else {
        /* the staged rows' place in the columns (append_part copies them,
         * on this thread or, for a block, on several), and their pages */
        const staged *st = &pt->st;
        const size_t n0 = e->n, m = st->n;
        const uint64_t line0 = *line;
        pt->dst_n0 = n0;
        pt->dst_k0 = e->sub.n;
        pt->dst_line0 = (uint32_t)line0; /* the column keeps the low 32 bits */
        e->n = n0 + m;
        e->sub.n += st->n_sub;
        if (n0 + m > fc->populated && run->cap > n0 + m) {
            /* the pages of the next rows, ahead and in bulk */
            size_t from = fc->populated > n0 ? fc->populated : n0, to = n0 + m + POPULATE_ROWS;
            if (to > run->cap) to = run->cap;
            populate_events(e, from, to);
            fc->populated = to;
        }
        if (st->has_ua) run->has_ua = true;
        /* then the rejected and blank rows, in line order */
        for (size_t i = 0; i < pt->n_rows; i++) {
            const row *r = &pt->rows[i];
            if (r->kind == ROW_BLANK) stats->blank_lines++;
            else if (add_reject(fc, r->line + line0, (cp_reject_reason)r->reason, r->field, r->rec, r->rec_len) != 0)
                return -1;
        }
    }
    run->accepted += accepted;
    fc->stats->accepted += accepted;
    *line += pt->newlines;
    return 0;
}

/* Commits a joined block's parts in order (commit_part: strings, places in
 * the columns, rejects), then copies their rows into the columns on this
 * thread and the pool's (append_part: disjoint rows; the pool threads take
 * them before parsing more of the next block), waits for the copies, and
 * forgets the parts' rows.  0, or -1 when out of memory. */
static int block_commit(parse_pool *p, file_ctx *fc, block *b, size_t n_parts, uint64_t *line) {
    int result = 0;
    for (size_t k = 0; k < n_parts && result == 0; k++) result = commit_part(fc, &b->parts[k], line);
    if (result == 0) {
        pthread_mutex_lock(&p->lock);
        p->afc = fc;
        p->aparts = b->parts;
        p->a_n = n_parts;
        p->a_next = p->a_done = 0;
        pthread_cond_broadcast(&p->work);
        pool_append(p);
        while (p->a_done < p->a_n) pthread_cond_wait(&p->appended, &p->lock);
        p->a_n = p->a_next = p->a_done = 0;
        p->aparts = NULL;
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t k = 0; k < n_parts; k++) worker_reset(&b->parts[k].w);
    return result;
}

/* Makes room for `need` bytes in b's buffer; false when out of memory. */
static bool block_reserve(block *b, size_t need) {
    if (need <= b->cap) return true;
    size_t lead = b->base ? (size_t)(b->buf - b->base) : 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap *= 2;
    char *nb = realloc(b->base, lead + cap);
    if (!nb) return false;
    b->base = nb;
    b->buf = nb + lead;
    b->cap = cap;
    return true;
}

/* The head room of a prefetch chunk: a block's unparsed tail (part of a
 * line, as a rule) is copied into it, in front of the chunk's bytes. */
#define TAKE_ROOM ((size_t)64 << 10)

/* Refills b from a decompressed chunk taken whole (cp_reader_take) instead
 * of copying the chunk's bytes: b's unparsed tail goes into the chunk's head
 * room, and b's buffer goes back to the reader's ring.  1: done, with *got
 * new bytes (0 at the end); 0: cannot (read with cp_reader_read); -1: error
 * (err filled by the reader). */
static int block_take(cp_reader *rd, block *b, size_t *got, cp_error *err) {
    size_t tail = b->have - b->pos;
    if (!b->base || tail > TAKE_ROOM || (size_t)(b->buf - b->base) + b->cap < cp_reader_chunk_size(rd)) return 0;
    void *chunk;
    char *data;
    size_t len;
    int t = cp_reader_take(rd, &chunk, &data, &len, err);
    if (t == 2) return 0;
    if (t < 0) return -1;
    if (t == 0) { /* the end: nothing taken */
        *got = 0;
        return 1;
    }
    memcpy(data - tail, b->buf + b->pos, tail);
    cp_reader_give(rd, b->base);
    b->off += b->pos;
    b->base = chunk;
    b->buf = data - tail;
    b->cap = cp_reader_chunk_size(rd) - (size_t)(b->buf - (char *)chunk);
    b->have = tail + len;
    b->pos = 0;
    *got = len;
    return 1;
}

/* Adds n bytes read to the input's count; on_progress hears of every 64 MiB. */
static void count_bytes(const cp_run *run, cp_input_stats *stats, const char *path, uint64_t n,
                        uint64_t *next_progress) {
    stats->bytes += n;
    if (run->opt.on_progress && stats->bytes >= *next_progress) {
        run->opt.on_progress(run->opt.progress_user, path, stats->bytes);
        *next_progress = stats->bytes + (64u << 20);
    }
}

static cp_result load_from(cp_run *run, const char *path, const void *data, size_t data_len, cp_error *err);

cp_result cp_run_load(cp_run *run, const char *path, cp_error *err) {
    return load_from(run, path, NULL, 0, err);
}

cp_result cp_run_load_buffer(cp_run *run, const char *name, const void *data, size_t len, cp_error *err) {
    return load_from(run, name, data ? data : "", len, err);
}

static cp_result load_from(cp_run *run, const char *path, const void *data, size_t data_len, cp_error *err) {
    if (run->finished) return fail(err, CP_EUSAGE, path, 0, "cp_run_load after cp_run_finish");
    if (run->n_inputs >= UINT16_MAX) return fail(err, CP_EUSAGE, path, 0, "too many input files (at most 65535)");
    if (run->n_inputs == run->cap_inputs) {
        size_t cap = run->cap_inputs ? run->cap_inputs * 2 : 8;
        cp_input_stats *in = realloc(run->inputs, cap * sizeof *in);
        if (!in) return fail(err, CP_ENOMEM, path, 0, "out of memory");
        run->inputs = in;
        run->cap_inputs = cap;
    }
    cp_input_format *nf = realloc(run->fmt, run->cap_inputs * sizeof *nf);
    if (!nf) return fail(err, CP_ENOMEM, path, 0, "out of memory");
    run->fmt = nf;
    memset(&run->fmt[run->n_inputs], 0, sizeof *nf);
    cp_input_stats *stats = &run->inputs[run->n_inputs];
    memset(stats, 0, sizeof *stats);
    stats->path = cp_arena_strdup(&run->arena, path);
    if (!stats->path) return fail(err, CP_ENOMEM, path, 0, "out of memory");
    path = stats->path;

    cp_reader *rd = data ? cp_reader_open_mem(path, data, data_len, err) : cp_reader_open(path, err);
    if (!rd) return err ? err->code : CP_EIO;
    uint64_t input_size = cp_reader_plain_size(rd); /* 0 when unknown */
    bool sized = false;

    file_ctx fc = {.run = run, .path = path, .file_idx = (uint16_t)run->n_inputs, .stats = stats, .err = err};
    fc.delim = delimiter_of(&run->opt);
    run->n_inputs++; /* counted even when it fails: the summary names it */

    size_t n_threads = run->opt.threads ? run->opt.threads : (size_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 64) n_threads = 64;
    size_t n_parts = n_threads * PARTS_PER_THREAD > 64 ? 64 : n_threads * PARTS_PER_THREAD;
    parse_pool pool;
    bool pool_ready = false;
    part one;  /* the rows parsed on this thread (below the parallel threshold) */
    memset(&one, 0, sizeof one);
    bool workers_ready = false;
    /* blk[0] is the first block filled; with more than one thread, blk[1]
     * alternates with it (the pipeline: see struct block) */
    block blk[2];
    memset(blk, 0, sizeof blk);
    block *cur = &blk[0], *fly = NULL; /* fly: started, not yet committed */
    const size_t min_parallel = run->opt.parallel_min_bytes ? run->opt.parallel_min_bytes : PARALLEL_MIN_BYTES;

    cp_result result = CP_OK;
    /* A small input (a collector's request, a fuzz case) gets a block of its
     * own size, not 8 MiB; the block still grows for a longer record. */
    size_t cap = run->opt.block_bytes ? run->opt.block_bytes : BLOCK_BYTES;
    if (!run->opt.block_bytes && n_threads * (2u << 20) > cap) cap = n_threads * (2u << 20); /* parts of 512 KiB or more */
    if (cap < 64) cap = 64;
    if (input_size > 0 && input_size + 1 < cap) cap = input_size + 1 < 4096 ? 4096 : (size_t)input_size + 1;
    /* with threads to spare, gzip and zstd inputs decompress on their own,
     * into chunks of a block each, which the blocks take over whole */
    bool take = false;
    if (n_threads > 1) {
        take = cap >= 4 * TAKE_ROOM && cp_reader_prefetch_chunks(rd, cap, TAKE_ROOM);
        if (!take) (void)cp_reader_prefetch(rd);
    }
    /* Input larger than a block, uncompressed, is parsed in place
     * (cp_reader_map): the blocks are windows into it, never written, and
     * what read() would copy is not copied. */
    size_t map_len = 0;
    uint64_t map_released = 0; /* map[0, map_released) given back (madvise) */
    const char *map = input_size > cap ? cp_reader_map(rd, &map_len) : NULL;
    if (map) {
        blk[0].cap = blk[1].cap = cap; /* a window's size, not an allocation */
        blk[0].buf = (char *)map;
    } else if (!block_reserve(cur, cap)) {
        result = fail(err, CP_ENOMEM, path, 0, "out of memory");
        goto done;
    }
    bool eof = false, started = false, header_done = false;
    uint64_t line = 1; /* physical line of the next record not yet committed */
    uint64_t next_progress = 64u << 20;

    for (;;) {
        /* refill: keep the unconsumed tail at the front */
        if (!eof && map) {
            /* Pages before every block still in use are not read again:
             * give them back (they stay in the page cache; a mapped page
             * read again would only fault in again), so that the mapping
             * does not count the whole file as this process's memory. */
            uint64_t keep = cur->off + cur->pos;
            if (fly && fly->off + fly->pos < keep) keep = fly->off + fly->pos;
            keep &= ~(uint64_t)((2u << 20) - 1);
            if (keep >= map_released + (32u << 20)) {
                (void)madvise((char *)map + map_released, (size_t)(keep - map_released), MADV_DONTNEED);
                map_released = keep;
            }
            /* the window moves past what was consumed and takes in up to
             * a block more (twice itself for one record longer than it) */
            cur->off += cur->pos;
            cur->have -= cur->pos;
            cur->pos = 0;
            size_t want = cur->have < cur->cap ? cur->cap : cur->have * 2, left = map_len - cur->off;
            size_t got = (want < left ? want : left) - cur->have;
            cur->buf = (char *)map + cur->off;
#if defined(MADV_POPULATE_READ)
            /* the new bytes' pages mapped in one system call, where the
             * scan would take a page fault per few pages */
            if (got) {
                uintptr_t a = (uintptr_t)(cur->buf + cur->have) & ~(uintptr_t)4095;
                (void)madvise((void *)a, (size_t)((uintptr_t)(cur->buf + cur->have + got) - a), MADV_POPULATE_READ);
            }
#endif
            cur->have += got;
            eof = cur->have == left;
            count_bytes(run, stats, path, got, &next_progress);
        } else if (!eof) {
            /* a decompressed chunk taken over whole, else read into the block */
            size_t got = 0;
            int tr = take ? block_take(rd, cur, &got, err) : 0;
            if (tr < 0) { result = err ? err->code : CP_EFORMAT; goto done; }
            if (tr == 0) {
                if (cur->pos > 0) {
                    memmove(cur->buf, cur->buf + cur->pos, cur->have - cur->pos);
                    cur->have -= cur->pos;
                    cur->off += cur->pos;
                    cur->pos = 0;
                }
                /* one record larger than the block: grow */
                if (cur->have == cur->cap && !block_reserve(cur, cur->cap * 2)) {
                    result = fail(err, CP_ENOMEM, path, line, "out of memory");
                    goto done;
                }
                ssize_t r = cp_reader_read(rd, cur->buf + cur->have, cur->cap - cur->have, err);
                if (r < 0) { result = err ? err->code : CP_EFORMAT; goto done; }
                got = (size_t)r;
                cur->have += got;
            }
            if (got == 0) eof = true;
            count_bytes(run, stats, path, got, &next_progress);
            /* fill the block before parsing, so parallel parts are large */
            if (!eof && cur->have < cur->cap / 2) continue;
        }
        char *buf = cur->buf;
        size_t have = cur->have;
        if (!started) {
            /* R1.1: a UTF-8 BOM is accepted; the format is told by the first
             * non-blank line */
            if (have < 3 && !eof) continue;
            if (have >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) cur->pos = 3;
            size_t k = cur->pos;
            while (k < have && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r' || buf[k] == '\n')) k++;
            if (k == have && !eof) continue;
            started = true;
            fc.jsonl = k < have && buf[k] == '{';
            run->fmt[fc.file_idx].jsonl = fc.jsonl;
            if (fc.jsonl) {
                header_done = true;
                if ((result = plan_jsonl(&fc)) != CP_OK) goto done;
            } else if (run->opt.no_header) {
                header_done = true;
                if ((result = setup_header(&fc, "", 0, REC_OK)) != CP_OK) goto done;
            }
        }
        if (header_done && !workers_ready) {
            if (!worker_init(&one.w, &fc)) { result = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto done; }
            workers_ready = true;
        }
        /* the parts of both blocks, made when a first block is large enough
         * for them (a collector's small request never needs them) */
        bool parallel = header_done && n_threads > 1 && have - cur->pos >= min_parallel;
        if (parallel && !blk[0].parts) {
            for (int b = 0; b < 2; b++) {
                blk[b].parts = aligned_alloc(_Alignof(part), n_parts * sizeof *blk[b].parts);
                if (!blk[b].parts) { result = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto done; }
                memset(blk[b].parts, 0, n_parts * sizeof *blk[b].parts);
                for (size_t k = 0; k < n_parts; k++)
                    if (!worker_init(&blk[b].parts[k].w, &fc)) {
                        result = fail(err, CP_ENOMEM, path, 0, "out of memory");
                        goto done;
                    }
            }
            pool_init(&pool, n_threads);
            pool_ready = true;
        }
        /* parallel: every complete record up to the last line end, parsed
         * on n_parts threads while this thread commits the block before */
        if (parallel) {
            size_t region_end = have;
            if (!eof) {
                const char *nl = memrchr(buf + cur->pos, '\n', have - cur->pos);
                region_end = nl ? (size_t)(nl - buf) + 1 : cur->pos;
            }
            if (region_end > cur->pos) {
                if (fly) {
                    int jr = block_join(&pool, fly, n_parts);
                    if (jr < 0) { result = fail(err, CP_ENOMEM, path, line, "out of memory"); goto done; }
                    if (jr == 0) goto flush; /* fly must be parsed on one thread */
                }
                block_start(&pool, cur, n_parts, region_end, eof && region_end == have);
                if (fly) {
                    uint64_t rows_before = stats->lines;
                    size_t fly_len = fly->region_end - fly->pos;
                    if (block_commit(&pool, &fc, fly, n_parts, &line) != 0) {
                        result = fail(err, CP_ENOMEM, path, line, "out of memory");
                        goto done;
                    }
                    if (!sized && input_size > 0 && !run->sink) {
                        /* size the columns once from the first block's rows
                         * per byte, instead of doubling (and copying) them */
                        sized = true;
                        double per_byte = (double)(stats->lines - rows_before) / (double)fly_len;
                        size_t want = run->ev.n + (size_t)(per_byte * (double)input_size * 1.02);
                        if (want > run->cap && reserve_events(run, want) != 0) {
                            result = fail(err, CP_ENOMEM, path, line, "out of memory");
                            goto done;
                        }
                    }
                }
                /* the other block (committed, free) takes the tail */
                fly = cur;
                cur = fly == &blk[0] ? &blk[1] : &blk[0];
                size_t tail = fly->have - fly->region_end;
                if (map) {
                    cur->buf = fly->buf + fly->region_end;
                } else {
                    if (!block_reserve(cur, fly->cap)) { result = fail(err, CP_ENOMEM, path, line, "out of memory"); goto done; }
                    memcpy(cur->buf, fly->buf + fly->region_end, tail);
                }
                cur->have = tail;
                cur->off = fly->off + fly->region_end;
                cur->pos = 0;
                continue; /* at the end of the input, the next turn flushes */
            }
        }
        /* one thread: first commit the block in flight, in input order */
        if (fly && fly->in_flight) {
            int jr = block_join(&pool, fly, n_parts);
            if (jr < 0) { result = fail(err, CP_ENOMEM, path, line, "out of memory"); goto done; }
            if (jr == 0) goto flush;
        }
        if (fly) {
            if (block_commit(&pool, &fc, fly, n_parts, &line) != 0) {
                result = fail(err, CP_ENOMEM, path, line, "out of memory");
                goto done;
            }
            fly = NULL;
        }
        if (0) {
        flush:
            /* the block in flight hit a quoted line end across a cut: drop
             * its rows and put its region back in front of cur's data, to be
             * parsed below on this thread */
            for (size_t k = 0; k < n_parts; k++) worker_reset(&fly->parts[k].w);
            size_t flen = fly->region_end - fly->pos, clen = cur->have - cur->pos;
            if (map) { /* cur's data follows fly's region in the input */
                cur->buf = (char *)map + fly->off + fly->pos;
            } else {
                if (!block_reserve(cur, flen + clen)) { result = fail(err, CP_ENOMEM, path, line, "out of memory"); goto done; }
                memmove(cur->buf + flen, cur->buf + cur->pos, clen);
                memcpy(cur->buf, fly->buf + fly->pos, flen);
            }
            cur->off = fly->off + fly->pos;
            cur->pos = 0;
            cur->have = flen + clen;
            fly = NULL;
        }
        buf = cur->buf;
        have = cur->have;
        if (!header_done) {
            /* blank lines, then the header */
            size_t pos = cur->pos, rec_len, consumed;
            uint64_t nls;
            rec_status st;
            while (!header_done && pos < have &&
                   next_record(&fc, NULL, buf + pos, have - pos, eof, &rec_len, &consumed, &nls, &st)) {
                const char *rec = buf + pos;
                pos += consumed;
                line += 1 + nls;
                if (blank(rec, rec_len) && st == REC_OK) continue;
                if ((result = setup_header(&fc, rec, rec_len, st)) != CP_OK) goto done;
                cp_input_format *f = &run->fmt[fc.file_idx];
                f->header = true;
                f->header_len = rec_len;
                f->header_text = cp_arena_strndup(&run->arena, rec, rec_len);
                if (!f->header_text) { result = fail(err, CP_ENOMEM, path, 0, "out of memory"); goto done; }
                header_done = true;
            }
            cur->pos = pos;
            if (eof && pos >= have) break;
            continue; /* set up the workers, then the rows */
        }
        /* one thread: the part `one`, parsed and committed here */
        one.buf = buf;
        one.off = cur->off;
        one.start = cur->pos;
        one.end = have;
        one.eof_at_end = eof;
        part_run(&one);
        if (one.oom || commit_part(&fc, &one, &line) != 0) {
            result = fail(err, CP_ENOMEM, path, line, "out of memory");
            goto done;
        }
        append_part(&fc, &one);
        worker_reset(&one.w);
        cur->pos = one.next; /* a record going on past the data waits for more */
        if (eof && cur->pos >= have) break;
    }
done:
    for (int b = 0; b < 2; b++) {
        if (blk[b].in_flight) (void)block_join(&pool, &blk[b], n_parts);
        if (blk[b].parts) {
            for (size_t k = 0; k < n_parts; k++) part_free(&blk[b].parts[k]);
            free(blk[b].parts);
        }
        if (!map) free(blk[b].base); /* windows of a mapped input own nothing */
    }
    if (pool_ready) pool_free(&pool);
    part_free(&one);
    cp_reader_close(rd);
    return result;
}

/* ---- partition files (ingest/partition.c) ---------------------------------------------- */

/* Commits pt's rows (frames of one input), then readies it for more. */
static int frames_commit(file_ctx *fc, part *pt) {
    uint64_t line = 0; /* frame rows carry their own line numbers */
    pt->newlines = 0;
    int r = commit_part(fc, pt, &line);
    if (r == 0) append_part(fc, pt);
    worker_reset(&pt->w);
    worker_forget(&pt->w);
    ldict_reset(&pt->d);
    part_clear(pt);
    return r;
}

/* Partition files are zstd (ingest/partition_internal.h): concatenated
 * zstd frames that decompress to the frames (head + record), then the end
 * mark, a head with file CP_FRAME_END_FILE, and nothing after it. */
#define FRAME_SRC_BUF (256u << 10)

/* One partition file being read: its next frame's head, when it has one. */
typedef struct frame_src {
    cp_reader *rd;
    const char *path;
    unsigned char *buf; /* FRAME_SRC_BUF decompressed bytes; [pos, len) not taken yet */
    size_t pos, len;
    cp_frame_head h;
    bool have;
    bool bad;           /* the file cannot be read: code and why */
    cp_result code;
    char why[256];
} frame_src;

__attribute__((format(printf, 3, 4)))
static void frame_bad(frame_src *src, cp_result code, const char *fmt, ...) {
    src->have = false;
    if (src->bad) return;
    src->bad = true;
    src->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->why, sizeof src->why, fmt, ap);
    va_end(ap);
}

/* Up to n decompressed bytes of src into dst; fewer only at its end or when
 * it is damaged (src->bad). */
static size_t frame_read(frame_src *src, void *dst, size_t n) {
    size_t got = 0;
    while (got < n && !src->bad) {
        if (src->pos == src->len) {
            cp_error e = {0};
            ssize_t k = cp_reader_read(src->rd, src->buf, FRAME_SRC_BUF, &e);
            if (k <= 0) {
                if (k < 0) { /* "path: what": keep the what */
                    size_t pl = strlen(src->path);
                    const char *what = strncmp(e.msg, src->path, pl) == 0 && strncmp(e.msg + pl, ": ", 2) == 0
                                           ? e.msg + pl + 2 : e.msg;
                    if (e.code == CP_EFORMAT) frame_bad(src, CP_EIO, "damaged partition file (%s)", what);
                    else frame_bad(src, e.code ? e.code : CP_EIO, "%s", what);
                }
                break;
            }
            src->pos = 0;
            src->len = (size_t)k;
        }
        size_t k = src->len - src->pos < n - got ? src->len - src->pos : n - got;
        memcpy((char *)dst + got, src->buf + src->pos, k);
        src->pos += k;
        got += k;
    }
    return got;
}

/* Reads src's next head; false at the file's end mark, and also with *bad
 * set when the file is damaged. */
static bool frame_next(frame_src *src, size_t n_inputs, bool *bad) {
    size_t got = frame_read(src, &src->h, sizeof src->h);
    src->have = false;
    unsigned char more;
    if (src->bad) {
        /* the reader's message */
    } else if (got != sizeof src->h) {
        frame_bad(src, CP_EIO, "damaged partition file (%s)", got ? "it ends inside a frame" : "it ends before its end mark");
    } else if (src->h.file == CP_FRAME_END_FILE) {
        if (src->h.len || src->h.line || src->h.flags)
            frame_bad(src, CP_EIO, "damaged partition file (a bad end mark)");
        else if (frame_read(src, &more, 1) != 0)
            frame_bad(src, CP_EIO, "damaged partition file (data after its end mark)");
    } else if (src->h.file >= n_inputs || src->h.len > MAX_RECORD_BYTES) {
        frame_bad(src, CP_EIO, "damaged partition file (a bad frame head)");
    } else {
        src->have = true;
    }
    if (src->bad) *bad = true;
    return src->have;
}

cp_result cp_run_load_frames(cp_run *run, const cp_input_stats *inputs, const cp_input_format *fmt,
                             size_t n_inputs, const char *const *paths, size_t n_paths, cp_error *err) {
    const char *first_path = n_paths ? paths[0] : "(no partition file)";
    if (run->n_inputs || run->finished) return fail(err, CP_EUSAGE, first_path, 0, "cp_run_load_frames needs a new run");
    if (n_inputs > UINT16_MAX) return fail(err, CP_EUSAGE, first_path, 0, "too many input files");
    run->inputs = calloc(n_inputs ? n_inputs : 1, sizeof *run->inputs);
    run->fmt = calloc(n_inputs ? n_inputs : 1, sizeof *run->fmt);
    file_ctx *fcs = calloc(n_inputs ? n_inputs : 1, sizeof *fcs);
    part *pts = calloc(n_inputs ? n_inputs : 1, sizeof *pts);
    bool *ready = calloc(n_inputs ? n_inputs : 1, sizeof *ready);
    frame_src *src = calloc(n_paths ? n_paths : 1, sizeof *src);
    size_t cap = BLOCK_BYTES, used = 0;
    char *buf = malloc(cap);
    cp_result result = CP_OK;
    if (!run->inputs || !run->fmt || !fcs || !pts || !ready || !src || !buf) {
        result = fail(err, CP_ENOMEM, first_path, 0, "out of memory");
        goto done;
    }
    run->cap_inputs = n_inputs;
    for (size_t i = 0; i < n_inputs; i++) {
        run->inputs[i].path = cp_arena_strdup(&run->arena, inputs[i].path);
        run->fmt[i] = fmt[i];
        if (!run->inputs[i].path) { result = fail(err, CP_ENOMEM, first_path, 0, "out of memory"); goto done; }
    }
    run->n_inputs = n_inputs;
    bool bad = false;
    for (size_t k = 0; k < n_paths; k++) {
        src[k].path = paths[k];
        src[k].rd = cp_reader_open(paths[k], err); /* names the file */
        if (!src[k].rd) { result = err ? err->code : CP_EIO; goto done; }
        src[k].buf = malloc(FRAME_SRC_BUF);
        if (!src[k].buf) { result = fail(err, CP_ENOMEM, paths[k], 0, "out of memory"); goto done; }
        if (cp_reader_compression(src[k].rd) != CP_COMP_ZSTD) {
            frame_bad(&src[k], CP_EIO, "damaged partition file (not zstd data)");
            bad = true;
        } else {
            (void)frame_next(&src[k], n_inputs, &bad);
        }
    }
    part *cur = NULL;
    file_ctx *cur_fc = NULL;
    for (;;) {
        /* the files are each in (file, line) order: take the least head */
        frame_src *s = NULL;
        for (size_t k = 0; k < n_paths; k++)
            if (src[k].have && (!s || src[k].h.file < s->h.file ||
                                (src[k].h.file == s->h.file && src[k].h.line < s->h.line)))
                s = &src[k];
        if (bad) {
            for (size_t k = 0; k < n_paths; k++)
                if (src[k].bad) s = &src[k];
            result = fail(err, s->code, s->path, 0, "%s: %s", s->path, s->why);
            goto done;
        }
        if (!s) break;
        cp_frame_head h = s->h;
        /* the rows point into buf: commit before it is reused or grown,
         * and when the input changes (rows are committed in input order) */
        if (cur && (&pts[h.file] != cur || used + h.len > cap)) {
            if (frames_commit(cur_fc, cur) != 0) { result = fail(err, CP_ENOMEM, s->path, 0, "out of memory"); goto done; }
            used = 0;
            cur = NULL;
        }
        if (h.len > cap) {
            char *nb = realloc(buf, h.len);
            if (!nb) { result = fail(err, CP_ENOMEM, s->path, 0, "out of memory"); goto done; }
            buf = nb;
            cap = h.len;
        }
        if (!ready[h.file]) {
            file_ctx *fc = &fcs[h.file];
            *fc = (file_ctx){.run = run, .path = run->inputs[h.file].path, .file_idx = h.file,
                             .stats = &run->inputs[h.file], .err = err};
            fc->delim = delimiter_of(&run->opt);
            fc->jsonl = fmt[h.file].jsonl;
            if (fc->jsonl) result = plan_jsonl(fc);
            else if (fmt[h.file].header) result = setup_header(fc, fmt[h.file].header_text, fmt[h.file].header_len, REC_OK);
            else result = setup_header(fc, "", 0, REC_OK);
            if (result != CP_OK) goto done;
            if (!worker_init(&pts[h.file].w, fc)) { result = fail(err, CP_ENOMEM, s->path, 0, "out of memory"); goto done; }
            ready[h.file] = true;
        }
        cur = &pts[h.file];
        cur_fc = &fcs[h.file];
        char *rec = buf + used;
        if (h.len && frame_read(s, rec, h.len) != h.len) {
            if (!s->bad) frame_bad(s, CP_EIO, "damaged partition file (it ends inside a frame)");
            result = fail(err, s->code, s->path, 0, "%s: %s", s->path, s->why);
            goto done;
        }
        used += h.len;
        (void)frame_next(s, n_inputs, &bad);
        row r;
        r.line = h.line;
        if (!parse_record(&cur->w, rec, h.len, REC_OK, &r) ||
            (r.kind == ROW_ACCEPTED && !localize(&cur->w, &cur->d, rec, h.len, &r))) {
            result = fail(err, CP_ENOMEM, s->path, 0, "out of memory");
            goto done;
        }
        if (r.kind != ROW_ACCEPTED) {
            result = fail(err, CP_EIO, s->path, h.line, "%s: a record of %s line %u no longer parses", s->path,
                          run->inputs[h.file].path, (unsigned)h.line);
            goto done;
        }
        if (h.flags & CP_FRAME_FLOOD) r.flags |= CP_EV_FLOOD;
        if (!part_add(cur, &r, run->sink != NULL)) {
            result = fail(err, CP_ENOMEM, s->path, 0, "out of memory");
            goto done;
        }
    }
    if (cur && frames_commit(cur_fc, cur) != 0) result = fail(err, CP_ENOMEM, first_path, 0, "out of memory");
done:
    for (size_t k = 0; src && k < n_paths; k++) {
        cp_reader_close(src[k].rd);
        free(src[k].buf);
    }
    free(src);
    if (pts)
        for (size_t i = 0; i < n_inputs; i++) part_free(&pts[i]);
    free(pts);
    free(fcs);
    free(ready);
    free(buf);
    return result;
}

/* ---- accessors ------------------------------------------------------------------------- */

const cp_events *cp_run_events(const cp_run *run) { return &run->ev; }
const cp_strings *cp_run_strings(const cp_run *run) { return run->str; }
const uint32_t *cp_run_by_identity(const cp_run *run) { return run->by_identity; }
const cp_placement *cp_run_placements(const cp_run *run, size_t *n) { if (n) *n = run->n_pl; return run->pl; }
const cp_order *cp_run_orders(const cp_run *run, size_t *n) { if (n) *n = run->n_orders; return run->orders; }
const cp_input_stats *cp_run_inputs(const cp_run *run, size_t *n) { if (n) *n = run->n_inputs; return run->inputs; }
const cp_reject *cp_run_rejects(const cp_run *run, size_t *n) { if (n) *n = run->n_rejects; return run->rejects; }
uint64_t cp_run_accepted(const cp_run *run) { return run->accepted; }
uint64_t cp_run_rejected(const cp_run *run) { return run->rejected; }
void cp_run_rejects_by_reason(const cp_run *run, uint64_t counts[CP_N_REJECT_REASONS]) {
    memcpy(counts, run->reject_counts, sizeof run->reject_counts);
}
bool cp_run_has_user_agents(const cp_run *run) { return run->has_ua; }
bool cp_run_flood_given(const cp_run *run) { return run->flood_given; }

size_t cp_run_memory_bytes(const cp_run *run) {
    /* per event: the columns as allocated (capacity): ts, money, type,
     * flags, file, line, visitor, customer, identity, ip, ua, referrer,
     * asin, placement; per sub row: tag, click_id, order, units, rating
     * (cp_events); then strings and tables */
    size_t per = sizeof(int64_t) * 2 + 1 + 1 + 2 + 4 + 4 * 8, per_sub = 4 * 4 + 1;
    if (run->finished && !run->ev.visitor) per -= 8; /* raw ids freed */
    size_t sub_blocks = run->ev.sub.block ? (run->ev.n + 63) / 64 * sizeof(cp_sub_block) : 0;
    return run->cap * per + run->sub_cap * per_sub + sub_blocks + cp_strings_memory_bytes(run->str) +
           run->cap_pl * sizeof(cp_placement) +
           run->n_orders * sizeof(cp_order) + (run->by_identity ? run->ev.n * 4 : 0) +
           run->cap_rejects * sizeof(cp_reject) + run->arena.used_bytes;
}


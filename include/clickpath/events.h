/* events.h -- the columnar event store, the string table and the run that
 * loads them (SPEC R1, R2).
 *
 * Loading: cp_run_new() -> cp_run_load() per input (in order; R1.6 ties use
 * file then line) -> cp_run_finish(), which sorts by time (stable, R1.6),
 * resolves identities (R2.1), builds the order table (R1.3) and the
 * by-identity permutation.  After cp_run_finish() the store is read-only and
 * may be read from several threads at once.
 *
 * Ownership: every pointer a run hands out is owned by the run and valid
 * until cp_run_free().
 */
#ifndef CLICKPATH_EVENTS_H
#define CLICKPATH_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/clickpath.h"

#ifdef __cplusplus
extern "C" {
#endif

/* R1.2 event types, in SPEC order. */
typedef enum cp_event_type {
    CP_IMPRESSION = 0,
    CP_CLICK = 1,
    CP_PAGE_VIEW = 2,
    CP_ADD_TO_CART = 3,
    CP_PURCHASE = 4,
    CP_RETURN = 5,
    CP_FEEDBACK = 6,
    CP_N_EVENT_TYPES = 7
} cp_event_type;

/* Names as they appear in input and reports ("page_view"). */
const char *cp_event_type_name(cp_event_type t);

/* An interned string.  0 means absent (R1.4b: an empty value is absent). */
typedef uint32_t cp_str;
#define CP_STR_NONE ((cp_str)0)

/* "No such event" in index columns. */
#define CP_NONE UINT32_MAX

/* The run's string table.  Identical byte strings share one id, so string
 * equality is id equality. */
typedef struct cp_strings cp_strings;

/* Bytes of string `id` (not NUL-terminated in general; use *len).  Returns ""
 * with *len = 0 for CP_STR_NONE. */
const char *cp_strings_get(const cp_strings *s, cp_str id, size_t *len);
/* NUL-terminated view; every interned string is stored with a trailing NUL. */
const char *cp_str_c(const cp_strings *s, cp_str id);
/* Byte-order comparison of two strings (memcmp, shorter first on a tie). */
int cp_strings_cmp(const cp_strings *s, cp_str a, cp_str b);
/* Number of ids handed out (ids are 1..n). */
uint32_t cp_strings_count(const cp_strings *s);

/* Event flag bits (cp_events.flags). */
enum {
    CP_EV_LOADED = 1u << 0,     /* page_view: `loaded` true (default) R4.1 */
    CP_EV_HAS_COST = 1u << 1,   /* `cost` was present */
    CP_EV_FROM_NEG = 1u << 2,   /* return read from a negative purchase R1.4a */
    CP_EV_HAS_AMOUNT = 1u << 3, /* sales came from `amount`, not units*price */
    CP_EV_FLOOD = 1u << 4       /* partitioned runs: a click of a flooding address
                                 * (R3.1.3, decided over the whole input) */
};

/* The placement of a sponsored impression or click (R3.1 target, R6.2 key
 * without the asin). */
typedef struct cp_placement {
    cp_str campaign, ad_group, keyword;
} cp_placement;

/* Columns of n events.  After cp_run_finish() rows are in R1.6 order:
 * by ts_ms, ties by input order (file, then line).
 *
 * money_micros: for impressions and clicks the `cost` (0 when absent); for
 * purchases and returns the line total: `amount` when present, else
 * units * price (0 when neither); always >= 0 (returns hold the refund as a
 * positive number).  Feedback: 0.
 * units: >= 1 (a return read from a negative purchase holds the absolute
 * value); 1 when absent; 0 for types that carry none.
 * order: index into the order table (cp_orders) for purchases, returns and
 * feedback with an order id; CP_NONE otherwise.  Purchases and returns without
 * an `order` share one synthetic order per (identity, ts_ms) (R1.3).
 *
 * Sub columns.  No stage reads tag, click_id, order, units or rating of an
 * impression, and impressions are most rows (some 96% of real and generated
 * logs), so those five columns hold one entry per non-impression row (a
 * "sub row"), at the row's rank: the number of non-impression rows before
 * it.  17 bytes an event become 17 bytes a sub row.  cp_events_rank(e, i)
 * gives the rank of a non-impression row i, and a loop over
 * cp_rows_not(type, n, CP_IMPRESSION) has it as r.k (util/rowmask.h):
 *
 *     int32_t units = e->units[cp_events_rank(e, i)];   (row i no impression)
 *
 * What an impression's record carried in those fields is not kept. */

/* The rows that are not impressions, numbered 0, 1, ... in row order (a
 * row's "rank"), 64 rows a block. */
typedef struct cp_sub_block {
    uint64_t mask;   /* bit j set when row 64 * block + j is not an impression */
    uint64_t before; /* non-impression rows before row 64 * block */
} cp_sub_block;

typedef struct cp_sub_rows {
    cp_sub_block *block; /* one per 64 rows; NULL before cp_run_finish() */
    size_t n;            /* non-impression rows: the length of every sub column */
} cp_sub_rows;

typedef struct cp_events {
    size_t n;
    int64_t *ts_ms;
    uint8_t *type;   /* cp_event_type */
    uint8_t *flags;  /* CP_EV_* */
    uint8_t *rating; /* sub column: feedback 1..5, else 0 */
    uint16_t *file;  /* index into cp_run_inputs() */
    uint32_t *line;  /* physical line of the record's first byte */
    cp_str *visitor, *customer; /* NULL after cp_run_finish() unless
                                 * cp_ingest_options.keep_raw_ids */
    cp_str *identity;
    cp_str *ip, *ua, *referrer, *asin;
    cp_str *tag, *click_id; /* sub columns (above) */
    uint32_t *placement; /* index into cp_run_placements(); CP_NONE if no campaign */
    uint32_t *order;     /* sub column: index into the order table; CP_NONE if none */
    int64_t *money_micros;
    int32_t *units;      /* sub column */
    cp_sub_rows sub;     /* the ranks of the non-impression rows (blocks
                          * from cp_run_finish() on) */
} cp_events;

/* The rank of row `row` among the non-impression rows that `block` ranks
 * (the row itself must not be an impression). */
static inline uint32_t cp_sub_rank(const cp_sub_block *block, size_t row) {
    const cp_sub_block *b = &block[row >> 6];
    return (uint32_t)(b->before + (uint64_t)__builtin_popcountll(b->mask & ((UINT64_C(1) << (row & 63)) - 1)));
}

/* The rank of row `row` of a finished run's events, which must not be an
 * impression: its index in the sub columns. */
static inline uint32_t cp_events_rank(const cp_events *e, size_t row) { return cp_sub_rank(e->sub.block, row); }

/* One entry of the order table. */
typedef struct cp_order {
    cp_str id;       /* the `order` string; CP_STR_NONE for a synthetic order */
    cp_str identity; /* identity of its first line */
    int64_t first_ts_ms; /* time of its first purchase line (R10.6); INT64_MAX when
                          * it has none (returns or feedback only: never placed) */
} cp_order;

/* Per-input accounting (R1.4, R8 summary.json `inputs`). */
typedef struct cp_input_stats {
    const char *path;     /* as given; "-" for standard input */
    uint64_t lines;       /* records after the header: accepted+rejected+blank */
    uint64_t accepted;
    uint64_t rejected;
    uint64_t blank_lines;
    uint64_t bytes;       /* bytes read after decompression */
} cp_input_stats;

/* R1.4b reject reasons, in R1.4b's order.  Append only. */
typedef enum cp_reject_reason {
    CP_R_BAD_ENCODING = 0,
    CP_R_LINE_TOO_LONG,
    CP_R_CSV_BAD_QUOTE,
    CP_R_CSV_UNTERMINATED_QUOTE,
    CP_R_BAD_FIELD_COUNT,
    CP_R_BAD_JSON,
    CP_R_MISSING_TS,
    CP_R_BAD_TS,
    CP_R_MISSING_TYPE,
    CP_R_BAD_TYPE,
    CP_R_CLICK_CAMPAIGN_AND_TAG,
    CP_R_CLICK_WITHOUT_CAMPAIGN_OR_TAG,
    CP_R_MISSING_IDENTITY,
    CP_R_MISSING_CAMPAIGN,
    CP_R_MISSING_ORDER,
    CP_R_MISSING_ASIN,
    CP_R_BAD_COST,
    CP_R_BAD_UNITS,
    CP_R_BAD_PRICE,
    CP_R_BAD_AMOUNT,
    CP_R_BAD_LOADED,
    CP_R_BAD_RATING,
    CP_N_REJECT_REASONS
} cp_reject_reason;

/* The stable code of a reason ("bad_ts"). */
const char *cp_reject_reason_name(cp_reject_reason r);

/* One rejected record (R1.4b rejects.csv). */
typedef struct cp_reject {
    uint16_t file;
    uint8_t reason;    /* cp_reject_reason */
    uint64_t line;
    const char *field; /* constant field name, or NULL for whole-line reasons */
    const char *text;  /* raw record, at most 200 characters, NUL-terminated */
} cp_reject;

/* How input columns become R1.2 fields (R1.4a). */
typedef struct cp_map_entry {
    const char *field;   /* R1.2 field name */
    const char *columns; /* "Col" or "a+b+c" (joined with '|') */
} cp_map_entry;

typedef struct cp_set_entry {
    const char *field;
    const char *value;
} cp_set_entry;

typedef struct cp_ingest_options {
    const cp_map_entry *map; size_t n_map;   /* --map field=Column[+Column...] */
    const cp_set_entry *set; size_t n_set;   /* --set field=value */
    const char *ts_format;  /* --ts-format, strftime-style; NULL = R1.2 forms */
    const char *input_tz;   /* --input-tz, IANA; NULL = UTC */
    const char *delimiter;  /* --delimiter: NULL/"," ";" "\t" "tab" "ws" or one byte */
    bool no_header;         /* --no-header (needs columns) */
    const char *columns;    /* --columns a,b,c */
    bool no_stitch;         /* --no-stitch (R2.1) */
    bool keep_raw_ids;      /* keep the visitor and customer columns after
                             * cp_run_finish() (they are freed by default:
                             * every report reads identity) */
    unsigned threads;       /* --threads: threads for parsing, cp_run_finish and the
                             * report stages (cp_report_ctx.threads); 0 = all cores.
                             * Results are identical for any value. */
    size_t parallel_min_bytes; /* blocks smaller than this are parsed on one
                                * thread; 0 = 1 MiB (tests set it small) */
    size_t block_bytes;     /* input is read and parsed in blocks of this
                             * size (at least 64); 0 = 8 MiB (tests set it small to run
                             * many blocks through the parsing pipeline) */
    /* --mpi: with stripe_count > 1, a record is parsed only when the offset of
     * its first byte in the input (after decompression), shifted right by
     * stripe_shift (0 = 20: stripes of 1 MiB), is stripe_index modulo
     * stripe_count; the others are skipped, not counted anywhere, so that
     * stripe_count processes each take their share of one input. */
    unsigned stripe_count, stripe_index, stripe_shift;
    /* Called now and then while loading (bytes read after decompression of
     * the current input); may be NULL.  Called from the loading thread. */
    void (*on_progress)(void *user, const char *path, uint64_t bytes_read);
    void *progress_user;
} cp_ingest_options;

typedef struct cp_run cp_run;

/* Creates a run.  `opt` is copied (its strings too).  Returns NULL only when
 * out of memory; an unknown --input-tz or a bad option fills *err and returns
 * NULL too (err->code tells which). */
cp_run *cp_run_new(const cp_ingest_options *opt, cp_error *err);
/* Frees everything the run owns.  Accepts NULL. */
void cp_run_free(cp_run *run);

/* Reads one input ("-" = standard input).  Format and compression are told by
 * content (R1.1).  Bad records become rejects; a file that cannot be opened,
 * decompressed, or whose header breaks quoting or lacks a --map column is
 * CP_EUSAGE/CP_EIO/CP_EFORMAT with err naming the file (the CLI exits 2). */
cp_result cp_run_load(cp_run *run, const char *path, cp_error *err);

/* Same as cp_run_load() for bytes in memory (a collector's request body):
 * `name` stands for the file in rejects and messages; data is not copied and
 * need only live during the call. */
cp_result cp_run_load_buffer(cp_run *run, const char *name, const void *data, size_t len, cp_error *err);

/* Sorts (R1.6), resolves identity (R2.1) and orders (R1.3).  Call once, after
 * the last cp_run_load(). */
cp_result cp_run_finish(cp_run *run, cp_error *err);

const cp_events *cp_run_events(const cp_run *run);
const cp_strings *cp_run_strings(const cp_run *run);
/* Permutation of event rows sorted by (identity, ts_ms, input order). */
const uint32_t *cp_run_by_identity(const cp_run *run);
const cp_placement *cp_run_placements(const cp_run *run, size_t *n);
const cp_order *cp_run_orders(const cp_run *run, size_t *n);
const cp_input_stats *cp_run_inputs(const cp_run *run, size_t *n);
const cp_reject *cp_run_rejects(const cp_run *run, size_t *n);
/* Totals over all inputs. */
uint64_t cp_run_accepted(const cp_run *run);
uint64_t cp_run_rejected(const cp_run *run);
void cp_run_rejects_by_reason(const cp_run *run, uint64_t counts[CP_N_REJECT_REASONS]);
/* True when at least one accepted event carries a `ua` (R3.1.1). */
bool cp_run_has_user_agents(const cp_run *run);
/* True in a partition of a --memory run: R3.1.3 flood by address was
 * decided over the whole input and is marked by CP_EV_FLOOD. */
bool cp_run_flood_given(const cp_run *run);
/* Bytes held by the store (columns + strings + tables), for --stats. */
size_t cp_run_memory_bytes(const cp_run *run);

#ifdef __cplusplus
}
#endif
#endif /* CLICKPATH_EVENTS_H */

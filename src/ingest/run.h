/* run.h -- the inside of cp_run, shared by the ingest stages (ingest.c loads
 * records, finish.c sorts and resolves identity and orders). */
#ifndef CLICKPATH_RUN_H
#define CLICKPATH_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "util/arena.h"
#include "util/strings.h"

/* R1.2 fields, in SPEC's table order. */
enum cp_field {
    CP_F_TS, CP_F_TYPE, CP_F_VISITOR, CP_F_CUSTOMER, CP_F_IP, CP_F_UA, CP_F_REFERRER,
    CP_F_ASIN, CP_F_CAMPAIGN, CP_F_AD_GROUP, CP_F_KEYWORD, CP_F_TAG, CP_F_CLICK_ID,
    CP_F_COST, CP_F_ORDER, CP_F_UNITS, CP_F_PRICE, CP_F_AMOUNT, CP_F_LOADED, CP_F_RATING,
    CP_N_FIELDS
};
extern const char *const cp_field_names[CP_N_FIELDS];
/* Field index of a name, or -1. */
int cp_field_lookup(const char *name, size_t len);

/* A field's source after --map / --set: column names (several are joined
 * with '|'), or a constant. */
typedef struct cp_field_src {
    const char **names; /* column names; NULL when none */
    size_t n_names;
    const char *constant; /* --set value, or NULL */
} cp_field_src;

/* An accepted row as a row sink sees it (partitioned runs, ingest/partition.c):
 * the raw record and the fields that join identities or count floods.
 * Pointers are valid during the call only. */
typedef struct cp_text {
    const char *p;
    size_t len; /* 0: absent */
} cp_text;

typedef struct cp_row_view {
    uint16_t file;
    uint32_t line;
    const char *rec; /* the record as read, without its line end */
    size_t rec_len;
    int64_t ts_ms;
    uint8_t type;
    cp_text visitor, customer, ip, order, click_id;
} cp_row_view;

/* Called for each accepted row, in input order, instead of storing it.
 * 0, or -1 to stop the load (out of memory, write error; the sink keeps its
 * own error). */
typedef int (*cp_row_sink)(void *user, const cp_row_view *row);

/* How an input was read, kept so that its records can be parsed again out
 * of a partition file (cp_run_load_frames). */
typedef struct cp_input_format {
    bool jsonl;
    bool header;       /* a CSV header line (else JSON Lines or --no-header) */
    char *header_text; /* in the run's arena */
    size_t header_len;
} cp_input_format;

struct cp_run {
    cp_ingest_options opt;
    cp_arena arena;
    cp_strings *str;
    cp_tz *input_tz;
    cp_field_src src[CP_N_FIELDS];

    cp_events ev;
    size_t cap;     /* rows the columns have room for */
    size_t sub_cap; /* ... and the sub columns (cp_events) */

    cp_placement *pl;
    size_t n_pl, cap_pl;
    uint32_t *pl_slots; /* hash of placement triples -> index + 1 */
    uint32_t pl_mask;

    cp_order *orders;
    size_t n_orders;
    uint32_t *by_identity;

    cp_input_stats *inputs;
    size_t n_inputs, cap_inputs;
    cp_reject *rejects;
    size_t n_rejects, cap_rejects;
    uint64_t reject_counts[CP_N_REJECT_REASONS];
    uint64_t accepted, rejected;
    bool has_ua;
    bool finished;

    /* partitioned runs (ingest/partition.c) */
    cp_row_sink sink;       /* set: accepted rows go to it, not to ev */
    void *sink_user;
    cp_input_format *fmt;   /* [n_inputs] */
    bool flood_given;       /* CP_EV_FLOOD marks R3.1.3 flood by address,
                             * decided over the whole input */
};

/* --mpi: rejects read by other ranks.  cp_run_add_reject appends one (its
 * text copied; the run's counts by reason and in all, not the input's);
 * cp_run_sort_rejects puts them back in input order.  0, or -1 when out of
 * memory or the reason is not one. */
int cp_run_add_reject(cp_run *run, const cp_reject *r);
void cp_run_sort_rejects(cp_run *run);

/* Frames of a partition file: each accepted record with its origin, so a
 * partition parses into exactly the events the whole run would hold. */
typedef struct cp_frame_head {
    uint16_t file;
    uint8_t flags; /* CP_FRAME_* */
    uint8_t pad;
    uint32_t line;
    uint32_t len;  /* record bytes that follow */
} cp_frame_head;
enum { CP_FRAME_FLOOD = 1u << 0 };
/* A partition file ends with a head whose file is CP_FRAME_END_FILE (never
 * an input's index) and nothing after it, so that a file cut between two
 * compressed frames is told from a complete one. */
#define CP_FRAME_END_FILE UINT16_MAX

/* Loads a partition from files of frames, each in (file, line) order (one
 * file, or one per --mpi rank that read a stripe of the inputs): the inputs
 * (paths and formats, from the run that read them) are registered in the
 * same order, then the frames of all files, merged in (file, line) order,
 * are parsed as their input's lines.  The run must be new. */
cp_result cp_run_load_frames(cp_run *run, const cp_input_stats *inputs, const cp_input_format *fmt,
                             size_t n_inputs, const char *const *paths, size_t n_paths, cp_error *err);

#endif

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

struct cp_run {
    cp_ingest_options opt;
    cp_arena arena;
    cp_strings *str;
    cp_tz *input_tz;
    cp_field_src src[CP_N_FIELDS];

    cp_events ev;
    size_t cap;

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
};

#endif

/* gen.h -- `clickpath gen`: a deterministic generator of a realistic store's
 * event log with ground truth (issue 3 item 6).  Same options, same bytes. */
#ifndef CLICKPATH_GEN_H
#define CLICKPATH_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "clickpath/clickpath.h"

typedef struct cp_gen_options {
    uint64_t n_events;  /* --events N (approximate target; the generator stops
                         * at the first actor boundary at or after N) */
    uint64_t seed;      /* --seed S */
    const char *out_dir;/* --out DIR (created when missing) */
    bool jsonl;         /* --format jsonl */
    int64_t start_ms;   /* --start DATE, default 2025-01-01T00:00:00Z */
    int32_t days;       /* --days, default 120 */
} cp_gen_options;

void cp_gen_options_init(cp_gen_options *opt);

/* Writes DIR/events.csv (or .jsonl), DIR/tags.csv (R5.1),
 * DIR/truth_clicks.csv, DIR/truth_people.csv and DIR/truth_attribution.csv
 * (R6.1/R7.1 credits of every purchase line).  Streams: memory does not
 * grow with n_events.  Fills *stats_events with the number of events written. */
cp_result cp_gen_run(const cp_gen_options *opt, uint64_t *stats_events, cp_error *err);

/* The built-in bot list (R3.1.1): NULL-terminated array of lower-case
 * substrings.  Shared by the generator (bot traffic) and the quality stage. */
extern const char *const cp_builtin_bot_list[];

#endif

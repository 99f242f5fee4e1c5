/* clickpath.h -- the public C API of the clickpath measurement engine.
 *
 * Introduction
 * ------------
 * clickpath turns one raw event log (SPEC R1) into the reports a marketplace
 * seller reads: business report, sponsored ads, off-site attribution and
 * customer evaluation (SPEC R3-R10).  The engine is a library first; the
 * `clickpath` command is a thin client of this header.
 *
 * A run (`cp_run`) owns every byte it hands out: the event store, the string
 * table, the rejects, and the reports built from them.  Everything lives in
 * the run's arena until cp_run_free().  One run must not be used from two
 * threads at once; separate runs are independent.
 *
 * The library never prints and never calls exit().  Functions return a
 * cp_result and, on failure, fill the caller's cp_error when it is not NULL.
 * A bad input line is data (a reject, R1.4), never an error.
 */
#ifndef CLICKPATH_CLICKPATH_H
#define CLICKPATH_CLICKPATH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CP_VERSION_MAJOR 0
#define CP_VERSION_MINOR 1
#define CP_VERSION_PATCH 0
#define CP_VERSION_STRING "0.1.0"

/* Result codes.  Append only: the values are ABI. */
typedef enum cp_result {
    CP_OK = 0,
    CP_ENOMEM = 1,  /* an allocation failed */
    CP_EIO = 2,     /* a file could not be read or written */
    CP_EUSAGE = 3,  /* bad options, unreadable header, unknown --map column */
    CP_EFORMAT = 4, /* input cannot be decompressed or decoded as a whole */
    CP_EMODEL = 5   /* a model cannot be fitted on this data (R10.5) */
} cp_result;

/* What went wrong and where.  All pointers are constant strings or owned by
 * the run; never free them. */
typedef struct cp_error {
    cp_result code;
    const char *file;  /* input path, or NULL */
    uint64_t line;     /* 1-based physical line; 0 = not about a line */
    const char *field; /* "ts", "cost"...; NULL when not about a field */
    char msg[256];     /* a sentence for a person */
} cp_error;

/* Returns the constant name of a result code ("CP_EIO"). */
const char *cp_result_name(cp_result r);

#ifdef __cplusplus
}
#endif
#endif /* CLICKPATH_CLICKPATH_H */

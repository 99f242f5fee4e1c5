/* partition.h -- reports on more events than fit in memory (`--memory`,
 * docs/scale.md).
 *
 * The inputs are read twice.  The first pass (a run with the partitioner
 * attached: cp_partitions_new, then cp_run_load of every input) keeps no
 * events: it counts, records rejects, joins identities into components
 * (R2.1 visitors and customers, and every identity sharing an order id or a
 * click_id, so that each per-identity rule stays inside one component) and
 * counts clicks per address for R3.1.3 flood over the whole input.  The
 * second pass (cp_partitions_route of every input, in the same order)
 * writes each accepted record to the partition file of its component.
 * cp_report_partitioned then loads the partitions one at a time and merges
 * their figures into the report the whole run would write, byte for byte.
 *
 * Partition files live in a fresh directory under tmp_dir and are removed
 * by cp_partitions_free, also after errors; cp_partitions_cleanup_signal
 * removes them from a signal handler.
 *
 *     cp_run *run = cp_run_new(&iopt, &err);
 *     cp_partitions *ps = cp_partitions_new(run, &iopt, &popt, &err);
 *     for each input: cp_run_load(run, path, &err);
 *     cp_run_finish(run, &err);
 *     cp_partitions_plan(ps, &ropt, &err);
 *     for each input: cp_partitions_route(ps, path, &err);
 *     cp_report_partitioned(ps, &ropt, sum, &err);
 *     cp_partitions_free(ps); cp_run_free(run);
 */
#ifndef CLICKPATH_PARTITION_H
#define CLICKPATH_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clickpath/events.h"
#include "clickpath/report.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cp_partition_options {
    uint64_t memory_bytes; /* --memory: what the partitions may use; 0 = 4 GiB */
    unsigned partitions;   /* --partitions: this many, whatever the size; 0 = from memory_bytes */
    const char *tmp_dir;   /* --tmp-dir; NULL = $TMPDIR, else /tmp */
    /* Called after each partition is reported on (may be NULL). */
    void (*on_partition)(void *user, unsigned done, unsigned total);
    void *progress_user;
} cp_partition_options;

typedef struct cp_partitions cp_partitions;

/* Attaches the first pass to a new run.  iopt must be the options the run
 * was made with, and must outlive the partitioner (partitions are parsed
 * with them again). */
cp_partitions *cp_partitions_new(cp_run *run, const cp_ingest_options *iopt, const cp_partition_options *popt,
                                 cp_error *err);
/* After the first pass (and cp_run_finish): flood verdicts, the number of
 * partitions, the directory and its files. */
cp_result cp_partitions_plan(cp_partitions *ps, const cp_report_options *ropt, cp_error *err);
/* The second pass over one input; call it for every input, in the order of
 * the first pass. */
cp_result cp_partitions_route(cp_partitions *ps, const char *path, cp_error *err);
/* Every report, into ropt->out_dir, as cp_report_all would write it for the
 * whole run. */
cp_result cp_report_partitioned(cp_partitions *ps, const cp_report_options *ropt, cp_summary *sum, cp_error *err);
/* `mpirun -np N clickpath report --mpi`: the whole partitioned report with
 * the partitions shared among the N ranks (docs/scale.md): run is a new
 * run, which becomes the first pass over paths (every rank reads every
 * input; the second pass only its stripes); the report goes to
 * ropt->out_dir from rank 0 only (*is_root), the same bytes as one process
 * writes.  Initialises and finalises MPI.  A rank that fails takes every
 * rank down (MPI_Abort) after printing its error.  Returns CP_EUSAGE when
 * built without MPI. */
cp_result cp_report_mpi(cp_run *run, char *const *paths, size_t n_paths, const cp_ingest_options *iopt,
                        const cp_partition_options *popt, const cp_report_options *ropt, cp_summary *sum,
                        bool *is_root, cp_error *err);
unsigned cp_partitions_count(const cp_partitions *ps);
/* Bytes the partitioner holds across the passes (components, floods). */
uint64_t cp_partitions_aux_bytes(const cp_partitions *ps);
/* Bytes of the records written to partition files, and the bytes those
 * files take on disk (zstd), after the second pass. */
uint64_t cp_partitions_bytes(const cp_partitions *ps);
uint64_t cp_partitions_disk_bytes(const cp_partitions *ps);
void cp_partitions_free(cp_partitions *ps); /* removes the files; accepts NULL */
/* Removes the partition files of the live partitioner, if any; only
 * async-signal-safe calls (for SIGINT and SIGTERM handlers). */
void cp_partitions_cleanup_signal(void);

#ifdef __cplusplus
}
#endif
#endif

/* partition_internal.h -- the partitioner's state, shared by partition.c
 * (the two passes) and report/report.c (cp_report_partitioned). */
#ifndef CLICKPATH_PARTITION_INTERNAL_H
#define CLICKPATH_PARTITION_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clickpath/partition.h"
#include "ingest/run.h"

#define MAX_PARTS 1000u /* open files at once in the second pass */
#define FRAME_KEY(file, line) ((uint64_t)(file) << 32 | (uint32_t)(line))

/* Partition files are zstd (docs/scale.md): concatenated zstd frames, each
 * with a checksum, that decompress to the file's frames (cp_frame_head +
 * record) and then the end mark, a cp_frame_head with file
 * CP_FRAME_END_FILE (never an input's index) and nothing else after it, so
 * that a file cut short, even at a zstd frame's end, reads as damaged.
 * Level 1 (zstd -b on partition frames of generated events, 128 KiB
 * frames): 1.1 GB/s, 14x; the negative levels are barely faster (1.2-1.4
 * GB/s) for 17-55% larger files. */
#define CP_PART_ZSTD_LEVEL 1

/* A partition file being written: frames gather in buf (ps->wbuf_cap
 * bytes), each full buffer is compressed into one zstd frame with the
 * partitioner's one context, so an open file holds only its buffer. */
typedef struct cp_part_writer {
    bool open;
    int fd;
    unsigned char *buf;
    size_t len;
} cp_part_writer;

typedef struct ip_click {
    int64_t ts_ms;
    cp_str ip;
    uint16_t file;
    uint32_t line;
} ip_click;

struct cp_partitions {
    cp_run *run;                   /* the first pass (the caller's) */
    const cp_ingest_options *iopt;
    cp_partition_options popt;
    /* union-find: hash slots -> node; parent and key per node */
    uint64_t *slot_key;
    uint32_t *slot_node, slot_mask;
    uint32_t *parent;
    uint64_t *node_key;
    uint32_t n_nodes, cap_nodes;
    /* R3.1.3 */
    cp_strings *ips;
    ip_click *clicks;
    size_t n_clicks, cap_clicks;
    uint64_t *flood; /* FRAME_KEY of flood clicks, sorted */
    size_t n_flood, flood_at;
    int64_t max_ts;
    bool any_event;
    bool floods_done;     /* flood[] is final (cp_partitions_floods) */
    uint64_t events_total; /* --mpi: accepted events of all ranks; 0 = run->accepted */
    /* partitions */
    unsigned n_parts;
    char dir[PATH_MAX];
    bool have_dir;
    cp_part_writer *out; /* [n_parts]: open for this rank's partitions */
    FILE **outbox;    /* [n_ranks]: frames for another rank's partitions */
    unsigned rank, n_ranks; /* --mpi; 0 and 1 in one process */
    uint64_t *part_events;
    uint64_t bytes;      /* frame bytes routed (uncompressed) */
    uint64_t disk_bytes; /* compressed bytes written to partition files */
    size_t wbuf_cap;     /* bytes of a writer's buffer */
    struct ZSTD_CCtx_s *zc; /* the writers' context, made at the first flush */
    unsigned char *zbuf;    /* its output: compressBound(wbuf_cap) */
    size_t zcap;
    cp_run *route_run; /* the second pass */
    bool changed;
    int write_errno;
};

/* R3.1.3 floods by address from clicks[] into flood[] (called by
 * cp_partitions_plan unless already done; --mpi calls it on the clicks of
 * the addresses a rank owns). */
cp_result cp_partitions_floods(cp_partitions *ps, const cp_report_options *ropt, cp_error *err);
/* The components as pairs (key, root key) of every node that is not a
 * root, in *pairs (malloc'd, 2 per pair); the number of pairs, SIZE_MAX
 * when out of memory.  cp_partitions_join joins such pairs into ps. */
size_t cp_partitions_edges(cp_partitions *ps, uint64_t **pairs);
cp_result cp_partitions_join(cp_partitions *ps, const uint64_t *pairs, size_t n, cp_error *err);

/* Closes the partition files after the second pass (again: nothing to do). */
cp_result cp_partitions_close_files(cp_partitions *ps, cp_error *err);
/* Partition file writers (ps's buffer size and zstd context; one thread at a
 * time): open makes path anew; put is 0, or -1 with ps->write_errno set;
 * close writes the end mark, flushes, closes and frees, also after an
 * error (err gets the first error; NULL: not reported); discard closes and
 * frees without writing. */
cp_result cp_part_writer_open(cp_partitions *ps, cp_part_writer *w, const char *path, cp_error *err);
int cp_part_writer_put(cp_partitions *ps, cp_part_writer *w, const void *p, size_t n);
cp_result cp_part_writer_close(cp_partitions *ps, cp_part_writer *w, cp_error *err);
void cp_part_writer_discard(cp_part_writer *w);
/* Partition p's file of the frames read by rank src (0 in one process). */
void cp_partitions_part_path(const cp_partitions *ps, unsigned p, unsigned src, char *buf, size_t size);
/* The file of frames this rank sends to `rank` (--mpi): each frame is
 * preceded by its partition, a uint32_t. */
void cp_partitions_outbox_path(const cp_partitions *ps, unsigned rank, char *buf, size_t size);
/* --mpi: closes and removes the outboxes (after the shuffle). */
void cp_partitions_drop_outboxes(cp_partitions *ps);
/* Removes partition p's files. */
void cp_partitions_remove_part(cp_partitions *ps, unsigned p);
/* Partitions reported on at once (report.c): one per thread of --threads;
 * the plan sizes partitions so that this many fit in --memory together. */
unsigned cp_partitions_workers(const cp_partitions *ps);
/* R10.1: --as-of, else the latest accepted event time of the whole input. */
int64_t cp_partitions_as_of(const cp_partitions *ps, const cp_report_options *opt);

#endif

/* mpi.c -- `mpirun -np N clickpath report --mpi ...` (clickpath/partition.h,
 * docs/scale.md "Several machines").
 *
 * Every rank runs the partitioned report's passes with its rank as owner:
 *   1. the first pass over the whole input (components, floods by address,
 *      counts and rejects), the same on every rank, so every rank knows the
 *      partition of every event without talking to the others;
 *   2. the second pass over this rank's stripes of the inputs only
 *      (cp_ingest_options.stripe_*): frames of its own partitions go to its
 *      partition files, the others to one outbox per rank;
 *   3. the shuffle: the outboxes are exchanged with MPI_Alltoallv in rounds
 *      of bounded size; a rank keeps what it receives from rank s in its
 *      partition's file for s, so each file stays in (file, line) order;
 *   4. each rank reports on its partitions (P partitions; rank r owns those
 *      with p mod N = r) into its accumulators;
 *   5. the accumulators go to rank 0 (cp_accs_save / load / merge), which
 *      writes the report: byte for byte the report of one process.
 * The inputs must be readable by every rank at the same paths (a shared
 * file system, or the same files copied to every node).  Partition files
 * are written under --tmp-dir on each rank's own node.
 */
#include "clickpath/partition.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/partition_internal.h"
#include "ingest/run.h"
#include "report/merge.h"
#include "util/bytes.h"
#include "util/error.h"
#include "util/strings.h"

#ifndef CP_HAVE_MPI

cp_result cp_report_mpi(cp_run *run, char *const *paths, size_t n_paths, const cp_ingest_options *iopt,
                        const cp_partition_options *popt, const cp_report_options *ropt, cp_summary *sum,
                        bool *is_root, cp_error *err) {
    (void)run; (void)paths; (void)n_paths; (void)iopt; (void)popt; (void)ropt; (void)sum;
    *is_root = true;
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = CP_EUSAGE;
        snprintf(err->msg, sizeof err->msg, "--mpi: this clickpath was built without MPI (install libopenmpi-dev, rebuild)");
    }
    return CP_EUSAGE;
}

#else
#include <mpi.h>

#define ROUND_BYTES (64u << 20) /* sent by one rank in one round of the shuffle */

/* A local failure: every rank is taken down (the others may be waiting in a
 * collective call).  The message is printed by this rank. */
static void die(int rank, const cp_error *err) {
    fprintf(stderr, "clickpath: rank %d: error: %s\n", rank, err->msg[0] ? err->msg : "failed");
    cp_partitions_cleanup_signal();
    MPI_Abort(MPI_COMM_WORLD, err->code == CP_EUSAGE ? 2 : 1);
}

/* Sends n bytes to rank 0 in pieces an int can count. */
static void send_bytes(const uint8_t *p, uint64_t n) {
    MPI_Send(&n, 1, MPI_UINT64_T, 0, 1, MPI_COMM_WORLD);
    for (uint64_t at = 0; at < n;) {
        int piece = n - at > (1u << 30) ? (1 << 30) : (int)(n - at);
        MPI_Send(p + at, piece, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
        at += (uint64_t)piece;
    }
}

static uint8_t *recv_bytes(int from, uint64_t *n) {
    MPI_Recv(n, 1, MPI_UINT64_T, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    uint8_t *p = malloc(*n ? *n : 1);
    for (uint64_t at = 0; at < *n;) {
        int piece = *n - at > (1u << 30) ? (1 << 30) : (int)(*n - at);
        MPI_Recv(p ? p + at : NULL, p ? piece : 0, MPI_BYTE, from, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        at += (uint64_t)piece;
    }
    return p;
}

/* Every input read the same lines as the first pass, summed over the ranks'
 * stripes: an input changed between the passes is an error. */
static cp_result check_stripes(const cp_partitions *ps, cp_error *err) {
    size_t n = ps->run->n_inputs;
    uint64_t *mine = calloc(3 * n + 1, sizeof *mine), *all = calloc(3 * n + 1, sizeof *all);
    if (!mine || !all) {
        free(mine);
        free(all);
        return cp_error_setf(err, CP_ENOMEM, "out of memory");
    }
    const cp_run *rr = ps->route_run;
    for (size_t i = 0; rr && i < n && i < rr->n_inputs; i++) {
        mine[3 * i] = rr->inputs[i].lines;
        mine[3 * i + 1] = rr->inputs[i].accepted;
        mine[3 * i + 2] = rr->inputs[i].rejected;
    }
    MPI_Allreduce(mine, all, (int)(3 * n), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    cp_result r = CP_OK;
    for (size_t i = 0; i < n && !r; i++) {
        const cp_input_stats *in = &ps->run->inputs[i];
        if (all[3 * i] != in->lines || all[3 * i + 1] != in->accepted || all[3 * i + 2] != in->rejected)
            r = cp_error_setf(err, CP_EIO, "%s changed between the two passes of --mpi", in->path);
    }
    free(mine);
    free(all);
    return r;
}

/* ---- records between ranks -------------------------------------------------------- */

/* What one exchange() moves: fill() puts up to cap bytes of whole records
 * for rank d into buf (*n; *more when d has more after them), take() gets
 * what rank src sent. */
typedef struct exchange_io {
    cp_result (*fill)(void *user, unsigned d, uint8_t *buf, size_t cap, size_t *n, bool *more, cp_error *err);
    cp_result (*take)(void *user, unsigned src, const uint8_t *p, size_t n, cp_error *err);
    void *fill_user, *take_user;
} exchange_io;

/* Records from every rank to every rank with MPI_Alltoallv, in rounds of
 * at most ROUND_BYTES per rank, until no rank has more.  A collective call:
 * every rank makes it; after a local error a rank goes on taking part with
 * nothing to send, and returns the error at the end. */
static cp_result exchange(unsigned N, unsigned me, const exchange_io *io, cp_error *err) {
    int *scount = calloc(N, sizeof *scount), *rcount = calloc(N, sizeof *rcount);
    int *sdisp = calloc(N, sizeof *sdisp), *rdisp = calloc(N, sizeof *rdisp);
    size_t per = ROUND_BYTES / N > (4u << 20) ? ROUND_BYTES / N : (4u << 20);
    uint8_t *sbuf = malloc(per * N), *rbuf = NULL;
    size_t rcap = 0;
    cp_result r = CP_OK;
    if (!scount || !rcount || !sdisp || !rdisp || !sbuf) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die((int)me, err);
    }
    for (;;) {
        size_t off = 0;
        int more = 0;
        for (unsigned d = 0; d < N; d++) {
            sdisp[d] = (int)off;
            size_t n = 0;
            bool m = false;
            if (!r) r = io->fill(io->fill_user, d, sbuf + off, per, &n, &m, err);
            if (r) n = 0, m = false;
            scount[d] = (int)n;
            off += n;
            more |= m;
        }
        MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, MPI_COMM_WORLD);
        size_t total = 0;
        for (unsigned s = 0; s < N; s++) {
            rdisp[s] = (int)total;
            total += (size_t)rcount[s];
        }
        if (total > rcap) {
            uint8_t *nb = realloc(rbuf, total);
            if (!nb) {
                cp_error_setf(err, CP_ENOMEM, "out of memory");
                die((int)me, err);
            }
            rbuf = nb;
            rcap = total;
        }
        MPI_Alltoallv(sbuf, scount, sdisp, MPI_BYTE, rbuf, rcount, rdisp, MPI_BYTE, MPI_COMM_WORLD);
        for (unsigned s = 0; s < N && !r; s++)
            if (rcount[s]) r = io->take(io->take_user, s, rbuf + rdisp[s], (size_t)rcount[s], err);
        int any = 0;
        MPI_Allreduce(&more, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!any) break;
    }
    free(scount);
    free(rcount);
    free(sdisp);
    free(rdisp);
    free(sbuf);
    free(rbuf);
    return r;
}

/* Records in memory, [uint32 length][bytes], one buffer per rank. */
typedef struct mem_out {
    cp_bytes *out;
    size_t *at;
} mem_out;

static cp_result fill_mem(void *user, unsigned d, uint8_t *buf, size_t cap, size_t *n, bool *more, cp_error *err) {
    mem_out *m = user;
    const cp_bytes *b = &m->out[d];
    size_t k = 0;
    while (m->at[d] < b->n) {
        uint32_t len;
        memcpy(&len, b->p + m->at[d], sizeof len);
        size_t rec = sizeof len + len;
        if (k + rec > cap) {
            if (k == 0) return cp_error_setf(err, CP_EUSAGE, "--mpi: a record of %zu bytes is larger than a round", rec);
            break;
        }
        memcpy(buf + k, b->p + m->at[d], rec);
        k += rec;
        m->at[d] += rec;
    }
    *n = k;
    *more = m->at[d] < b->n;
    return CP_OK;
}

static void put_record(cp_bytes *b, const cp_bytes *rec) {
    cp_bytes_u32(b, (uint32_t)rec->n);
    cp_bytes_put(b, rec->p, rec->n);
}

/* Clicks received for the addresses this rank owns. */
typedef struct click_sink {
    cp_partitions *ps;
} click_sink;

static cp_result take_clicks(void *user, unsigned src, const uint8_t *p, size_t n, cp_error *err) {
    cp_partitions *ps = ((click_sink *)user)->ps;
    (void)src;
    cp_bytes_reader in = cp_bytes_reader_of(p, n);
    while (in.at < in.n && !in.bad) {
        uint32_t len = cp_bytes_get_u32(&in);
        cp_bytes_reader rec = cp_bytes_reader_of(cp_bytes_get(&in, len), in.bad ? 0 : len);
        size_t ip_len;
        const char *ip = cp_bytes_get_str(&rec, &ip_len);
        int64_t ts = cp_bytes_get_i64(&rec);
        uint32_t file = cp_bytes_get_u32(&rec), line = cp_bytes_get_u32(&rec);
        if (rec.bad || in.bad) break;
        if (ps->n_clicks == ps->cap_clicks) {
            size_t cap = ps->cap_clicks ? ps->cap_clicks * 2 : 4096;
            ip_click *c = realloc(ps->clicks, cap * sizeof *c);
            if (!c) return cp_error_setf(err, CP_ENOMEM, "out of memory");
            ps->clicks = c;
            ps->cap_clicks = cap;
        }
        int oom = 0;
        cp_str id = cp_strings_intern(ps->ips, ip, ip_len, &oom);
        if (oom) return cp_error_setf(err, CP_ENOMEM, "out of memory");
        ps->clicks[ps->n_clicks++] = (ip_click){.ts_ms = ts, .ip = id, .file = (uint16_t)file, .line = line};
    }
    if (in.bad) return cp_error_setf(err, CP_EIO, "--mpi: a damaged message from another rank");
    return CP_OK;
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Gathers `n` items of `size` bytes from every rank into every rank
 * (MPI_Allgatherv), in *all (malloc'd); the total count. */
static size_t allgather(const void *mine, size_t n, size_t size, void **all, int rank, cp_error *err) {
    int N;
    MPI_Comm_size(MPI_COMM_WORLD, &N);
    MPI_Datatype t;
    MPI_Type_contiguous((int)size, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    if (n > INT_MAX) {
        cp_error_setf(err, CP_EUSAGE, "--mpi: too many items to gather (%zu)", n);
        die(rank, err);
    }
    int cnt = (int)n;
    int *counts = malloc((size_t)N * sizeof *counts), *disp = malloc((size_t)N * sizeof *disp);
    if (!counts || !disp) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    size_t total = 0;
    for (int s = 0; s < N; s++) {
        if (total > INT_MAX) {
            cp_error_setf(err, CP_EUSAGE, "--mpi: too many items to gather");
            die(rank, err);
        }
        disp[s] = (int)total;
        total += (size_t)counts[s];
    }
    *all = malloc((total ? total : 1) * size);
    if (!*all) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    MPI_Allgatherv(mine, cnt, t, *all, counts, disp, t, MPI_COMM_WORLD);
    MPI_Type_free(&t);
    free(counts);
    free(disp);
    return total;
}

static int field_index(const char *name) {
    for (int f = 0; name && f < CP_N_FIELDS; f++)
        if (cp_field_names[f] == name) return f;
    return 255;
}

/* Rank 0 takes what every other rank sends it, in rank order: take() gets
 * each rank's bytes; a rank other than 0 sends `mine` (a rank that cannot
 * build it takes the job down).  A collective call. */
static cp_result to_root(int rank, int size, const cp_bytes *mine,
                         cp_result (*take)(void *user, int src, cp_bytes_reader *in, cp_error *err), void *user,
                         cp_error *err) {
    if (rank != 0) {
        if (mine->oom) {
            cp_error_setf(err, CP_ENOMEM, "out of memory");
            die(rank, err);
        }
        send_bytes(mine->p, mine->n);
        return CP_OK;
    }
    cp_result r = CP_OK;
    for (int s = 1; s < size; s++) {
        uint64_t n;
        uint8_t *p = recv_bytes(s, &n); /* every rank's message is received, also after an error */
        if (!p && !r) r = cp_error_setf(err, CP_ENOMEM, "out of memory");
        if (p && !r) {
            cp_bytes_reader in = cp_bytes_reader_of(p, n);
            r = take(user, s, &in, err);
            if (!r && in.bad) r = cp_error_setf(err, CP_EIO, "--mpi: a damaged message from rank %d", s);
        }
        free(p);
    }
    return r;
}

/* Another rank's rejects into rank 0's run. */
static cp_result take_rejects(void *user, int src, cp_bytes_reader *in, cp_error *err) {
    cp_run *run = user;
    (void)src;
    uint64_t nr = cp_bytes_get_u64(in);
    for (uint64_t i = 0; i < nr && !in->bad; i++) {
        cp_reject r = {0};
        r.file = (uint16_t)cp_bytes_get_u32(in);
        r.reason = cp_bytes_get_u8(in);
        r.line = cp_bytes_get_u64(in);
        uint8_t f = cp_bytes_get_u8(in);
        r.field = f < CP_N_FIELDS ? cp_field_names[f] : NULL;
        size_t len;
        const char *t = cp_bytes_get_str(in, &len);
        char *text = strndup(t, len);
        r.text = text;
        int bad = !text || cp_run_add_reject(run, &r) != 0;
        free(text);
        if (bad) return cp_error_setf(err, CP_ENOMEM, "out of memory");
    }
    return CP_OK;
}

/* Another rank's accumulators, merged into rank 0's. */
typedef struct accs_sink {
    cp_accs *accs;
    const cp_report_options *ropt;
} accs_sink;

static cp_result take_accs(void *user, int src, cp_bytes_reader *in, cp_error *err) {
    accs_sink *k = user;
    (void)src;
    cp_accs other = {0};
    cp_result r = cp_accs_load(&other, k->ropt, in, err);
    if (!r) r = cp_accs_merge(k->accs, &other, err);
    cp_accs_free(&other);
    return r;
}

/* The first pass, striped: each rank reads its stripes of the inputs; then
 * the ranks agree on everything the first pass of one process knows. */
static void first_pass(cp_partitions *ps, cp_run *run, char *const *paths, size_t n_paths,
                       const cp_report_options *ropt, int rank, int size, cp_error *err) {
    unsigned N = (unsigned)size;
    run->opt.stripe_count = N;
    run->opt.stripe_index = (unsigned)rank;
    for (size_t i = 0; i < n_paths; i++)
        if (cp_run_load(run, paths[i], err) != CP_OK) die(rank, err);
    if (cp_run_finish(run, err) != CP_OK) die(rank, err);

    /* R3.1.1, R10.1 over every rank's stripes */
    int ua = run->has_ua, any_ua = 0;
    MPI_Allreduce(&ua, &any_ua, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    run->has_ua = any_ua != 0;
    int64_t mt = ps->any_event ? ps->max_ts : INT64_MIN, max_ts = INT64_MIN;
    MPI_Allreduce(&mt, &max_ts, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    ps->any_event = max_ts != INT64_MIN;
    ps->max_ts = ps->any_event ? max_ts : 0;

    /* counts per input, summed: every rank knows the whole input's */
    size_t n_in = run->n_inputs;
    uint64_t *mine = calloc(4 * n_in + 1, sizeof *mine), *all = calloc(4 * n_in + 1, sizeof *all);
    if (!mine || !all) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    for (size_t i = 0; i < n_in; i++) {
        mine[4 * i] = run->inputs[i].lines;
        mine[4 * i + 1] = run->inputs[i].accepted;
        mine[4 * i + 2] = run->inputs[i].rejected;
        mine[4 * i + 3] = run->inputs[i].blank_lines;
    }
    MPI_Allreduce(mine, all, (int)(4 * n_in), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    run->accepted = 0;
    for (size_t i = 0; i < n_in; i++) {
        run->inputs[i].lines = all[4 * i];
        run->inputs[i].accepted = all[4 * i + 1];
        run->inputs[i].rejected = all[4 * i + 2];
        run->inputs[i].blank_lines = all[4 * i + 3];
        run->accepted += all[4 * i + 1];
    }
    ps->events_total = run->accepted;
    free(mine);
    free(all);

    /* rejects, to rank 0, in input order (R1.4b) */
    cp_bytes b = {0};
    if (rank != 0) {
        size_t nr;
        const cp_reject *rj = cp_run_rejects(run, &nr);
        cp_bytes_u64(&b, nr);
        for (size_t i = 0; i < nr; i++) {
            cp_bytes_u32(&b, rj[i].file);
            cp_bytes_u8(&b, rj[i].reason);
            cp_bytes_u64(&b, rj[i].line);
            cp_bytes_u8(&b, (uint8_t)field_index(rj[i].field));
            cp_bytes_str(&b, rj[i].text, strlen(rj[i].text));
        }
    }
    if (to_root(rank, size, &b, take_rejects, run, err) != CP_OK) die(rank, err);
    cp_bytes_free(&b);
    if (rank == 0) cp_run_sort_rejects(run);

    /* components: every rank joins every rank's (node, root) pairs; roots
     * are least keys, so the ranks agree on every component's partition */
    uint64_t *pairs = NULL, *every = NULL;
    size_t n_pairs = cp_partitions_edges(ps, &pairs);
    if (n_pairs == SIZE_MAX) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    size_t n_every = allgather(pairs, n_pairs, 2 * sizeof(uint64_t), (void **)&every, rank, err);
    free(pairs);
    if (cp_partitions_join(ps, every, n_every, err) != CP_OK) die(rank, err);
    free(every);

    /* R3.1.3: each click with an address to the rank that owns the address
     * (hash mod N), floods counted there, the verdicts to every rank */
    cp_bytes *out = calloc(N, sizeof *out);
    if (!out) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    cp_bytes rec = {0};
    for (size_t i = 0; i < ps->n_clicks; i++) {
        size_t len;
        const char *ip = cp_strings_get(ps->ips, ps->clicks[i].ip, &len);
        rec.n = 0;
        cp_bytes_str(&rec, ip, len);
        cp_bytes_i64(&rec, ps->clicks[i].ts_ms);
        cp_bytes_u32(&rec, ps->clicks[i].file);
        cp_bytes_u32(&rec, ps->clicks[i].line);
        put_record(&out[cp_hash_bytes(ip, len) % N], &rec);
    }
    bool oom = rec.oom;
    for (unsigned d = 0; d < N; d++) oom |= out[d].oom;
    cp_bytes_free(&rec);
    if (oom) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    free(ps->clicks);
    ps->clicks = NULL;
    ps->n_clicks = ps->cap_clicks = 0;
    cp_strings_free(ps->ips);
    ps->ips = cp_strings_new();
    if (!ps->ips) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    click_sink cs = {ps};
    size_t *at = calloc(N, sizeof *at);
    if (!at) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die(rank, err);
    }
    mem_out mo = {out, at};
    exchange_io io = {.fill = fill_mem, .take = take_clicks, .fill_user = &mo, .take_user = &cs};
    if (exchange(N, (unsigned)rank, &io, err) != CP_OK) die(rank, err);
    free(at);
    for (unsigned d = 0; d < N; d++) cp_bytes_free(&out[d]);
    free(out);
    if (cp_partitions_floods(ps, ropt, err) != CP_OK) die(rank, err);
    uint64_t *floods = NULL;
    size_t n_floods = allgather(ps->flood, ps->n_flood, sizeof(uint64_t), (void **)&floods, rank, err);
    if (n_floods > 1) qsort(floods, n_floods, sizeof *floods, u64_cmp);
    free(ps->flood);
    ps->flood = floods;
    ps->n_flood = n_floods;
}

/* The shuffle's records: [uint32 partition][frame head][record], read from
 * the outboxes (files) and written to the partitions' files, one per
 * source rank, each in (file, line) order. */
typedef struct shuffle_io {
    cp_partitions *ps;
    uint64_t *left;       /* [d]: outbox bytes not sent yet */
    cp_part_writer *in;   /* [p * N + s]: partition p's file of frames from s */
} shuffle_io;

static cp_result fill_outbox(void *user, unsigned d, uint8_t *buf, size_t cap, size_t *n, bool *more, cp_error *err) {
    shuffle_io *sh = user;
    FILE *f = sh->ps->outbox[d];
    size_t k = 0;
    while (f && sh->left[d] > 0) {
        long at = ftell(f);
        uint32_t p;
        cp_frame_head h;
        if (fread(&p, sizeof p, 1, f) != 1 || fread(&h, sizeof h, 1, f) != 1)
            return cp_error_setf(err, CP_EIO, "reading partition files in %s", sh->ps->dir);
        size_t rec = sizeof p + sizeof h + h.len;
        if (k + rec > cap) {
            if (k == 0) return cp_error_setf(err, CP_EUSAGE, "--mpi: a record of %zu bytes is larger than a round", rec);
            fseek(f, at, SEEK_SET);
            break;
        }
        memcpy(buf + k, &p, sizeof p);
        memcpy(buf + k + sizeof p, &h, sizeof h);
        if (h.len && fread(buf + k + sizeof p + sizeof h, 1, h.len, f) != h.len)
            return cp_error_setf(err, CP_EIO, "reading partition files in %s", sh->ps->dir);
        k += rec;
        sh->left[d] -= rec;
    }
    *n = k;
    *more = sh->left[d] > 0;
    return CP_OK;
}

static cp_result take_frames(void *user, unsigned s, const uint8_t *buf, size_t n, cp_error *err) {
    shuffle_io *sh = user;
    cp_partitions *ps = sh->ps;
    unsigned N = ps->n_ranks;
    for (size_t at = 0; at < n;) {
        uint32_t p;
        cp_frame_head h;
        if (at + sizeof p + sizeof h > n) return cp_error_setf(err, CP_EIO, "--mpi: a damaged message from rank %u", s);
        memcpy(&p, buf + at, sizeof p);
        memcpy(&h, buf + at + sizeof p, sizeof h);
        size_t rec = sizeof h + h.len;
        if (p >= ps->n_parts || p % N != ps->rank || at + sizeof p + rec > n)
            return cp_error_setf(err, CP_EIO, "--mpi: a damaged message from rank %u", s);
        cp_part_writer *w = &sh->in[(size_t)p * N + s];
        if (!w->open) {
            char path[PATH_MAX + 32];
            cp_partitions_part_path(ps, p, s, path, sizeof path);
            cp_result r = cp_part_writer_open(ps, w, path, err);
            if (r) return r;
        }
        if (cp_part_writer_put(ps, w, buf + at + sizeof p, rec) != 0)
            return cp_error_setf(err, CP_EIO, "writing partition files in %s: %s", ps->dir, strerror(ps->write_errno));
        at += sizeof p + rec;
    }
    return CP_OK;
}

/* The shuffle: every rank's outboxes to their owners, in rounds. */
static cp_result shuffle(cp_partitions *ps, cp_error *err) {
    unsigned N = ps->n_ranks, me = ps->rank;
    shuffle_io sh = {.ps = ps, .left = calloc(N, sizeof *sh.left),
                     .in = calloc((size_t)ps->n_parts * N, sizeof *sh.in)};
    if (!sh.left || !sh.in) {
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        die((int)me, err);
    }
    cp_result r = CP_OK;
    for (unsigned d = 0; d < N && !r; d++) {
        if (d == me) continue;
        if (fflush(ps->outbox[d]) != 0)
            r = cp_error_setf(err, CP_EIO, "writing partition files in %s: %s", ps->dir, strerror(errno));
        long size = ftell(ps->outbox[d]);
        sh.left[d] = size > 0 ? (uint64_t)size : 0;
        rewind(ps->outbox[d]);
    }
    if (r) memset(sh.left, 0, N * sizeof *sh.left); /* send nothing, but take part */
    exchange_io io = {.fill = fill_outbox, .take = take_frames, .fill_user = &sh, .take_user = &sh};
    cp_result x = exchange(N, me, &io, err);
    if (!r) r = x;
    for (size_t k = 0; sh.in && k < (size_t)ps->n_parts * N; k++) { /* the end marks */
        cp_result c = cp_part_writer_close(ps, &sh.in[k], r ? NULL : err);
        if (!r) r = c;
    }
    free(sh.in);
    free(sh.left);
    return r;
}

/* This rank's partitions into accs, each from its N files. */
static cp_result report_own(cp_partitions *ps, cp_accs *accs, const cp_report_options *ropt, int64_t as_of_ms,
                            cp_error *err) {
    unsigned N = ps->n_ranks;
    char (*names)[PATH_MAX + 32] = malloc(N * sizeof *names);
    const char **paths = malloc(N * sizeof *paths);
    cp_result r = names && paths ? CP_OK : cp_error_setf(err, CP_ENOMEM, "out of memory");
    for (unsigned p = ps->rank; p < ps->n_parts && !r; p += N) {
        size_t n = 0;
        for (unsigned s = 0; s < N; s++) {
            cp_partitions_part_path(ps, p, s, names[n], sizeof names[n]);
            FILE *f = fopen(names[n], "rb"); /* a rank may have sent nothing */
            if (!f) continue;
            fclose(f);
            paths[n] = names[n];
            n++;
        }
        r = cp_accs_add_frames(accs, ps->run, ps->iopt, paths, n, ropt, as_of_ms, err);
        cp_partitions_remove_part(ps, p);
    }
    free(names);
    free(paths);
    return r;
}

cp_result cp_report_mpi(cp_run *run, char *const *paths, size_t n_paths, const cp_ingest_options *iopt,
                        const cp_partition_options *popt, const cp_report_options *ropt, cp_summary *sum,
                        bool *is_root, cp_error *err) {
    int inited = 0, rank = 0, size = 1;
    MPI_Initialized(&inited);
    if (!inited) MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    *is_root = rank == 0;

    /* 1. the first pass, striped, and what the ranks must agree on */
    cp_partitions *ps = cp_partitions_new(run, iopt, popt, err);
    if (!ps) die(rank, err);
    ps->rank = (unsigned)rank;
    ps->n_ranks = (unsigned)size;
    first_pass(ps, run, paths, n_paths, ropt, rank, size, err);
    if (cp_partitions_plan(ps, ropt, err) != CP_OK) die(rank, err);
    /* 2. the second pass over this rank's stripes */
    for (size_t i = 0; i < n_paths; i++)
        if (cp_partitions_route(ps, paths[i], err) != CP_OK) die(rank, err);
    if (check_stripes(ps, err) != CP_OK) die(rank, err);
    if (cp_partitions_close_files(ps, err) != CP_OK) die(rank, err);
    /* 3. the shuffle */
    if (shuffle(ps, err) != CP_OK) die(rank, err);
    cp_partitions_drop_outboxes(ps); /* their disk space back before the partitions */
    /* 4. this rank's partitions */
    int64_t as_of_ms = cp_partitions_as_of(ps, ropt);
    cp_accs accs;
    if (cp_accs_init(&accs, ropt, err) != CP_OK) die(rank, err);
    if (report_own(ps, &accs, ropt, as_of_ms, err) != CP_OK) die(rank, err);
    /* 5. to rank 0 */
    cp_bytes saved = {0};
    if (rank != 0) cp_accs_save(&accs, &saved);
    accs_sink sink = {&accs, ropt};
    cp_result r = to_root(rank, size, &saved, take_accs, &sink, err);
    cp_bytes_free(&saved);
    if (rank == 0 && !r) r = cp_accs_emit(&accs, run, ropt, as_of_ms, sum, err);
    cp_accs_free(&accs);
    cp_partitions_free(ps);
    MPI_Finalize();
    return r;
}

#endif

/* partition.c -- the two passes of a partitioned run (clickpath/partition.h,
 * docs/scale.md).
 *
 * First pass (a row sink on the caller's run: no event is stored):
 *   - components: every accepted row joins the nodes it carries -- its
 *     visitor, customer, order id and click_id -- in a union-find keyed by
 *     64-bit hashes of (kind, bytes).  A component therefore holds every
 *     event of its identities after R2.1 stitching (a visitor is joined with
 *     every customer it is seen with, so with the first one too), every line
 *     of its orders (R1.3: order ids are global) and both ends of its
 *     click_id links (R4.3).  Two different strings with the same hash only
 *     put two components in one partition, which changes nothing.
 *   - R3.1.3 flood by address: (address, ts, file, line) of every click
 *     with an `ip`, addresses interned exactly.  Clicks without an address
 *     are counted per identity, inside their partition.
 *   - the latest event time (R10.1's default as-of) and R3.1.1's "some
 *     event carries a user agent" (the run's own flag).
 * Plan: flood verdicts (sorted (file, line) keys), the number of partitions
 * P, the directory.
 * Second pass (a row sink on a second run): each accepted record is written
 * as a frame (cp_frame_head + the record) to partition hash(root) mod P,
 * flagged when it is a flood click.  Frames keep input order, so every
 * partition is in (file, line) order.
 *
 * Memory: 16 bytes per distinct node in the union-find and 24 per click
 * with an address; events themselves are never held.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "clickpath/partition.h"
#include "ingest/partition_internal.h"
#include "util/error.h"
#include "util/strings.h"

/* ---- union-find over hashed nodes --------------------------------------------------- */

static uint64_t node_key(char kind, cp_text t) {
    uint64_t h = cp_hash_u64(cp_hash_bytes(t.p, t.len) ^ ((uint64_t)(unsigned char)kind * 0x9e3779b97f4a7c15ULL));
    return h ? h : 1; /* 0 marks an empty slot */
}

static int uf_grow(cp_partitions *ps) {
    uint32_t ncap = ps->slot_mask ? (ps->slot_mask + 1) * 2 : 1u << 16;
    uint64_t *keys = calloc(ncap, sizeof *keys);
    uint32_t *nodes = malloc((size_t)ncap * sizeof *nodes);
    if (!keys || !nodes) { free(keys); free(nodes); return -1; }
    uint32_t mask = ncap - 1;
    for (uint32_t i = 0; ps->slot_mask && i <= ps->slot_mask; i++) {
        if (!ps->slot_key[i]) continue;
        uint32_t j = (uint32_t)ps->slot_key[i] & mask;
        while (keys[j]) j = (j + 1) & mask;
        keys[j] = ps->slot_key[i];
        nodes[j] = ps->slot_node[i];
    }
    free(ps->slot_key);
    free(ps->slot_node);
    ps->slot_key = keys;
    ps->slot_node = nodes;
    ps->slot_mask = mask;
    return 0;
}

/* The node of key, made when new; UINT32_MAX when out of memory. */
/* The slot of key: the one holding it, else the empty one where it goes. */
static uint32_t uf_slot(const cp_partitions *ps, uint64_t key) {
    uint32_t j = (uint32_t)key & ps->slot_mask;
    while (ps->slot_key[j] && ps->slot_key[j] != key) j = (j + 1) & ps->slot_mask;
    return j;
}

static uint32_t uf_node(cp_partitions *ps, uint64_t key) {
    if ((uint64_t)(ps->n_nodes + 1) * 2 > (uint64_t)ps->slot_mask + 1 && uf_grow(ps) != 0) return UINT32_MAX;
    uint32_t j = uf_slot(ps, key);
    if (ps->slot_key[j]) return ps->slot_node[j];
    if (ps->n_nodes == ps->cap_nodes) {
        uint32_t cap = ps->cap_nodes ? ps->cap_nodes * 2 : 1u << 15;
        uint32_t *parent = realloc(ps->parent, (size_t)cap * sizeof *parent);
        if (!parent) return UINT32_MAX;
        ps->parent = parent;
        uint64_t *nk = realloc(ps->node_key, (size_t)cap * sizeof *nk);
        if (!nk) return UINT32_MAX;
        ps->node_key = nk;
        ps->cap_nodes = cap;
    }
    uint32_t n = ps->n_nodes++;
    ps->parent[n] = n;
    ps->node_key[n] = key;
    ps->slot_key[j] = key;
    ps->slot_node[j] = n;
    return n;
}

/* The node of key if it exists, else UINT32_MAX. */
static uint32_t uf_lookup(const cp_partitions *ps, uint64_t key) {
    if (!ps->slot_mask) return UINT32_MAX;
    uint32_t j = uf_slot(ps, key);
    return ps->slot_key[j] ? ps->slot_node[j] : UINT32_MAX;
}

static uint32_t uf_find(uint32_t *parent, uint32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

/* The root of a component is its least key, whatever the order of the
 * unions: --mpi ranks join the same components in different orders and
 * must agree on every component's partition. */
static void uf_union(cp_partitions *ps, uint32_t a, uint32_t b) {
    a = uf_find(ps->parent, a);
    b = uf_find(ps->parent, b);
    if (a == b) return;
    if (ps->node_key[a] < ps->node_key[b]) ps->parent[b] = a;
    else ps->parent[a] = b;
}

size_t cp_partitions_edges(cp_partitions *ps, uint64_t **pairs) {
    size_t n = 0;
    for (uint32_t i = 0; i < ps->n_nodes; i++) n += uf_find(ps->parent, i) != i;
    uint64_t *p = malloc((n ? 2 * n : 1) * sizeof *p);
    if (!p) return SIZE_MAX;
    size_t k = 0;
    for (uint32_t i = 0; i < ps->n_nodes; i++) {
        uint32_t r = uf_find(ps->parent, i);
        if (r == i) continue;
        p[k++] = ps->node_key[i];
        p[k++] = ps->node_key[r];
    }
    *pairs = p;
    return n;
}

cp_result cp_partitions_join(cp_partitions *ps, const uint64_t *pairs, size_t n, cp_error *err) {
    for (size_t i = 0; i < n; i++) {
        uint32_t a = uf_node(ps, pairs[2 * i]), b = a == UINT32_MAX ? a : uf_node(ps, pairs[2 * i + 1]);
        if (b == UINT32_MAX) return cp_error_setf(err, CP_ENOMEM, "out of memory");
        uf_union(ps, a, b);
    }
    return CP_OK;
}

/* ---- first pass -------------------------------------------------------------------------- */

/* The keys of the nodes a row carries, in a fixed order (visitor, customer,
 * order, click_id); their number. */
static int row_keys(const cp_row_view *v, uint64_t keys[4]) {
    const cp_text *t[4] = {&v->visitor, &v->customer, &v->order, &v->click_id};
    static const char kinds[4] = {'v', 'c', 'o', 'k'};
    int n = 0;
    for (int k = 0; k < 4; k++)
        if (t[k]->len) keys[n++] = node_key(kinds[k], *t[k]);
    return n;
}

static int first_pass_row(void *user, const cp_row_view *v) {
    cp_partitions *ps = user;
    uint64_t keys[4];
    uint32_t ids[4];
    int n = row_keys(v, keys);
    for (int k = 0; k < n; k++)
        if ((ids[k] = uf_node(ps, keys[k])) == UINT32_MAX) return -1;
    for (int k = 1; k < n; k++) uf_union(ps, ids[0], ids[k]);
    if (!ps->any_event || v->ts_ms > ps->max_ts) ps->max_ts = v->ts_ms;
    ps->any_event = true;
    if (v->type == CP_CLICK && v->ip.len) {
        if (ps->n_clicks == ps->cap_clicks) {
            size_t cap = ps->cap_clicks ? ps->cap_clicks * 2 : 4096;
            ip_click *c = realloc(ps->clicks, cap * sizeof *c);
            if (!c) return -1;
            ps->clicks = c;
            ps->cap_clicks = cap;
        }
        int oom = 0;
        cp_str ip = cp_strings_intern(ps->ips, v->ip.p, v->ip.len, &oom);
        if (oom) return -1;
        ps->clicks[ps->n_clicks++] = (ip_click){.ts_ms = v->ts_ms, .ip = ip, .file = v->file, .line = v->line};
    }
    return 0;
}

cp_partitions *cp_partitions_new(cp_run *run, const cp_ingest_options *iopt, const cp_partition_options *popt,
                                 cp_error *err) {
    if (run->n_inputs || run->sink) {
        cp_error_setf(err, CP_EUSAGE, "cp_partitions_new needs a new run");
        return NULL;
    }
    cp_partitions *ps = calloc(1, sizeof *ps);
    if (!ps || !(ps->ips = cp_strings_new())) {
        free(ps);
        cp_error_setf(err, CP_ENOMEM, "out of memory");
        return NULL;
    }
    ps->run = run;
    ps->iopt = iopt;
    ps->n_ranks = 1;
    if (popt) ps->popt = *popt;
    run->sink = first_pass_row;
    run->sink_user = ps;
    return ps;
}

/* ---- plan ----------------------------------------------------------------------------- */

static int click_cmp(const void *a, const void *b) {
    const ip_click *x = a, *y = b;
    if (x->ip != y->ip) return x->ip < y->ip ? -1 : 1;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The live partitioner's directory, for cp_partitions_cleanup_signal. */
static char live_dir[PATH_MAX];
static volatile unsigned live_parts, live_ranks;

/* File names, made without snprintf so that a signal handler can make them:
 * "p00012.frames" for partition 12 of one process; with --mpi ranks,
 * "p00012.s0003.frames" for its frames read by rank 3, and "out0003.frames"
 * for the frames this rank sends to rank 3. */
static char *put_num(char *q, unsigned v, int width) {
    char digits[12];
    int nd = 0;
    do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (int k = nd; k < width; k++) *q++ = '0';
    while (nd) *q++ = digits[--nd];
    return q;
}

/* dir + '/' + name into buf (PATH_MAX + 32 bytes); kind 'p' (partition p,
 * source s; s = UINT32_MAX for one process) or 'o' (outbox to rank p). */
static void file_name(char *buf, const char *dir, char kind, unsigned p, unsigned s) {
    size_t n = strlen(dir);
    if (n > PATH_MAX) n = PATH_MAX;
    memcpy(buf, dir, n);
    char *q = buf + n;
    *q++ = '/';
    if (kind == 'o') {
        memcpy(q, "out", 3);
        q = put_num(q + 3, p, 4);
    } else {
        *q++ = 'p';
        q = put_num(q, p, 5);
        if (s != UINT32_MAX) {
            memcpy(q, ".s", 2);
            q = put_num(q + 2, s, 4);
        }
    }
    memcpy(q, ".frames", 8);
}

static unsigned src_of(const cp_partitions *ps, unsigned s) { return ps->n_ranks > 1 ? s : UINT32_MAX; }

cp_result cp_partitions_floods(cp_partitions *ps, const cp_report_options *ropt, cp_error *err) {
    /* R3.1.3 over every address: the same sliding count as the quality
     * stage, on clicks in R1.6 order per address */
    if (ps->n_clicks > 1) qsort(ps->clicks, ps->n_clicks, sizeof *ps->clicks, click_cmp);
    size_t n_flood = 0, cap_flood = 0;
    uint64_t *flood = NULL;
    for (size_t g0 = 0; g0 < ps->n_clicks;) {
        size_t g1 = g0 + 1;
        while (g1 < ps->n_clicks && ps->clicks[g1].ip == ps->clicks[g0].ip) g1++;
        size_t j = g0;
        for (size_t k = g0; k < g1; k++) {
            int64_t t = ps->clicks[k].ts_ms;
            while (j < k && ps->clicks[j].ts_ms <= t - ropt->flood_window_ms) j++;
            if (k - j + 1 <= ropt->flood_clicks) continue;
            if (n_flood == cap_flood) {
                cap_flood = cap_flood ? cap_flood * 2 : 1024;
                uint64_t *nf = realloc(flood, cap_flood * sizeof *nf);
                if (!nf) { free(flood); return cp_error_setf(err, CP_ENOMEM, "out of memory"); }
                flood = nf;
            }
            flood[n_flood++] = FRAME_KEY(ps->clicks[k].file, ps->clicks[k].line);
        }
        g0 = g1;
    }
    free(ps->clicks);
    ps->clicks = NULL;
    ps->n_clicks = ps->cap_clicks = 0;
    cp_strings_free(ps->ips);
    ps->ips = NULL;
    if (n_flood > 1) qsort(flood, n_flood, sizeof *flood, u64_cmp);
    free(ps->flood);
    ps->flood = flood;
    ps->n_flood = n_flood;
    ps->floods_done = true;
    return CP_OK;
}

cp_result cp_partitions_plan(cp_partitions *ps, const cp_report_options *ropt, cp_error *err) {
    if (!ps->floods_done) {
        cp_result r = cp_partitions_floods(ps, ropt, err);
        if (r) return r;
    }

    /* P: a partition's events (store, stage columns and parsing: about
     * 160 bytes each, measured) within what is left of --memory after the
     * union-find */
    uint64_t events = ps->events_total ? ps->events_total : ps->run->accepted;
    if (ps->popt.partitions) {
        ps->n_parts = ps->popt.partitions;
    } else {
        uint64_t mem = ps->popt.memory_bytes ? ps->popt.memory_bytes : UINT64_C(4) << 30;
        uint64_t held = cp_partitions_aux_bytes(ps);
        uint64_t budget = mem > held * 2 ? mem - held : mem / 2;
        uint64_t per_part = budget / 160 / cp_partitions_workers(ps); /* that many at once */
        if (per_part < 1000) per_part = 1000;
        uint64_t p = (events + per_part - 1) / per_part;
        ps->n_parts = p < 1 ? 1 : p > MAX_PARTS ? MAX_PARTS : (unsigned)p;
    }
    if (ps->n_parts > MAX_PARTS) ps->n_parts = MAX_PARTS;
    if (ps->n_parts < ps->n_ranks) ps->n_parts = ps->n_ranks; /* every rank has work */

    const char *tmp = ps->popt.tmp_dir;
    if (!tmp || !*tmp) tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    if ((size_t)snprintf(ps->dir, sizeof ps->dir, "%s/clickpath-XXXXXX", tmp) >= sizeof ps->dir)
        return cp_error_setf(err, CP_EUSAGE, "--tmp-dir %s: path too long", tmp);
    if (!mkdtemp(ps->dir)) {
        ps->dir[0] = '\0';
        return cp_error_setf(err, CP_EUSAGE, "--tmp-dir %s: cannot make a directory there: %s", tmp, strerror(errno));
    }
    ps->have_dir = true;
    memcpy(live_dir, ps->dir, sizeof live_dir);
    live_parts = ps->n_parts;
    live_ranks = ps->n_ranks;
    ps->out = calloc(ps->n_parts, sizeof *ps->out);
    ps->outbox = calloc(ps->n_ranks, sizeof *ps->outbox);
    ps->part_events = calloc(ps->n_parts, sizeof *ps->part_events);
    if (!ps->out || !ps->outbox || !ps->part_events) return cp_error_setf(err, CP_ENOMEM, "out of memory");
    /* a writer's buffer: 64 MiB over all the partition files (a shuffle
     * writes as many), each between 64 KiB and 1 MiB (a larger zstd frame
     * compresses a little better: 12.8x at 64 KiB, 15.5x at 1 MiB) */
    size_t wcap = (64u << 20) / ps->n_parts;
    ps->wbuf_cap = wcap < (64u << 10) ? 64u << 10 : wcap > (1u << 20) ? 1u << 20 : wcap;
    /* this rank's partitions (all of them in one process), and with ranks
     * an outbox to each other rank */
    for (unsigned p = 0; p < ps->n_parts; p++) {
        if (p % ps->n_ranks != ps->rank) continue;
        char path[PATH_MAX + 32];
        file_name(path, ps->dir, 'p', p, src_of(ps, ps->rank));
        cp_result r = cp_part_writer_open(ps, &ps->out[p], path, err);
        if (r) return r;
    }
    for (unsigned d = 0; d < ps->n_ranks; d++) {
        if (d == ps->rank) continue;
        char path[PATH_MAX + 32];
        file_name(path, ps->dir, 'o', d, 0);
        ps->outbox[d] = fopen(path, "w+b");
        if (!ps->outbox[d]) return cp_error_setf(err, CP_EIO, "%s: %s", path, strerror(errno));
        setvbuf(ps->outbox[d], NULL, _IOFBF, 1u << 20);
    }
    return CP_OK;
}

/* ---- partition file writers ----------------------------------------------------------- */

cp_result cp_part_writer_open(cp_partitions *ps, cp_part_writer *w, const char *path, cp_error *err) {
    *w = (cp_part_writer){.fd = -1};
    w->buf = malloc(ps->wbuf_cap);
    if (!w->buf) return cp_error_setf(err, CP_ENOMEM, "out of memory");
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        cp_result r = cp_error_setf(err, CP_EIO, "%s: %s", path, strerror(errno));
        free(w->buf);
        w->buf = NULL;
        return r;
    }
    w->open = true;
    return CP_OK;
}

/* buf, compressed into one zstd frame, to the file. */
static int writer_flush(cp_partitions *ps, cp_part_writer *w) {
    if (!w->len) return 0;
    if (!ps->zc) {
        ps->zc = ZSTD_createCCtx();
        ps->zcap = ZSTD_compressBound(ps->wbuf_cap);
        ps->zbuf = malloc(ps->zcap);
        if (!ps->zc || !ps->zbuf ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ps->zc, ZSTD_c_compressionLevel, CP_PART_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ps->zc, ZSTD_c_checksumFlag, 1))) {
            ZSTD_freeCCtx(ps->zc);
            free(ps->zbuf);
            ps->zc = NULL;
            ps->zbuf = NULL;
            ps->write_errno = ENOMEM;
            return -1;
        }
    }
    size_t n = ZSTD_compress2(ps->zc, ps->zbuf, ps->zcap, w->buf, w->len);
    if (ZSTD_isError(n)) { /* with a bound-sized output, only memory fails */
        ps->write_errno = ENOMEM;
        return -1;
    }
    for (size_t at = 0; at < n;) {
        ssize_t k = write(w->fd, ps->zbuf + at, n - at);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            ps->write_errno = k < 0 && errno ? errno : EIO;
            return -1;
        }
        at += (size_t)k;
    }
    ps->disk_bytes += n;
    w->len = 0;
    return 0;
}

int cp_part_writer_put(cp_partitions *ps, cp_part_writer *w, const void *p, size_t n) {
    const unsigned char *s = p;
    while (n) {
        if (w->len == ps->wbuf_cap && writer_flush(ps, w) != 0) return -1;
        size_t k = ps->wbuf_cap - w->len;
        if (k > n) k = n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
    return 0;
}

cp_result cp_part_writer_close(cp_partitions *ps, cp_part_writer *w, cp_error *err) {
    if (!w->open) return CP_OK;
    const cp_frame_head end = {.file = CP_FRAME_END_FILE};
    int bad = cp_part_writer_put(ps, w, &end, sizeof end) != 0 || writer_flush(ps, w) != 0;
    if (close(w->fd) != 0 && !bad) {
        ps->write_errno = errno ? errno : EIO;
        bad = 1;
    }
    free(w->buf);
    *w = (cp_part_writer){.fd = -1};
    return bad ? cp_error_setf(err, CP_EIO, "writing partition files in %s: %s", ps->dir, strerror(ps->write_errno)) : CP_OK;
}

void cp_part_writer_discard(cp_part_writer *w) {
    if (w->open) close(w->fd);
    free(w->buf);
    *w = (cp_part_writer){.fd = -1};
}

/* ---- second pass ---------------------------------------------------------------------------- */

static int route_row(void *user, const cp_row_view *v) {
    cp_partitions *ps = user;
    uint64_t keys[4];
    /* any node of the row finds its component: the first one will do */
    uint32_t node = row_keys(v, keys) ? uf_lookup(ps, keys[0]) : UINT32_MAX;
    if (node == UINT32_MAX) {
        /* the first pass saw every accepted row; only a changed input gets here */
        ps->changed = true;
        return -1;
    }
    uint32_t root = uf_find(ps->parent, node);
    unsigned p = (unsigned)(cp_hash_u64(ps->node_key[root]) % ps->n_parts);
    cp_frame_head h = {.file = v->file, .line = v->line, .len = (uint32_t)v->rec_len};
    if (v->type == CP_CLICK && v->ip.len) {
        uint64_t key = FRAME_KEY(v->file, v->line);
        while (ps->flood_at < ps->n_flood && ps->flood[ps->flood_at] < key) ps->flood_at++;
        if (ps->flood_at < ps->n_flood && ps->flood[ps->flood_at] == key) h.flags |= CP_FRAME_FLOOD;
    }
    unsigned owner = p % ps->n_ranks;
    if (owner != ps->rank) {
        /* another rank's partition: to its outbox (raw: the shuffle reads
         * it back), with the partition */
        FILE *f = ps->outbox[owner];
        uint32_t p32 = p;
        if (fwrite(&p32, sizeof p32, 1, f) != 1 || fwrite(&h, sizeof h, 1, f) != 1 ||
            fwrite(v->rec, 1, v->rec_len, f) != v->rec_len) {
            ps->write_errno = errno ? errno : EIO;
            return -1;
        }
    } else {
        cp_part_writer *w = &ps->out[p];
        if (w->len + sizeof h + v->rec_len <= ps->wbuf_cap) { /* the usual case */
            memcpy(w->buf + w->len, &h, sizeof h);
            memcpy(w->buf + w->len + sizeof h, v->rec, v->rec_len);
            w->len += sizeof h + v->rec_len;
        } else if (cp_part_writer_put(ps, w, &h, sizeof h) != 0 || cp_part_writer_put(ps, w, v->rec, v->rec_len) != 0) {
            return -1;
        }
    }
    ps->part_events[p]++;
    ps->bytes += sizeof h + v->rec_len;
    return 0;
}

cp_result cp_partitions_route(cp_partitions *ps, const char *path, cp_error *err) {
    if (!ps->out) return cp_error_setf(err, CP_EUSAGE, "cp_partitions_route before cp_partitions_plan");
    if (!ps->route_run) {
        cp_ingest_options o = *ps->iopt;
        if (ps->n_ranks > 1) { /* --mpi: this rank's stripes of the inputs */
            o.stripe_count = ps->n_ranks;
            o.stripe_index = ps->rank;
        }
        ps->route_run = cp_run_new(&o, err);
        if (!ps->route_run) return err ? err->code : CP_ENOMEM;
        ps->route_run->sink = route_row;
        ps->route_run->sink_user = ps;
    }
    cp_result r = cp_run_load(ps->route_run, path, err);
    if (r != CP_OK && ps->changed)
        return cp_error_setf(err, CP_EIO, "%s changed between the two passes of --memory", path);
    if (r != CP_OK && ps->write_errno)
        return cp_error_setf(err, CP_EIO, "writing partition files in %s: %s", ps->dir, strerror(ps->write_errno));
    if (r != CP_OK) return r;
    if (ps->n_ranks > 1) return CP_OK; /* each rank read a stripe: the sums are checked (mpi.c) */
    /* the same lines, accepted and rejected, as the first pass read */
    size_t i = ps->route_run->n_inputs - 1;
    if (i >= ps->run->n_inputs) return cp_error_setf(err, CP_EUSAGE, "%s: more inputs than the first pass read", path);
    const cp_input_stats *a = &ps->run->inputs[i], *b = &ps->route_run->inputs[i];
    if (strcmp(a->path, b->path) != 0 || a->lines != b->lines ||
        a->accepted != b->accepted || a->rejected != b->rejected)
        return cp_error_setf(err, CP_EIO, "%s changed between the two passes of --memory", path);
    return CP_OK;
}

cp_result cp_partitions_close_files(cp_partitions *ps, cp_error *err) {
    cp_result r = CP_OK;
    for (unsigned p = 0; ps->out && p < ps->n_parts; p++) {
        cp_result c = cp_part_writer_close(ps, &ps->out[p], r ? NULL : err);
        if (!r) r = c;
    }
    if (r == CP_OK && ps->n_ranks == 1 && ps->route_run && ps->route_run->accepted != ps->run->accepted)
        r = cp_error_setf(err, CP_EIO, "the inputs changed between the two passes of --memory");
    cp_run_free(ps->route_run);
    ps->route_run = NULL;
    return r;
}

void cp_partitions_part_path(const cp_partitions *ps, unsigned p, unsigned src, char *buf, size_t size) {
    char path[PATH_MAX + 32];
    file_name(path, ps->dir, 'p', p, src_of(ps, src));
    snprintf(buf, size, "%s", path);
}

void cp_partitions_outbox_path(const cp_partitions *ps, unsigned rank, char *buf, size_t size) {
    char path[PATH_MAX + 32];
    file_name(path, ps->dir, 'o', rank, 0);
    snprintf(buf, size, "%s", path);
}

void cp_partitions_remove_part(cp_partitions *ps, unsigned p) {
    char path[PATH_MAX + 32];
    for (unsigned s = 0; s < ps->n_ranks; s++) {
        file_name(path, ps->dir, 'p', p, src_of(ps, s));
        (void)unlink(path);
    }
}

unsigned cp_partitions_count(const cp_partitions *ps) { return ps->n_parts; }
uint64_t cp_partitions_aux_bytes(const cp_partitions *ps) {
    return ((uint64_t)ps->slot_mask + 1) * 12 + (uint64_t)ps->cap_nodes * 12 + ps->n_flood * 8;
}
uint64_t cp_partitions_bytes(const cp_partitions *ps) { return ps->bytes; }
uint64_t cp_partitions_disk_bytes(const cp_partitions *ps) { return ps->disk_bytes; }

void cp_partitions_drop_outboxes(cp_partitions *ps) {
    for (unsigned d = 0; ps->outbox && d < ps->n_ranks; d++) {
        if (ps->outbox[d]) fclose(ps->outbox[d]);
        ps->outbox[d] = NULL;
        char path[PATH_MAX + 32];
        file_name(path, ps->dir, 'o', d, 0);
        (void)unlink(path);
    }
}

void cp_partitions_free(cp_partitions *ps) {
    if (!ps) return;
    for (unsigned p = 0; ps->out && p < ps->n_parts; p++) cp_part_writer_discard(&ps->out[p]);
    for (unsigned d = 0; ps->outbox && d < ps->n_ranks; d++)
        if (ps->outbox[d]) fclose(ps->outbox[d]);
    if (ps->have_dir) {
        for (unsigned p = 0; p < ps->n_parts; p++) cp_partitions_remove_part(ps, p);
        for (unsigned d = 0; d < ps->n_ranks; d++) {
            char path[PATH_MAX + 32];
            file_name(path, ps->dir, 'o', d, 0);
            (void)unlink(path);
        }
        (void)rmdir(ps->dir);
        if (strcmp(live_dir, ps->dir) == 0) {
            live_parts = 0;
            live_dir[0] = '\0';
        }
    }
    if (ps->run && ps->run->sink_user == ps) {
        ps->run->sink = NULL;
        ps->run->sink_user = NULL;
    }
    cp_run_free(ps->route_run);
    free(ps->out);
    free(ps->outbox);
    ZSTD_freeCCtx(ps->zc);
    free(ps->zbuf);
    free(ps->part_events);
    free(ps->slot_key);
    free(ps->slot_node);
    free(ps->parent);
    free(ps->node_key);
    free(ps->clicks);
    free(ps->flood);
    cp_strings_free(ps->ips);
    free(ps);
}

void cp_partitions_cleanup_signal(void) {
    if (!live_dir[0]) return;
    char path[PATH_MAX + 32];
    unsigned ranks = live_ranks > 1 ? live_ranks : 1;
    for (unsigned p = 0; p < live_parts; p++)
        for (unsigned s = 0; s < ranks; s++) {
            file_name(path, live_dir, 'p', p, live_ranks > 1 ? s : UINT32_MAX);
            (void)unlink(path);
        }
    for (unsigned d = 0; live_ranks > 1 && d < live_ranks; d++) {
        file_name(path, live_dir, 'o', d, 0);
        (void)unlink(path);
    }
    (void)rmdir(live_dir);
}

/* main.c -- the `clickpath` command: a thin client of the library.
 *
 * Exit statuses (docs/cli.md):
 *   0  success
 *   1  the reject rate is above --max-reject-rate (R1.4; everything written)
 *   2  usage error: bad option, an input that cannot be opened or
 *      decompressed, a header that breaks quoting or lacks a --map column
 *   3  an output could not be written, or a model could not be fitted
 *   4  out of memory
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clickpath/clickpath.h"
#include "clickpath/events.h"
#include "clickpath/partition.h"
#include "clickpath/report.h"
#include "gen/gen.h"
#include "report/table.h"
#include "server/server.h" /* cp_cli_serve, cp_segments_list */
#include "util/error.h"
#include "util/values.h"

void cp_summary_inputs(const cp_run *run, cp_summary *sum);
int cp_cli_tag(int argc, char **argv); /* src/cli/tag_cmd.c */

static const char *prog = "clickpath";

static int exit_for(cp_result r) {
    switch (r) {
    case CP_OK: return 0;
    case CP_EUSAGE: case CP_EFORMAT: return 2;
    case CP_ENOMEM: return 4;
    default: return 3;
    }
}

static int die_err(const cp_error *err) {
    if (err->file && err->line)
        fprintf(stderr, "%s: error: %s (file %s, line %llu)\n", prog, err->msg, err->file,
                (unsigned long long)err->line);
    else
        fprintf(stderr, "%s: error: %s\n", prog, err->msg);
    return exit_for(err->code);
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s: ", prog, cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s %s --help'.\n", prog, cmd);
    return 2;
}

/* ---- help ------------------------------------------------------------------ */

static const char help_main[] =
"clickpath " CP_VERSION_STRING " -- exact marketplace measurement from one raw event log\n"
"\n"
"Usage: clickpath COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  report EVENTS... --out DIR   compute every report (business, traffic quality,\n"
"                               sponsored ads, off-site attribution, customers)\n"
"  validate FILE...             check input files; counts and first examples of\n"
"                               every reject reason\n"
"  gen --events N --out DIR     generate a realistic store's events with ground truth\n"
"  demo                         generate data and write every report to clickpath-demo/\n"
"  tag new|list|check           make, list and check off-site tracking tags (R5)\n"
"  serve --data DIR             collect events and tracking redirects into a\n"
"                               durable log that 'report DIR' reads\n"
"  version                      print the version\n"
"\n"
"Run 'clickpath COMMAND --help' for the options of a command.\n"
"Input format: docs/input-format.md.  Report columns: docs/reports.md.\n";

#define MAPPING_HELP \
"Input mapping (SPEC R1.4a) -- load other tools' exports without preprocessing:\n" \
"  --map FIELD=COLUMN        read FIELD from COLUMN; COLUMN may join several\n" \
"                            columns with '+' (values joined by '|'):\n" \
"                            --map visitor=ip+device+os\n" \
"  --set FIELD=VALUE         give FIELD a constant value (--set type=purchase)\n" \
"  --ts-format FORMAT        read timestamps laid out as FORMAT (strftime style:\n" \
"                            %Y%m%d, '%m/%d/%Y %H:%M', '%d/%b/%Y:%H:%M:%S %z')\n" \
"  --input-tz ZONE           zone of timestamps without an offset (IANA, default UTC)\n" \
"  --delimiter D             field separator: one character, 'tab', or 'ws'\n" \
"                            (runs of spaces and tabs)\n" \
"  --no-header --columns a,b,c   the file has no header; name its columns\n" \
"  --no-stitch               no cross-device identity (R2.1)\n" \
"  --threads N               threads for parsing, sorting and the report stages\n" \
"                            (default: all cores; the results are the same for any N)\n" \
"  A purchase with negative units is read as a return of that many units.\n" \
"  Fields: ts type visitor customer ip ua referrer asin campaign ad_group keyword\n" \
"          tag click_id cost order units price amount loaded rating\n"

static const char help_report[] =
"Usage: clickpath report EVENTS... --out DIR [OPTIONS]\n"
"\n"
"Reads event logs (CSV or JSON Lines, plain, gzip or zstd; '-' for standard\n"
"input) and writes every report into DIR:\n"
"  rejects.csv business_asin.csv business_daily.csv invalid_clicks.csv\n"
"  diagnostics.csv ads.csv attribution.csv customers.csv segments.csv pareto.csv\n"
"  cohorts.csv cohorts_histogram.csv feedback.csv cac.csv clv_model.json summary.json\n"
"  and report.html, the whole report as one page of charts (docs/dashboard.md)\n"
"\n"
"Report options:\n"
"  --out DIR                 where to write (created when missing)\n"
"  --format csv|json|xlsx    report file format (default csv); xlsx writes the CSVs\n"
"                            and report.xlsx, one typed sheet per report\n"
"  --target-acos RATE        ACoS above it is highlighted in report.html (default 25%)\n"
"  --tags FILE               the tag registry (R5.1: tag,channel,publisher,campaign,asin)\n"
"  --tz ZONE                 report time zone for calendar days (IANA, default UTC;\n"
"                            the US marketplace reports in America/Los_Angeles)\n"
"  --session RULE            fixed:24h (default) or idle:30m; any duration (R4.2)\n"
"  --bot-list FILE           replace the built-in bot list: one substring per line,\n"
"                            or the crawler-user-agents JSON list (R3.1)\n"
"  --ip-blocklist FILE       IPv4/IPv6 CIDRs whose clicks are invalid (R3.1)\n"
"  --flood-clicks N          clicks from one address per window before flood (10)\n"
"  --flood-window DURATION   flood window (1h)\n"
"  --dedup-window DURATION   duplicate-click window (72h)\n"
"  --ads-window DURATION     sponsored attribution window (7d; R6)\n"
"  --offsite-window DURATION off-site attribution window (14d; R7)\n"
"  --as-of TIME|DATE         customer figures as of this time; a date means the\n"
"                            end of that day in --tz (default: latest event)\n"
"  --hv-orders N --hv-days N --hv-clv MONEY --hv-max-return R --churn-days N\n"
"                            segment thresholds (R10.2; 2, 90, 150, 0.05, 60)\n"
"  --clv-unit day|week       time unit of the CLV model (default week)\n"
"  --calibration-end DATE    fit the CLV model on data up to this day (default as-of)\n"
"  --clv-horizon DURATION    predicted-CLV horizon (365d)\n"
"  --discount-rate R         yearly discount rate of predicted CLV (none)\n"
"  --no-clv                  skip the CLV model\n"
"  --max-reject-rate R       exit 1 when rejected/(accepted+rejected) is above R\n"
"                            (0.01 or 1%%; default 1%%); everything is still written\n"
"  --stats                   print the memory per event and the time of each phase\n"
"  --quiet                   no human summary, no progress\n"
"Durations: 90s, 30m, 24h, 7d, 2w (and combinations such as 1d12h).\n"
"\n"
"More events than memory (docs/scale.md); the reports are the same bytes:\n"
"  --memory SIZE             read the inputs twice and report on them in\n"
"                            partitions that fit in SIZE (16M..; 512M, 8G)\n"
"  --partitions N            exactly N partitions (1..1000), whatever the size\n"
"  --tmp-dir DIR             where partition files go (default $TMPDIR or /tmp;\n"
"                            zstd, about 1/15 of the uncompressed input; removed\n"
"                            at the end, on errors and on Ctrl-C)\n"
"  --mpi                     under mpirun: the ranks share the partitions and\n"
"                            rank 0 writes the report\n"
"                            (mpirun -np 4 clickpath report --mpi ... --out DIR)\n"
"\n"
MAPPING_HELP
"\n"
"Example:\n"
"  clickpath report events.csv.gz --tags tags.csv --tz America/Los_Angeles --out reports\n"
"  clickpath report year.csv.zst --memory 8G --tmp-dir /scratch --out reports\n"
"Exit status: 0 ok, 1 reject rate above the maximum, 2 usage or input error,\n"
"3 output or model error, 4 out of memory.\n";

static const char help_validate[] =
"Usage: clickpath validate [MAPPING OPTIONS] FILE... [--format text|json]\n"
"\n"
"Checks input without writing reports: accepted, rejected and blank lines per\n"
"file, rejects by reason with the first examples of each (file, line, field).\n"
"--format json prints the input part of summary.json (SPEC R8).\n"
"  --max-reject-rate R       exit 1 when the reject rate is above R (default 1%%)\n"
"  --stats                   print the event store's memory per event\n"
"\n"
MAPPING_HELP;

static const char help_gen[] =
"Usage: clickpath gen --events N --out DIR [--seed S] [--format csv|jsonl]\n"
"                     [--start DATE] [--days N]\n"
"\n"
"Generates a realistic store: shoppers with several devices who sign in now and\n"
"then, sponsored impressions and clicks, off-site tags, organic traffic,\n"
"purchases, returns, feedback, and the invalid traffic SPEC R3 must catch (bots,\n"
"floods, duplicate clicks, bounces).  Writes DIR/events.csv (or .jsonl),\n"
"DIR/tags.csv, and the ground truth DIR/truth_clicks.csv (line, reason of every\n"
"invalid click), DIR/truth_people.csv (visitor, person) and\n"
"DIR/truth_attribution.csv (the clicks each purchase line is credited to).  Same seed, same\n"
"bytes; constant memory.  Defaults: --seed 1, --start 2025-01-01, --days 120.\n";

static const char help_demo[] =
"Usage: clickpath demo [--out DIR] [--events N] [--seed S]\n"
"\n"
"Generates a store's data (default 200000 events) into DIR/data and writes every\n"
"report into DIR (default clickpath-demo/), then prints where they are and a\n"
"short summary.\n";

/* ---- option helpers ---------------------------------------------------------- */

/* Parses a duration such as 90s, 30m, 24h, 7d, 2w, 1d12h, 500ms. */
static bool parse_duration(const char *s, int64_t *out_ms) {
    int64_t total = 0;
    if (!*s) return false;
    while (*s) {
        if (*s < '0' || *s > '9') return false;
        int64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s++ - '0');
            if (v > INT64_C(1000000000000)) return false;
        }
        int64_t unit;
        if (strncmp(s, "ms", 2) == 0) { unit = 1; s += 2; }
        else if (*s == 's') { unit = 1000; s++; }
        else if (*s == 'm') { unit = 60000; s++; }
        else if (*s == 'h') { unit = 3600000; s++; }
        else if (*s == 'd') { unit = 86400000; s++; }
        else if (*s == 'w') { unit = 7 * INT64_C(86400000); s++; }
        else return false;
        total += v * unit;
    }
    *out_ms = total;
    return total > 0;
}

static bool parse_u64(const char *s, uint64_t *out) {
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* A size in bytes: a number with an optional K, M, G or T (powers of 1024;
 * "1.5G" too), an optional trailing B. */
static bool parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return false;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v * mul > 1e18) return false;
    *out = (uint64_t)(v * mul);
    return true;
}

/* A fraction (0.01) or a percentage (1%). */
static bool parse_rate(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s) return false;
    if (*end == '%' && end[1] == '\0') v /= 100;
    else if (*end) return false;
    if (!(v >= 0)) return false;
    *out = v;
    return true;
}

/* A timestamp (R1.2 forms; no offset = in tz) or a date YYYY-MM-DD meaning
 * the end of that day in tz (R10.1). */
static bool parse_time_or_date(const char *s, const cp_tz *tz, int64_t *out_ms) {
    size_t len = strlen(s);
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        int64_t start;
        char buf[32];
        snprintf(buf, sizeof buf, "%sT00:00:00", s);
        if (!cp_parse_ts(buf, strlen(buf), NULL, &start)) return false;
        /* local midnight of the next day, minus 1 ms */
        *out_ms = cp_tz_local_to_utc(tz, start + 86400000) - 1;
        return true;
    }
    return cp_parse_ts(s, len, tz, out_ms);
}

typedef struct mapping {
    cp_map_entry map[64];
    cp_set_entry set[64];
    cp_ingest_options opt;
} mapping;

/* Splits FIELD=VALUE; returns false when there is no '='. */
static bool split_kv(char *arg, const char **k, const char **v) {
    char *eq = strchr(arg, '=');
    if (!eq) return false;
    *eq = '\0';
    *k = arg;
    *v = eq + 1;
    return true;
}

/* Mapping options shared by report and validate.  Returns 1 when the option
 * was a mapping option, 0 when not, -1 on a bad value (message printed). */
enum {
    O_MAP = 1000, O_SET, O_TS_FORMAT, O_INPUT_TZ, O_DELIM, O_NO_HEADER, O_COLUMNS, O_NO_STITCH,
    O_OUT, O_FORMAT, O_TAGS, O_TZ, O_SESSION, O_BOT_LIST, O_IP_BLOCK, O_FLOOD_CLICKS,
    O_FLOOD_WINDOW, O_DEDUP_WINDOW, O_ADS_WINDOW, O_OFFSITE_WINDOW, O_AS_OF, O_HV_ORDERS,
    O_HV_DAYS, O_HV_CLV, O_HV_MAX_RETURN, O_CHURN_DAYS, O_CLV_UNIT, O_CAL_END, O_CLV_HORIZON,
    O_DISCOUNT, O_NO_CLV, O_MAX_REJECT, O_STATS, O_QUIET, O_HELP, O_EVENTS, O_SEED, O_START,
    O_DAYS, O_THREADS, O_TARGET_ACOS, O_MEMORY, O_PARTITIONS, O_TMP_DIR, O_MPI
};

static int mapping_option(const char *cmd, int c, char *arg, mapping *m) {
    const char *k, *v;
    switch (c) {
    case O_MAP:
        if (!split_kv(arg, &k, &v)) return usage_error(cmd, "--map needs FIELD=COLUMN, got '%s'", arg), -1;
        if (m->opt.n_map == 64) return usage_error(cmd, "too many --map options"), -1;
        m->map[m->opt.n_map++] = (cp_map_entry){k, v};
        m->opt.map = m->map;
        return 1;
    case O_SET:
        if (!split_kv(arg, &k, &v)) return usage_error(cmd, "--set needs FIELD=VALUE, got '%s'", arg), -1;
        if (m->opt.n_set == 64) return usage_error(cmd, "too many --set options"), -1;
        m->set[m->opt.n_set++] = (cp_set_entry){k, v};
        m->opt.set = m->set;
        return 1;
    case O_TS_FORMAT: m->opt.ts_format = arg; return 1;
    case O_INPUT_TZ: m->opt.input_tz = arg; return 1;
    case O_DELIM: m->opt.delimiter = arg; return 1;
    case O_NO_HEADER: m->opt.no_header = true; return 1;
    case O_COLUMNS: m->opt.columns = arg; return 1;
    case O_NO_STITCH: m->opt.no_stitch = true; return 1;
    case O_THREADS: {
        char *end;
        long t = strtol(arg, &end, 10);
        if (*end || t < 0 || t > 64) return usage_error(cmd, "--threads must be 0 (all cores) to 64"), -1;
        m->opt.threads = (unsigned)t;
        return 1;
    }
    }
    return 0;
}

#define MAPPING_LONGOPTS \
    {"map", required_argument, 0, O_MAP}, {"set", required_argument, 0, O_SET}, \
    {"ts-format", required_argument, 0, O_TS_FORMAT}, {"input-tz", required_argument, 0, O_INPUT_TZ}, \
    {"delimiter", required_argument, 0, O_DELIM}, {"no-header", no_argument, 0, O_NO_HEADER}, \
    {"columns", required_argument, 0, O_COLUMNS}, {"no-stitch", no_argument, 0, O_NO_STITCH}, \
    {"max-reject-rate", required_argument, 0, O_MAX_REJECT}, {"stats", no_argument, 0, O_STATS}, \
    {"quiet", no_argument, 0, O_QUIET}, {"help", no_argument, 0, O_HELP}, \
    {"threads", required_argument, 0, O_THREADS}

/* ---- progress ------------------------------------------------------------------ */

/* Progress on stderr: only on a terminal and without --quiet; a bar with
 * the rate and the time left when the input size is known (plain files),
 * else the bytes read and the rate. */
typedef struct progress {
    bool on;
    struct timespec start;
    uint64_t total;      /* bytes of the plain input files; 0 = unknown */
    uint64_t done;       /* bytes of the inputs finished before this one */
    uint64_t last;       /* bytes of the current input so far */
    const char *path;    /* the current input */
    bool shown;
} progress;

/* --stats: when loading, finishing (R1.6 order, R2.1 identity) and the
 * reports ended, in seconds from the start of loading. */
static struct { double loaded, finished; } phase;

static double elapsed_s(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void on_progress(void *user, const char *path, uint64_t bytes) {
    progress *p = user;
    if (!p->on) return;
    if (p->path != path) { /* a new input */
        p->done += p->last;
        p->path = path;
    }
    p->last = bytes;
    double s = elapsed_s(&p->start);
    if (s < 1.0) return;
    uint64_t sofar = p->done + bytes;
    double rate = (double)sofar / 1e6 / s;
    p->shown = true;
    if (p->total && sofar <= p->total) {
        double frac = (double)sofar / (double)p->total;
        int width = 30, fill = (int)(frac * width);
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '-';
        bar[width] = '\0';
        double left = rate > 0 ? ((double)(p->total - sofar) / 1e6) / rate : 0;
        fprintf(stderr, "\r[%s] %3.0f%%  %.0f MB/s  %.0f s left   ", bar, 100 * frac, rate, left);
    } else {
        fprintf(stderr, "\rread %.0f MB (%.0f MB/s)   ", (double)sofar / 1e6, rate);
    }
    fflush(stderr);
}

static void progress_done(progress *p) {
    if (p->on && p->shown) fprintf(stderr, "\r\033[K");
    p->shown = false;
}

/* Sum of the sizes of the regular input files (0 when one is stdin). */
static uint64_t inputs_size(char **files, int n_files) {
    uint64_t total = 0;
    for (int i = 0; i < n_files; i++) {
        struct stat st;
        if (strcmp(files[i], "-") == 0 || stat(files[i], &st) != 0 || !S_ISREG(st.st_mode)) return 0;
        total += (uint64_t)st.st_size;
    }
    return total;
}

/* Reads one input (a file, or a collector's segment) into `user`. */
typedef cp_result (*load_fn)(void *user, const char *path, cp_error *err);
static cp_result load_run(void *run, const char *path, cp_error *err) { return cp_run_load(run, path, err); }
static cp_result load_route(void *ps, const char *path, cp_error *err) { return cp_partitions_route(ps, path, err); }

/* Loads every input with fn: files in order, and a collector's DIR
 * (clickpath serve) as its segments in log order.  An exit status (0 = ok). */
static int load_each(char **files, int n_files, load_fn fn, void *user, progress *pg) {
    cp_error err = {0};
    for (int i = 0; i < n_files; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            char **segs;
            size_t n_segs;
            if (cp_segments_list(files[i], &segs, &n_segs, &err) != CP_OK) {
                if (err.code == CP_EIO) err.code = CP_EUSAGE;
                return die_err(&err);
            }
            for (size_t k = 0; k < n_segs; k++) {
                if (fn(user, segs[k], &err) != CP_OK) {
                    cp_segments_free(segs, n_segs);
                    progress_done(pg);
                    if (err.code == CP_EIO) err.code = CP_EUSAGE;
                    return die_err(&err);
                }
            }
            cp_segments_free(segs, n_segs);
            continue;
        }
        if (fn(user, files[i], &err) != CP_OK) {
            progress_done(pg);
            /* R1.4b: an input that cannot be opened or decompressed is a
             * usage error (status 2) naming the file */
            if (err.code == CP_EIO) err.code = CP_EUSAGE;
            return die_err(&err);
        }
    }
    return 0;
}

static void progress_start(progress *pg, bool quiet, char **files, int n_files) {
    memset(pg, 0, sizeof *pg);
    pg->on = !quiet && isatty(2);
    pg->total = inputs_size(files, n_files);
    clock_gettime(CLOCK_MONOTONIC, &pg->start);
}

/* Loads every input into a finished run.  With popt, the run is the first
 * pass of a partitioned report and *ps its partitioner.  Returns an exit
 * status (0 = ok). */
static int load_inputs(mapping *m, char **files, int n_files, bool quiet, cp_run **out, progress *pg,
                       const cp_partition_options *popt, cp_partitions **ps) {
    cp_error err = {0};
    progress_start(pg, quiet, files, n_files);
    m->opt.on_progress = on_progress;
    m->opt.progress_user = pg;
    cp_run *run = cp_run_new(&m->opt, &err);
    if (!run) return die_err(&err);
    if (popt) {
        *ps = cp_partitions_new(run, &m->opt, popt, &err);
        if (!*ps) {
            cp_run_free(run);
            return die_err(&err);
        }
    }
    int rc = load_each(files, n_files, load_run, run, pg);
    if (rc) {
        if (popt) cp_partitions_free(*ps);
        cp_run_free(run);
        return rc;
    }
    phase.loaded = elapsed_s(&pg->start);
    if (cp_run_finish(run, &err) != CP_OK) {
        if (popt) cp_partitions_free(*ps);
        cp_run_free(run);
        return die_err(&err);
    }
    phase.finished = elapsed_s(&pg->start);
    progress_done(pg);
    *out = run;
    return 0;
}

static void print_stats(const cp_run *run) {
    const cp_events *e = cp_run_events(run);
    size_t bytes = cp_run_memory_bytes(run);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "store: %zu events, %zu bytes (%.1f bytes per event, strings included); "
            "%u distinct strings; peak RSS %.1f MB\n", e->n, bytes, e->n ? (double)bytes / (double)e->n : 0.0,
            cp_strings_count(cp_run_strings(run)), (double)ru.ru_maxrss / 1024.0);
}

static bool reject_rate_exceeded(const cp_run *run, double max_rate) {
    uint64_t acc = cp_run_accepted(run), rej = cp_run_rejected(run);
    if (acc + rej == 0) return false;
    return (double)rej / (double)(acc + rej) > max_rate;
}

/* ---- validate -------------------------------------------------------------------- */

static int cmd_validate(int argc, char **argv) {
    static const struct option longopts[] = {
        MAPPING_LONGOPTS, {"format", required_argument, 0, O_FORMAT}, {0, 0, 0, 0}};
    mapping m = {0};
    double max_rate = 0.01;
    bool json = false, stats = false, quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int r = mapping_option("validate", c, optarg, &m);
        if (r < 0) return 2;
        if (r) continue;
        switch (c) {
        case O_FORMAT:
            if (strcmp(optarg, "json") == 0) json = true;
            else if (strcmp(optarg, "text") == 0) json = false;
            else return usage_error("validate", "--format must be text or json");
            break;
        case O_MAX_REJECT:
            if (!parse_rate(optarg, &max_rate)) return usage_error("validate", "--max-reject-rate: '%s' is not a rate", optarg);
            break;
        case O_STATS: stats = true; break;
        case O_QUIET: quiet = true; break;
        case O_HELP: fputs(help_validate, stdout); return 0;
        default: return usage_error("validate", "unknown option");
        }
    }
    if (optind >= argc) return usage_error("validate", "give at least one input file ('-' for standard input)");
    cp_run *run;
    progress pg;
    int rc = load_inputs(&m, argv + optind, argc - optind, quiet, &run, &pg, NULL, NULL);
    if (rc) return rc;
    if (stats) print_stats(run);
    if (json) {
        cp_summary *sum = cp_summary_new();
        cp_summary_inputs(run, sum);
        fputs(cp_summary_json(sum), stdout);
        cp_summary_free(sum);
    } else if (!quiet) {
        size_t n_in, n_rej;
        const cp_input_stats *in = cp_run_inputs(run, &n_in);
        const cp_reject *rej = cp_run_rejects(run, &n_rej);
        printf("%-40s %12s %12s %12s %12s\n", "file", "lines", "accepted", "rejected", "blank");
        for (size_t i = 0; i < n_in; i++)
            printf("%-40s %12llu %12llu %12llu %12llu\n", in[i].path, (unsigned long long)in[i].lines,
                   (unsigned long long)in[i].accepted, (unsigned long long)in[i].rejected,
                   (unsigned long long)in[i].blank_lines);
        uint64_t by[CP_N_REJECT_REASONS];
        cp_run_rejects_by_reason(run, by);
        uint64_t acc = cp_run_accepted(run), rj = cp_run_rejected(run);
        printf("\naccepted %llu, rejected %llu (%.3f%%)\n", (unsigned long long)acc, (unsigned long long)rj,
               acc + rj ? 100.0 * (double)rj / (double)(acc + rj) : 0.0);
        for (int r = 0; r < CP_N_REJECT_REASONS; r++) {
            if (!by[r]) continue;
            printf("\n  %-32s %llu\n", cp_reject_reason_name((cp_reject_reason)r), (unsigned long long)by[r]);
            int shown = 0;
            for (size_t i = 0; i < n_rej && shown < 3; i++) {
                if (rej[i].reason != r) continue;
                printf("    %s:%llu%s%s: %.100s\n", in[rej[i].file].path, (unsigned long long)rej[i].line,
                       rej[i].field ? " field " : "", rej[i].field ? rej[i].field : "", rej[i].text);
                shown++;
            }
        }
    }
    rc = reject_rate_exceeded(run, max_rate) ? 1 : 0;
    if (rc && !quiet) fprintf(stderr, "%s: the reject rate is above --max-reject-rate %g\n", prog, max_rate);
    cp_run_free(run);
    return rc;
}

/* ---- report ------------------------------------------------------------------------ */

typedef struct report_args {
    mapping m;
    cp_report_options opt;
    cp_tz *tz;
    const char *as_of, *cal_end;
    double max_rate;
    bool stats;
    uint64_t memory;            /* --memory, bytes */
    cp_partition_options popt;  /* --memory, --partitions, --tmp-dir */
    progress part_pg;           /* the second pass and the partitions */
    bool mpi;                   /* --mpi */
} report_args;

static int parse_report_option(int c, char *arg, report_args *a) {
    const char *cmd = "report";
    int r = mapping_option(cmd, c, arg, &a->m);
    if (r < 0) return 2;
    if (r) return 0;
    cp_report_options *o = &a->opt;
    uint64_t u;
    switch (c) {
    case O_OUT: o->out_dir = arg; break;
    case O_FORMAT:
        if (strcmp(arg, "csv") == 0) o->format = CP_FORMAT_CSV;
        else if (strcmp(arg, "json") == 0) o->format = CP_FORMAT_JSON;
        else if (strcmp(arg, "xlsx") == 0) { o->format = CP_FORMAT_CSV; o->xlsx = true; }
        else return usage_error(cmd, "--format must be csv, json or xlsx");
        break;
    case O_TAGS: o->tags_path = arg; break;
    case O_TZ:
        cp_tz_free(a->tz);
        a->tz = cp_tz_open(arg);
        if (!a->tz) return usage_error(cmd, "--tz %s: no such time zone in the system's tzdata", arg);
        o->tz = a->tz;
        break;
    case O_SESSION:
        if (strncmp(arg, "fixed:", 6) == 0 && parse_duration(arg + 6, &o->session_ms)) o->session_rule = CP_SESSION_FIXED;
        else if (strncmp(arg, "idle:", 5) == 0 && parse_duration(arg + 5, &o->session_ms)) o->session_rule = CP_SESSION_IDLE;
        else return usage_error(cmd, "--session must be fixed:DURATION or idle:DURATION (e.g. fixed:24h, idle:30m)");
        break;
    case O_BOT_LIST: o->bot_list_path = arg; break;
    case O_IP_BLOCK: o->ip_blocklist_path = arg; break;
    case O_FLOOD_CLICKS:
        if (!parse_u64(arg, &u) || u == 0 || u > UINT32_MAX) return usage_error(cmd, "--flood-clicks must be a positive integer");
        o->flood_clicks = (uint32_t)u;
        break;
    case O_FLOOD_WINDOW: if (!parse_duration(arg, &o->flood_window_ms)) return usage_error(cmd, "--flood-window: bad duration '%s'", arg); break;
    case O_DEDUP_WINDOW: if (!parse_duration(arg, &o->dedup_window_ms)) return usage_error(cmd, "--dedup-window: bad duration '%s'", arg); break;
    case O_ADS_WINDOW: if (!parse_duration(arg, &o->ads_window_ms)) return usage_error(cmd, "--ads-window: bad duration '%s'", arg); break;
    case O_OFFSITE_WINDOW: if (!parse_duration(arg, &o->offsite_window_ms)) return usage_error(cmd, "--offsite-window: bad duration '%s'", arg); break;
    case O_CLV_HORIZON: if (!parse_duration(arg, &o->clv_horizon_ms)) return usage_error(cmd, "--clv-horizon: bad duration '%s'", arg); break;
    case O_AS_OF: a->as_of = arg; break;
    case O_CAL_END: a->cal_end = arg; break;
    case O_HV_ORDERS:
        if (!parse_u64(arg, &u) || u > UINT32_MAX) return usage_error(cmd, "--hv-orders must be an integer");
        o->hv_orders = (uint32_t)u;
        break;
    case O_HV_DAYS: if (!parse_u64(arg, &u) || u > 100000) return usage_error(cmd, "--hv-days must be a number of days"); o->hv_days = (int64_t)u; break;
    case O_CHURN_DAYS: if (!parse_u64(arg, &u) || u > 100000) return usage_error(cmd, "--churn-days must be a number of days"); o->churn_days = (int64_t)u; break;
    case O_HV_CLV:
        if (!cp_parse_decimal_micros(arg, strlen(arg), &o->hv_clv_micros)) return usage_error(cmd, "--hv-clv must be an amount such as 150");
        break;
    case O_HV_MAX_RETURN: if (!parse_rate(arg, &o->hv_max_return)) return usage_error(cmd, "--hv-max-return must be a rate such as 0.05 or 5%%"); break;
    case O_CLV_UNIT:
        if (strcmp(arg, "week") == 0) o->clv_week = true;
        else if (strcmp(arg, "day") == 0) o->clv_week = false;
        else return usage_error(cmd, "--clv-unit must be day or week");
        break;
    case O_DISCOUNT: if (!parse_rate(arg, &o->discount_rate)) return usage_error(cmd, "--discount-rate must be a rate such as 0.1 or 10%%"); break;
    case O_NO_CLV: o->clv = false; break;
    case O_MAX_REJECT: if (!parse_rate(arg, &a->max_rate)) return usage_error(cmd, "--max-reject-rate: '%s' is not a rate", arg); break;
    case O_STATS: a->stats = true; break;
    case O_QUIET: o->quiet = true; break;
    case O_MEMORY:
        if (!parse_size(arg, &a->memory) || a->memory < (UINT64_C(16) << 20))
            return usage_error(cmd, "--memory must be a size of at least 16M, such as 8G or 512M");
        a->popt.memory_bytes = a->memory;
        break;
    case O_PARTITIONS:
        if (!parse_u64(arg, &u) || u == 0 || u > 1000) return usage_error(cmd, "--partitions must be 1..1000");
        a->popt.partitions = (unsigned)u;
        break;
    case O_TMP_DIR: a->popt.tmp_dir = arg; break;
    case O_MPI: a->mpi = true; break;
    case O_TARGET_ACOS:
        if (!parse_rate(arg, &o->target_acos) || !(o->target_acos > 0))
            return usage_error(cmd, "--target-acos must be a rate such as 0.25 or 25%%");
        break;
    default: return usage_error(cmd, "unknown option");
    }
    return 0;
}

static const struct option report_longopts[] = {
    MAPPING_LONGOPTS,
    {"out", required_argument, 0, O_OUT}, {"format", required_argument, 0, O_FORMAT},
    {"tags", required_argument, 0, O_TAGS}, {"tz", required_argument, 0, O_TZ},
    {"session", required_argument, 0, O_SESSION}, {"bot-list", required_argument, 0, O_BOT_LIST},
    {"ip-blocklist", required_argument, 0, O_IP_BLOCK}, {"flood-clicks", required_argument, 0, O_FLOOD_CLICKS},
    {"flood-window", required_argument, 0, O_FLOOD_WINDOW}, {"dedup-window", required_argument, 0, O_DEDUP_WINDOW},
    {"ads-window", required_argument, 0, O_ADS_WINDOW}, {"offsite-window", required_argument, 0, O_OFFSITE_WINDOW},
    {"as-of", required_argument, 0, O_AS_OF}, {"hv-orders", required_argument, 0, O_HV_ORDERS},
    {"hv-days", required_argument, 0, O_HV_DAYS}, {"hv-clv", required_argument, 0, O_HV_CLV},
    {"hv-max-return", required_argument, 0, O_HV_MAX_RETURN}, {"churn-days", required_argument, 0, O_CHURN_DAYS},
    {"clv-unit", required_argument, 0, O_CLV_UNIT}, {"calibration-end", required_argument, 0, O_CAL_END},
    {"clv-horizon", required_argument, 0, O_CLV_HORIZON}, {"discount-rate", required_argument, 0, O_DISCOUNT},
    {"no-clv", no_argument, 0, O_NO_CLV}, {"target-acos", required_argument, 0, O_TARGET_ACOS},
    {"memory", required_argument, 0, O_MEMORY}, {"partitions", required_argument, 0, O_PARTITIONS},
    {"tmp-dir", required_argument, 0, O_TMP_DIR}, {"mpi", no_argument, 0, O_MPI}, {0, 0, 0, 0}};

/* Prints "label: text" lines with the texts in one column; indented lines
 * (details under a heading) and lines without a short label stay as they
 * are. */
static void print_aligned(const char *head, const char *body) {
    size_t width = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *parts[2] = {head, body};
        for (int k = 0; k < 2; k++) {
            const char *p = parts[k];
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                const char *colon = memchr(p, ':', len);
                size_t label = colon ? (size_t)(colon - p) : 0;
                bool aligned = colon && p[0] != ' ' && label > 0 && label <= 40 && colon + 1 < p + len &&
                               colon[1] == ' ';
                if (pass == 0) {
                    if (aligned && label + 1 > width) width = label + 1;
                } else if (aligned) {
                    printf("%-*.*s %.*s\n", (int)width, (int)label + 1, p, (int)(len - label - 2), colon + 2);
                } else {
                    printf("%.*s\n", (int)len, p);
                }
                p += len + (nl ? 1 : 0);
            }
        }
    }
}

/* After the report: the human summary, and the exit status (R1.4b
 * --max-reject-rate). */
static int report_done(report_args *a, const cp_run *run, cp_summary *sum, cp_result r, cp_error *err) {
    if (r != CP_OK) return err->msg[0] ? die_err(err) : exit_for(err->code);
    if (!a->opt.quiet) {
        uint64_t acc = cp_run_accepted(run), rej = cp_run_rejected(run);
        size_t n_in;
        const cp_input_stats *in = cp_run_inputs(run, &n_in);
        uint64_t blank = 0;
        for (size_t i = 0; i < n_in; i++) blank += in[i].blank_lines;
        char head[256];
        snprintf(head, sizeof head, "input: %llu events accepted, %llu rejected, %llu blank lines in %zu file%s\n",
                 (unsigned long long)acc, (unsigned long long)rej, (unsigned long long)blank, n_in,
                 n_in == 1 ? "" : "s");
        print_aligned(head, cp_summary_text(sum));
        printf("Reports written to %s/\n", a->opt.out_dir);
    }
    if (reject_rate_exceeded(run, a->max_rate)) {
        fprintf(stderr, "%s: %llu of %llu lines rejected, above --max-reject-rate %g; see %s/rejects.csv\n",
                prog, (unsigned long long)cp_run_rejected(run),
                (unsigned long long)(cp_run_accepted(run) + cp_run_rejected(run)), a->max_rate, a->opt.out_dir);
        return 1;
    }
    return 0;
}

static int run_report_mpi(report_args *a, char **files, int n_files);

/* --memory: removes the partition files when interrupted. */
static void on_fatal_signal(int sig) {
    cp_partitions_cleanup_signal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void on_partition(void *user, unsigned done, unsigned total) {
    progress *pg = user;
    if (!pg->on) return;
    fprintf(stderr, "\rpartitions: %u of %u reported (%.0f s)\033[K", done, total, elapsed_s(&pg->start));
    if (done == total) fprintf(stderr, "\r\033[K");
}

/* The rest of a partitioned report after the first pass: the plan, the
 * second pass writing the partitions, the partitions one by one. */
static cp_result report_split(report_args *a, cp_partitions *ps, char **files, int n_files, cp_summary *sum,
                              cp_error *err) {
    cp_result r = cp_partitions_plan(ps, &a->opt, err);
    if (r) return r;
    progress *pg = &a->part_pg; /* the partitioner's progress_user */
    progress_start(pg, a->opt.quiet, files, n_files);
    if (pg->on) fprintf(stderr, "writing %u partitions ...\r", cp_partitions_count(ps));
    a->m.opt.progress_user = pg;
    int rc = load_each(files, n_files, load_route, ps, pg);
    progress_done(pg);
    if (rc) { /* load_each has printed the error */
        memset(err, 0, sizeof *err);
        err->code = rc == 2 ? CP_EUSAGE : CP_EIO;
        return err->code;
    }
    r = cp_report_partitioned(ps, &a->opt, sum, err);
    if (a->stats)
        fprintf(stderr,
                "partitions: %u, %.1f MB of partition files (zstd; %.1f MB of records), %.1f MB held for "
                "components and floods\n",
                cp_partitions_count(ps), (double)cp_partitions_disk_bytes(ps) / 1e6,
                (double)cp_partitions_bytes(ps) / 1e6, (double)cp_partitions_aux_bytes(ps) / 1e6);
    return r;
}

/* Runs the whole report on loaded inputs; prints the human summary. */
static int run_report(report_args *a, char **files, int n_files) {
    if (a->as_of) {
        if (!parse_time_or_date(a->as_of, a->opt.tz, &a->opt.as_of_ms))
            return usage_error("report", "--as-of: '%s' is neither a timestamp nor a date (YYYY-MM-DD)", a->as_of);
        a->opt.has_as_of = true;
    }
    if (a->cal_end) {
        if (!parse_time_or_date(a->cal_end, a->opt.tz, &a->opt.calibration_end_ms))
            return usage_error("report", "--calibration-end: '%s' is neither a timestamp nor a date", a->cal_end);
        a->opt.has_calibration_end = true;
    }
    cp_run *run = NULL;
    progress pg;
    cp_partitions *ps = NULL;
    bool split = a->memory || a->popt.partitions || a->mpi;
    if (split) {
        for (int i = 0; i < n_files; i++)
            if (strcmp(files[i], "-") == 0)
                return usage_error("report", "--memory and --mpi read the inputs twice: give files, not standard input");
        install_cleanup_handlers();
        a->popt.on_partition = on_partition;
        a->popt.progress_user = &a->part_pg;
    }
    if (a->mpi) return run_report_mpi(a, files, n_files);
    int rc = load_inputs(&a->m, files, n_files, a->opt.quiet, &run, &pg, split ? &a->popt : NULL, &ps);
    if (rc) return rc;
    if (a->stats && !split) print_stats(run);
    cp_summary *sum = cp_summary_new();
    cp_error err = {0};
    if (!sum) { cp_partitions_free(ps); cp_run_free(run); return 4; }
    cp_result r;
    if (split) {
        r = report_split(a, ps, files, n_files, sum, &err);
    } else {
        bool tell = !a->opt.quiet && isatty(2) && cp_run_events(run)->n >= 1000000;
        if (tell) fprintf(stderr, "computing reports for %zu events ...", cp_run_events(run)->n);
        r = cp_report_all(run, &a->opt, sum, &err);
        if (tell) fprintf(stderr, "\r\033[K");
        if (a->stats && r == CP_OK)
            fprintf(stderr, "time: %.2f s loading, %.2f s ordering and identities, %.2f s reports\n", phase.loaded,
                    phase.finished - phase.loaded, elapsed_s(&pg.start) - phase.finished);
    }
    cp_partitions_free(ps);
    rc = report_done(a, run, sum, r, &err);
    cp_summary_free(sum);
    cp_run_free(run);
    return rc;
}

/* `mpirun -np N clickpath report --mpi`: every rank runs this; rank 0
 * writes the report and prints the summary. */
/* load_each's reader for --mpi: only collects the paths (a collector's DIR
 * as its segments), which every rank then reads itself. */
typedef struct path_list {
    char **paths;
    size_t n, cap;
} path_list;

static cp_result collect_path(void *user, const char *path, cp_error *err) {
    path_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **np = realloc(l->paths, cap * sizeof *np);
        if (!np) return cp_error_setf(err, CP_ENOMEM, "out of memory");
        l->paths = np;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path))) return cp_error_setf(err, CP_ENOMEM, "out of memory");
    l->n++;
    return CP_OK;
}

static int run_report_mpi(report_args *a, char **files, int n_files) {
    cp_error err = {0};
    path_list l = {0};
    progress pg = {0};
    int rc = load_each(files, n_files, collect_path, &l, &pg);
    char **paths = l.paths;
    size_t n_paths = l.n;
    cp_run *run = rc ? NULL : cp_run_new(&a->m.opt, &err);
    cp_summary *sum = cp_summary_new();
    if (!rc && (!run || !sum)) rc = run ? 4 : die_err(&err);
    if (!rc) {
        bool root = true;
        cp_result r = cp_report_mpi(run, paths, n_paths, &a->m.opt, &a->popt, &a->opt, sum, &root, &err);
        rc = root ? report_done(a, run, sum, r, &err) : 0;
    }
    for (size_t i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
    cp_summary_free(sum);
    cp_run_free(run);
    return rc;
}
/* issue 8: report.html's assets sit beside the executable, in web/ (what
 * web/build.sh builds into build/web).  NULL when /proc/self/exe is absent. */
static const char *asset_dir(char *buf, size_t size) {
    ssize_t n = readlink("/proc/self/exe", buf, size - 5);
    if (n <= 0 || (size_t)n >= size - 5) return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) return NULL;
    strcpy(slash, "/web");
    return buf;
}

static int cmd_report(int argc, char **argv) {
    report_args a = {0};
    char assets[4096];
    cp_report_options_init(&a.opt);
    a.opt.asset_dir = asset_dir(assets, sizeof assets);
    a.max_rate = 0.01;
    a.opt.clv_week = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", report_longopts, NULL)) != -1) {
        if (c == O_HELP) { fputs(help_report, stdout); cp_tz_free(a.tz); return 0; }
        if (c == '?') { cp_tz_free(a.tz); return usage_error("report", "unknown option or missing value"); }
        int rc = parse_report_option(c, optarg, &a);
        if (rc) { cp_tz_free(a.tz); return rc; }
    }
    int rc;
    if (!a.opt.out_dir) rc = usage_error("report", "--out DIR is required (where the reports go)");
    else if (optind >= argc) rc = usage_error("report", "give at least one input file ('-' for standard input)");
    else rc = run_report(&a, argv + optind, argc - optind);
    cp_tz_free(a.tz);
    return rc;
}

/* ---- gen and demo ---------------------------------------------------------------------- */

static int cmd_gen(int argc, char **argv) {
    static const struct option longopts[] = {
        {"events", required_argument, 0, O_EVENTS}, {"seed", required_argument, 0, O_SEED},
        {"out", required_argument, 0, O_OUT}, {"format", required_argument, 0, O_FORMAT},
        {"start", required_argument, 0, O_START}, {"days", required_argument, 0, O_DAYS},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    cp_gen_options g;
    cp_gen_options_init(&g);
    int c;
    uint64_t u;
    bool have_events = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_EVENTS:
            if (!parse_u64(optarg, &u) || u == 0) return usage_error("gen", "--events must be a positive integer");
            g.n_events = u;
            have_events = true;
            break;
        case O_SEED: if (!parse_u64(optarg, &g.seed)) return usage_error("gen", "--seed must be an integer"); break;
        case O_OUT: g.out_dir = optarg; break;
        case O_FORMAT:
            if (strcmp(optarg, "jsonl") == 0) g.jsonl = true;
            else if (strcmp(optarg, "csv") == 0) g.jsonl = false;
            else return usage_error("gen", "--format must be csv or jsonl");
            break;
        case O_START:
            if (!parse_time_or_date(optarg, NULL, &g.start_ms)) return usage_error("gen", "--start: bad date '%s'", optarg);
            if (strlen(optarg) == 10) g.start_ms -= 86400000 - 1; /* the start of that day */
            break;
        case O_DAYS:
            if (!parse_u64(optarg, &u) || u == 0 || u > 36500) return usage_error("gen", "--days must be 1..36500");
            g.days = (int32_t)u;
            break;
        case O_HELP: fputs(help_gen, stdout); return 0;
        default: return usage_error("gen", "unknown option or missing value");
        }
    }
    if (!have_events || !g.out_dir) return usage_error("gen", "--events N and --out DIR are required");
    cp_error err = {0};
    uint64_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cp_gen_run(&g, &n, &err) != CP_OK) return die_err(&err);
    fprintf(stderr, "%s: wrote %llu events to %s in %.2f s\n", prog, (unsigned long long)n, g.out_dir, elapsed_s(&t0));
    return 0;
}

static int cmd_demo(int argc, char **argv) {
    static const struct option longopts[] = {
        {"events", required_argument, 0, O_EVENTS}, {"seed", required_argument, 0, O_SEED},
        {"out", required_argument, 0, O_OUT}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    const char *out = "clickpath-demo";
    cp_gen_options g;
    cp_gen_options_init(&g);
    g.n_events = 200000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_EVENTS: if (!parse_u64(optarg, &g.n_events) || !g.n_events) return usage_error("demo", "--events must be a positive integer"); break;
        case O_SEED: if (!parse_u64(optarg, &g.seed)) return usage_error("demo", "--seed must be an integer"); break;
        case O_OUT: out = optarg; break;
        case O_HELP: fputs(help_demo, stdout); return 0;
        default: return usage_error("demo", "unknown option or missing value");
        }
    }
    char data_dir[4096], events[4200], tags[4200];
    snprintf(data_dir, sizeof data_dir, "%s/data", out);
    snprintf(events, sizeof events, "%s/events.csv", data_dir);
    snprintf(tags, sizeof tags, "%s/tags.csv", data_dir);
    g.out_dir = data_dir;
    cp_error err = {0};
    uint64_t n = 0;
    printf("Generating a store's events (%llu, seed %llu) into %s/ ...\n", (unsigned long long)g.n_events,
           (unsigned long long)g.seed, data_dir);
    fflush(stdout);
    if (cp_gen_run(&g, &n, &err) != CP_OK) return die_err(&err);
    report_args a = {0};
    cp_report_options_init(&a.opt);
    char assets[4096];
    a.opt.asset_dir = asset_dir(assets, sizeof assets);
    a.opt.out_dir = out;
    a.opt.tags_path = tags;
    a.opt.clv_week = true;
    a.max_rate = 0.01;
    printf("Computing every report:  clickpath report %s --tags %s --out %s\n\n", events, tags, out);
    char *files[] = {events};
    int rc = run_report(&a, files, 1);
    if (rc == 0)
        printf("\nOpen %s/report.html in a browser for the charts, or %s/business_daily.csv,\n"
               "ads.csv, attribution.csv or customers.csv in a spreadsheet; %s/summary.json\n"
               "holds the headline figures.\n", out, out, out);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(help_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2) {
            static char help_flag[] = "--help";
            static char *sub[4];
            sub[0] = argv[0];
            sub[1] = argv[2];
            sub[2] = help_flag;
            argc = 3;
            argv = sub;
            cmd = sub[1];
        } else {
            fputs(help_main, stdout);
            return 0;
        }
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("clickpath %s\n", CP_VERSION_STRING);
        return 0;
    }
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    if (strcmp(cmd, "report") == 0) return cmd_report(sub_argc, sub_argv);
    if (strcmp(cmd, "validate") == 0) return cmd_validate(sub_argc, sub_argv);
    if (strcmp(cmd, "gen") == 0) return cmd_gen(sub_argc, sub_argv);
    if (strcmp(cmd, "demo") == 0) return cmd_demo(sub_argc, sub_argv);
    if (strcmp(cmd, "tag") == 0) return cp_cli_tag(sub_argc, sub_argv);
    if (strcmp(cmd, "serve") == 0) return cp_cli_serve(sub_argc, sub_argv);
    fprintf(stderr, "%s: unknown command '%s'\n\n", prog, cmd);
    fputs(help_main, stderr);
    return 2;
}

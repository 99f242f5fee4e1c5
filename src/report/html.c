/* html.c -- report.html, the single-file dashboard (issue 8), and the CSV
 * reader and column typing shared with xlsx.c (present.h).
 *
 * The writer reads the report files already written into out_dir (R8's
 * CSVs and summary.json), keeps what the panels need and embeds it as JSON
 * in a <script type="application/json"> tag, together with the stylesheet
 * and the charting bundle that web/build.sh built.  The page makes no
 * network request: a Content-Security-Policy in the template forbids any.
 *
 * Size (the HTML for 10M events stays under 5 MB): daily rows are kept
 * whole, everything else is a whole-period row (empty date, R8) and large
 * tables keep their top rows by a figure, with the kept and total counts in
 * the data so that the page can say so.  ads.csv is rolled up per campaign
 * here, in exact micro-units (R1.5), so the campaign table is complete even
 * when placements are cut.  invalid_clicks.csv and customers.csv are reduced
 * to counts and sums.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/present.h"
#include "report/table.h"
#include "util/values.h"

/* ---- CSV reader (RFC 4180) -------------------------------------------------- */

struct cp_csv {
    FILE *f;
    char *line;
    size_t line_cap;
    cp_buf rec;      /* one record; may join physical lines */
    char *out;       /* unescaped cells, each NUL-terminated */
    size_t out_cap;
    char **cells;
    size_t cells_cap;
};

cp_csv *cp_csv_open(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    cp_csv *c = calloc(1, sizeof *c);
    if (!c) {
        fclose(f);
        return NULL;
    }
    c->f = f;
    return c;
}

void cp_csv_close(cp_csv *c) {
    if (!c) return;
    fclose(c->f);
    free(c->line);
    cp_buf_free(&c->rec);
    free(c->out);
    free(c->cells);
    free(c);
}

static bool quotes_open(const char *p, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += p[i] == '"';
    return n & 1;
}

int cp_csv_next(cp_csv *c, char ***cells, size_t *n_cells) {
    c->rec.len = 0;
    for (;;) {
        ssize_t got = getline(&c->line, &c->line_cap, c->f);
        if (got < 0) {
            if (ferror(c->f)) return -1;
            if (c->rec.len == 0) return 0;
            break; /* an unterminated quote at the end: take what there is */
        }
        cp_buf_put(&c->rec, c->line, (size_t)got);
        if (c->rec.oom) return -1;
        if (!quotes_open(c->rec.p, c->rec.len)) break;
    }
    size_t len = c->rec.len;
    const char *p = c->rec.p;
    if (len && p[len - 1] == '\n') len--;
    if (len && p[len - 1] == '\r') len--;
    if (c->out_cap < len + 1) {
        char *o = realloc(c->out, len + 1);
        if (!o) return -1;
        c->out = o;
        c->out_cap = len + 1;
    }
    /* cells start as offsets into out; pointers are set at the end */
    size_t n = 0, o = 0, i = 0;
    for (;;) {
        if (n == c->cells_cap) {
            size_t cap = c->cells_cap ? 2 * c->cells_cap : 32;
            char **cc = realloc(c->cells, cap * sizeof *cc);
            if (!cc) return -1;
            c->cells = cc;
            c->cells_cap = cap;
        }
        c->cells[n++] = (char *)(uintptr_t)o;
        if (i < len && p[i] == '"') {
            i++;
            while (i < len) {
                if (p[i] == '"') {
                    if (i + 1 < len && p[i + 1] == '"') {
                        c->out[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                c->out[o++] = p[i++];
            }
            while (i < len && p[i] != ',') c->out[o++] = p[i++]; /* junk after a quote: kept */
        } else {
            while (i < len && p[i] != ',') c->out[o++] = p[i++];
        }
        c->out[o++] = '\0';
        if (i >= len) break;
        i++; /* the comma */
    }
    for (size_t k = 0; k < n; k++) c->cells[k] = c->out + (uintptr_t)c->cells[k];
    *cells = c->cells;
    *n_cells = n;
    return 1;
}

/* ---- typing ------------------------------------------------------------------ */

const char *const cp_present_files[] = {
    "business_daily", "business_asin", "ads", "attribution", "invalid_clicks", "diagnostics",
    "customers", "segments", "pareto", "cohorts", "cohorts_histogram", "feedback", "cac", "rejects",
};
const size_t cp_present_n_files = sizeof cp_present_files / sizeof cp_present_files[0];

static bool name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (strcmp(name, *list) == 0) return true;
    return false;
}

cp_col_kind cp_col_kind_of(const char *col) {
    static const char *const text[] = {
        "asin", "campaign", "ad_group", "keyword", "tag", "channel", "publisher", "level", "scope",
        "metric", "note", "segment", "cohort", "key", "source", "customer", "rfm", "file", "identity",
        "ip", "target", "reason", "diagnostics", "field", "text", NULL};
    static const char *const money[] = {
        "spend", "invalid_cost", "sales", "ordered_sales", "refunds", "gmv", "net_revenue", "aov",
        "cac", "cpc", "cpm", "sales_7d", "advertised_sales_7d", "predicted_clv", NULL};
    static const char *const percent[] = {
        "session_pct", "unit_session_pct", "ctr", "acos", "cvr", "return_rate", "share", "gmv_share",
        "customer_share", "rate_30", "rate_60", "rate_90", "dpv_rate", "atc_rate", "purchase_rate",
        "negative_feedback_rate", "reject_rate", "p_alive", NULL};
    static const char *const decimal[] = {
        "roas", "clicks_per_page_view", "page_views_per_session", "expected_purchases", NULL};
    if (name_in(col, text)) return CP_COL_TEXT;
    if (name_in(col, money)) return CP_COL_MONEY;
    if (name_in(col, percent)) return CP_COL_PERCENT;
    if (name_in(col, decimal)) return CP_COL_DECIMAL;
    return CP_COL_AUTO;
}

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return n > 0;
}

bool cp_present_day(const char *s, long *days) {
    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return false;
    long y = strtol(s, NULL, 10);
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    *days = (long)cp_days_from_civil(y, m, d);
    return true;
}

cp_cell_kind cp_cell_kind_of(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return CP_CELL_EMPTY;
    const char *p = s;
    if (*p == '-') p++;
    size_t int_len = strspn(p, "0123456789");
    if (int_len > 0 && (int_len == 1 || p[0] != '0')) {
        if (p[int_len] == '\0') return int_len <= 18 ? CP_CELL_INT : CP_CELL_TEXT;
        if (p[int_len] == '.' && p[int_len + 1] && strspn(p + int_len + 1, "0123456789") == strlen(p + int_len + 1))
            return CP_CELL_DECIMAL;
    }
    long day;
    if (cp_present_day(s, &day)) {
        if (n == 10) return CP_CELL_DATE;
        /* R8 timestamps: 2024-03-01T12:34:56.000Z */
        if ((n == 20 || n == 24) && s[10] == 'T' && digits(s + 11, 2) && s[13] == ':' && digits(s + 14, 2) &&
            s[16] == ':' && digits(s + 17, 2) && s[n - 1] == 'Z' && (n == 20 || (s[19] == '.' && digits(s + 20, 3))))
            return CP_CELL_TS;
    }
    return CP_CELL_TEXT;
}

/* ---- JSON into a buffer ----------------------------------------------------------- */

/* A JSON string safe inside <script>: '<' is written as \u003c so that no
 * "</script" or "<!--" can end the data block. */
static void json_str(cp_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    cp_buf_put(b, "\"", 1);
    size_t run = 0, i = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<') continue;
        cp_buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"') cp_buf_put(b, "\\\"", 2);
        else if (c == '\\') cp_buf_put(b, "\\\\", 2);
        else if (c == '\n') cp_buf_put(b, "\\n", 2);
        else cp_buf_put(b, esc, 6);
    }
    cp_buf_put(b, s + run, i - run);
    cp_buf_put(b, "\"", 1);
}

/* A cell: a number when its column and its text say so, null when empty,
 * else a string. */
static void json_cell(cp_buf *b, const char *s, cp_col_kind col) {
    cp_cell_kind k = cp_cell_kind_of(s);
    if (k == CP_CELL_EMPTY) cp_buf_puts(b, "null");
    else if (col != CP_COL_TEXT && (k == CP_CELL_INT || k == CP_CELL_DECIMAL)) cp_buf_puts(b, s);
    else json_str(b, s);
}

/* ---- collecting a table ------------------------------------------------------------ */

typedef struct row_ref {
    size_t off, len;
    double key;
    size_t seq;
} row_ref;

typedef struct table_spec {
    const char *file;       /* report name (file without .csv) */
    bool whole_period_only; /* keep rows whose `date` cell is empty (R8) */
    const char *sort_col;   /* keep the top `cap` by this column, descending; NULL = file order */
    size_t cap;
} table_spec;

/* Rows kept in the page.  Caps keep report.html small (docs/dashboard.md). */
static const table_spec specs[] = {
    {"business_daily", false, NULL, 4000},
    {"business_asin", true, "sessions", 100},
    {"ads", true, "spend", 200},
    {"attribution", true, "clicks", 3000},
    {"diagnostics", false, NULL, 2000},
    {"segments", false, NULL, 100},
    {"pareto", false, NULL, 200},
    {"cohorts", false, NULL, 1200},
    {"cohorts_histogram", false, NULL, 2000},
    {"feedback", false, "orders", 101},
    {"cac", false, NULL, 2000},
};

static int cmp_ref(const void *a, const void *b) {
    const row_ref *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int col_index(char **cells, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(cells[i], name) == 0) return (int)i;
    return -1;
}

static char *path_join(const char *dir, const char *name, const char *ext) {
    size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s%s", dir, name, ext);
    return p;
}

static void columns_json(cp_buf *b, char **cells, size_t n) {
    cp_buf_puts(b, "\"columns\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) cp_buf_put(b, ",", 1);
        json_str(b, cells[i]);
    }
    cp_buf_puts(b, "]");
}

/* Appends "NAME":{columns, rows, total, kept} to b, or nothing when the file
 * is missing.  Returns -1 on out of memory or a read error. */
static int collect_table(cp_buf *b, const char *dir, const table_spec *sp, bool *first) {
    char *path = path_join(dir, sp->file, ".csv");
    if (!path) return -1;
    cp_csv *c = cp_csv_open(path);
    free(path);
    if (!c) return 0;
    char **cells;
    size_t n, n_cols = 0;
    int rc = cp_csv_next(c, &cells, &n);
    if (rc <= 0) {
        cp_csv_close(c);
        return rc;
    }
    n_cols = n;
    cp_col_kind kinds[64];
    if (n_cols > 64) n_cols = 64;
    for (size_t i = 0; i < n_cols; i++) kinds[i] = cp_col_kind_of(cells[i]);
    int date_col = col_index(cells, n_cols, "date");
    int sort_col = sp->sort_col ? col_index(cells, n_cols, sp->sort_col) : -1;
    cp_buf head = {0}, rows = {0};
    columns_json(&head, cells, n_cols);
    row_ref *refs = NULL;
    size_t n_refs = 0, cap_refs = 0;
    uint64_t total = 0;
    while ((rc = cp_csv_next(c, &cells, &n)) == 1) {
        if (sp->whole_period_only && date_col >= 0 && (size_t)date_col < n && cells[date_col][0]) continue;
        total++;
        if (sort_col < 0 && n_refs >= sp->cap) continue;
        if (n_refs == cap_refs) {
            size_t cap = cap_refs ? 2 * cap_refs : 256;
            row_ref *r = realloc(refs, cap * sizeof *r);
            if (!r) {
                rc = -1;
                break;
            }
            refs = r;
            cap_refs = cap;
        }
        row_ref *r = &refs[n_refs];
        r->off = rows.len;
        r->seq = n_refs;
        r->key = (sort_col >= 0 && (size_t)sort_col < n) ? strtod(cells[sort_col], NULL) : 0.0;
        cp_buf_put(&rows, "[", 1);
        for (size_t i = 0; i < n_cols; i++) {
            if (i) cp_buf_put(&rows, ",", 1);
            json_cell(&rows, i < n ? cells[i] : "", kinds[i]);
        }
        cp_buf_put(&rows, "]", 1);
        r->len = rows.len - r->off;
        n_refs++;
        if (rows.oom) {
            rc = -1;
            break;
        }
    }
    cp_csv_close(c);
    if (rc == 0) {
        if (sort_col >= 0 && n_refs > 1) qsort(refs, n_refs, sizeof *refs, cmp_ref); /* refs is NULL when empty */
        size_t kept = n_refs < sp->cap ? n_refs : sp->cap;
        cp_buf_puts(b, *first ? "" : ",");
        *first = false;
        json_str(b, sp->file);
        cp_buf_puts(b, ":{");
        cp_buf_put(b, head.p, head.len);
        cp_buf_puts(b, ",\"rows\":[");
        for (size_t i = 0; i < kept; i++) {
            if (i) cp_buf_put(b, ",\n", 2);
            cp_buf_put(b, rows.p + refs[i].off, refs[i].len);
        }
        cp_buf_printf(b, "],\"total\":%llu,\"kept\":%zu,\"sorted_by\":", (unsigned long long)total, kept);
        if (sort_col >= 0) json_str(b, sp->sort_col);
        else cp_buf_puts(b, "null");
        cp_buf_puts(b, "}\n");
    }
    free(refs);
    cp_buf_free(&head);
    cp_buf_free(&rows);
    return rc == 0 && !b->oom ? 0 : -1;
}

/* ---- ads.csv per campaign ------------------------------------------------------------ */

enum { AD_IMPR, AD_CLICKS, AD_INVALID, AD_BOUNCED, AD_ORDERS, AD_UNITS, AD_N_COUNTS };
enum { AD_SPEND, AD_INV_COST, AD_SALES, AD_ADV_SALES, AD_N_MONEY };

typedef struct campaign {
    char *name;
    int64_t placements;
    int64_t count[AD_N_COUNTS];
    int64_t micros[AD_N_MONEY];
} campaign;

static void put_money(cp_buf *b, int64_t micros) {
    char s[48];
    cp_fmt_money(s, micros);
    cp_buf_puts(b, s);
}

static void put_ratio(cp_buf *b, int64_t num, int64_t den) {
    char s[48];
    if (cp_fmt_ratio(s, num, den) == 0) cp_buf_puts(b, "null");
    else cp_buf_puts(b, s);
}

/* "ads_campaigns": ads.csv's whole-period rows summed per campaign, with
 * R6.2's ratios recomputed from the sums. */
static int collect_campaigns(cp_buf *b, const char *dir, bool *first) {
    static const char *const count_cols[AD_N_COUNTS] = {"impressions", "clicks", "invalid_clicks",
                                                         "bounced_clicks", "orders_7d", "units_7d"};
    static const char *const money_cols[AD_N_MONEY] = {"spend", "invalid_cost", "sales_7d",
                                                        "advertised_sales_7d"};
    char *path = path_join(dir, "ads", ".csv");
    if (!path) return -1;
    cp_csv *c = cp_csv_open(path);
    free(path);
    if (!c) return 0;
    char **cells;
    size_t n;
    int rc = cp_csv_next(c, &cells, &n);
    if (rc <= 0) {
        cp_csv_close(c);
        return rc;
    }
    int date_col = col_index(cells, n, "date"), camp_col = col_index(cells, n, "campaign");
    int ci[AD_N_COUNTS], mi[AD_N_MONEY];
    bool ok = date_col >= 0 && camp_col >= 0;
    for (int k = 0; k < AD_N_COUNTS; k++) ok = ok && (ci[k] = col_index(cells, n, count_cols[k])) >= 0;
    for (int k = 0; k < AD_N_MONEY; k++) ok = ok && (mi[k] = col_index(cells, n, money_cols[k])) >= 0;
    if (!ok) {
        cp_csv_close(c);
        return 0; /* not R8's ads.csv: no campaign table */
    }
    size_t n_cols = n;
    campaign *camps = NULL;
    size_t n_camps = 0, cap = 0;
    while ((rc = cp_csv_next(c, &cells, &n)) == 1) {
        if (n < n_cols || cells[date_col][0]) continue;
        /* R8: rows are sorted by their keys, so a campaign's rows are
         * together; search back only when they are not */
        size_t k = n_camps;
        if (n_camps && strcmp(camps[n_camps - 1].name, cells[camp_col]) == 0) k = n_camps - 1;
        else
            for (size_t j = 0; j < n_camps; j++)
                if (strcmp(camps[j].name, cells[camp_col]) == 0) {
                    k = j;
                    break;
                }
        if (k == n_camps) {
            if (n_camps == cap) {
                size_t nc = cap ? 2 * cap : 64;
                campaign *p = realloc(camps, nc * sizeof *p);
                if (!p) {
                    rc = -1;
                    break;
                }
                camps = p;
                cap = nc;
            }
            memset(&camps[k], 0, sizeof camps[k]);
            camps[k].name = strdup(cells[camp_col]);
            if (!camps[k].name) {
                rc = -1;
                break;
            }
            n_camps++;
        }
        campaign *cp = &camps[k];
        cp->placements++;
        for (int j = 0; j < AD_N_COUNTS; j++) {
            int64_t v = 0;
            if (cp_parse_int(cells[ci[j]], strlen(cells[ci[j]]), &v)) cp->count[j] += v;
            else cp->count[j] += (int64_t)strtoll(cells[ci[j]], NULL, 10); /* > 10^9 per row */
        }
        for (int j = 0; j < AD_N_MONEY; j++) {
            int64_t v = 0;
            if (cp_parse_decimal_micros(cells[mi[j]], strlen(cells[mi[j]]), &v)) cp->micros[j] += v;
        }
    }
    cp_csv_close(c);
    if (rc == 0) {
        cp_buf_puts(b, *first ? "" : ",");
        *first = false;
        cp_buf_puts(b, "\"ads_campaigns\":{\"columns\":[\"campaign\",\"placements\",\"impressions\",\"clicks\","
                       "\"invalid_clicks\",\"bounced_clicks\",\"orders_7d\",\"units_7d\",\"spend\",\"invalid_cost\","
                       "\"sales_7d\",\"advertised_sales_7d\",\"ctr\",\"cpc\",\"cpm\",\"acos\",\"roas\",\"cvr\"],"
                       "\"rows\":[");
        for (size_t k = 0; k < n_camps; k++) {
            const campaign *cp = &camps[k];
            cp_buf_puts(b, k ? ",\n[" : "[");
            json_str(b, cp->name);
            cp_buf_printf(b, ",%lld", (long long)cp->placements);
            for (int j = 0; j < AD_N_COUNTS; j++) cp_buf_printf(b, ",%lld", (long long)cp->count[j]);
            for (int j = 0; j < AD_N_MONEY; j++) {
                cp_buf_put(b, ",", 1);
                put_money(b, cp->micros[j]);
            }
            int64_t impr = cp->count[AD_IMPR], clicks = cp->count[AD_CLICKS];
            int64_t spend = cp->micros[AD_SPEND], sales = cp->micros[AD_SALES];
            /* R6.2: ctr = clicks/impressions, cpc = spend/clicks,
             * cpm = 1000*spend/impressions, acos = spend/sales_7d,
             * roas = sales_7d/spend, cvr = orders_7d/clicks; empty on a zero divisor */
            cp_buf_put(b, ",", 1);
            put_ratio(b, clicks, impr);
            cp_buf_put(b, ",", 1);
            put_ratio(b, spend, clicks * 1000000);
            cp_buf_put(b, ",", 1);
            put_ratio(b, spend, impr * 1000);
            cp_buf_put(b, ",", 1);
            put_ratio(b, spend, sales);
            cp_buf_put(b, ",", 1);
            put_ratio(b, sales, spend);
            cp_buf_put(b, ",", 1);
            put_ratio(b, cp->count[AD_ORDERS], clicks);
            cp_buf_put(b, "]", 1);
        }
        cp_buf_printf(b, "],\"total\":%zu,\"kept\":%zu,\"sorted_by\":null}\n", n_camps, n_camps);
    }
    for (size_t k = 0; k < n_camps; k++) free(camps[k].name);
    free(camps);
    return rc == 0 && !b->oom ? 0 : -1;
}

/* ---- invalid_clicks.csv and customers.csv, reduced ------------------------------- */

/* "invalid_by_reason": scope (sponsored for ad: targets, external for tag:),
 * reason (R3.1's four, in order, then any other), clicks. */
static int collect_invalid(cp_buf *b, const char *dir, bool *first) {
    static const char *const reasons[] = {"bot", "blocked_ip", "flood", "duplicate"};
    enum { N_KNOWN = 4, N_MAX = 16 };
    char *path = path_join(dir, "invalid_clicks", ".csv");
    if (!path) return -1;
    cp_csv *c = cp_csv_open(path);
    free(path);
    if (!c) return 0;
    char **cells;
    size_t n;
    int rc = cp_csv_next(c, &cells, &n);
    if (rc <= 0) {
        cp_csv_close(c);
        return rc;
    }
    int tcol = col_index(cells, n, "target"), rcol = col_index(cells, n, "reason");
    if (tcol < 0 || rcol < 0) {
        cp_csv_close(c);
        return 0;
    }
    char names[N_MAX][32];
    size_t n_names = N_KNOWN;
    uint64_t count[2][N_MAX] = {{0}};
    for (size_t k = 0; k < N_KNOWN; k++) snprintf(names[k], sizeof names[k], "%s", reasons[k]);
    while ((rc = cp_csv_next(c, &cells, &n)) == 1) {
        if ((size_t)tcol >= n || (size_t)rcol >= n) continue;
        int scope = strncmp(cells[tcol], "tag:", 4) == 0;
        size_t k = 0;
        while (k < n_names && strcmp(names[k], cells[rcol]) != 0) k++;
        if (k == n_names) {
            if (n_names == N_MAX) continue;
            snprintf(names[k], sizeof names[k], "%s", cells[rcol]);
            n_names++;
        }
        count[scope][k]++;
    }
    cp_csv_close(c);
    if (rc) return -1;
    cp_buf_puts(b, *first ? "" : ",");
    *first = false;
    cp_buf_puts(b, "\"invalid_by_reason\":{\"columns\":[\"scope\",\"reason\",\"clicks\"],\"rows\":[");
    for (int s = 0; s < 2; s++)
        for (size_t k = 0; k < n_names; k++) {
            cp_buf_puts(b, s || k ? ",[" : "[");
            json_str(b, s ? "external" : "sponsored");
            cp_buf_put(b, ",", 1);
            json_str(b, names[k]);
            cp_buf_printf(b, ",%llu]", (unsigned long long)count[s][k]);
        }
    cp_buf_printf(b, "],\"total\":%zu,\"kept\":%zu,\"sorted_by\":null}\n", 2 * n_names, 2 * n_names);
    return b->oom ? -1 : 0;
}

/* "customers_summary": one row, customers, net_revenue (sum, the historical
 * CLV of R10.1), mean_net_revenue, model_customers (with a predicted_clv),
 * mean_predicted_clv (R10.5). */
static int collect_customers(cp_buf *b, const char *dir, bool *first) {
    char *path = path_join(dir, "customers", ".csv");
    if (!path) return -1;
    cp_csv *c = cp_csv_open(path);
    free(path);
    if (!c) return 0;
    char **cells;
    size_t n;
    int rc = cp_csv_next(c, &cells, &n);
    if (rc <= 0) {
        cp_csv_close(c);
        return rc;
    }
    int ncol = col_index(cells, n, "net_revenue"), pcol = col_index(cells, n, "predicted_clv");
    int64_t customers = 0, net = 0, with_model = 0;
    double clv = 0;
    while ((rc = cp_csv_next(c, &cells, &n)) == 1) {
        customers++;
        int64_t v;
        if (ncol >= 0 && (size_t)ncol < n && cp_parse_decimal_micros(cells[ncol], strlen(cells[ncol]), &v))
            net += v;
        if (pcol >= 0 && (size_t)pcol < n && cells[pcol][0]) {
            clv += strtod(cells[pcol], NULL);
            with_model++;
        }
    }
    cp_csv_close(c);
    if (rc) return -1;
    cp_buf_puts(b, *first ? "" : ",");
    *first = false;
    cp_buf_puts(b, "\"customers_summary\":{\"columns\":[\"customers\",\"net_revenue\",\"mean_net_revenue\","
                   "\"model_customers\",\"mean_predicted_clv\"],\"rows\":[[");
    cp_buf_printf(b, "%lld,", (long long)customers);
    put_money(b, net);
    cp_buf_put(b, ",", 1);
    put_ratio(b, net, customers * 1000000);
    cp_buf_printf(b, ",%lld,", (long long)with_model);
    if (with_model) cp_buf_printf(b, "%.6f", clv / (double)with_model);
    else cp_buf_puts(b, "null");
    cp_buf_puts(b, "]],\"total\":1,\"kept\":1,\"sorted_by\":null}\n");
    return b->oom ? -1 : 0;
}

/* ---- files ------------------------------------------------------------------------------ */

/* The whole file, NUL-terminated; NULL when missing.  *len its length. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    cp_buf b = {0};
    char block[65536];
    size_t got;
    while ((got = fread(block, 1, sizeof block, f)) > 0) cp_buf_put(&b, block, got);
    bool bad = ferror(f) || b.oom;
    fclose(f);
    if (bad || !b.p) {
        cp_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* Puts text into b with every "</" written as "<\/": inside a <script> or
 * <style> nothing can close the element early.  In JS and JSON strings,
 * regular expressions and comments "<\/" means the same as "</"; CSS has
 * no "</" outside strings and comments. */
static void put_escaped_close(cp_buf *b, const char *s, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] == '<' && s[i + 1] == '/') {
            cp_buf_put(b, s + run, i + 1 - run);
            cp_buf_put(b, "\\", 1);
            run = i + 1;
        }
    }
    cp_buf_put(b, s + run, len - run);
}

/* summary.json, made safe for a <script> block: '<' only occurs inside
 * strings there, where \u003c means the same. */
static void put_summary(cp_buf *b, const char *dir) {
    char *path = path_join(dir, "summary", ".json");
    size_t len = 0;
    char *s = path ? slurp(path, &len) : NULL;
    free(path);
    size_t i = 0;
    while (s && i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) i++;
    if (!s || i >= len || s[i] != '{') {
        cp_buf_puts(b, "null");
        free(s);
        return;
    }
    size_t run = 0;
    for (size_t k = 0; k < len; k++)
        if (s[k] == '<') {
            cp_buf_put(b, s + run, k - run);
            cp_buf_puts(b, "\\u003c");
            run = k + 1;
        }
    cp_buf_put(b, s + run, len - run);
    free(s);
}

static cp_result fail(cp_error *err, cp_result code, const char *what, const char *path) {
    if (err) {
        err->code = code;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg, "%.40s %.160s: %.40s", what, path ? path : "",
                 code == CP_ENOMEM ? "out of memory" : strerror(errno));
    }
    return code;
}

/* The data block: {"meta": ..., "summary": ..., "tables": {...}}. */
static int build_data(cp_buf *b, const char *out_dir, double target_acos, bool assets) {
    cp_buf_printf(b, "{\"meta\":{\"format\":1,\"target_acos\":%.6f,\"min_ctr\":0.004,\"assets\":%s},\n\"summary\":",
                  target_acos, assets ? "true" : "false");
    put_summary(b, out_dir);
    cp_buf_puts(b, ",\n\"tables\":{");
    bool first = true;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (collect_table(b, out_dir, &specs[i], &first)) return -1;
    if (collect_campaigns(b, out_dir, &first)) return -1;
    if (collect_invalid(b, out_dir, &first)) return -1;
    if (collect_customers(b, out_dir, &first)) return -1;
    cp_buf_puts(b, "}}");
    return b->oom ? -1 : 0;
}

/* The page when web/build.sh's assets are missing: the same data, drawn as
 * plain tables by a few lines of script, and a note saying why. */
static const char fallback_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'\">\n"
    "<title>clickpath report</title>\n<style>body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#1a1a1a}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-variant-numeric:tabular-nums}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}"
    ".note{background:#fff4ce;border:1px solid #e0c060;padding:.5rem 1rem}"
    ".wrap{overflow-x:auto}</style>\n</head><body>\n<h1>clickpath report</h1>\n"
    "<p class=\"note\" id=\"cp-note\">The charts are missing from this build (run <code>web/build.sh</code>, "
    "see docs/dashboard.md); the report's tables follow.</p>\n<div id=\"app\"></div>\n";
static const char fallback_script[] =
    "<script>(function(){var d=JSON.parse(document.getElementById('cp-data').textContent);"
    "var app=document.getElementById('app');Object.keys(d.tables).forEach(function(k){var t=d.tables[k];"
    "var h=document.createElement('h2');h.textContent=k+(t.kept<t.total?' (first '+t.kept+' of '+t.total+' rows)':'');"
    "app.appendChild(h);var w=document.createElement('div');w.className='wrap';var tb=document.createElement('table');"
    "var tr=tb.insertRow();t.columns.forEach(function(c){var th=document.createElement('th');th.textContent=c;"
    "tr.appendChild(th);});t.rows.slice(0,500).forEach(function(r){var tr2=tb.insertRow();r.forEach(function(v){"
    "tr2.insertCell().textContent=v===null?'':String(v);});});w.appendChild(tb);app.appendChild(w);});})();"
    "</script>\n<noscript>Turn on JavaScript to see the tables.</noscript>\n</body></html>\n";

static const char mark_style[] = "<!--CP:STYLE-->", mark_data[] = "<!--CP:DATA-->",
                  mark_script[] = "<!--CP:SCRIPT-->";

/* Writes template with its three markers replaced; false when a marker is
 * missing (then the caller falls back). */
static bool fill_template(cp_buf *page, const char *tpl, const char *css, size_t css_len, const char *js,
                          size_t js_len, const cp_buf *data) {
    const char *s = strstr(tpl, mark_style), *d = strstr(tpl, mark_data), *j = strstr(tpl, mark_script);
    if (!s || !d || !j || !(s < d && d < j)) return false;
    cp_buf_put(page, tpl, (size_t)(s - tpl));
    cp_buf_puts(page, "<style>\n");
    put_escaped_close(page, css, css_len);
    cp_buf_puts(page, "\n</style>");
    s += sizeof mark_style - 1;
    cp_buf_put(page, s, (size_t)(d - s));
    cp_buf_puts(page, "<script type=\"application/json\" id=\"cp-data\">");
    cp_buf_put(page, data->p, data->len);
    cp_buf_puts(page, "</script>");
    d += sizeof mark_data - 1;
    cp_buf_put(page, d, (size_t)(j - d));
    cp_buf_puts(page, "<script>\n");
    put_escaped_close(page, js, js_len);
    cp_buf_puts(page, "\n</script>");
    j += sizeof mark_script - 1;
    cp_buf_puts(page, j);
    return true;
}

static cp_result write_file(const char *out_dir, const char *name, const cp_buf *page, cp_error *err) {
    char *path = path_join(out_dir, name, "");
    char *tmp = path_join(out_dir, name, ".tmp");
    cp_result r = CP_OK;
    if (!path || !tmp) {
        r = fail(err, CP_ENOMEM, "writing", name);
        goto out;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        r = fail(err, CP_EIO, "cannot write", tmp);
        goto out;
    }
    bool ok = fwrite(page->p, 1, page->len, f) == page->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        r = fail(err, CP_EIO, "cannot write", path);
        unlink(tmp);
    }
out:
    free(path);
    free(tmp);
    return r;
}

cp_result cp_html_write(const char *out_dir, const char *asset_dir, double target_acos, cp_error *err) {
    if (!(target_acos > 0)) target_acos = 0.25; /* --target-acos default (issue 8) */
    char *css = NULL, *js = NULL, *tpl = NULL;
    size_t css_len = 0, js_len = 0, tpl_len = 0;
    if (asset_dir) {
        char *p;
        if ((p = path_join(asset_dir, "dashboard.css", ""))) css = slurp(p, &css_len);
        free(p);
        if ((p = path_join(asset_dir, "dashboard.bundle.js", ""))) js = slurp(p, &js_len);
        free(p);
        if ((p = path_join(asset_dir, "template.html", ""))) tpl = slurp(p, &tpl_len);
        free(p);
    }
    bool assets = css && js && tpl;
    cp_buf data = {0}, page = {0};
    cp_result r = CP_OK;
    if (build_data(&data, out_dir, target_acos, assets)) {
        r = fail(err, data.oom ? CP_ENOMEM : CP_EIO, "reading the reports in", out_dir);
        goto out;
    }
    if (!assets || !fill_template(&page, tpl, css, css_len, js, js_len, &data)) {
        page.len = 0;
        cp_buf_puts(&page, fallback_head);
        cp_buf_puts(&page, "<script type=\"application/json\" id=\"cp-data\">");
        cp_buf_put(&page, data.p, data.len);
        cp_buf_puts(&page, "</script>\n");
        cp_buf_puts(&page, fallback_script);
    }
    if (page.oom) {
        r = fail(err, CP_ENOMEM, "building", "report.html");
        goto out;
    }
    r = write_file(out_dir, "report.html", &page, err);
out:
    free(css);
    free(js);
    free(tpl);
    cp_buf_free(&data);
    cp_buf_free(&page);
    return r;
}

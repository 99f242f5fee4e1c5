/* test_xlsx.c -- the presentation writers (issue 8, src/report/present.h):
 * report.xlsx is written from small report CSVs and read back (an .xlsx is a
 * zip of XML: `unzip -p` through popen) to check that every value equals the
 * CSV's and carries the right type and format (R8's number kinds); and
 * report.html embeds the data safely, rolls ads up per campaign exactly, caps
 * big tables, and falls back to tables when the web assets are missing.
 *
 * The xlsx tests skip when clickpath is built without libxlsxwriter or when
 * unzip is missing. */
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/present.h"

/* ---- fixtures --------------------------------------------------------------- */

static char *make_dir(void) {
    char *d = strdup("/tmp/cp_present_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void put_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void remove_dir(char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static char *slurp_cmd(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b) { free(buf); buf = NULL; }
            else buf = b;
        }
    }
    pclose(p);
    if (buf) buf[len] = '\0';
    return buf;
}

static char *slurp_file(const char *dir, const char *name) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "cat '%s/%s' 2>/dev/null", dir, name);
    return slurp_cmd(cmd);
}

static char *zip_entry(const char *xlsx, const char *entry) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s' 2>/dev/null", xlsx, entry);
    return slurp_cmd(cmd);
}

static bool have_xlsx(void) {
    if (!cp_xlsx_available()) return false;
    return system("unzip -v >/dev/null 2>&1") == 0;
}

/* ---- a tiny reader of what libxlsxwriter writes ------------------------------- */

/* Decodes XML entities of [p, end) into out. */
static void xml_text(const char *p, const char *end, char *out, size_t cap) {
    size_t o = 0;
    while (p < end && o + 1 < cap) {
        if (*p == '&') {
            static const struct { const char *e; char c; } ents[] = {
                {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
            bool done = false;
            for (size_t k = 0; k < 5 && !done; k++)
                if (strncmp(p, ents[k].e, strlen(ents[k].e)) == 0) {
                    out[o++] = ents[k].c;
                    p += strlen(ents[k].e);
                    done = true;
                }
            if (done) continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

typedef struct xcell {
    bool found;
    bool is_string;
    double num;
    char text[512];
    int style;
} xcell;

/* The cell at ref ("B2") of a sheet's XML. */
static xcell get_cell(const char *sheet, const char *ref) {
    xcell c = {0};
    char pat[32];
    snprintf(pat, sizeof pat, "<c r=\"%s\"", ref);
    const char *p = strstr(sheet, pat);
    if (!p) return c;
    const char *end = strstr(p, "</c>");
    const char *selfclose = strstr(p, "/>");
    if (!end || (selfclose && selfclose < strchr(p, '>') + 1)) return c; /* <c .../> : empty */
    c.found = true;
    const char *s = strstr(p, " s=\"");
    if (s && s < end) c.style = atoi(s + 4);
    const char *t = strstr(p, " t=\"");
    const char *gt = strchr(p, '>');
    if (t && t < gt) {
        c.is_string = true;
        const char *tt = strstr(p, "<t");
        tt = strchr(tt, '>') + 1;
        xml_text(tt, strstr(tt, "</t>"), c.text, sizeof c.text);
    } else {
        const char *v = strstr(p, "<v>");
        if (v && v < end) c.num = strtod(v + 3, NULL);
    }
    return c;
}

/* Excel column letters + row number of a 0-based (row, col). */
static void cell_ref(char *ref, size_t cap, unsigned row, unsigned col) {
    char letters[8];
    int n = 0;
    col++;
    while (col) {
        letters[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    size_t o = 0;
    while (n) ref[o++] = letters[--n];
    snprintf(ref + o, cap - o, "%u", row + 1);
}

/* formatCode of a cell style index (cellXfs[style].numFmtId). */
static void style_format(const char *styles, int style, char *out, size_t cap) {
    out[0] = '\0';
    const char *xfs = strstr(styles, "<cellXfs");
    assert_non_null(xfs);
    const char *xf = xfs;
    for (int i = 0; i <= style; i++) {
        xf = strstr(xf + 1, "<xf ");
        assert_non_null(xf);
    }
    int id = atoi(strstr(xf, "numFmtId=\"") + 10);
    if (id == 0) return;
    char pat[48];
    snprintf(pat, sizeof pat, "<numFmt numFmtId=\"%d\" formatCode=\"", id);
    const char *f = strstr(styles, pat);
    assert_non_null(f);
    f += strlen(pat);
    xml_text(f, strchr(f, '"'), out, cap);
}

/* sheetN.xml of the sheet named `name`, or NULL. */
static char *sheet_xml(const char *xlsx, const char *name) {
    char *wb = zip_entry(xlsx, "xl/workbook.xml");
    assert_non_null(wb);
    char pat[128];
    snprintf(pat, sizeof pat, "<sheet name=\"%s\" sheetId=\"", name);
    const char *p = strstr(wb, pat);
    char *out = NULL;
    if (p) {
        char entry[64];
        snprintf(entry, sizeof entry, "xl/worksheets/sheet%d.xml", atoi(p + strlen(pat)));
        out = zip_entry(xlsx, entry);
    }
    free(wb);
    return out;
}

/* Compares every cell of a sheet with the CSV text it came from: empty cells
 * absent, numbers equal as doubles, R8 dates as Excel serial days, R8
 * timestamps to the millisecond, text equal.  Returns the mismatches. */
static int sheet_vs_csv(const char *sheet, const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    cp_csv *c = cp_csv_open(path);
    assert_non_null(c);
    char **cells;
    size_t n;
    int bad = 0;
    cp_col_kind kinds[64];
    for (unsigned row = 0; cp_csv_next(c, &cells, &n) == 1; row++) {
        for (unsigned col = 0; col < n && col < 64; col++) {
            char ref[16];
            cell_ref(ref, sizeof ref, row, col);
            xcell x = get_cell(sheet, ref);
            if (row == 0) kinds[col] = cp_col_kind_of(cells[col]);
            cp_cell_kind k = row == 0 ? CP_CELL_TEXT : cp_cell_kind_of(cells[col]);
            bool text = k == CP_CELL_TEXT || (row > 0 && kinds[col] == CP_COL_TEXT);
            bool ok;
            if (k == CP_CELL_EMPTY) ok = !x.found;
            else if (text) ok = x.found && x.is_string && strcmp(x.text, cells[col]) == 0;
            else if (k == CP_CELL_DATE) {
                long day;
                cp_present_day(cells[col], &day);
                ok = x.found && !x.is_string && x.num == (double)day + 25569.0;
            } else if (k == CP_CELL_TS) {
                long day;
                cp_present_day(cells[col], &day);
                double ms = (x.num - 25569.0 - (double)day) * 86400000.0;
                int h = atoi(cells[col] + 11), m = atoi(cells[col] + 14), s = atoi(cells[col] + 17);
                int frac = strlen(cells[col]) == 24 ? atoi(cells[col] + 20) : 0;
                ok = x.found && !x.is_string && fabs(ms - ((h * 60.0 + m) * 60.0 + s) * 1000.0 - frac) < 0.5;
            } else ok = x.found && !x.is_string && x.num == strtod(cells[col], NULL);
            if (!ok) {
                bad++;
                print_message("%s %s: csv '%s', xlsx %s '%s' %.17g\n", name, ref, cells[col],
                              x.found ? (x.is_string ? "text" : "number") : "missing", x.text, x.num);
            }
        }
    }
    cp_csv_close(c);
    return bad;
}

/* Small report CSVs with every kind of cell R8 has. */
static const char daily_csv[] =
    "date,sessions,sessions_sponsored,sessions_external,sessions_organic,page_views,page_views_sponsored,"
    "page_views_external,page_views_organic,bounced_clicks,units,sales,orders\n"
    ",12,3,4,5,30,6,7,17,1,4,1234567.89,3\n"
    "2024-03-01,5,1,2,2,11,2,3,6,0,1,10.50,1\n"
    "2024-03-02,7,2,2,3,19,4,4,11,1,3,1234557.39,2\n";
static const char ads_csv[] =
    "date,campaign,ad_group,keyword,asin,impressions,clicks,invalid_clicks,bounced_clicks,spend,invalid_cost,"
    "ctr,cpc,cpm,orders_7d,units_7d,sales_7d,advertised_sales_7d,acos,roas,cvr\n"
    ",Brand,g1,007,B000000001,1000,4,1,0,12.50,0.75,0.004000,3.125000,12.500000,1,1,30.00,30.00,0.416667,2.400000,0.250000\n"
    ",Brand,g1,kw2,B000000001,500,0,0,0,0.10,0.00,0.000000,,0.200000,0,0,0.00,0.00,,0.000000,\n"
    ",Gifts,g2,kw3,B000000002,200,2,0,1,0.20,0.00,0.010000,0.100000,1.000000,0,0,0.00,0.00,,0.000000,0.000000\n"
    "2024-03-01,Brand,g1,007,B000000001,1000,4,1,0,12.50,0.75,0.004000,3.125000,12.500000,1,1,30.00,30.00,"
    "0.416667,2.400000,0.250000\n";
static const char invalid_csv[] =
    "file,line,ts,identity,ip,target,reason\n"
    "events.csv,17,2024-03-01T12:34:56.789Z,C1,10.0.0.1,ad:Brand|g1|007|B000000001,duplicate\n"
    "events.csv,18,2024-03-01T23:59:59.999Z,C2,,tag:fb01-20,bot\n"
    "events.csv,19,2024-03-02T00:00:00.000Z,C2,,tag:fb01-20,bot\n";
static const char diag_csv[] =
    "scope,metric,value,note\n"
    "sponsored,valid_clicks,6,\"6 valid clicks = 4 + 1 + 1, \"\"exact\"\"\nsecond line\"\n"
    "sponsored,decomposition_exact,true,6 = 4 + 1 + 1\n"
    "account,page_views_per_session,2.500000,FLAG 2.5 page views per session\n";
static const char cohorts_csv[] =
    "cohort,customers,eligible_30,retained_30,rate_30,eligible_60,retained_60,rate_60,eligible_90,retained_90,rate_90\n"
    ",3,2,1,0.500000,1,1,1.000000,0,0,\n"
    "2024-01,3,2,1,0.500000,1,1,1.000000,0,0,\n";
static const char customers_csv[] =
    "customer,first_purchase,last_purchase,orders,units,gmv,units_returned,refunds,net_revenue,return_rate,aov,"
    "orders_90d,days_since_last_activity,rfm,segment\n"
    "0042,2024-01-02T10:00:00.000Z,2024-02-02T10:00:00.000Z,2,3,100.10,0,0.00,100.10,0.000000,50.05,2,5,555,high_value\n"
    "C7,2024-01-05T10:00:00.000Z,2024-01-05T10:00:00.000Z,1,1,0.20,1,0.20,0.00,1.000000,0.20,1,40,111,potential\n";

static char *fixture_dir(void) {
    char *d = make_dir();
    put_file(d, "business_daily.csv", daily_csv);
    put_file(d, "ads.csv", ads_csv);
    put_file(d, "invalid_clicks.csv", invalid_csv);
    put_file(d, "diagnostics.csv", diag_csv);
    put_file(d, "cohorts.csv", cohorts_csv);
    put_file(d, "customers.csv", customers_csv);
    return d;
}

static char *write_xlsx(const char *dir) {
    cp_error err = {0};
    assert_int_equal(cp_xlsx_write(dir, &err), CP_OK);
    char *path = malloc(4200);
    assert_non_null(path);
    snprintf(path, 4200, "%s/report.xlsx", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return path;
}

/* ---- xlsx tests ---------------------------------------------------------------- */

/* One sheet per report CSV present, in present.h's order (business_daily
 * before ads before invalid_clicks before diagnostics before customers
 * before cohorts); files that are absent have no sheet. */
static void xlsx_one_sheet_per_report_csv(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = fixture_dir();
    char *x = write_xlsx(d);
    char *wb = zip_entry(x, "xl/workbook.xml");
    assert_non_null(wb);
    const char *order[] = {"business_daily", "ads", "invalid_clicks", "diagnostics", "customers", "cohorts"};
    const char *prev = wb;
    for (size_t i = 0; i < 6; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "<sheet name=\"%s\"", order[i]);
        const char *p = strstr(wb, pat);
        assert_non_null(p);
        assert_true(p > prev);
        prev = p;
    }
    size_t n = 0;
    for (const char *p = wb; (p = strstr(p, "<sheet ")); p++) n++;
    assert_int_equal(n, 6);
    free(wb);
    free(x);
    remove_dir(d);
}

/* R8 values read back equal the CSVs, cell by cell, on every sheet. */
static void r8_xlsx_values_equal_the_csvs(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = fixture_dir();
    char *x = write_xlsx(d);
    const char *names[] = {"business_daily", "ads", "invalid_clicks", "diagnostics", "customers", "cohorts"};
    for (size_t i = 0; i < 6; i++) {
        char *s = sheet_xml(x, names[i]);
        assert_non_null(s);
        assert_int_equal(sheet_vs_csv(s, d, names[i]), 0);
        free(s);
    }
    free(x);
    remove_dir(d);
}

/* R8 kinds: counts are numbers with a thousands format, money is a number
 * with at least two decimals shown (12.50 -> 12.5 shown "#,##0.00####"),
 * ratios are the ratio with a percent format (0.004000 -> 0.004, "0.00%"),
 * dates are Excel dates: 2024-03-01 = 19783 days after 1970-01-01, + 25569
 * = serial 45352, shown "yyyy-mm-dd". */
static void r8_xlsx_cells_are_typed(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = fixture_dir();
    char *x = write_xlsx(d);
    char *styles = zip_entry(x, "xl/styles.xml");
    char *daily = sheet_xml(x, "business_daily"), *ads = sheet_xml(x, "ads");
    assert_non_null(styles);
    assert_non_null(daily);
    assert_non_null(ads);
    char f[64];

    xcell c = get_cell(daily, "A3"); /* 2024-03-01 */
    assert_true(c.found && !c.is_string);
    assert_true(c.num == 45352.0);
    style_format(styles, c.style, f, sizeof f);
    assert_string_equal(f, "yyyy-mm-dd");

    c = get_cell(daily, "B2"); /* sessions 12 */
    assert_true(c.found && !c.is_string && c.num == 12.0);
    style_format(styles, c.style, f, sizeof f);
    assert_string_equal(f, "#,##0");

    c = get_cell(ads, "J2"); /* spend 12.50 */
    assert_true(c.found && !c.is_string && c.num == 12.5);
    style_format(styles, c.style, f, sizeof f);
    assert_string_equal(f, "#,##0.00####");

    c = get_cell(ads, "L2"); /* ctr 0.004000 */
    assert_true(c.found && !c.is_string && c.num == 0.004);
    style_format(styles, c.style, f, sizeof f);
    assert_string_equal(f, "0.00%");

    c = get_cell(ads, "A2"); /* whole-period row: empty date stays empty */
    assert_false(c.found);
    c = get_cell(ads, "M3"); /* cpc with zero clicks: empty (R6.2) */
    assert_false(c.found);
    free(styles);
    free(daily);
    free(ads);
    free(x);
    remove_dir(d);
}

/* Keys stay text even when they look like numbers: keyword "007", customer
 * "0042", rfm "555", cohort "2024-01"; the header row is frozen. */
static void xlsx_keys_stay_text_and_header_is_frozen(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = fixture_dir();
    char *x = write_xlsx(d);
    char *ads = sheet_xml(x, "ads"), *cust = sheet_xml(x, "customers"), *co = sheet_xml(x, "cohorts");
    xcell c = get_cell(ads, "D2");
    assert_true(c.is_string);
    assert_string_equal(c.text, "007");
    c = get_cell(cust, "A2");
    assert_true(c.is_string);
    assert_string_equal(c.text, "0042");
    c = get_cell(cust, "N2");
    assert_true(c.is_string);
    assert_string_equal(c.text, "555");
    c = get_cell(co, "A3");
    assert_true(c.is_string);
    assert_string_equal(c.text, "2024-01");
    assert_non_null(strstr(ads, "ySplit=\"1\""));
    assert_non_null(strstr(ads, "state=\"frozen\""));
    free(ads);
    free(cust);
    free(co);
    free(x);
    remove_dir(d);
}

/* RFC 4180: a quoted note with a comma, doubled quotes and a newline comes
 * back as one cell: 6 valid clicks = 4 + 1 + 1, "exact"<LF>second line. */
static void xlsx_quoted_csv_cell_round_trips(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = fixture_dir();
    char *x = write_xlsx(d);
    char *s = sheet_xml(x, "diagnostics");
    xcell c = get_cell(s, "D2");
    assert_true(c.is_string);
    assert_string_equal(c.text, "6 valid clicks = 4 + 1 + 1, \"exact\"\nsecond line");
    c = get_cell(s, "C3"); /* "true" stays text */
    assert_true(c.is_string);
    assert_string_equal(c.text, "true");
    free(s);
    free(x);
    remove_dir(d);
}

/* No report CSV at all: still a valid workbook, with a notes sheet. */
static void xlsx_without_csvs_writes_a_notes_sheet(void **state) {
    (void)state;
    if (!have_xlsx()) skip();
    char *d = make_dir();
    char *x = write_xlsx(d);
    char *s = sheet_xml(x, "notes");
    assert_non_null(s);
    free(s);
    free(x);
    remove_dir(d);
}

/* ---- html tests ------------------------------------------------------------------ */

/* The ads roll-up per campaign sums micro-units (R1.5): Brand's spend is
 * 12.50 + 0.10 = 12.60 exactly, impressions 1000 + 500 = 1500, clicks 4;
 * ctr = 4/1500 = 0.002667 (half-even, 6 decimals), acos = 12.60/30.00 =
 * 0.42; Gifts' acos has a zero divisor: null.  The daily row is not summed. */
static void r6_2_html_campaign_rollup_is_exact(void **state) {
    (void)state;
    char *d = fixture_dir();
    cp_error err = {0};
    assert_int_equal(cp_html_write(d, NULL, 0.25, &err), CP_OK);
    char *h = slurp_file(d, "report.html");
    assert_non_null(h);
    assert_non_null(strstr(h, "[\"Brand\",2,1500,4,1,0,1,1,12.60,0.75,30.00,30.00,0.002667,3.150000,8.400000,0.420000,"
                              "2.380952,0.250000]"));
    assert_non_null(strstr(h, "[\"Gifts\",1,200,2,0,1,0,0,0.20,0.00,0.00,0.00,0.010000,0.100000,1.000000,null,0.000000,0.000000]"));
    free(h);
    remove_dir(d);
}

/* A value holding "</script>" cannot end the data block: '<' is written
 * \u003c inside the JSON. */
static void html_data_cannot_close_the_script(void **state) {
    (void)state;
    char *d = make_dir();
    put_file(d, "diagnostics.csv", "scope,metric,value,note\naccount,sessions,1,</script><b>x</b>\n");
    cp_error err = {0};
    assert_int_equal(cp_html_write(d, NULL, 0.25, &err), CP_OK);
    char *h = slurp_file(d, "report.html");
    assert_non_null(h);
    assert_null(strstr(h, "</script><b>"));
    assert_non_null(strstr(h, "\\u003c/script>\\u003cb>x\\u003c/b>"));
    free(h);
    remove_dir(d);
}

/* Missing assets: the run goes on and report.html says the charts are
 * missing; the invalid clicks are counted per scope and R3.1 reason:
 * sponsored duplicate 1, external bot 2. */
static void html_without_assets_is_tables_only(void **state) {
    (void)state;
    char *d = fixture_dir();
    cp_error err = {0};
    assert_int_equal(cp_html_write(d, "/nonexistent/web", 0, &err), CP_OK);
    char *h = slurp_file(d, "report.html");
    assert_non_null(h);
    assert_non_null(strstr(h, "id=\"cp-note\""));
    assert_non_null(strstr(h, "\"assets\":false"));
    assert_non_null(strstr(h, "\"target_acos\":0.250000"));
    assert_non_null(strstr(h, "[\"sponsored\",\"duplicate\",1]"));
    assert_non_null(strstr(h, "[\"external\",\"bot\",2]"));
    assert_null(strstr(h, "http://"));
    assert_null(strstr(h, "https://"));
    free(h);
    remove_dir(d);
}

/* Big tables keep their top rows: 150 whole-period ASIN rows (R8: empty
 * date) and 150 daily ones; the page keeps the 100 with most sessions, says
 * 150 in all, and the ASIN with 150 sessions comes first. */
static void html_caps_large_tables(void **state) {
    (void)state;
    char *d = make_dir();
    char *csv = malloc(64 * 1024);
    assert_non_null(csv);
    size_t o = (size_t)sprintf(csv, "date,asin,sessions\n");
    for (int i = 1; i <= 150; i++) o += (size_t)sprintf(csv + o, ",A%03d,%d\n", i, i);
    for (int i = 1; i <= 150; i++) o += (size_t)sprintf(csv + o, "2024-03-01,A%03d,%d\n", i, i);
    put_file(d, "business_asin.csv", csv);
    free(csv);
    cp_error err = {0};
    assert_int_equal(cp_html_write(d, NULL, 0.25, &err), CP_OK);
    char *h = slurp_file(d, "report.html");
    assert_non_null(h);
    const char *t = strstr(h, "\"business_asin\":");
    assert_non_null(t);
    assert_non_null(strstr(t, "\"rows\":[[null,\"A150\",150]"));
    assert_non_null(strstr(t, "\"total\":150,\"kept\":100,\"sorted_by\":\"sessions\""));
    assert_null(strstr(t, "\"A050\""));
    free(h);
    remove_dir(d);
}

/* With the assets, the three markers of template.html are replaced by the
 * inline style, data and script, and "</" inside the script is escaped. */
static void html_inlines_the_assets(void **state) {
    (void)state;
    char *d = fixture_dir(), *a = make_dir();
    put_file(a, "template.html", "<html><head><!--CP:STYLE--></head><body><!--CP:DATA--><!--CP:SCRIPT--></body></html>");
    put_file(a, "dashboard.css", "body{color:red}");
    put_file(a, "dashboard.bundle.js", "var s='</script>';");
    cp_error err = {0};
    assert_int_equal(cp_html_write(d, a, 0.3, &err), CP_OK);
    char *h = slurp_file(d, "report.html");
    assert_non_null(h);
    assert_non_null(strstr(h, "<head><style>\nbody{color:red}\n</style></head>"));
    assert_non_null(strstr(h, "<body><script type=\"application/json\" id=\"cp-data\">{\"meta\":{\"format\":1,"
                              "\"target_acos\":0.300000,\"min_ctr\":0.004,\"assets\":true}"));
    assert_non_null(strstr(h, "<script>\nvar s='<\\/script>';\n</script></body></html>"));
    free(h);
    remove_dir(a);
    remove_dir(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xlsx_one_sheet_per_report_csv),
        cmocka_unit_test(r8_xlsx_values_equal_the_csvs),
        cmocka_unit_test(r8_xlsx_cells_are_typed),
        cmocka_unit_test(xlsx_keys_stay_text_and_header_is_frozen),
        cmocka_unit_test(xlsx_quoted_csv_cell_round_trips),
        cmocka_unit_test(xlsx_without_csvs_writes_a_notes_sheet),
        cmocka_unit_test(r6_2_html_campaign_rollup_is_exact),
        cmocka_unit_test(html_data_cannot_close_the_script),
        cmocka_unit_test(html_without_assets_is_tables_only),
        cmocka_unit_test(html_caps_large_tables),
        cmocka_unit_test(html_inlines_the_assets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

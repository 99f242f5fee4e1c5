/* xlsx.c -- report.xlsx, the spreadsheet export (`--format xlsx`, issue 8).
 *
 * One sheet per report CSV present in out_dir (present.h's list), written
 * with libxlsxwriter (Debian libxlsxwriter-dev, BSD-2-Clause) in its
 * constant-memory mode, so a large ads.csv or customers.csv streams through.
 *
 * Cells are typed from the column name and the cell text (present.h):
 * integers and decimals become numbers, R8 dates (YYYY-MM-DD) and
 * timestamps (RFC 3339 UTC) become Excel dates with a date format, money
 * gets "#,##0.00####" (at least two decimals, R8), ratios a percent format
 * (the stored value stays the ratio, 0.125 for 12.5%), keys stay text (an
 * ASIN or an RFM code is never turned into a number).  An empty CSV cell
 * (R8: a ratio with a zero divisor) stays empty.  The header row is bold,
 * frozen and has a filter; column widths follow the widest cell (8 to 60).
 *
 * A sheet holds at most 1,048,575 data rows (Excel's limit); a longer CSV is
 * cut there and the "notes" sheet says so.
 *
 * Built only with CP_HAVE_XLSXWRITER (the Makefile defines it and links
 * -lxlsxwriter); without it cp_xlsx_write() returns CP_EUSAGE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/present.h"

#ifdef CP_HAVE_XLSXWRITER
#include <xlsxwriter.h>

bool cp_xlsx_available(void) { return true; }

#define XLSX_MAX_DATA_ROWS 1048575u
#define XLSX_MAX_COLS 64
#define EXCEL_EPOCH_DAYS 25569.0 /* 1970-01-01 as an Excel serial day */

typedef struct formats {
    lxw_format *header, *integer, *money, *percent, *decimal, *date, *ts;
} formats;

static void set_err(cp_error *err, cp_result code, const char *msg, const char *what) {
    if (!err) return;
    err->code = code;
    err->file = NULL;
    err->line = 0;
    err->field = NULL;
    /* precisions keep the sentence inside msg[256] whatever the path */
    snprintf(err->msg, sizeof err->msg, "%.60s%s%.180s", msg, what ? ": " : "", what ? what : "");
}

/* Excel serial of an R8 timestamp 2024-03-01T12:34:56.000Z (UTC). */
static double ts_serial(const char *s) {
    long day = 0;
    cp_present_day(s, &day);
    int h = (s[11] - '0') * 10 + (s[12] - '0'), m = (s[14] - '0') * 10 + (s[15] - '0'),
        sec = (s[17] - '0') * 10 + (s[18] - '0');
    int ms = s[19] == '.' ? (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0') : 0;
    double day_ms = ((h * 60.0 + m) * 60.0 + sec) * 1000.0 + ms;
    return (double)day + EXCEL_EPOCH_DAYS + day_ms / 86400000.0;
}

/* Writes one cell; returns its display width in characters. */
static size_t write_cell(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const char *s, cp_col_kind ck,
                         const char *column, const formats *f) {
    cp_cell_kind k = cp_cell_kind_of(s);
    size_t len = strlen(s);
    if (k == CP_CELL_EMPTY) return 0;
    if (ck != CP_COL_TEXT && (k == CP_CELL_INT || k == CP_CELL_DECIMAL)) {
        double v = strtod(s, NULL);
        lxw_format *fmt = f->decimal;
        if (ck == CP_COL_MONEY) fmt = f->money;
        else if (ck == CP_COL_PERCENT) fmt = f->percent;
        else if (k == CP_CELL_INT) fmt = strcmp(column, "line") == 0 ? NULL : f->integer;
        worksheet_write_number(ws, row, col, v, fmt);
        return len + len / 3 + 1; /* thousands separators, % */
    }
    if (ck != CP_COL_TEXT && k == CP_CELL_DATE) {
        long day = 0;
        cp_present_day(s, &day);
        worksheet_write_number(ws, row, col, (double)day + EXCEL_EPOCH_DAYS, f->date);
        return 10;
    }
    if (ck != CP_COL_TEXT && k == CP_CELL_TS) {
        worksheet_write_number(ws, row, col, ts_serial(s), f->ts);
        return 23;
    }
    worksheet_write_string(ws, row, col, s, NULL);
    return len;
}

/* One sheet from DIR/NAME.csv; *cut set when rows were left out.  Returns
 * 0, 1 when the file is missing, -1 on a read error. */
static int write_sheet(lxw_workbook *wb, const char *dir, const char *name, const formats *f, bool *cut,
                       unsigned long long *n_rows) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    cp_csv *c = cp_csv_open(path);
    if (!c) return 1;
    char **cells;
    size_t n;
    int rc = cp_csv_next(c, &cells, &n);
    if (rc <= 0) {
        cp_csv_close(c);
        return rc < 0 ? -1 : 1;
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    if (!ws) {
        cp_csv_close(c);
        return -1;
    }
    size_t n_cols = n < XLSX_MAX_COLS ? n : XLSX_MAX_COLS;
    char columns[XLSX_MAX_COLS][48];
    cp_col_kind kinds[XLSX_MAX_COLS];
    size_t width[XLSX_MAX_COLS];
    for (size_t i = 0; i < n_cols; i++) {
        snprintf(columns[i], sizeof columns[i], "%s", cells[i]);
        kinds[i] = cp_col_kind_of(cells[i]);
        width[i] = strlen(cells[i]) + 3; /* room for the filter button */
        worksheet_write_string(ws, 0, (lxw_col_t)i, cells[i], f->header);
    }
    lxw_row_t row = 0;
    while ((rc = cp_csv_next(c, &cells, &n)) == 1) {
        if (row == XLSX_MAX_DATA_ROWS) {
            *cut = true;
            continue; /* count on, to say how many */
        }
        row++;
        for (size_t i = 0; i < n_cols && i < n; i++) {
            size_t w = write_cell(ws, row, (lxw_col_t)i, cells[i], kinds[i], columns[i], f);
            if (w > width[i]) width[i] = w;
        }
        (*n_rows)++;
    }
    cp_csv_close(c);
    if (rc < 0) return -1;
    for (size_t i = 0; i < n_cols; i++) {
        size_t w = width[i] < 8 ? 8 : width[i] > 60 ? 60 : width[i];
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, (double)w, NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_autofilter(ws, 0, 0, row, (lxw_col_t)(n_cols - 1));
    return 0;
}

cp_result cp_xlsx_write(const char *out_dir, cp_error *err) {
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/report.xlsx", out_dir);
    snprintf(tmp, sizeof tmp, "%s/report.xlsx.tmp", out_dir);
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    lxw_workbook *wb = workbook_new_opt(tmp, &wo);
    if (!wb) {
        set_err(err, CP_EIO, "cannot create", tmp);
        return CP_EIO;
    }
    workbook_set_properties(wb, &(lxw_doc_properties){.title = "clickpath report", .author = "clickpath"});
    formats f;
    f.header = workbook_add_format(wb);
    format_set_bold(f.header);
    format_set_bg_color(f.header, 0xEEF2F6);
    format_set_bottom(f.header, LXW_BORDER_THIN);
    f.integer = workbook_add_format(wb);
    format_set_num_format(f.integer, "#,##0");
    f.money = workbook_add_format(wb);
    format_set_num_format(f.money, "#,##0.00####");
    f.percent = workbook_add_format(wb);
    format_set_num_format(f.percent, "0.00%");
    f.decimal = workbook_add_format(wb);
    format_set_num_format(f.decimal, "#,##0.00####");
    f.date = workbook_add_format(wb);
    format_set_num_format(f.date, "yyyy-mm-dd");
    f.ts = workbook_add_format(wb);
    format_set_num_format(f.ts, "yyyy-mm-dd hh:mm:ss.000");

    char notes[16][160];
    size_t n_notes = 0;
    int sheets = 0;
    cp_result r = CP_OK;
    for (size_t i = 0; i < cp_present_n_files; i++) {
        bool cut = false;
        unsigned long long rows = 0;
        int rc = write_sheet(wb, out_dir, cp_present_files[i], &f, &cut, &rows);
        if (rc < 0) {
            set_err(err, CP_EIO, "cannot read the report", cp_present_files[i]);
            r = CP_EIO;
            break;
        }
        if (rc == 0) sheets++;
        if (cut && n_notes < 16)
            snprintf(notes[n_notes++], sizeof notes[0],
                     "%s: only the first %u rows fit in a sheet; every row is in %s.csv", cp_present_files[i],
                     XLSX_MAX_DATA_ROWS, cp_present_files[i]);
    }
    if (!r && (n_notes || sheets == 0)) {
        lxw_worksheet *ws = workbook_add_worksheet(wb, "notes");
        if (ws) {
            worksheet_write_string(ws, 0, 0, "note", f.header);
            if (sheets == 0) worksheet_write_string(ws, 1, 0, "no report CSV was found beside this workbook", NULL);
            for (size_t k = 0; k < n_notes; k++) worksheet_write_string(ws, (lxw_row_t)(k + 1 + (sheets == 0)), 0, notes[k], NULL);
            worksheet_set_column(ws, 0, 0, 100, NULL);
        }
    }
    lxw_error e = workbook_close(wb);
    if (!r && e != LXW_NO_ERROR) {
        set_err(err, CP_EIO, lxw_strerror(e), tmp);
        r = CP_EIO;
    }
    if (!r && rename(tmp, path) != 0) {
        set_err(err, CP_EIO, strerror(errno), path);
        r = CP_EIO;
    }
    if (r) unlink(tmp);
    return r;
}

#else /* !CP_HAVE_XLSXWRITER */

bool cp_xlsx_available(void) { return false; }

cp_result cp_xlsx_write(const char *out_dir, cp_error *err) {
    (void)out_dir;
    if (err) {
        err->code = CP_EUSAGE;
        err->file = NULL;
        err->line = 0;
        err->field = NULL;
        snprintf(err->msg, sizeof err->msg,
                 "--format xlsx: this clickpath was built without libxlsxwriter (apt-get install "
                 "libxlsxwriter-dev, then rebuild)");
    }
    return CP_EUSAGE;
}

#endif

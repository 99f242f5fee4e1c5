/* present.h -- reports for people (issue 8): the single-file HTML dashboard
 * (report.html) and the spreadsheet export (report.xlsx).
 *
 * Both writers are decoupled from the stages: they run after every other
 * writer and read the report files already in out_dir (business_daily.csv,
 * business_asin.csv, ads.csv, attribution.csv, invalid_clicks.csv,
 * diagnostics.csv, customers/segments/pareto/cohorts/cohorts_histogram/
 * feedback/cac.csv when present, summary.json).  A missing file leaves its
 * panel or sheet out; it is never an error.  docs/dashboard.md describes the
 * panels, the size limits and the choices made where SPEC is silent.
 *
 * Neither writer prints; both return CP_OK or fill *err (err may be NULL).
 * Both write to a temporary name and rename, so a failed run never leaves a
 * half-written report.html / report.xlsx.  Not thread-safe on one out_dir.
 */
#ifndef CLICKPATH_PRESENT_H
#define CLICKPATH_PRESENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clickpath/clickpath.h"

/* Writes OUT_DIR/report.html: one self-contained file (inline style, inline
 * charting bundle, the data as JSON), no network requests.  asset_dir holds
 * what web/build.sh built (dashboard.bundle.js, dashboard.css,
 * template.html), normally <dir of the executable>/web; NULL or missing
 * assets give a tables-only page with a note, still CP_OK.  target_acos is
 * --target-acos as a ratio (0.25 = 25%; <= 0 means the default 0.25): ads
 * rows above it are highlighted. */
cp_result cp_html_write(const char *out_dir, const char *asset_dir, double target_acos, cp_error *err);

/* Writes OUT_DIR/report.xlsx: one sheet per report CSV present, typed cells
 * (numbers as numbers, dates and timestamps as dates, money with a 2+
 * decimals format, ratios as percentages), frozen header row, column widths
 * from the content.  Returns CP_EUSAGE when clickpath was built without
 * libxlsxwriter (CP_HAVE_XLSXWRITER undefined). */
cp_result cp_xlsx_write(const char *out_dir, cp_error *err);

/* True when cp_xlsx_write() is available in this build. */
bool cp_xlsx_available(void);

/* ---- shared by html.c and xlsx.c ----------------------------------------- */

/* The report files both writers read, in the order of the sheets. */
extern const char *const cp_present_files[];
extern const size_t cp_present_n_files;

/* A streaming RFC 4180 reader (quoted fields may hold commas, quotes and
 * newlines).  cp_csv_next() returns 1 with a row, 0 at the end, -1 on a read
 * error or out of memory; the cells are NUL-terminated and owned by the
 * reader, valid until the next call. */
typedef struct cp_csv cp_csv;
cp_csv *cp_csv_open(const char *path); /* NULL when missing or unreadable */
int cp_csv_next(cp_csv *c, char ***cells, size_t *n_cells);
void cp_csv_close(cp_csv *c); /* accepts NULL */

/* How a report column is typed, decided by its name (R8's columns). */
typedef enum cp_col_kind {
    CP_COL_AUTO = 0,  /* by value: integer, decimal, date, timestamp or text */
    CP_COL_TEXT,      /* keys and labels: never a number (asin, rfm, cohort...) */
    CP_COL_MONEY,     /* exact money: spend, sales, gmv... */
    CP_COL_PERCENT,   /* ratios shown as percentages: ctr, acos, share... */
    CP_COL_DECIMAL    /* other ratios: roas, page_views_per_session... */
} cp_col_kind;
cp_col_kind cp_col_kind_of(const char *column);

/* What a cell holds, by its text. */
typedef enum cp_cell_kind {
    CP_CELL_EMPTY = 0,
    CP_CELL_INT,      /* -?[0-9]+ without a leading zero */
    CP_CELL_DECIMAL,  /* -?[0-9]+\.[0-9]+ */
    CP_CELL_DATE,     /* YYYY-MM-DD */
    CP_CELL_TS,       /* YYYY-MM-DDTHH:MM:SS(.fff)Z */
    CP_CELL_TEXT
} cp_cell_kind;
cp_cell_kind cp_cell_kind_of(const char *s);

/* Days since 1970-01-01 of a YYYY-MM-DD prefix; false when not a date. */
bool cp_present_day(const char *s, long *days);

#endif /* CLICKPATH_PRESENT_H */

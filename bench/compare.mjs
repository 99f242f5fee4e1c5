// compare.mjs -- checks DuckDB's reports (bench/compare.sql) against
// clickpath's, cell by cell.
//
//   node bench/compare.mjs CLICKPATH_DIR DUCKDB_DIR
//
// For every file DuckDB wrote, the rows of both sides are matched by the
// file's key columns (below) and every other column of DuckDB's file is
// compared with the column of the same name in clickpath's file: numbers as
// numbers (12.50 = 12.5; exact, no tolerance), everything else as text; an
// empty cell is an empty cell.  A row on one side only counts all its cells
// as different.  Prints one line per file, the first differences, and the
// totals; exits 1 when any cell differs.
import { readFileSync, readdirSync } from 'node:fs';

const KEYS = {
  business_asin: ['date', 'asin'],
  business_daily: ['date'],
  invalid_clicks: ['line'],
  ads: ['date', 'campaign', 'ad_group', 'keyword', 'asin'],
  attribution: ['date', 'level', 'tag', 'channel', 'publisher', 'campaign'],
  customers: ['customer'],
  segments: ['segment'],
  pareto: ['decile'],
  cohorts: ['cohort'],
  cohorts_histogram: ['days_to_second_order'],
  feedback: ['scope', 'key'],
  cac: ['source', 'level', 'key'],
  diagnostics: ['scope', 'metric'],
};
const MAX_SHOWN = 20;

// RFC 4180 rows (neither side writes newlines inside quotes).
function parseCsv(path) {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const split = (l) => {
    const out = []; let cur = ''; let q = false;
    for (let i = 0; i < l.length; i++) {
      const c = l[i];
      if (q) { if (c === '"') { if (l[i + 1] === '"') { cur += '"'; i++; } else q = false; } else cur += c; }
      else if (c === '"') q = true; else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
    }
    out.push(cur);
    return out;
  };
  const head = split(lines[0]);
  return { head, rows: lines.slice(1).map((l) => split(l)) };
}

// Decimal text in one canonical form: no trailing zeros, no "-0".
const norm = (v) => {
  if (!/^-?\d+(\.\d+)?$/.test(v)) return v;
  let [i, f = ''] = v.replace(/^-/, '').split('.');
  i = i.replace(/^0+(?=\d)/, '');
  f = f.replace(/0+$/, '');
  const s = f ? `${i}.${f}` : i;
  return v.startsWith('-') && s !== '0' ? `-${s}` : s;
};

const [cpDir, duckDir] = process.argv.slice(2);
if (!cpDir || !duckDir) {
  console.error('usage: node bench/compare.mjs CLICKPATH_DIR DUCKDB_DIR');
  process.exit(2);
}
let totalCells = 0; let totalDiff = 0; let shown = 0; let files = 0;
const say = (m) => { if (++shown <= MAX_SHOWN) console.log(`  DIFFERS ${m}`); };
const files_ = readdirSync(duckDir).filter((f) => f.endsWith('.csv')).sort();
for (const file of files_) {
  const name = file.replace(/\.csv$/, '');
  const keys = KEYS[name];
  if (!keys) { console.error(`compare: no key columns known for ${file}`); process.exit(2); }
  const d = parseCsv(`${duckDir}/${file}`);
  const c = parseCsv(`${cpDir}/${file}`);
  const cols = d.head.filter((h) => !keys.includes(h));
  for (const h of [...keys, ...cols]) {
    if (!c.head.includes(h)) { console.error(`compare: ${file}: clickpath has no column ${h}`); process.exit(2); }
  }
  const index = (t) => {
    const at = Object.fromEntries(t.head.map((h, i) => [h, i]));
    const m = new Map();
    for (const r of t.rows) {
      const k = keys.map((h) => r[at[h]]).join(' | ');
      if (m.has(k)) { console.error(`compare: ${file}: key ${k} twice`); process.exit(2); }
      m.set(k, Object.fromEntries(cols.map((h) => [h, r[at[h]]])));
    }
    return m;
  };
  const dm = index(d); const cm = index(c);
  let cells = 0; let diff = 0; let onlyC = 0; let onlyD = 0;
  for (const k of new Set([...cm.keys(), ...dm.keys()])) {
    const cr = cm.get(k); const dr = dm.get(k);
    if (!cr || !dr) {
      cells += cols.length; diff += cols.length;
      if (cr) onlyC++; else onlyD++;
      say(`${file} row [${k}] only in ${cr ? 'clickpath' : 'DuckDB'}`);
      continue;
    }
    for (const h of cols) {
      cells++;
      if (norm(cr[h]) !== norm(dr[h])) {
        diff++;
        say(`${file} [${k}] ${h}: clickpath '${cr[h]}', DuckDB '${dr[h]}'`);
      }
    }
  }
  files++; totalCells += cells; totalDiff += diff;
  console.log(`  ${file.padEnd(24)} ${String(cm.size).padStart(7)} rows, ${String(cols.length).padStart(2)} columns ` +
    `(${cols.join(' ')}): ${cells} cells, ${diff ? `${diff} DIFFER` : 'all equal'}` +
    `${onlyC || onlyD ? ` (rows only in clickpath ${onlyC}, only in DuckDB ${onlyD})` : ''}`);
}
if (shown > MAX_SHOWN) console.log(`  ... ${shown - MAX_SHOWN} more differences not shown`);
console.log(`compared ${totalCells} cells in ${files} files: ${totalDiff ? `${totalDiff} differ` : 'all equal'}`);
process.exit(totalDiff ? 1 : 0);

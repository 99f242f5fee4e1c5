// compare_sessions.mjs -- checks DuckDB's sessions.sql output against
// clickpath's reports, number by number.
//
//   node bench/compare_sessions.mjs DUCK.csv REPORT_DIR
//
// Per ASIN: business_asin.csv's whole-period rows (empty date); the account:
// business_daily.csv's whole-period row (DuckDB's row with an empty asin).
// Prints the first differences and exits 1 when any number differs.
import { readFileSync } from 'node:fs';

const COLS = ['sessions', 'sessions_sponsored', 'sessions_external', 'sessions_organic',
  'page_views', 'page_views_sponsored', 'page_views_external', 'page_views_organic'];

// RFC 4180 rows (the files hold no newlines inside quotes).
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
  return lines.slice(1).map((l) => Object.fromEntries(split(l).map((v, i) => [head[i], v])));
}

const [duckCsv, dir] = process.argv.slice(2);
const duck = new Map(parseCsv(duckCsv).map((r) => [r.asin, r]));
const ours = new Map();
for (const r of parseCsv(`${dir}/business_asin.csv`)) if (r.date === '') ours.set(r.asin, r);
const daily = parseCsv(`${dir}/business_daily.csv`).find((r) => r.date === '');
if (daily) ours.set('', daily);

let diffs = 0; let checked = 0;
const say = (m) => { if (++diffs <= 10) console.log(m); };
for (const key of new Set([...duck.keys(), ...ours.keys()])) {
  const d = duck.get(key); const o = ours.get(key);
  const name = key === '' ? '(account)' : key;
  if (!d || !o) {
    // An ASIN with no session on one side and all zeros on the other agrees.
    const r = d || o;
    if (COLS.every((c) => Number(r[c]) === 0)) continue;
    say(`${name}: only in ${d ? 'DuckDB' : 'clickpath'}`);
    continue;
  }
  for (const c of COLS) {
    checked++;
    if (Number(d[c]) !== Number(o[c])) say(`${name} ${c}: clickpath ${o[c]}, DuckDB ${d[c]}`);
  }
}
const acc = ours.get('');
console.log(`compared ${checked} numbers (${duck.size - 1} ASINs + the account` +
  `${acc ? `: ${acc.sessions} sessions, ${acc.page_views} page views` : ''}): ` +
  (diffs ? `${diffs} differ` : 'all equal'));
process.exit(diffs ? 1 : 0);

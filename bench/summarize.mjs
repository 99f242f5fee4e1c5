// summarize.mjs -- figures from the TSV rows that bench/lib.sh's `timed` writes.
//
//   node bench/summarize.mjs RESULTS.tsv [BASE,OTHER ...]
//
// Per event count and command: median / min / max wall time over the runs,
// MB/s and events/s (on the median), MB per CPU-second (what one core does:
// the file's bytes over user + system time), peak RSS (median over the runs)
// and bytes of peak RSS per event; plus what the command reported itself:
// DuckDB's SQL-only time (sql_ms, without starting node and DuckDB) and
// clickpath's store bytes per event (bpe, from --stats).  Each BASE,OTHER pair
// prints OTHER's median time and peak memory over BASE's (how many times
// faster / smaller BASE is), also on the fastest runs and on CPU seconds (user
// + system: the figure that other load on the machine disturbs least); a label
// prefix `sql:` takes DuckDB's SQL-only time for the median.  A pair written
// `minus:A,B` prints A's median time less B's (e.g. the whole report less the
// load alone: the computation), and each later `minus:` line's figure over
// the first one's.
import { readFileSync } from 'node:fs';

const [file, ...pairs] = process.argv.slice(2);
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [label, size, bytes, run, wall, cpu, rss, extra] = l.split('\t');
  const o = { label, size: Number(size), bytes: Number(bytes), run: Number(run),
    wall: Number(wall), cpu: Number(cpu), rss_kb: Number(rss) };
  if (extra) { const [k, v] = extra.split('='); o[k] = Number(v); }
  return o;
});
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const pad = (s, w) => String(s).padStart(w);

const groups = new Map();
for (const r of rows) {
  const k = `${r.size}\t${r.label}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const stats = new Map();
for (const [k, rs] of groups) {
  const [size, label] = k.split('\t');
  const w = rs.map((r) => r.wall);
  const s = { size: Number(size), label, n: rs.length, bytes: rs[0].bytes, med: median(w),
    min: Math.min(...w), max: Math.max(...w), cpu: median(rs.map((r) => r.cpu)),
    rss_mb: median(rs.map((r) => r.rss_kb)) / 1024 };
  if (rs[0].sql_ms !== undefined) {
    s.sql = median(rs.map((r) => r.sql_ms)) / 1000;
    s.sqlmin = Math.min(...rs.map((r) => r.sql_ms)) / 1000;
  }
  if (rs[0].bpe !== undefined) s.bpe = median(rs.map((r) => r.bpe));
  stats.set(k, s);
}

const sizes = [...new Set([...stats.values()].map((s) => s.size))].sort((a, b) => a - b);
for (const size of sizes) {
  const ss = [...stats.values()].filter((s) => s.size === size);
  const mb = ss[0].bytes / 1e6;
  console.log(`\n${size.toLocaleString('en-US')} events, ${fmt(mb, 1)} MB of CSV ` +
    `(${fmt(ss[0].bytes / size, 1)} bytes/event), ${ss[0].n} runs each`);
  console.log(`${'command'.padEnd(26)}${pad('median s', 9)}${pad('min', 8)}${pad('max', 8)}` +
    `${pad('MB/s', 8)}${pad('Mev/s', 7)}${pad('MB/CPU-s', 9)}${pad('peak MB', 9)}` +
    `${pad('RSS B/ev', 9)}  own figure`);
  for (const s of ss) {
    let own = '';
    if (s.sql !== undefined) own = `SQL only ${fmt(s.sql, 3)} s = ${fmt(mb / s.sql, 0)} MB/s`;
    if (s.bpe !== undefined) own = `store ${fmt(s.bpe, 1)} B/event`;
    console.log(`${s.label.padEnd(26)}${pad(fmt(s.med, 3), 9)}${pad(fmt(s.min, 3), 8)}` +
      `${pad(fmt(s.max, 3), 8)}${pad(fmt(mb / s.med, 0), 8)}${pad(fmt(size / s.med / 1e6, 2), 7)}` +
      `${pad(fmt(s.cpu > 0 ? mb / s.cpu : NaN, 0), 9)}${pad(fmt(s.rss_mb, 0), 9)}` +
      `${pad(fmt(s.rss_mb * 1048576 / size, 1), 9)}  ${own}`);
  }
  let firstMinus;
  for (const p of pairs) {
    if (p.startsWith('minus:')) {
      const [a, b] = p.slice(6).split(',');
      const sa = stats.get(`${size}\t${a.replace(/^sql:/, '')}`);
      const sb = stats.get(`${size}\t${b.replace(/^sql:/, '')}`);
      if (!sa || !sb) continue;
      const ta = a.startsWith('sql:') ? sa.sql : sa.med;
      const tb = b.startsWith('sql:') ? sb.sql : sb.med;
      const ma = a.startsWith('sql:') ? sa.sqlmin : sa.min;
      const mb = b.startsWith('sql:') ? sb.sqlmin : sb.min;
      const d = ta - tb; const dm = ma - mb;
      let rel = '';
      if (firstMinus === undefined) firstMinus = [d, dm];
      else {
        const r = (x, y) => (x > 0 && y > 0 ? `${fmt(x / y, 1)}x` : 'n/a (a difference is not positive)');
        rel = `; over the first: ${r(d, firstMinus[0])} (medians), ${r(dm, firstMinus[1])} (fastest)`;
      }
      console.log(`${a} - ${b}: medians ${fmt(ta, 3)} - ${fmt(tb, 3)} = ${fmt(d, 3)} s, ` +
        `fastest ${fmt(ma, 3)} - ${fmt(mb, 3)} = ${fmt(dm, 3)} s${rel}`);
      continue;
    }
    const [a, b] = p.split(',');
    const sa = stats.get(`${size}\t${a.replace(/^sql:/, '')}`);
    const sb = stats.get(`${size}\t${b.replace(/^sql:/, '')}`);
    if (!sa || !sb) continue;
    const ta = a.startsWith('sql:') ? sa.sql : sa.med;
    const tb = b.startsWith('sql:') ? sb.sql : sb.med;
    console.log(`ratio ${b} / ${a}: time ${fmt(tb / ta, 2)}x (min ${fmt(sb.min / sa.min, 2)}x), ` +
      `CPU time ${fmt(sb.cpu / sa.cpu, 2)}x, peak memory ${fmt(sb.rss_mb / sa.rss_mb, 2)}x`);
  }
}

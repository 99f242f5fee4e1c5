// duck.mjs -- run one of the bench SQL files in DuckDB (npm @duckdb/node-api).
//
//   node bench/duck.mjs SQLFILE [NAME=VALUE ...] [LOAD_ONLY=1]
//
// Every {{NAME}} in SQLFILE is replaced by VALUE; the statements (split on ';'
// at line ends) run in order (DUCK_PROFILE=1 prints each one's time on
// stderr; with LOAD_ONLY=1 only those before the line
// `-- @load-end`: the load of the CSV alone) on an in-memory database with DuckDB's default
// settings (all cores, default memory limit).  Prints one JSON line on stdout:
// {"ms": wall time of the SQL in milliseconds, "threads": DuckDB's thread
// count, "rows": rows of the last statement's result, "first": its first row,
// "mem_bytes": DuckDB's
// own memory accounting after the last statement, "version": DuckDB version}.
import { readFileSync } from 'node:fs';
import duckdb, { DuckDBInstance } from '@duckdb/node-api';

const [sqlFile, ...args] = process.argv.slice(2);
const loadOnly = args.includes('LOAD_ONLY=1');
const assigns = args.filter((a) => !a.startsWith('LOAD_ONLY='));
if (!sqlFile) {
  console.error('usage: node bench/duck.mjs SQLFILE [NAME=VALUE ...]');
  process.exit(2);
}
let sql = readFileSync(sqlFile, 'utf8');
if (loadOnly) {
  const cut = sql.search(/^-- @load-end/m);
  if (cut < 0) { console.error(`${sqlFile}: no '-- @load-end' line for LOAD_ONLY=1`); process.exit(2); }
  sql = sql.slice(0, cut);
}
for (const a of assigns) {
  const eq = a.indexOf('=');
  if (eq < 1) { console.error(`bad assignment: ${a}`); process.exit(2); }
  sql = sql.split(`{{${a.slice(0, eq)}}}`).join(a.slice(eq + 1));
}
const left = sql.match(/\{\{[A-Z_]+\}\}/);
if (left) { console.error(`${sqlFile}: ${left[0]} not given`); process.exit(2); }
// Drop comment lines, split on ';' at end of line.
const statements = sql.split('\n').filter((l) => !/^\s*--/.test(l)).join('\n')
  .split(/;\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0);

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const t0 = process.hrtime.bigint();
let last = null;
// DUCK_PROFILE=1: each statement's time on stderr
const profile = process.env.DUCK_PROFILE === '1';
for (const s of statements) {
  const t = process.hrtime.bigint();
  last = await con.runAndReadAll(s);
  if (profile) {
    const first = s.split('\n').find((l) => /(TABLE|COPY|TO ')/.test(l)) || s.split('\n')[0];
    console.error(`${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0).padStart(8)} ms  ${first.slice(0, 90)}`);
  }
}
const rows = last ? last.currentRowCount : 0;
const first = last && rows > 0 ? last.getRowObjectsJson()[0] : null;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const info = (await con.runAndReadAll(
  "SELECT current_setting('threads')::BIGINT AS threads, " +
  '(SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory())::BIGINT AS mem')).getRowObjects()[0];
console.log(JSON.stringify({ ms: Math.round(ms * 10) / 10, threads: Number(info.threads), rows, first,
  mem_bytes: Number(info.mem), version: duckdb.version() }));

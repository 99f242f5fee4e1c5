// edge_gen.mjs -- a small adversarial events file for bench/compare.sh's
// self-check: few identities, addresses and targets, timestamps on a coarse
// grid with many exact ties and gaps of exactly a window (30 min, 1 h, 7 d,
// 14 d, 365 d) and one ms either side, rows out of time order, cross-device
// sign-ins, same-millisecond repeat clicks, floods, purchases with and
// without order ids, negative units, unloaded page views, shared click ids.
// Every line is valid input (R1.3), so DuckDB reads what clickpath reads.
//
//   node bench/edge_gen.mjs N SEED DIR    -> DIR/events.csv, DIR/tags.csv
import { mkdirSync, writeFileSync } from 'node:fs';

const [n = '3000', seed = '1', dir = 'edge'] = process.argv.slice(2);
let s = (BigInt(seed) * 0xD1B54A32D192ED03n + 0x632BE59BD9B4E019n) & 0xFFFFFFFFFFFFFFFFn;
const rnd = () => { // splitmix64 -> [0, 1)
  s = (s + 0x9E3779B97F4A7C15n) & 0xFFFFFFFFFFFFFFFFn;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & 0xFFFFFFFFFFFFFFFFn;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & 0xFFFFFFFFFFFFFFFFn;
  return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const H = 3600000; const D = 24 * H;
const steps = [0, 0, 0, 1, 1000, 30 * 60000 - 1, 30 * 60000, 30 * 60000 + 1, H - 1, H, H + 1, 5 * H];
const bigSteps = [D, 7 * D - 1, 7 * D, 7 * D + 1, 14 * D, 14 * D + 1, 60 * D, 90 * D, 365 * D];
const visitors = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11', 'v12'];
const customers = ['c1', 'c2', 'c3', 'c4'];
const ips = ['10.0.0.1', '10.0.0.2', '', ''];
const uas = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'Mozilla/5.0 Safari', 'Mozilla/5.0 (compatible; Googlebot/2.1)',
  'curl/8.0', ''];
const asins = ['A1', 'A2', 'A3'];
const places = [['K1', 'G1', 'kw1'], ['K1', 'G1', ''], ['K2', '', ''], ['K2', 'G2', 'kw "x", y']];
const tags = ['t1-20', 't2-20', 't3-20', 'zz9-20'];
const refs = ['https://www.Site-A.com:443/p', 'site-a.com/q', 'http://user@b.com/x', ''];
const clickIds = [];
// Order ids: one identity's own (prefixed by its visitor or customer), or with
// EDGE_SHARED_ORDERS=1 shared by whoever buys at that moment (an order of
// several identities: clickpath's new-to-brand then depends on line order,
// bench/README.md).
const shared = process.env.EDGE_SHARED_ORDERS === '1';
const oid = (ev, k) => (shared ? `o${k}` : `${ev.customer || ev.visitor}-o${k}`);
let t = Date.UTC(2025, 0, 1);
const rows = [];
const q = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
for (let i = 0; i < Number(n); i++) {
  t += rnd() < 0.01 ? pick(bigSteps) : pick(steps);
  const ev = { ts: new Date(t).toISOString(), visitor: '', customer: '', ip: pick(ips), ua: pick(uas) };
  if (rnd() < 0.8) ev.visitor = pick(visitors);
  // visitors v1..v5 sign in now and then (R2.1 stitching); the others never
  if (!ev.visitor || (visitors.indexOf(ev.visitor) < 5 && rnd() < 0.15)) ev.customer = pick(customers);
  const r = rnd();
  if (r < 0.12) {
    const p = pick(places);
    Object.assign(ev, { type: 'impression', campaign: p[0], ad_group: p[1], keyword: p[2], asin: pick(asins),
      cost: pick(['', '0.01', '0.005']) });
  } else if (r < 0.45) {
    ev.type = 'click';
    if (rnd() < 0.5) {
      const p = pick(places);
      Object.assign(ev, { campaign: p[0], ad_group: p[1], keyword: p[2], asin: pick(asins) });
    } else {
      Object.assign(ev, { tag: pick(tags), referrer: pick(refs), asin: rnd() < 0.7 ? pick(asins) : '' });
    }
    ev.cost = pick(['', '0.50', '1.25']);
    ev.click_id = rnd() < 0.1 && clickIds.length ? pick(clickIds) : (rnd() < 0.9 ? `k${i}` : '');
    if (ev.click_id) clickIds.push(ev.click_id);
    if (rnd() < 0.3) { // a burst at the same millisecond: floods and same-ms repeats
      const m = 1 + Math.floor(rnd() * 12);
      for (let j = 0; j < m; j++) rows.push({ ...ev, click_id: rnd() < 0.5 ? ev.click_id : `k${i}_${j}` });
    }
  } else if (r < 0.75) {
    ev.type = 'page_view';
    ev.asin = pick(asins);
    ev.loaded = pick(['', '', '1', 'true', '0', 'FALSE']);
    if (clickIds.length && rnd() < 0.6) ev.click_id = rnd() < 0.8 ? clickIds[clickIds.length - 1] : pick(clickIds);
  } else if (r < 0.83) {
    Object.assign(ev, { type: 'add_to_cart', asin: pick(asins) });
  } else if (r < 0.94) {
    Object.assign(ev, { type: 'purchase', asin: pick(asins), order: rnd() < 0.7 ? oid(ev, Math.floor(i / 3)) : '',
      units: pick(['', '1', '2', '-1']), price: pick(['', '9.99', '0.333333']) });
    if (!ev.price || rnd() < 0.3) ev.amount = pick(['19.98', '5.00', '0']);
    if (ev.units === '-1' && ev.amount) ev.amount = `-${ev.amount}`;
  } else if (r < 0.97) {
    Object.assign(ev, { type: 'return', asin: pick(asins), order: rnd() < 0.5 ? oid(ev, Math.floor(i / 3) - 1) : '',
      units: pick(['', '1']), amount: pick(['', '9.99']), price: pick(['', '3.00']) });
  } else {
    Object.assign(ev, { type: 'feedback', order: oid(ev, Math.floor(i / 3) - Math.floor(rnd() * 3)),
      rating: pick(['1', '2', '3', '5']) });
  }
  rows.push(ev);
}
// out of time order: swap neighbours now and then (R1.6 order is by time)
for (let i = 1; i < rows.length; i++) if (rnd() < 0.2) [rows[i - 1], rows[i]] = [rows[i], rows[i - 1]];
const cols = ['ts', 'type', 'visitor', 'customer', 'ip', 'ua', 'referrer', 'asin', 'campaign', 'ad_group', 'keyword',
  'tag', 'click_id', 'cost', 'order', 'units', 'price', 'amount', 'loaded', 'rating'];
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/events.csv`, `${cols.join(',')}\n${rows.map((e) => cols.map((c) => q(e[c] ?? '')).join(',')).join('\n')}\n`);
writeFileSync(`${dir}/tags.csv`, 'tag,channel,publisher,campaign,asin\nt1-20,google,g-ads,spring,A1\n' +
  't2-20,facebook,fb-group,spring,A2\nt3-20,email,klaviyo,winter,\nt4-20,tiktok,creator,winter,A3\nt1-20,other,x,y,A2\n');
console.log(`${rows.length} events in ${dir}/events.csv`);

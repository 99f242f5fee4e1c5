// dashboard.mjs -- renders report.html in headless Chromium and checks it
// against the CSVs beside it (issue 8).  Driven by tests/e2e/dashboard.sh.
//
//   node tests/e2e/dashboard.mjs full     REPORT_DIR ARTIFACT_DIR
//   node tests/e2e/dashboard.mjs fallback REPORT_DIR ARTIFACT_DIR
//
// full: the page with charts; fallback: the tables-only page written when
// web/build.sh's assets are missing.  Prints "ok NAME" / "FAIL NAME" lines
// and "N passed, M failed"; exits 1 on any failure.
// playwright-core comes from web/node_modules (web/build.sh installs it);
// the browser is Debian's chromium (no browser download).
import { createRequire } from 'node:module';
import { readFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const [mode, repDir, artDir] = process.argv.slice(2);
let pass = 0, fail = 0;
function check(name, cond, detail) {
  if (cond) { pass++; console.log('ok   ' + name); }
  else { fail++; console.log('FAIL ' + name + (detail !== undefined ? ': ' + detail : '')); }
}

// ---- the CSVs (RFC 4180) ----------------------------------------------------
function parseCsv(text) {
  const rows = []; let row = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') { if (text[i + 1] === '"') { cell += '"'; i++; } else q = false; }
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else if (c !== '\r') cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  const [head, ...body] = rows;
  return body.map(r => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}
function csv(name) {
  const p = join(repDir, name + '.csv');
  return existsSync(p) ? parseCsv(readFileSync(p, 'utf8')) : null;
}

const launchArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: launchArgs });
const pageUrl = pathToFileURL(resolve(repDir, 'report.html')).href;
mkdirSync(artDir, { recursive: true });

// Opens the page in a fresh context; records console errors, page errors and
// every request other than the page itself (none may happen).
async function open(viewport, extra = {}) {
  const ctx = await browser.newContext({ viewport, ...extra });
  const page = await ctx.newPage();
  const errors = [], requests = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(e.message));
  await ctx.route('**/*', route => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    requests.push(url);
    return route.abort();
  });
  page.on('request', r => { if (r.url() !== pageUrl && !requests.includes(r.url())) requests.push(r.url()); });
  await page.goto(pageUrl, { waitUntil: 'load' });
  return { ctx, page, errors, requests };
}

const sizeMb = statSync(join(repDir, 'report.html')).size / 1e6;
check('report.html is under 5 MB', sizeMb < 5, sizeMb.toFixed(2) + ' MB');

if (mode === 'fallback') {
  const { ctx, page, errors, requests } = await open({ width: 1366, height: 900 });
  await page.waitForSelector('table');
  check('fallback: no console errors', errors.length === 0, errors.join(' | '));
  check('fallback: no network requests', requests.length === 0, requests.join(' '));
  check('fallback: the note says the charts are missing', await page.locator('#cp-note').count() === 1);
  const tables = await page.locator('table').count();
  check('fallback: tables drawn', tables >= 5, tables);
  await page.screenshot({ path: join(artDir, 'dashboard-fallback.png'), fullPage: true });
  await ctx.close();
} else {
  const daily = csv('business_daily');
  const whole = daily.find(r => r.date === '');
  const days = daily.filter(r => r.date !== '');
  const diag = csv('diagnostics');
  const ads = csv('ads');
  const attr = csv('attribution');
  const inv = csv('invalid_clicks');
  const segs = csv('segments'), pareto = csv('pareto'), hist = csv('cohorts_histogram');
  const cac = csv('cac'), cohorts = csv('cohorts'), asin = csv('business_asin');

  const { ctx, page, errors, requests } = await open({ width: 1366, height: 900 });
  await page.waitForFunction(() => window.clickpath && window.clickpath.ready, null, { timeout: 20000 });
  await page.waitForTimeout(600); // animations (250 ms) settle before the screenshot
  check('no console errors', errors.length === 0, errors.join(' | '));
  check('no network requests', requests.length === 0, requests.join(' '));
  const reg = await page.evaluate(() => ({
    errors: window.clickpath.errors,
    panels: window.clickpath.panels,
    charts: Object.fromEntries(Object.entries(window.clickpath.charts).map(([k, c]) =>
      [k, c.data.datasets.map(d => ({ label: d.label, data: d.data.map(v => (v && typeof v === 'object') ? v.y : v) }))]))
  }));
  check('every panel drew without an error', reg.errors.length === 0, reg.errors.join(' | '));

  // A chart's shape: datasets × points.
  function shape(id, nSeries, nPoints) {
    const c = reg.charts[id];
    if (!c) return check(`chart ${id} drawn`, false, 'missing');
    check(`chart ${id}: ${nSeries} series`, c.length === nSeries, c.length);
    check(`chart ${id}: ${nPoints} points per series`, c.every(d => d.data.length === nPoints), c.map(d => d.data.length).join(','));
  }
  const sumOf = (rows, k) => rows.reduce((s, r) => s + Number(r[k] || 0), 0);
  const dv = (scope, metric) => Number((diag.find(r => r.scope === scope && r.metric === metric) || {}).value);

  // the headline figure equals the CSV's whole-period row
  const shown = await page.locator('#kpi-sessions').textContent();
  check('total sessions shown = business_daily.csv whole-period sessions',
    shown.replace(/\D/g, '') === whole.sessions, `${shown} vs ${whole.sessions}`);
  const shownSales = await page.locator('#kpi-sales').getAttribute('data-value');
  check('ordered sales shown = business_daily.csv whole-period sales', Number(shownSales) === Number(whole.sales));

  shape('traffic', 4, days.length);
  const stacked = reg.charts.traffic.slice(0, 3).reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0);
  check('daily sessions by source add up to the whole-period sessions', stacked === Number(whole.sessions), stacked);
  check('daily page views = business_daily.csv', reg.charts.traffic[3].data.join() === days.map(r => Number(r.page_views)).join());
  shape('sales', 3, days.length);
  check('daily units = business_daily.csv', reg.charts.sales[0].data.join() === days.map(r => Number(r.units)).join());

  shape('funnel', 2, 6);
  check('funnel valid clicks = diagnostics.csv', reg.charts.funnel[0].data[2] === dv('sponsored', 'valid_clicks') &&
    reg.charts.funnel[1].data[2] === dv('external', 'valid_clicks'));
  const reasons = new Set(['bot', 'blocked_ip', 'flood', 'duplicate', ...inv.map(r => r.reason)]);
  shape('invalid', 2, reasons.size);
  const invShown = reg.charts.invalid.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0);
  check('invalid clicks by reason add up to invalid_clicks.csv', invShown === inv.length, `${invShown} vs ${inv.length}`);
  shape('why', 3, 2);
  check('R9 sentences listed', await page.locator('#panel-why ul.explain li').count() >= 4);

  const campaigns = new Set(ads.filter(r => r.date === '').map(r => r.campaign));
  shape('ads', 2, Math.min(15, campaigns.size));
  const adRows = page.locator('#panel-ads table.data tbody tr');
  check('campaign table: one row per campaign', await adRows.count() === campaigns.size, await adRows.count());
  const spendAll = sumOf(ads.filter(r => r.date === ''), 'spend');
  const spendShown = reg.charts.ads[0].data.reduce((a, b) => a + b, 0);
  if (campaigns.size <= 15) check('campaign spend adds up to ads.csv', Math.abs(spendShown - spendAll) < 1e-6, `${spendShown} vs ${spendAll}`);
  // sorting: by Campaign (text, ascending), then again (descending)
  const campaignHeader = page.locator('#panel-ads thead th button', { hasText: 'Campaign' });
  await campaignHeader.click();
  const firstAsc = await adRows.first().locator('td').first().textContent();
  await campaignHeader.click();
  const firstDesc = await adRows.first().locator('td').first().textContent();
  const names = [...campaigns].sort((a, b) => a.localeCompare(b));
  check('campaign table sorts by name both ways', firstAsc === names[0] && firstDesc === names[names.length - 1], `${firstAsc} / ${firstDesc}`);
  // highlights: ACoS above --target-acos (default 25%), CTR below 0.4%, per campaign
  const target = Number(process.env.TARGET_ACOS || 0.25);
  let expectHl = 0;
  for (const c of campaigns) {
    const rows = ads.filter(r => r.date === '' && r.campaign === c);
    const spend = sumOf(rows, 'spend'), sales = sumOf(rows, 'sales_7d'), impr = sumOf(rows, 'impressions'), clicks = sumOf(rows, 'clicks');
    if (sales > 0 && spend / sales > target) expectHl++;
    if (impr > 0 && clicks / impr < 0.004) expectHl++;
  }
  const hl = await page.locator('#panel-ads td.hl').count();
  check(`campaign table highlights ACoS > ${target} and CTR < 0.4% (${expectHl} cells)`, hl === expectHl, hl);

  if (attr) {
    const channels = attr.filter(r => r.date === '' && r.level === 'channel');
    shape('attribution', 3, channels.length);
    const chRows = page.locator('#panel-attribution tr.lvl-channel:not(.collapsed)');
    check('attribution tree: a row per channel (+ unregistered tags)', (await chRows.count()) >= channels.length, await chRows.count());
    // open the first channel: its publishers appear
    await page.locator('#panel-attribution tr.lvl-channel button.tree').first().click();
    check('attribution tree opens', await page.locator('#panel-attribution tr.lvl-publisher:not(.collapsed)').count() > 0);
  } else check('attribution panel says the file is missing', await page.locator('#panel-attribution .missing').count() === 1);

  if (segs) {
    shape('segments', 2, segs.filter(r => r.segment !== 'pareto_top20').length);
    if (pareto) check('chart pareto: decile points + origin', reg.charts.pareto && reg.charts.pareto[0].data.length === pareto.length + 1);
  }
  if (cac) {
    const ch = cac.filter(r => r.level === 'channel');
    check('chart cac: a bar per channel', reg.charts.cac && reg.charts.cac.every(d => d.data.length === ch.length));
  }
  if (hist) shape('histogram', 1, hist.length);
  if (cohorts) check('cohort heatmap: a row per cohort', await page.locator('#panel-cohorts tbody tr').count() === cohorts.length);
  const asins = asin.filter(r => r.date === '');
  shape('asins', 3, Math.min(15, asins.length));

  // interaction: hovering shows a tooltip; a legend click hides a series
  const canvas = page.locator('#chart-traffic');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForTimeout(100);
  check('hover shows a tooltip', await page.evaluate(() => window.clickpath.charts.traffic.tooltip.getActiveElements().length > 0));
  const hit = await page.evaluate(() => {
    const l = window.clickpath.charts.traffic.legend, b = l.legendHitBoxes[0];
    return { x: b.left + 4, y: b.top + 4, index: l.legendItems[0].datasetIndex };
  });
  await page.mouse.click(box.x + hit.x, box.y + hit.y);
  await page.waitForTimeout(100);
  const shownAfter = await page.evaluate(i => window.clickpath.charts.traffic.isDatasetVisible(i), hit.index);
  check('a legend click hides a series', shownAfter === false);
  await page.mouse.click(box.x + hit.x, box.y + hit.y);

  // screenshots: desktop, then phone width
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(artDir, 'dashboard-desktop.png'), fullPage: true });
  await ctx.close();

  const phone = await open({ width: 390, height: 844 }, { deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.page.waitForFunction(() => window.clickpath && window.clickpath.ready, null, { timeout: 20000 });
  await phone.page.waitForTimeout(600);
  check('phone: no console errors', phone.errors.length === 0, phone.errors.join(' | '));
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('phone: nothing wider than the screen', overflow <= 1, overflow + ' px');
  await phone.page.screenshot({ path: join(artDir, 'dashboard-phone.png'), fullPage: true });
  await phone.ctx.close();
}
await browser.close();
console.log(`dashboard.mjs: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);

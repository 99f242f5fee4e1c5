/* dashboard.js -- draws report.html's panels (issue 8; docs/dashboard.md).
 *
 * Input: the JSON in <script id="cp-data">, written by src/report/html.c:
 *   { meta: {target_acos, min_ctr, assets, currency?},
 *     summary: summary.json (R8) or null,
 *     tables: { NAME: {columns: [...], rows: [[...]], total, kept, sorted_by} } }
 * where NAME is a report file (business_daily, business_asin, ads,
 * attribution, diagnostics, segments, pareto, cohorts, cohorts_histogram,
 * feedback, cac) or a reduction made by html.c (ads_campaigns,
 * invalid_by_reason, customers_summary).  Any table may be missing: its
 * panel then says so.
 *
 * For tests and people poking in the console, window.clickpath holds
 * {charts: {id: Chart}, kpis: {key: number}, errors: [...], ready: bool}.
 * Runs after Chart.js (bundled before this file by web/build.sh).
 */
(function () {
  'use strict';

  var registry = { charts: {}, kpis: {}, panels: [], errors: [], ready: false };
  window.clickpath = registry;

  var dataEl = document.getElementById('cp-data');
  var D = JSON.parse(dataEl ? dataEl.textContent : '{}');
  var META = D.meta || {};
  var S = D.summary || {};
  var TABLES = D.tables || {};
  var TARGET_ACOS = typeof META.target_acos === 'number' && META.target_acos > 0 ? META.target_acos : 0.25;
  var MIN_CTR = typeof META.min_ctr === 'number' ? META.min_ctr : 0.004;

  /* ---- numbers for people ------------------------------------------------ */
  var LANG = (navigator.languages && navigator.languages[0]) || navigator.language || 'en-US';
  var NF = {
    int: new Intl.NumberFormat(LANG, { maximumFractionDigits: 0 }),
    money: META.currency
      ? new Intl.NumberFormat(LANG, { style: 'currency', currency: META.currency, minimumFractionDigits: 2 })
      : new Intl.NumberFormat(LANG, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    pct: new Intl.NumberFormat(LANG, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    pctAxis: new Intl.NumberFormat(LANG, { style: 'percent', maximumFractionDigits: 1 }),
    dec: new Intl.NumberFormat(LANG, { minimumFractionDigits: 0, maximumFractionDigits: 2 }),
    compact: new Intl.NumberFormat(LANG, { notation: 'compact', maximumFractionDigits: 1 })
  };
  function fmt(kind, v) {
    if (v === null || v === undefined || v === '' || (typeof v === 'number' && !isFinite(v))) return '–';
    if (typeof v !== 'number') return String(v);
    return (NF[kind] || NF.dec).format(v);
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }
  function ratio(a, b) { return b ? a / b : null; }

  /* ---- tables ---------------------------------------------------------------- */
  /* A report table as objects keyed by column name; null when missing. */
  function table(name) {
    var t = TABLES[name];
    if (!t || !t.columns || !t.rows) return null;
    var rows = t.rows.map(function (r) {
      var o = {};
      for (var i = 0; i < t.columns.length; i++) o[t.columns[i]] = r[i] === undefined ? null : r[i];
      return o;
    });
    return { rows: rows, total: t.total, kept: t.kept, sortedBy: t.sorted_by, columns: t.columns };
  }
  function truncNote(t, file, what) {
    if (!t || t.kept >= t.total) return null;
    return 'Showing the top ' + fmt('int', t.kept) + ' of ' + fmt('int', t.total) + ' ' + what +
      (t.sortedBy ? ' by ' + t.sortedBy.replace(/_/g, ' ') : '') + '; every row is in ' + file + '.';
  }

  /* ---- colours (Okabe-Ito, colour-blind safe) -------------------------------------- */
  var C = { blue: '#0072B2', orange: '#E69F00', green: '#009E73', sky: '#56B4E9', verm: '#D55E00',
            pink: '#CC79A7', yellow: '#F0E442', grey: '#6E7781', black: '#1B1F24' };
  var SOURCE = { sponsored: C.blue, external: C.orange, organic: C.green };

  /* ---- Chart.js defaults ---------------------------------------------------------------- */
  var reduced = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.color = '#3d444d';
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = reduced ? false : { duration: 250 };
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
  Chart.defaults.plugins.tooltip.callbacks.label = function (ctx) {
    var horizontal = ctx.chart.options.indexAxis === 'y';
    var v = horizontal ? ctx.parsed.x : ctx.parsed.y;
    return ' ' + ctx.dataset.label + ': ' + fmt(ctx.dataset.cpFmt || 'dec', v);
  };

  function axis(kind, opts) {
    var a = Object.assign({ beginAtZero: true, ticks: {} }, opts || {});
    a.ticks.callback = function (v) {
      if (kind === 'pct') return NF.pctAxis.format(v);
      if (kind === 'label') return this.getLabelForValue(v);
      return NF.compact.format(v);
    };
    return a;
  }

  /* ---- DOM helpers -------------------------------------------------------------------------- */
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  var app = document.getElementById('app');
  var toc = document.getElementById('cp-toc');

  function panel(id, title, desc, wide) {
    var p = el('section', { class: 'panel' + (wide ? ' wide' : ''), id: 'panel-' + id, 'aria-labelledby': 'h-' + id });
    p.appendChild(el('h2', { id: 'h-' + id }, title));
    if (desc) p.appendChild(el('p', { class: 'desc' }, desc));
    app.appendChild(p);
    if (toc) {
      var a = el('a', { href: '#panel-' + id }, title);
      toc.appendChild(a);
    }
    registry.panels.push(id);
    return p;
  }
  function missing(p, what) {
    p.appendChild(el('p', { class: 'missing' }, what + ' is not in this run\'s reports.'));
  }
  function note(p, text) { if (text) p.appendChild(el('p', { class: 'note' }, text)); }

  /* size: true or 'short' for a low chart, 'tall' for one bar per row of names */
  function chart(p, id, config, label, size) {
    var box = el('div', { class: 'chart' + (size === 'tall' ? ' tall' : size ? ' short' : '') });
    var canvas = el('canvas', { id: 'chart-' + id, role: 'img', 'aria-label': label });
    box.appendChild(canvas);
    p.appendChild(box);
    config.options = config.options || {};
    config.options.responsive = true;
    var c = new Chart(canvas, config);
    registry.charts[id] = c;
    return c;
  }

  function kpi(box, key, label, value, kind, bad) {
    var k = el('div', { class: 'kpi', 'data-key': key });
    k.appendChild(el('div', { class: 'label' }, label));
    var v = el('div', { class: 'value' + (bad ? ' bad' : ''), id: 'kpi-' + key }, fmt(kind, value));
    if (typeof value === 'number') v.setAttribute('data-value', String(value));
    k.appendChild(v);
    box.appendChild(k);
    registry.kpis[key] = value;
  }

  /* A sortable table.  cols: [{key, label, kind ('text'|'int'|'money'|'pct'|'dec'),
   * hl: function(row) -> bool, get: function(row) -> value}] */
  function sortable(p, cols, rows, opts) {
    opts = opts || {};
    var wrap = el('div', { class: 'tablewrap' });
    var t = el('table', { class: 'data' });
    if (opts.caption) t.appendChild(el('caption', { class: 'legend-note' }, opts.caption));
    var thead = el('thead'), hr = el('tr');
    var state = { key: opts.sortKey || null, dir: opts.sortDir || -1 };
    var tbody = el('tbody');
    function value(c, r) { return c.get ? c.get(r) : r[c.key]; }
    function render() {
      var sorted = rows.slice();
      if (state.key) {
        var c = cols.filter(function (x) { return x.key === state.key; })[0];
        sorted.sort(function (a, b) {
          var x = value(c, a), y = value(c, b);
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * state.dir;
          return String(x).localeCompare(String(y)) * state.dir;
        });
      }
      tbody.textContent = '';
      sorted.forEach(function (r) {
        var tr = el('tr');
        cols.forEach(function (c) {
          var v = value(c, r);
          var td = el('td', c.kind === 'text' ? { class: 'text' } : null, c.kind === 'text' ? (v === null ? '' : String(v)) : fmt(c.kind, v));
          if (c.hl && c.hl(r)) { td.className += ' hl'; td.title = c.hlTitle || ''; }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      Array.prototype.forEach.call(hr.children, function (th, i) {
        th.setAttribute('aria-sort', cols[i].key === state.key ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
      });
    }
    cols.forEach(function (c) {
      var th = el('th', { scope: 'col' });
      var b = el('button', { type: 'button' }, c.label);
      b.addEventListener('click', function () {
        if (state.key === c.key) state.dir = -state.dir;
        else { state.key = c.key; state.dir = c.kind === 'text' ? 1 : -1; }
        render();
      });
      th.appendChild(b);
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    t.appendChild(thead);
    t.appendChild(tbody);
    wrap.appendChild(t);
    p.appendChild(wrap);
    render();
    return t;
  }

  function safely(id, fn) {
    try { fn(); } catch (e) {
      registry.errors.push(id + ': ' + e.message);
      console.error('clickpath panel ' + id + ': ' + (e && e.stack || e));
      var p = document.getElementById('panel-' + id);
      if (p) p.appendChild(el('p', { class: 'note' }, 'This panel could not be drawn: ' + e.message));
    }
  }

  /* ---- the data every panel shares -------------------------------------------------------- */
  var daily = table('business_daily');
  var dayRows = daily ? daily.rows.filter(function (r) { return r.date; }) : [];
  var whole = daily ? daily.rows.filter(function (r) { return !r.date; })[0] || null : null;
  var diag = table('diagnostics');
  function diagValue(scope, metric) {
    if (!diag) return null;
    for (var i = 0; i < diag.rows.length; i++) {
      var r = diag.rows[i];
      if (r.scope === scope && r.metric === metric) return typeof r.value === 'number' ? r.value : null;
    }
    return null;
  }
  var camps = table('ads_campaigns');
  var attr = table('attribution');
  function sum(rows, key) { return rows.reduce(function (s, r) { return s + num(r[key]); }, 0); }

  /* ---- header ---------------------------------------------------------------------------------- */
  (function () {
    var period = document.getElementById('cp-period');
    if (!period) return;
    var parts = [];
    if (dayRows.length) parts.push(dayRows[0].date + ' to ' + dayRows[dayRows.length - 1].date + ' (' + fmt('int', dayRows.length) + ' days)');
    if (S.tz) parts.push('report time zone ' + S.tz);
    if (S.as_of) parts.push('as of ' + S.as_of);
    if (typeof S.accepted === 'number') parts.push(fmt('int', S.accepted) + ' events accepted, ' + fmt('int', S.rejected || 0) + ' rejected');
    period.textContent = parts.join(' · ');
  })();

  /* ---- panels ------------------------------------------------------------------------------------ */

  safely('overview', function () {
    var p = panel('overview', 'At a glance', 'Whole-period figures (business_daily.csv, ads.csv, feedback.csv).', true);
    var box = el('div', { class: 'kpis' });
    p.appendChild(box);
    if (whole) {
      kpi(box, 'sessions', 'Sessions', whole.sessions, 'int');
      kpi(box, 'page_views', 'Page views', whole.page_views, 'int');
      kpi(box, 'orders', 'Orders', whole.orders, 'int');
      kpi(box, 'units', 'Units ordered', whole.units, 'int');
      kpi(box, 'sales', 'Ordered sales', whole.sales, 'money');
      kpi(box, 'unit_session_pct', 'Unit session percentage', ratio(num(whole.units), num(whole.sessions)), 'pct');
    }
    if (camps && camps.rows.length) {
      var spend = sum(camps.rows, 'spend'), sales = sum(camps.rows, 'sales_7d');
      kpi(box, 'ad_spend', 'Ad spend', spend, 'money');
      var acos = ratio(spend, sales);
      kpi(box, 'acos', 'ACoS (target ' + fmt('pct', TARGET_ACOS) + ')', acos, 'pct', acos !== null && acos > TARGET_ACOS);
    }
    var q = S.quality;
    if (q && typeof q.invalid_clicks === 'number') {
      kpi(box, 'invalid_clicks', 'Invalid clicks (not charged)', q.invalid_clicks, 'int');
      if (typeof q.invalid_cost === 'number') kpi(box, 'invalid_cost', 'Cost of invalid clicks', q.invalid_cost, 'money');
    }
    var fb = table('feedback');
    var acct = fb ? fb.rows.filter(function (r) { return r.scope === 'account'; })[0] : null;
    if (acct) kpi(box, 'negative_feedback_rate', 'Negative feedback rate (90 days)', acct.negative_feedback_rate, 'pct');
    var cs = table('customers_summary');
    if (cs && cs.rows[0]) kpi(box, 'customers', 'Customers', cs.rows[0].customers, 'int');
    if (!box.children.length) missing(p, 'business_daily.csv');
  });

  safely('traffic', function () {
    var p = panel('traffic', 'Sessions by source and page views, per day',
      'Sessions are dated by their start (R4.4); a session\'s source is that of its first page view (R4.3). Click a legend entry to hide a series.', true);
    if (!dayRows.length) return missing(p, 'business_daily.csv');
    var labels = dayRows.map(function (r) { return r.date; });
    function ds(key, label, color) {
      return { type: 'bar', label: label, data: dayRows.map(function (r) { return r[key]; }), backgroundColor: color,
               stack: 's', yAxisID: 'y', cpFmt: 'int', order: 2 };
    }
    chart(p, 'traffic', {
      type: 'bar',
      data: { labels: labels, datasets: [
        ds('sessions_sponsored', 'Sponsored sessions', SOURCE.sponsored),
        ds('sessions_external', 'External sessions', SOURCE.external),
        ds('sessions_organic', 'Organic sessions', SOURCE.organic),
        { type: 'line', label: 'Page views', data: dayRows.map(function (r) { return r.page_views; }), borderColor: C.black,
          backgroundColor: C.black, borderWidth: 1.5, pointRadius: 0, yAxisID: 'y1', cpFmt: 'int', order: 1 }
      ] },
      options: { interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
                  y: axis('int', { stacked: true, title: { display: true, text: 'sessions' } }),
                  y1: axis('int', { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'page views' } }) } }
    }, 'Daily sessions stacked by source, with page views as a line');
  });

  safely('sales', function () {
    var p = panel('sales', 'Units, sales and unit session percentage, per day',
      'Purchases are dated by their own time (R8); unit session percentage = units / sessions.', true);
    if (!dayRows.length) return missing(p, 'business_daily.csv');
    chart(p, 'sales', {
      type: 'bar',
      data: { labels: dayRows.map(function (r) { return r.date; }), datasets: [
        { type: 'bar', label: 'Units', data: dayRows.map(function (r) { return r.units; }), backgroundColor: C.sky, yAxisID: 'y', cpFmt: 'int', order: 3 },
        { type: 'line', label: 'Sales', data: dayRows.map(function (r) { return r.sales; }), borderColor: C.verm, backgroundColor: C.verm,
          borderWidth: 1.5, pointRadius: 0, yAxisID: 'y1', cpFmt: 'money', order: 1 },
        { type: 'line', label: 'Unit session %', data: dayRows.map(function (r) { return ratio(num(r.units), num(r.sessions)); }),
          borderColor: C.pink, backgroundColor: C.pink, borderDash: [4, 3], borderWidth: 1.5, pointRadius: 0, yAxisID: 'y2', cpFmt: 'pct', order: 2, spanGaps: false }
      ] },
      options: { interaction: { mode: 'index', intersect: false },
        scales: { x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
                  y: axis('int', { title: { display: true, text: 'units' } }),
                  y1: axis('money', { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'sales' } }),
                  y2: axis('pct', { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'unit session %' } }) } }
    }, 'Daily units as bars, sales and unit session percentage as lines');
  });

  safely('funnel', function () {
    var p = panel('funnel', 'Click funnel',
      'Impressions → clicks → valid clicks (R3) → landed (a page view carries the click, R3.4) → sessions started by the click (R9) → orders credited to the clicks (R6 within 7 days, R7 within 14 days). Off-site clicks have no impressions.');
    if (!diag) return missing(p, 'diagnostics.csv');
    var stages = ['Impressions', 'Clicks', 'Valid clicks', 'Landed', 'Sessions', 'Orders'];
    function scope(s) {
      var valid = diagValue(s, 'valid_clicks'), invalid = diagValue(s, 'invalid_clicks'), bounced = diagValue(s, 'bounced_clicks');
      var impressions = null, orders = null;
      if (s === 'sponsored') {
        if (camps) { impressions = sum(camps.rows, 'impressions'); orders = sum(camps.rows, 'orders_7d'); }
        else if (S.ads) { impressions = S.ads.impressions; orders = S.ads.orders_7d; }
      } else if (attr) {
        orders = sum(attr.rows.filter(function (r) { return r.level === 'channel'; }), 'purchases');
      }
      return [impressions, valid !== null && invalid !== null ? valid + invalid : null, valid,
              valid !== null && bounced !== null ? valid - bounced : null, diagValue(s, 'sessions_started_by_click'), orders];
    }
    var sp = scope('sponsored'), ex = scope('external');
    /* the log axis starts at the power of ten below the smallest figure, so every bar shows */
    var positive = sp.concat(ex).filter(function (v) { return typeof v === 'number' && v > 0; });
    var floor = positive.length ? Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, positive)))) : 1;
    chart(p, 'funnel', {
      type: 'bar',
      data: { labels: stages, datasets: [
        { label: 'Sponsored', data: sp, backgroundColor: SOURCE.sponsored, cpFmt: 'int' },
        { label: 'External (off-site)', data: ex, backgroundColor: SOURCE.external, cpFmt: 'int' }
      ] },
      options: { indexAxis: 'y', interaction: { mode: 'index', intersect: false },
        scales: { x: { type: 'logarithmic', min: floor, ticks: { maxRotation: 0, callback: function (v) {
          var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
          return Math.abs(m - 1) < 1e-6 || Math.abs(m - 5) < 1e-6 ? NF.compact.format(v) : '';
        } } } } }
    }, 'Funnel from impressions to orders, sponsored and off-site');
    p.appendChild(el('p', { class: 'legend-note' }, 'Logarithmic scale: impressions are far more numerous than clicks.'));
  });

  safely('invalid', function () {
    var p = panel('invalid', 'Invalid clicks by reason',
      'Each invalid click has exactly one reason, the first that applies (R3.1); invalid clicks are not charged (R3.3). Every one is listed in invalid_clicks.csv.');
    var inv = table('invalid_by_reason');
    if (!inv) return missing(p, 'invalid_clicks.csv');
    var reasons = [];
    inv.rows.forEach(function (r) { if (reasons.indexOf(r.reason) < 0) reasons.push(r.reason); });
    function counts(s) {
      return reasons.map(function (reason) {
        var r = inv.rows.filter(function (x) { return x.scope === s && x.reason === reason; })[0];
        return r ? r.clicks : 0;
      });
    }
    chart(p, 'invalid', {
      type: 'bar',
      data: { labels: reasons, datasets: [
        { label: 'Sponsored', data: counts('sponsored'), backgroundColor: SOURCE.sponsored, cpFmt: 'int' },
        { label: 'External (off-site)', data: counts('external'), backgroundColor: SOURCE.external, cpFmt: 'int' }
      ] },
      options: { interaction: { mode: 'index', intersect: false }, scales: { y: axis('int') } }
    }, 'Invalid clicks per reason, sponsored and off-site', true);
    var total = sum(inv.rows, 'clicks');
    p.appendChild(el('p', { class: 'legend-note' }, fmt('int', total) + ' invalid clicks in all.'));
  });

  safely('why', function () {
    var p = panel('why', 'Why clicks and sessions differ',
      'From diagnostics.csv (R9): every valid click either started a session, bounced, or landed in a session already open.', true);
    if (!diag) return missing(p, 'diagnostics.csv');
    var scopes = ['sponsored', 'external'];
    var names = { sponsored: 'Sponsored', external: 'External (off-site)', account: 'Account' };
    chart(p, 'why', {
      type: 'bar',
      data: { labels: scopes.map(function (s) { return names[s]; }), datasets: [
        { label: 'Started a session', data: scopes.map(function (s) { return diagValue(s, 'sessions_started_by_click'); }), backgroundColor: C.green, cpFmt: 'int' },
        { label: 'Bounced (no page view)', data: scopes.map(function (s) { return diagValue(s, 'bounced_clicks'); }), backgroundColor: C.verm, cpFmt: 'int' },
        { label: 'Landed in an open session', data: scopes.map(function (s) { return diagValue(s, 'clicks_in_open_session'); }), backgroundColor: C.sky, cpFmt: 'int' }
      ] },
      options: { indexAxis: 'y', interaction: { mode: 'index', intersect: false },
        scales: { x: axis('int', { stacked: true }), y: { stacked: true } } }
    }, 'Valid clicks split into those that started a session, bounced, or landed in an open session', true);
    ['account', 'sponsored', 'external'].forEach(function (s) {
      var notes = diag.rows.filter(function (r) { return r.scope === s && r.note && /\d/.test(r.note) && r.metric !== 'decomposition_exact'; });
      if (!notes.length) return;
      p.appendChild(el('h3', null, names[s] || s));
      var ul = el('ul', { class: 'explain' });
      notes.forEach(function (r) {
        var flag = /^FLAG\b/.test(r.note);
        var li = el('li', flag ? { class: 'flag' } : null, flag ? r.note.replace(/^FLAG\s*/, '') : r.note);
        ul.appendChild(li);
      });
      p.appendChild(ul);
    });
  });

  safely('ads', function () {
    var p = panel('ads', 'Sponsored ads by campaign',
      'Spend counts valid clicks and impressions only (R3.3); sales are credited within 7 days of a click (R6). Highlighted: ACoS above the target of ' +
      fmt('pct', TARGET_ACOS) + ', CTR below ' + fmt('pct', MIN_CTR) + '. Click a column to sort.', true);
    if (!camps) return missing(p, 'ads.csv');
    var top = camps.rows.slice().sort(function (a, b) { return num(b.spend) - num(a.spend); }).slice(0, 15);
    chart(p, 'ads', {
      type: 'bar',
      data: { labels: top.map(function (r) { return r.campaign; }), datasets: [
        { label: 'Spend', data: top.map(function (r) { return r.spend; }), backgroundColor: C.blue, cpFmt: 'money' },
        { label: 'Sales (7 days)', data: top.map(function (r) { return r.sales_7d; }), backgroundColor: C.orange, cpFmt: 'money' }
      ] },
      options: { indexAxis: 'y', interaction: { mode: 'index', intersect: false },
        scales: { y: { ticks: { autoSkip: false, callback: function (v) { var s = this.getLabelForValue(v); return s.length > 24 ? s.slice(0, 23) + '…' : s; } } },
                  x: axis('money') } }
    }, 'Spend and 7-day sales of the campaigns with the most spend', 'tall');
    if (camps.rows.length > 15) p.appendChild(el('p', { class: 'legend-note' }, 'The chart shows the 15 campaigns with the most spend; the table has all ' + fmt('int', camps.rows.length) + '.'));
    sortable(p, [
      { key: 'campaign', label: 'Campaign', kind: 'text' },
      { key: 'impressions', label: 'Impressions', kind: 'int' },
      { key: 'clicks', label: 'Clicks', kind: 'int' },
      { key: 'ctr', label: 'CTR', kind: 'pct', hl: function (r) { return r.ctr !== null && r.ctr < MIN_CTR; }, hlTitle: 'CTR below ' + fmt('pct', MIN_CTR) },
      { key: 'spend', label: 'Spend', kind: 'money' },
      { key: 'cpc', label: 'CPC', kind: 'money' },
      { key: 'cpm', label: 'CPM', kind: 'money' },
      { key: 'orders_7d', label: 'Orders', kind: 'int' },
      { key: 'sales_7d', label: 'Sales', kind: 'money' },
      { key: 'acos', label: 'ACoS', kind: 'pct', hl: function (r) { return r.acos !== null && r.acos > TARGET_ACOS; }, hlTitle: 'ACoS above the target ' + fmt('pct', TARGET_ACOS) },
      { key: 'roas', label: 'ROAS', kind: 'dec' },
      { key: 'invalid_clicks', label: 'Invalid clicks', kind: 'int' }
    ], camps.rows, { sortKey: 'spend', sortDir: -1 });
  });

  safely('attribution', function () {
    var p = panel('attribution', 'Off-site attribution: channel → publisher → campaign → tag',
      'Conversions are credited to the latest valid off-site click within 14 days (R7). Open a row to see what it holds; diagnostics as in R7.2.', true);
    if (!attr) return missing(p, 'attribution.csv');
    var rows = attr.rows;
    var channels = rows.filter(function (r) { return r.level === 'channel'; }).sort(function (a, b) { return num(b.clicks) - num(a.clicks); });
    chart(p, 'attribution', {
      type: 'bar',
      data: { labels: channels.map(function (r) { return r.channel; }), datasets: [
        { label: 'Valid clicks', data: channels.map(function (r) { return r.clicks; }), backgroundColor: C.blue, cpFmt: 'int' },
        { label: 'Detail page views', data: channels.map(function (r) { return r.dpv; }), backgroundColor: C.sky, cpFmt: 'int' },
        { label: 'Purchases', data: channels.map(function (r) { return r.purchases; }), backgroundColor: C.orange, cpFmt: 'int' }
      ] },
      options: { interaction: { mode: 'index', intersect: false }, scales: { y: axis('int') } }
    }, 'Valid clicks, detail page views and purchases per channel', true);
    note(p, truncNote(attr, 'attribution.csv', 'whole-period rows'));

    var wrap = el('div', { class: 'tablewrap' });
    var t = el('table', { class: 'data' });
    var head = el('tr');
    ['Name', 'Clicks', 'Invalid', 'DPV', 'Add to cart', 'Purchases', 'Units', 'Sales', 'Purchase rate', 'New to brand', 'Diagnostics'].forEach(function (h) {
      head.appendChild(el('th', h === 'Diagnostics' ? { scope: 'col', style: 'text-align:left' } : { scope: 'col' }, h));
    });
    var thead = el('thead'); thead.appendChild(head); t.appendChild(thead);
    var tbody = el('tbody'); t.appendChild(tbody);
    var placed = new Set();
    function addRow(r, level, label, parentIds, hasKids) {
      var id = 'a' + tbody.children.length;
      var tr = el('tr', { class: 'lvl-' + level + (parentIds.length ? ' collapsed' : ''), 'data-id': id, 'data-parents': parentIds.join(' ') });
      var first = el('td');
      if (hasKids) {
        var b = el('button', { type: 'button', class: 'tree', 'aria-expanded': 'false', 'aria-label': 'Show what ' + label + ' holds' }, '▸');
        b.addEventListener('click', function () {
          var open = b.getAttribute('aria-expanded') !== 'true';
          b.setAttribute('aria-expanded', open ? 'true' : 'false');
          b.textContent = open ? '▾' : '▸';
          Array.prototype.forEach.call(tbody.querySelectorAll('tr'), function (x) {
            var ps = (x.getAttribute('data-parents') || '').split(' ');
            if (open && ps[ps.length - 1] === id) x.classList.remove('collapsed');
            if (!open && ps.indexOf(id) >= 0) {
              x.classList.add('collapsed');
              var bb = x.querySelector('button.tree');
              if (bb) { bb.setAttribute('aria-expanded', 'false'); bb.textContent = '▸'; }
            }
          });
        });
        first.appendChild(b);
      } else first.appendChild(el('span', { class: 'tree' }, ''));
      first.appendChild(document.createTextNode(label));
      tr.appendChild(first);
      [['clicks', 'int'], ['invalid_clicks', 'int'], ['dpv', 'int'], ['atc', 'int'], ['purchases', 'int'], ['units', 'int'],
       ['sales', 'money'], ['purchase_rate', 'pct'], ['new_to_brand_purchases', 'int']].forEach(function (c) {
        tr.appendChild(el('td', null, fmt(c[1], r[c[0]])));
      });
      var dtd = el('td', { class: 'text' });
      String(r.diagnostics || '').split(';').filter(Boolean).forEach(function (code) { dtd.appendChild(el('span', { class: 'badge' }, code)); });
      tr.appendChild(dtd);
      tbody.appendChild(tr);
      placed.add(r);
      return id;
    }
    function byClicks(a, b) { return num(b.clicks) - num(a.clicks); }
    channels.forEach(function (ch) {
      var pubs = rows.filter(function (r) { return r.level === 'publisher' && r.channel === ch.channel; }).sort(byClicks);
      var cid = addRow(ch, 'channel', ch.channel, [], pubs.length > 0);
      pubs.forEach(function (pu) {
        var cs = rows.filter(function (r) { return r.level === 'campaign' && r.channel === ch.channel && r.publisher === pu.publisher; }).sort(byClicks);
        var pid = addRow(pu, 'publisher', pu.publisher, [cid], cs.length > 0);
        cs.forEach(function (ca) {
          var tags = rows.filter(function (r) { return r.level === 'tag' && r.channel === ch.channel && r.publisher === pu.publisher && r.campaign === ca.campaign; }).sort(byClicks);
          var kid = addRow(ca, 'campaign', ca.campaign, [cid, pid], tags.length > 0);
          tags.forEach(function (tg) { addRow(tg, 'tag', tg.tag, [cid, pid, kid], false); });
        });
      });
    });
    var rest = rows.filter(function (r) { return r.level === 'tag' && !placed.has(r); }).sort(byClicks);
    if (rest.length) {
      var group = { clicks: sum(rest, 'clicks'), invalid_clicks: sum(rest, 'invalid_clicks'), dpv: sum(rest, 'dpv'), atc: sum(rest, 'atc'),
                    purchases: sum(rest, 'purchases'), units: sum(rest, 'units'), sales: sum(rest, 'sales'),
                    new_to_brand_purchases: sum(rest, 'new_to_brand_purchases'), purchase_rate: null, diagnostics: '' };
      var gid = addRow(group, 'channel', 'Tags outside the registry\'s tree', [], true);
      rest.forEach(function (tg) { addRow(tg, 'tag', tg.tag || '(no tag)', [gid], false); });
    }
    wrap.appendChild(t);
    p.appendChild(wrap);
  });

  safely('segments', function () {
    var p = panel('segments', 'Customer segments and the Pareto curve',
      'Segments as in R10.2 (first match wins); the curve shows the share of GMV held by the top customers (R10.2).');
    var seg = table('segments');
    if (!seg) return missing(p, 'segments.csv');
    var segs = seg.rows.filter(function (r) { return r.segment !== 'pareto_top20'; });
    var top20 = seg.rows.filter(function (r) { return r.segment === 'pareto_top20'; })[0];
    var nice = { high_value: 'High value', churn_risk: 'Churn risk', potential: 'Potential', repeat: 'Repeat' };
    chart(p, 'segments', {
      type: 'bar',
      data: { labels: segs.map(function (r) { return nice[r.segment] || r.segment; }), datasets: [
        { label: 'Share of customers', data: segs.map(function (r) { return r.share; }), backgroundColor: C.blue, cpFmt: 'pct' },
        { label: 'Share of GMV', data: segs.map(function (r) { return r.gmv_share; }), backgroundColor: C.orange, cpFmt: 'pct' }
      ] },
      options: { interaction: { mode: 'index', intersect: false }, scales: { y: axis('pct', { max: 1 }) } }
    }, 'Share of customers and of GMV per segment', true);
    if (top20) p.appendChild(el('p', { class: 'legend-note' }, 'The top 20% of customers (' + fmt('int', top20.customers) + ') hold ' + fmt('pct', top20.gmv_share) + ' of GMV.'));
    var par = table('pareto');
    if (par && par.rows.length) {
      /* pareto.csv: per decile, cumulative when its shares never fall */
      var cum = par.rows.every(function (r, i, a) { return i === 0 || num(r.gmv_share) >= num(a[i - 1].gmv_share); }) &&
                num(par.rows[par.rows.length - 1].gmv_share) > 0.99;
      var cx = 0, cy = 0;
      var pts = [{ x: 0, y: 0 }].concat(par.rows.map(function (r) {
        if (cum) return { x: num(r.customer_share), y: num(r.gmv_share) };
        cx += num(r.customer_share); cy += num(r.gmv_share);
        return { x: cx, y: cy };
      }));
      chart(p, 'pareto', {
        type: 'line',
        data: { datasets: [
          { label: 'Share of GMV held', data: pts, borderColor: C.verm, backgroundColor: C.verm, pointRadius: 2, cpFmt: 'pct' },
          { label: 'Equal shares', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: C.grey, borderDash: [4, 4], pointRadius: 0, cpFmt: 'pct' }
        ] },
        options: { parsing: true, scales: {
          x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'top customers by GMV (share)' }, ticks: { callback: function (v) { return NF.pct.format(v); } } },
          y: axis('pct', { max: 1 }) },
          plugins: { tooltip: { callbacks: { label: function (ctx) { return ' ' + fmt('pct', ctx.parsed.x) + ' of customers: ' + fmt('pct', ctx.parsed.y) + ' of GMV'; } } } } }
      }, 'Pareto curve: cumulative share of GMV against share of customers', true);
    }
  });

  safely('cac', function () {
    var p = panel('cac', 'Customer acquisition cost beside customer value',
      'CAC = spend / new customers credited to it (R10.4). Customer value: net revenue per customer (historical CLV, R10.1) and the predicted CLV (R10.5), over all customers.');
    var cac = table('cac');
    if (!cac) return missing(p, 'cac.csv');
    var ch = cac.rows.filter(function (r) { return r.level === 'channel'; });
    var cs = table('customers_summary');
    var cs0 = cs && cs.rows[0];
    var labels = ch.map(function (r) { return r.source === 'sponsored' ? (r.key === 'sponsored' ? 'Sponsored ads' : 'Sponsored: ' + r.key) : r.key; });
    var ds = [{ type: 'bar', label: 'CAC', data: ch.map(function (r) { return r.cac; }), backgroundColor: C.blue, cpFmt: 'money', order: 2 }];
    if (cs0 && cs0.mean_net_revenue !== null)
      ds.push({ type: 'line', label: 'Net revenue per customer', data: ch.map(function () { return cs0.mean_net_revenue; }), borderColor: C.green, backgroundColor: C.green, pointRadius: 0, borderWidth: 2, cpFmt: 'money', order: 1 });
    if (cs0 && cs0.mean_predicted_clv !== null)
      ds.push({ type: 'line', label: 'Predicted CLV per customer', data: ch.map(function () { return cs0.mean_predicted_clv; }), borderColor: C.verm, backgroundColor: C.verm, borderDash: [5, 4], pointRadius: 0, borderWidth: 2, cpFmt: 'money', order: 1 });
    chart(p, 'cac', { type: 'bar', data: { labels: labels, datasets: ds },
      options: { interaction: { mode: 'index', intersect: false }, scales: { y: axis('money') } } },
      'Customer acquisition cost per channel, with the value of a customer as lines', true);
    sortable(p, [
      { key: 'source', label: 'Source', kind: 'text' }, { key: 'level', label: 'Level', kind: 'text' }, { key: 'key', label: 'Key', kind: 'text' },
      { key: 'spend', label: 'Spend', kind: 'money' }, { key: 'new_customers', label: 'New customers', kind: 'int' },
      { key: 'cac', label: 'CAC', kind: 'money', hl: function (r) { return cs0 && r.cac !== null && cs0.mean_net_revenue !== null && r.cac > cs0.mean_net_revenue; }, hlTitle: 'CAC above net revenue per customer' }
    ], cac.rows, { sortKey: 'spend', sortDir: -1 });
  });

  safely('feedback', function () {
    var p = panel('feedback', 'Negative feedback rate',
      'Orders of the last 90 days whose latest feedback is rated 1 or 2, over those orders (R10.6).');
    var fb = table('feedback');
    if (!fb) return missing(p, 'feedback.csv');
    var acct = fb.rows.filter(function (r) { return r.scope === 'account'; })[0];
    if (acct) {
      var box = el('div', { class: 'kpis' });
      kpi(box, 'fb_orders', 'Orders (90 days)', acct.orders, 'int');
      kpi(box, 'fb_with', 'With feedback', acct.feedback_orders, 'int');
      kpi(box, 'fb_negative', 'Negative', acct.negative_feedback_orders, 'int');
      kpi(box, 'fb_rate', 'Rate', acct.negative_feedback_rate, 'pct');
      p.appendChild(box);
    }
    var asins = fb.rows.filter(function (r) { return r.scope === 'asin'; });
    note(p, truncNote({ kept: fb.kept, total: fb.total, sortedBy: 'orders' }, 'feedback.csv', 'rows'));
    if (asins.length) sortable(p, [
      { key: 'key', label: 'ASIN', kind: 'text' }, { key: 'orders', label: 'Orders', kind: 'int' },
      { key: 'feedback_orders', label: 'With feedback', kind: 'int' }, { key: 'negative_feedback_orders', label: 'Negative', kind: 'int' },
      { key: 'negative_feedback_rate', label: 'Rate', kind: 'pct', hl: function (r) { return acct && r.negative_feedback_rate !== null && acct.negative_feedback_rate !== null && r.negative_feedback_rate > acct.negative_feedback_rate; }, hlTitle: 'above the account rate' }
    ], asins, { sortKey: 'orders', sortDir: -1 });
  });

  safely('cohorts', function () {
    var p = panel('cohorts', 'Cohort retention',
      'Customers by month of first purchase; the share that ordered again within 30, 60 and 90 days, among those whose first purchase is old enough (R10.3).');
    var co = table('cohorts');
    if (!co) return missing(p, 'cohorts.csv');
    var wrap = el('div', { class: 'tablewrap' });
    var t = el('table', { class: 'data heat' });
    var hr = el('tr');
    ['Cohort', 'Customers', '30 days', '60 days', '90 days'].forEach(function (h) { hr.appendChild(el('th', { scope: 'col' }, h)); });
    var thead = el('thead'); thead.appendChild(hr); t.appendChild(thead);
    var tbody = el('tbody');
    var max = 0;
    co.rows.forEach(function (r) { [30, 60, 90].forEach(function (n) { if (typeof r['rate_' + n] === 'number') max = Math.max(max, r['rate_' + n]); }); });
    co.rows.forEach(function (r) {
      var tr = el('tr');
      tr.appendChild(el('th', { scope: 'row' }, r.cohort || 'All customers'));
      tr.appendChild(el('td', null, fmt('int', r.customers)));
      [30, 60, 90].forEach(function (n) {
        var v = r['rate_' + n];
        var td = el('td', { class: 'cell', title: fmt('int', r['retained_' + n]) + ' of ' + fmt('int', r['eligible_' + n]) + ' eligible customers' }, fmt('pct', v));
        if (typeof v === 'number' && max > 0) {
          var a = v / max; /* sequential blue: light to dark, text flips to white past the middle */
          var l = Math.round(96 - a * 60);
          td.style.background = 'hsl(204, 70%, ' + l + '%)';
          td.style.color = l < 58 ? '#fff' : '#1b1f24';
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    t.appendChild(tbody);
    wrap.appendChild(t);
    p.appendChild(wrap);
    p.appendChild(el('p', { class: 'legend-note' }, 'Darker is a higher rate; hover a cell for retained / eligible. A dash: no customer of that cohort is old enough yet.'));
  });

  safely('histogram', function () {
    var p = panel('histogram', 'Days from first to second order',
      'Whole days between a customer\'s first and second order (R10.3, cohorts_histogram.csv).');
    var h = table('cohorts_histogram');
    if (!h) return missing(p, 'cohorts_histogram.csv');
    chart(p, 'histogram', {
      type: 'bar',
      data: { labels: h.rows.map(function (r) { return r.days_to_second_order; }), datasets: [
        { label: 'Customers', data: h.rows.map(function (r) { return r.customers; }), backgroundColor: C.green, cpFmt: 'int', barPercentage: 1, categoryPercentage: 0.95 }
      ] },
      options: { plugins: { legend: { display: false }, tooltip: { callbacks: { title: function (items) { return items[0].label + ' days'; } } } },
        scales: { x: { title: { display: true, text: 'days to the second order' }, ticks: { maxRotation: 0, autoSkipPadding: 8 } }, y: axis('int') } }
    }, 'Histogram of days from the first to the second order');
  });

  safely('asins', function () {
    var p = panel('asins', 'Top ASINs', 'Whole-period business report per ASIN (business_asin.csv, R4.4). Click a column to sort.', true);
    var a = table('business_asin');
    if (!a) return missing(p, 'business_asin.csv');
    var top = a.rows.slice(0, 15);
    chart(p, 'asins', {
      type: 'bar',
      data: { labels: top.map(function (r) { return r.asin; }), datasets: [
        { label: 'Sponsored sessions', data: top.map(function (r) { return r.sessions_sponsored; }), backgroundColor: SOURCE.sponsored, cpFmt: 'int' },
        { label: 'External sessions', data: top.map(function (r) { return r.sessions_external; }), backgroundColor: SOURCE.external, cpFmt: 'int' },
        { label: 'Organic sessions', data: top.map(function (r) { return r.sessions_organic; }), backgroundColor: SOURCE.organic, cpFmt: 'int' }
      ] },
      options: { indexAxis: 'y', interaction: { mode: 'index', intersect: false },
        scales: { y: { stacked: true, ticks: { autoSkip: false } }, x: axis('int', { stacked: true }) } }
    }, 'Sessions by source of the ASINs with the most sessions', 'tall');
    note(p, truncNote(a, 'business_asin.csv', 'ASINs'));
    sortable(p, [
      { key: 'asin', label: 'ASIN', kind: 'text' }, { key: 'sessions', label: 'Sessions', kind: 'int' },
      { key: 'session_pct', label: 'Session %', kind: 'pct' }, { key: 'page_views', label: 'Page views', kind: 'int' },
      { key: 'add_to_carts', label: 'Add to cart', kind: 'int' }, { key: 'units_ordered', label: 'Units', kind: 'int' },
      { key: 'ordered_sales', label: 'Sales', kind: 'money' }, { key: 'unit_session_pct', label: 'Unit session %', kind: 'pct' },
      { key: 'units_returned', label: 'Returned', kind: 'int' }, { key: 'refunds', label: 'Refunds', kind: 'money' }
    ], a.rows, { sortKey: 'sessions', sortDir: -1 });
  });

  registry.ready = true;
  document.documentElement.setAttribute('data-cp-ready', 'true');
})();

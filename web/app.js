// compe dashboard: a hash-routed single page over the read-only JSON API.
// Every user string (names, notes, tags, config values) goes into the page as text nodes:
// nothing here assigns innerHTML.
'use strict';

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const SVGNS = 'http://www.w3.org/2000/svg';

// ---------- DOM helpers ----------

// h(), setAttrs(), append(), fmtScore(), fmtTime(), tableWrap(), apiRequest() and TOKEN: common.js.

/** SVG element; same contract as h(). */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function fmtDelta(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return (v > 0 ? '+' : '') + String(Number(Number(v).toPrecision(4)));
}

function withToken(url) {
  if (!TOKEN) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(TOKEN);
}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  return apiRequest('GET', path + (q.toString() ? '?' + q : ''));
}

function statusBadge(status) { return h('span', { class: 'badge status-' + status, text: status }); }

function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', { text: title }), children);
}

function flatten(obj, prefix, out) {
  out = out || [];
  if (obj !== null && typeof obj === 'object' && Object.keys(obj).length) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? prefix + '.' + k : k, out);
  } else if (prefix) {
    out.push([prefix, obj]);
  }
  return out;
}

/** A dotted key with line-break opportunities after each dot (text nodes and <wbr>, no markup). */
function breakable(key) {
  const parts = key.split('.');
  return parts.flatMap((p, i) => i < parts.length - 1 ? [p + '.', h('wbr')] : [p]);
}

function valueText(v) {
  if (v === null || v === undefined) return '–';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// ---------- charts (hand-written SVG) ----------

// A narrower drawing on phones keeps the axis text readable once scaled to the screen.
const chartWidth = () => (window.innerWidth < 600 ? 360 : 480);

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; lo = lo - 1; }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(st => st >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function extent(values, pad) {
  const fin = values.filter(v => v !== null && Number.isFinite(v));
  if (!fin.length) return [0, 1];
  let lo = Math.min(...fin), hi = Math.max(...fin);
  if (lo === hi) { const d = Math.abs(lo) * 0.05 || 0.5; lo -= d; hi += d; }
  const p = (hi - lo) * (pad || 0);
  return [lo - p, hi + p];
}

/** Frame with axes: returns {svg, x, y} mapping data to pixels. */
function frame(cls, W, H, xr, yr, opts) {
  const m = { l: 52, r: 12, t: 10, b: 34 };
  const x = v => m.l + (v - xr[0]) / (xr[1] - xr[0] || 1) * (W - m.l - m.r);
  const y = v => H - m.b - (v - yr[0]) / (yr[1] - yr[0] || 1) * (H - m.t - m.b);
  const svg = s('svg', { class: 'chart ' + cls, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || '' });
  const g = s('g', { class: 'axes' });
  for (const t of niceTicks(yr[0], yr[1], 4)) {
    if (t < yr[0] || t > yr[1]) continue;
    g.append(s('line', { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t), class: 'gridline' }),
      s('text', { x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end', text: fmtScore(t) }));
  }
  if (!opts.noXTicks) {
    for (const t of niceTicks(xr[0], xr[1], 5)) {
      if (t < xr[0] || t > xr[1]) continue;
      g.append(s('text', { x: x(t), y: H - m.b + 16, 'text-anchor': 'middle', text: fmtScore(t) }));
    }
  }
  g.append(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }),
    s('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  if (opts.xLabel) g.append(s('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle', class: 'label', text: opts.xLabel }));
  if (opts.yLabel) g.append(s('text', { x: 12, y: m.t + (H - m.t - m.b) / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 12 ${m.t + (H - m.t - m.b) / 2})`, text: opts.yLabel }));
  svg.append(g);
  return { svg, x, y, m, W, H };
}

/** Line chart: series [{label, color, steps, values, dash}]. */
function lineChart(series, opts) {
  const xs = series.flatMap(se => se.steps), ys = series.flatMap(se => se.values);
  const f = frame('line-chart ' + (opts.cls || ''), chartWidth(), 220, extent(xs, 0), extent(ys, 0.05), opts);
  for (const se of series) {
    let d = '';
    se.steps.forEach((st, i) => {
      const v = se.values[i];
      if (v === null || !Number.isFinite(v)) return;
      d += (d ? 'L' : 'M') + f.x(st).toFixed(1) + ' ' + f.y(v).toFixed(1);
    });
    const path = s('path', { d, stroke: se.color, class: 'series' + (se.dash ? ' dashed' : '') }, s('title', { text: se.label }));
    f.svg.append(path);
  }
  return h('figure', { class: 'chart-box' }, f.svg, legend(opts.legend || series), opts.caption ? h('figcaption', { text: opts.caption }) : null);
}

function legend(items) {
  return h('div', { class: 'legend' }, items.map(it =>
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch' + (it.dash ? ' dashed' : ''), 'data-color': it.color }), it.label)));
}

/** Grouped bar chart: groups [{label, bars: [{value, color, title}]}]. */
function barChart(groups, opts) {
  const vals = groups.flatMap(g => g.bars.map(b => b.value));
  const yr = extent(vals, 0.25);
  const n = groups.length || 1;
  const f = frame('bar-chart ' + (opts.cls || ''), chartWidth(), 220, [0, n], yr, Object.assign({ noXTicks: true }, opts));
  const gw = (f.W - f.m.l - f.m.r) / n;
  groups.forEach((g, gi) => {
    const k = g.bars.length || 1;
    const bw = Math.min(48, gw * 0.8 / k);
    const x0 = f.m.l + gi * gw + (gw - bw * k) / 2;
    g.bars.forEach((b, bi) => {
      if (b.value === null || !Number.isFinite(b.value)) return;
      const top = f.y(b.value), base = f.H - f.m.b;
      f.svg.append(s('rect', { x: x0 + bi * bw, y: Math.min(top, base), width: Math.max(1, bw - 2), height: Math.abs(base - top),
        fill: b.color, class: 'bar' }, s('title', { text: b.title || fmtScore(b.value) })));
      if (k === 1) f.svg.append(s('text', { x: x0 + bi * bw + bw / 2 - 1, y: top - 4, 'text-anchor': 'middle', class: 'value', text: fmtScore(b.value) }));
    });
    f.svg.append(s('text', { x: f.m.l + gi * gw + gw / 2, y: f.H - f.m.b + 16, 'text-anchor': 'middle', text: g.label }));
    if (g.note) f.svg.append(s('text', { x: f.m.l + gi * gw + gw / 2, y: f.H - f.m.b + 29, 'text-anchor': 'middle', class: 'note', text: g.note }));
  });
  return h('figure', { class: 'chart-box' }, f.svg, opts.legend ? legend(opts.legend) : null,
    opts.caption ? h('figcaption', { text: opts.caption }) : null);
}

// Swatch colours are set through the style object (CSP forbids style attributes, not CSSOM).
function paintSwatches(root) {
  for (const el of root.querySelectorAll('[data-color]')) el.style.background = el.getAttribute('data-color');
}

// ---------- pages ----------

const app = () => document.getElementById('app');

function show(...nodes) {
  const root = app();
  root.replaceChildren(...nodes.flat().filter(Boolean));
  paintSwatches(root);
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', location.hash.startsWith(a.getAttribute('href')));
}

function showError(err) {
  show(h('div', { class: 'error', role: 'alert' }, h('strong', { text: 'Error: ' }), String(err.message || err)));
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || '') };
}

const RUN_SORTS = [
  ['created:desc', 'Newest first'], ['created:asc', 'Oldest first'],
  ['best:desc', 'Best CV first'], ['cv:desc', 'CV high → low'], ['cv:asc', 'CV low → high'],
  ['name:asc', 'Name A → Z'], ['name:desc', 'Name Z → A'], ['status:asc', 'Status A → Z'], ['status:desc', 'Status Z → A']];
// The order a column takes on its first click: text A to Z, times and scores newest / highest first.
const FIRST_ORDER = { name: 'asc', status: 'asc', created: 'desc', cv: 'desc' };

async function pageRuns(query) {
  const st = {
    sort: query.get('sort') || 'created', order: query.get('order') || '', status: query.get('status') || '',
    name: query.get('name') || '', cv_min: query.get('cv_min') || '', cv_max: query.get('cv_max') || '',
    offset: Number(query.get('offset') || 0), limit: Number(query.get('limit') || 50),
  };
  if (!st.order) st.order = FIRST_ORDER[st.sort] || 'desc';
  const go = patch => {
    const next = Object.assign({}, st, patch);
    const q = new URLSearchParams();
    for (const k of ['sort', 'order', 'status', 'name', 'cv_min', 'cv_max', 'offset']) if (next[k] !== '' && next[k] !== 0) q.set(k, next[k]);
    location.hash = '#/runs' + (q.toString() ? '?' + q : '');
  };
  const doc = await api('runs', { sort: st.sort, order: st.order, status: st.status, name: st.name, cv_min: st.cv_min, cv_max: st.cv_max,
    offset: st.offset, limit: st.limit });
  const selected = new Set();
  const compareBtn = h('button', { class: 'primary', disabled: true, text: 'Compare selected', onclick: () => {
    location.hash = '#/compare/' + [...selected].map(encodeURIComponent).join(',');
  } });

  const diversityBtn = h('button', { id: 'diversity-btn', disabled: true, text: 'Diversity', onclick: () => {
    location.hash = '#/diversity/' + [...selected].map(encodeURIComponent).join(',');
  } });

  let timer = null;
  const filter = h('input', { type: 'search', id: 'name-filter', placeholder: 'Filter by name', value: st.name, 'aria-label': 'Filter by name',
    oninput: e => { clearTimeout(timer); timer = setTimeout(() => go({ name: e.target.value, offset: 0 }), 350); } });
  const status = h('select', { id: 'status-filter', 'aria-label': 'Status', onchange: e => go({ status: e.target.value, offset: 0 }) },
    ['', 'finished', 'running', 'failed', 'interrupted'].map(v => h('option', { value: v, text: v || 'Any status' })));
  status.value = st.status;
  const sortSel = h('select', { id: 'sort-select', 'aria-label': 'Sort', onchange: e => { const [so, o] = e.target.value.split(':'); go({ sort: so, order: o, offset: 0 }); } },
    RUN_SORTS.map(([v, t]) => h('option', { value: v, text: t })));
  sortSel.value = st.sort + ':' + (st.sort === 'best' ? 'desc' : st.order);

  // CV range: applied on Enter or when a box loses focus; an empty box is no bound.
  const cvBox = (id, key, label) => h('input', { type: 'text', inputmode: 'decimal', id, class: 'cv-bound', placeholder: label, 'aria-label': label,
    value: st[key], size: 8, onchange: e => {
      const v = e.target.value.trim();
      if (v !== '' && !Number.isFinite(Number(v))) { e.target.setCustomValidity('a number'); e.target.reportValidity(); return; }
      e.target.setCustomValidity('');
      go({ [key]: v, offset: 0 });
    } });
  const cvRange = h('span', { class: 'cv-range', role: 'group', 'aria-label': 'CV range' },
    cvBox('cv-min', 'cv_min', 'CV min'), h('span', { class: 'muted', text: '–' }), cvBox('cv-max', 'cv_max', 'CV max'));

  const sortHead = (label, key, cls) => {
    const active = st.sort === key;
    const arrow = active ? (st.order === 'asc' ? ' ▲' : ' ▼') : '';
    const next = active ? (st.order === 'desc' ? 'asc' : 'desc') : FIRST_ORDER[key];
    return h('th', { class: 'sortable' + (active ? ' active' : '') + (cls ? ' ' + cls : ''), 'data-sort': key, 'aria-sort': active ? (st.order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { class: 'link', text: label + arrow, onclick: () => go({ sort: key, order: next, offset: 0 }) }));
  };
  // Who made each run, shown once several people (or machines) share the store.
  const shared = new Set(doc.runs.map(r => `${r.user || ''}@${r.host || ''}`)).size > 1;
  const rows = doc.runs.map(r => {
    const box = h('input', { type: 'checkbox', 'aria-label': 'Select ' + r.run_id, onchange: e => {
      if (e.target.checked) selected.add(r.run_id); else selected.delete(r.run_id);
      compareBtn.disabled = selected.size < 2;
      diversityBtn.disabled = selected.size < 2;
    } });
    const href = '#/run/' + encodeURIComponent(r.run_id);
    // Name, CV and status first: on a phone they fit the screen and the rest scrolls.
    return h('tr', { 'data-run': r.run_id },
      h('td', { class: 'select' }, box),
      h('td', { class: 'name' }, h('a', { href, text: r.name || r.run_id })),
      h('td', { class: 'num cv', text: fmtScore(r.cv) + (r.partial ? '*' : ''), title: r.partial ? 'partial run: some folds or rows only' : null }),
      h('td', { class: 'status' }, statusBadge(r.status)),
      h('td', { class: 'mono' }, h('a', { href, text: r.run_id }),
        ...(shared ? [h('span', { class: 'muted who', text: ` ${r.user || '?'}@${r.host || '?'}` })] : [])),
      h('td', { text: r.model || '–' }),
      h('td', { text: r.metric || '–' }),
      h('td', { class: 'num', text: Object.keys(r.folds).length }),
      h('td', { class: 'nowrap', text: fmtTime(r.created) }),
      h('td', {}, r.tags.map(t => h('span', { class: 'tag', text: t }))));
  });
  const table = h('table', { id: 'runs-table' },
    h('thead', {}, h('tr', {}, h('th', { text: '' }), sortHead('Name', 'name'), sortHead('CV', 'cv', 'num'), sortHead('Status', 'status'), h('th', { text: 'Run' }),
      h('th', { text: 'Model' }), h('th', { text: 'Metric' }), h('th', { class: 'num', text: 'Folds' }), sortHead('Created', 'created'), h('th', { text: 'Tags' }))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 10, class: 'muted', text: 'No runs match.' }))));
  const first = doc.total ? st.offset + 1 : 0, last = st.offset + doc.runs.length;
  const pager = h('div', { class: 'pager' },
    h('button', { text: '‹ Prev', disabled: st.offset <= 0, onclick: () => go({ offset: Math.max(0, st.offset - st.limit) }) }),
    h('span', { id: 'page-info', text: `${first}–${last} of ${doc.total}` }),
    h('button', { text: 'Next ›', disabled: last >= doc.total, onclick: () => go({ offset: st.offset + st.limit }) }));
  show(h('h1', { text: 'Runs' }),
    h('div', { class: 'toolbar' }, filter, status, cvRange, sortSel, compareBtn, diversityBtn),
    tableWrap(table), pager);
  if (document.activeElement === document.body && st.name) { filter.focus(); filter.setSelectionRange(st.name.length, st.name.length); }
}

function kv(rows) {
  return tableWrap(h('table', { class: 'kv' }, h('tbody', {}, rows.map(([k, v]) =>
    h('tr', {}, h('th', {}, breakable(k)), h('td', {}, v instanceof Node ? v : valueText(v)))))));
}

function foldScoreChart(run) {
  const folds = Object.keys(run.folds).map(Number).sort((a, b) => a - b);
  if (!folds.length) return h('p', { class: 'muted', text: 'No fold scores recorded.' });
  return barChart(folds.map(f => ({ label: 'fold ' + f, bars: [{ value: run.folds[f], color: PALETTE[0], title: `fold ${f}: ${fmtScore(run.folds[f])}` }] })),
    { cls: 'fold-chart', yLabel: run.metric, label: 'Fold scores', caption: `${run.metric} per fold; CV ${fmtScore(run.cv)}` });
}

function curveCharts(series) {
  // One chart per fold and metric: train dashed, valid solid.
  const groups = new Map();
  for (const se of series) {
    const m = se.key.replace(/^(train|valid)-/, '');
    const id = m + '|' + (se.fold === null ? 'all' : se.fold);
    if (!groups.has(id)) groups.set(id, { metric: m, fold: se.fold, series: [] });
    groups.get(id).series.push(se);
  }
  if (!groups.size) return [h('p', { class: 'muted', text: 'No curves recorded (this model reports none).' })];
  return [...groups.values()].map(g => lineChart(g.series.map(se => ({
    label: se.key, color: se.key.startsWith('train-') ? PALETTE[3] : PALETTE[0], dash: se.key.startsWith('train-'), steps: se.steps, values: se.values,
  })), { cls: 'curve-chart', xLabel: 'iteration', yLabel: g.metric, label: `${g.metric} curves fold ${g.fold}`,
    caption: `${g.metric}, fold ${g.fold === null ? 'all' : g.fold}` }));
}

/**
 * Sections that page files (web/page_*.js) add to a run's page by its kind: each is
 * `async run => Node | null` (null: nothing for this run). They are drawn after the fold scores;
 * one that fails shows its error in its own box and leaves the rest of the page.
 */
const RUN_SECTIONS = [];
function addRunSection(render) { RUN_SECTIONS.push(render); }

async function runSections(run) {
  return Promise.all(RUN_SECTIONS.map(r => Promise.resolve().then(() => r(run)).catch(err =>
    h('div', { class: 'error', role: 'alert' }, h('strong', { text: 'Error: ' }), String(err.message || err)))));
}

async function pageRun(id) {
  const [run, metrics] = await Promise.all([api('runs/' + encodeURIComponent(id)), api('runs/' + encodeURIComponent(id) + '/metrics')]);
  const extra = await runSections(run);
  const git = run.git.commit ? [run.git.commit.slice(0, 12), run.git.branch ? ' on ' + run.git.branch : '', run.git.dirty ? ' (dirty)' : run.git.dirty === false ? ' (clean)' : ''].join('') : '–';
  const arts = run.artifacts.length ? h('ul', { class: 'artifacts' }, run.artifacts.map(a => h('li', {},
    h('a', { href: withToken('/api/runs/' + encodeURIComponent(run.run_id) + '/artifacts/' + encodeURIComponent(a.name)), download: a.file, text: a.file }),
    h('span', { class: 'muted', text: ` ${a.kind}, ${a.size} bytes` })))) : h('p', { class: 'muted', text: 'No artifacts.' });
  const lb = run.lb.length ? tableWrap(h('table', { id: 'run-lb' }, h('thead', {}, h('tr', {}, ['Public', 'Private', 'Time', 'Note'].map((t, i) => h('th', { class: i < 2 ? 'num' : null, text: t })))),
    h('tbody', {}, run.lb.map(l => h('tr', {}, h('td', { class: 'num', text: fmtScore(l.public) }), h('td', { class: 'num', text: fmtScore(l.private) }),
      h('td', { class: 'nowrap', text: fmtTime(l.time) }), h('td', { text: l.note })))))) : h('p', { class: 'muted', text: 'No leaderboard scores.' });
  show(
    h('div', { class: 'title-row' }, h('h1', { class: 'run-name', text: run.name || run.run_id }), statusBadge(run.status),
      run.partial ? h('span', { class: 'badge status-partial', id: 'run-partial', title: 'some folds or rows only: kept out of rankings', text: 'partial' }) : null),
    h('p', { class: 'subtitle' }, h('span', { class: 'mono', id: 'run-id', text: run.run_id }), ` · ${run.model || 'model ?'} · ${run.metric} `,
      h('strong', { id: 'run-cv', text: 'CV ' + fmtScore(run.cv) }),
      run.fold_mean === null ? null : h('span', { id: 'run-fold-mean', text: ` · fold mean ${fmtScore(run.fold_mean)} ± ${fmtScore(run.fold_std)}` })),
    run.error ? h('div', { class: 'error', text: run.error }) : null,
    run.cv_optimistic ? h('div', { class: 'warning', id: 'run-optimistic', text: 'Optimistic CV: each fold chose its stopping round on its own validation rows.' }) : null,
    run.cv_note ? h('div', { class: 'warning', id: 'run-cv-note', text: run.cv_note }) : null,
    run.pseudo ? section('Pseudo labels', h('div', { id: 'run-pseudo' },
      run.pseudo.leaky ? h('div', { class: 'warning', id: 'run-pseudo-leaky', text: 'Leaky pseudo labels: fold-averaged test predictions, made by models that saw each fold\'s validation rows; the CV is inflated.' }) : null,
      kv([['Source run', run.pseudo.source_run ? h('a', { href: '#/run/' + encodeURIComponent(run.pseudo.source_run), class: 'mono', text: run.pseudo.source_run }) : '–'],
        ['Strategy', `${run.pseudo.strategy} (weight ${run.pseudo.weight})`],
        ['Rule', h('code', { text: JSON.stringify(run.pseudo.rule || {}) })],
        ['Rows added', Object.entries(run.pseudo.rows_added || {}).map(([f, n]) => `fold ${f}: ${n}`).join(', ') || '–'],
        ['Set', h('span', { class: 'mono', text: `${run.pseudo.set} · sha256 ${String(run.pseudo.sha256 || '').slice(0, 16)}` })]]))) : null,
    run.members ? section('Members', tableWrap(h('table', { id: 'run-members' }, h('thead', {}, h('tr', {}, ['Member', 'Name', 'Weight', 'OOF'].map((t, i) => h('th', { class: i >= 2 ? 'num' : null, text: t })))),
      h('tbody', {}, run.members.map(m => h('tr', {}, h('td', { class: 'mono' }, m.run_id ? h('a', { href: '#/run/' + encodeURIComponent(m.run_id), text: m.run_id }) : (m.path || '–')),
        h('td', { class: 'name', text: m.name || '' }), h('td', { class: 'num', text: m.weight === null ? '–' : fmtScore(m.weight) }), h('td', { class: 'num', text: fmtScore(m.oof_score) }))))))) : null,
    section('Fold scores', foldScoreChart(run)),
    extra,
    section('Training curves', h('div', { class: 'grid' }, curveCharts(metrics.series))),
    section('Feature importance', importanceChart(run.details && run.details.importance)),
    section('Run', kv([
      ['Kind', run.kind || '–'], ['Created', fmtTime(run.created)], ['Ended', fmtTime(run.ended)], ['Wall time', run.wall_seconds === null ? '–' : run.wall_seconds.toFixed(1) + ' s'],
      ['Git', git], ['Command', h('code', { class: 'command', text: run.command || '–' })], ['Host', run.user ? run.user + '@' + run.host : run.host], ['Parent', run.parent ? h('a', { href: '#/run/' + encodeURIComponent(run.parent), class: 'mono', text: run.parent }) : '–'],
      ['Folds hash', run.folds_hash], ['Tags', h('span', {}, run.tags.length ? run.tags.map(t => h('span', { class: 'tag', text: t })) : '–')],
      ['Note', run.note || '–']])),
    section('Leaderboard', lb),
    section('Config', h('div', { id: 'config-table' }, kv(flatten(run.config, '', [])))),
    section('Artifacts', arts));
}

async function pageCompare(idsText) {
  const doc = await api('compare', { ids: idsText });
  const runs = doc.runs;
  const color = i => PALETTE[i % PALETTE.length];
  const head = h('tr', {}, h('th', { text: 'Key' }), runs.map((r, i) => h('th', {}, h('span', { class: 'swatch', 'data-color': color(i) }),
    h('a', { href: '#/run/' + encodeURIComponent(r.run_id), text: r.run_id }))));
  const diff = doc.config_diff.length ? tableWrap(h('table', { id: 'config-diff' }, h('thead', {}, head),
    h('tbody', {}, doc.config_diff.map(d => h('tr', {}, h('th', { class: 'mono' }, breakable(d.key)), d.values.map(v => h('td', { text: valueText(v) })))))))
    : h('p', { class: 'muted', text: 'The configs are identical.' });
  const summary = tableWrap(h('table', { id: 'compare-runs' }, h('thead', {}, h('tr', {}, ['', 'Run', 'Name', 'Model', 'Metric', 'CV', 'Δ CV'].map((t, i) => h('th', { class: i >= 5 ? 'num' : null, text: t })))),
    h('tbody', {}, runs.map((r, i) => h('tr', {}, h('td', {}, h('span', { class: 'swatch', 'data-color': color(i) })),
      h('td', { class: 'mono' }, h('a', { href: '#/run/' + encodeURIComponent(r.run_id), text: r.run_id })), h('td', { class: 'name', text: r.name }),
      h('td', { text: r.model }), h('td', { text: r.metric }), h('td', { class: 'num', text: fmtScore(r.cv) }),
      h('td', { class: 'num', text: i === 0 ? 'base' : fmtDelta(r.cv !== null && runs[0].cv !== null ? r.cv - runs[0].cv : null) }))))));

  // Per-fold paired bars with the delta of each run against the first.
  const folds = [...new Set(runs.flatMap(r => Object.keys(r.folds).map(Number)))].sort((a, b) => a - b);
  const delta = (r, f) => (r.folds[f] !== undefined && runs[0].folds[f] !== undefined) ? r.folds[f] - runs[0].folds[f] : null;
  const paired = barChart(folds.map(f => ({
    label: 'fold ' + f,
    note: runs.length === 2 ? 'Δ ' + fmtDelta(delta(runs[1], f)) : '',
    bars: runs.map((r, i) => ({ value: r.folds[f] === undefined ? null : r.folds[f], color: color(i), title: `${r.run_id} fold ${f}: ${fmtScore(r.folds[f])}` })),
  })), { cls: 'paired-chart', yLabel: runs[0].metric, label: 'Per-fold scores', legend: runs.map((r, i) => ({ label: r.run_id + (r.name ? ' ' + r.name : ''), color: color(i) })) });
  const deltas = tableWrap(h('table', { id: 'fold-deltas' }, h('thead', {}, h('tr', {}, h('th', { text: 'Fold' }), runs.map(r => h('th', { class: 'num mono', text: r.run_id })),
    runs.slice(1).map(r => h('th', { class: 'num', text: 'Δ ' + r.run_id })))),
  h('tbody', {}, folds.map(f => h('tr', {}, h('td', { text: f }), runs.map(r => h('td', { class: 'num', text: fmtScore(r.folds[f]) })),
    runs.slice(1).map(r => { const d = delta(r, f); const better = d === null ? '' : ((runs[0].direction === 'minimize') === (d < 0) ? 'better' : 'worse');
      return h('td', { class: 'num delta ' + (d === 0 ? '' : better), text: fmtDelta(d) }); }))))));

  // Validation curves overlaid: every fold of every run, coloured by run.
  const byKey = new Map();
  runs.forEach((r, i) => r.curves.forEach(se => {
    if (!byKey.has(se.key)) byKey.set(se.key, []);
    byKey.get(se.key).push({ label: `${r.run_id} fold ${se.fold}`, color: color(i), steps: se.steps, values: se.values });
  }));
  const curves = byKey.size ? [...byKey.entries()].map(([k, ser]) => lineChart(ser, { cls: 'compare-curve', xLabel: 'iteration', yLabel: k, label: k, caption: k + ' (one line per fold)',
      legend: runs.map((r, i) => ({ label: r.run_id + (r.name ? ' ' + r.name : ''), color: color(i), has: r.curves.some(se => se.key === k) })).filter(it => it.has) }))
    : [h('p', { class: 'muted', text: 'None of these runs recorded validation curves.' })];
  show(h('h1', { text: `Compare ${runs.length} runs` }),
    section('Runs', summary),
    section(`Config differences (${doc.config_diff.length} differ, ${doc.config_same} equal)`, diff),
    section('Per-fold scores', paired, deltas),
    section('Validation curves', h('div', { class: curves.length > 1 ? 'grid wide' : 'single' }, curves)));
}

async function pageLb() {
  const doc = await api('lb');
  if (!doc.runs.length) {
    show(h('h1', { text: 'CV vs leaderboard' }), h('p', { class: 'muted', id: 'lb-empty', text: 'No leaderboard scores yet: add them with `compe lb add RUN --public X`.' }));
    return;
  }
  const xs = doc.runs.map(r => r.cv), ys = doc.runs.flatMap(r => [r.public, r.private]);
  const f = frame('lb-chart', chartWidth(), 300, extent(xs, 0.1), extent(ys, 0.1), { xLabel: 'CV', yLabel: 'LB', label: 'CV versus leaderboard' });
  // The y = x line: where the leaderboard agrees with CV.
  const xr = extent(xs, 0.1), yr = extent(ys, 0.1);
  const lo = Math.max(xr[0], yr[0]), hi = Math.min(xr[1], yr[1]);
  if (hi > lo) f.svg.append(s('line', { x1: f.x(lo), y1: f.y(lo), x2: f.x(hi), y2: f.y(hi), class: 'diagonal' }, s('title', { text: 'LB = CV' })));
  doc.runs.forEach(r => {
    if (r.cv === null) return;
    const label = `${r.id} ${r.name}: CV ${fmtScore(r.cv)}, public ${fmtScore(r.public)}` + (r.private !== null ? `, private ${fmtScore(r.private)}` : '');
    const g = s('g', { class: 'point' }, s('title', { text: label }));
    if (r.private !== null) {
      g.append(s('line', { x1: f.x(r.cv), x2: f.x(r.cv), y1: f.y(r.public), y2: f.y(r.private), class: 'link-line' }),
        s('rect', { x: f.x(r.cv) - 4, y: f.y(r.private) - 4, width: 8, height: 8, class: 'private' }));
    }
    g.append(s('circle', { cx: f.x(r.cv), cy: f.y(r.public), r: 5, class: 'public' }),
      s('text', { x: f.x(r.cv) + 8, y: f.y(r.public) + 4, class: 'point-label', 'data-x': f.x(r.cv), 'data-y': f.y(r.public), text: r.id }));
    f.svg.append(g);
  });
  const table = tableWrap(h('table', { id: 'lb-table' }, h('thead', {}, h('tr', {}, ['Run', 'Name', 'Model', 'CV', 'Public', 'Private', 'Public − CV', 'Subs'].map((t, i) => h('th', { class: i >= 3 ? 'num' : null, text: t })))),
    h('tbody', {}, doc.runs.map(r => h('tr', {}, h('td', { class: 'mono' }, h('a', { href: '#/run/' + encodeURIComponent(r.id), text: r.id })),
      h('td', { class: 'name', text: r.name }), h('td', { text: r.model }), h('td', { class: 'num', text: fmtScore(r.cv) }), h('td', { class: 'num', text: fmtScore(r.public) }),
      h('td', { class: 'num', text: fmtScore(r.private) }), h('td', { class: 'num', text: fmtDelta(r.cv === null ? null : r.public - r.cv) }),
      h('td', { class: 'num', text: r.submissions.length })))))) ;
  const labelNote = h('p', { class: 'muted chart-note', id: 'lb-label-note' });
  show(h('h1', { text: 'CV vs leaderboard' }),
    h('p', {}, h('a', { id: 'lb-shake', href: '#/shake/' + doc.runs.map(r => encodeURIComponent(r.id)).join(','), text: 'Shake-up of these runs' })),
    section('Scatter', h('figure', { class: 'chart-box' }, f.svg, h('div', { class: 'legend' },
      h('span', { class: 'legend-item' }, h('span', { class: 'dot public' }), 'public LB'),
      h('span', { class: 'legend-item' }, h('span', { class: 'dot private' }), 'private LB')), labelNote)),
    section('Runs', table));
  // Labels are placed once the chart is in the page (their size is measured there); best public first.
  const better = (a, b) => (a.direction === 'minimize' ? a.public - b.public : b.public - a.public);
  const order = [...doc.runs].filter(r => r.cv !== null).sort(better).map(r => r.id);
  const hidden = placePointLabels(f, order);
  labelNote.textContent = hidden ? `${hidden} of ${order.length} labels left out where they would overlap: the table below lists every run, and a point shows its run on hover.` : '';
  labelNote.hidden = !hidden;
}

/**
 * Moves each `text.point-label` of frame `f` (anchored at its data-x, data-y) to the first of a
 * few places around its point where it overlaps no other label and no point marker and stays in
 * the plot; a label with no such place is removed (its point keeps its tooltip). `order` (label
 * texts) says who chooses first. Returns how many labels were removed.
 */
function placePointLabels(f, order) {
  const svg = f.svg;
  const area = { x0: f.m.l + 1, y0: 0, x1: f.W, y1: f.H - f.m.b - 1 };
  const boxOf = el => { const b = el.getBBox(); return { x0: b.x - 1, y0: b.y - 1, x1: b.x + b.width + 1, y1: b.y + b.height + 1 }; };
  const markers = [...svg.querySelectorAll('g.point circle.public, g.point rect.private')].map(boxOf);
  const hit = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const rank = t => { const i = order.indexOf(t.textContent); return i < 0 ? order.length : i; };
  const labels = [...svg.querySelectorAll('text.point-label')].sort((a, b) => rank(a) - rank(b));
  const placed = [];
  let removed = 0;
  for (const t of labels) {
    const px = Number(t.getAttribute('data-x')), py = Number(t.getAttribute('data-y'));
    t.setAttribute('x', 0);
    t.setAttribute('y', 0);
    const b = t.getBBox();
    const w = b.width, hgt = b.height, gap = 8;
    // Top-left corners to try: right, left, above, below, then the four diagonals.
    const spots = [[px + gap, py - hgt / 2], [px - gap - w, py - hgt / 2], [px - w / 2, py - gap - hgt], [px - w / 2, py + gap],
      [px + gap - 2, py - gap - hgt + 2], [px + gap - 2, py + gap - 2], [px - gap + 2 - w, py - gap - hgt + 2], [px - gap + 2 - w, py + gap - 2]];
    const spot = spots.map(([x, y]) => ({ x0: x, y0: y, x1: x + w, y1: y + hgt }))
      .find(r => r.x0 >= area.x0 && r.x1 <= area.x1 && r.y0 >= area.y0 && r.y1 <= area.y1 &&
        !placed.some(p => hit(p, r)) && !markers.some(m => hit(m, r)));
    if (!spot) { t.remove(); removed++; continue; }
    t.setAttribute('x', (spot.x0 - b.x).toFixed(1));
    t.setAttribute('y', (spot.y0 - b.y).toFixed(1));
    placed.push({ x0: spot.x0 - 1, y0: spot.y0 - 1, x1: spot.x1 + 1, y1: spot.y1 + 1 });
  }
  return removed;
}

/**
 * Route table: '#/<name>/<arg>' renders ROUTES[name](arg, query). Pages in other files
 * (web/page_*.js, loaded after this one) add themselves with addRoute(); a nav link is added
 * when `nav` is given; `needsArg` routes without an argument fall back to the runs page.
 */
const ROUTES = {};
function addRoute(name, render, nav, needsArg) {
  ROUTES[name] = { render, needsArg: Boolean(needsArg) };
  if (nav) {
    const links = document.querySelector('header.top nav');
    if (links && !links.querySelector(`[data-nav="${name}"]`)) append(links, [h('a', { href: '#/' + name, 'data-nav': name, text: nav })]);
  }
}
addRoute('runs', (arg, query) => pageRuns(query));
addRoute('run', arg => pageRun(arg), null, true);
addRoute('compare', arg => pageCompare(arg), null, true);
addRoute('lb', () => pageLb());

async function route() {
  const { parts, query } = parseHash();
  try {
    const r = ROUTES[parts[0]];
    if (r && (parts[1] || !r.needsArg)) await r.render(parts[1], query);
    else await pageRuns(query);
    document.body.setAttribute('data-ready', location.hash || '#/runs');
  } catch (err) {
    showError(err);
    document.body.setAttribute('data-ready', 'error');
  }
  document.title = 'compe · ' + (document.querySelector('main h1') || { textContent: 'dashboard' }).textContent;
}

window.addEventListener('hashchange', () => { document.body.removeAttribute('data-ready'); route(); });
// Page files (web/page_*.js) load after this one; start once the whole document has parsed.
document.addEventListener('DOMContentLoaded', () => {
  api('health').then(doc => { document.getElementById('workspace').textContent = doc.workspace; }).catch(() => {});
  route();
});

// Tuning studies: '#/studies' lists them, '#/study/<name>' shows one: its trials, the
// optimisation history (value per trial and best so far), each parameter against the score, the
// parameter importance and, for several objectives, the Pareto front.
'use strict';

function stateBadge(state) { return h('span', { class: 'badge status-' + state, text: state }); }

/** Scatter plot: points [{x, y, color, title, r}]. */
function scatterChart(points, opts) {
  const f = frame('scatter-chart ' + (opts.cls || ''), chartWidth(), 220,
    opts.xRange || extent(points.map(p => p.x), 0.05), extent(points.map(p => p.y), 0.08),
    Object.assign({ noXTicks: Boolean(opts.xTickLabels) }, opts));
  (opts.xTickLabels || []).forEach((label, i) => f.svg.append(s('text', { x: f.x(i), y: f.H - f.m.b + 16, 'text-anchor': 'middle', text: label })));
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    f.svg.append(s('circle', { cx: f.x(p.x).toFixed(1), cy: f.y(p.y).toFixed(1), r: p.r || 3.5, fill: p.color, class: 'dot-point' },
      s('title', { text: p.title || '' })));
  }
  return h('figure', { class: 'chart-box' }, f.svg, opts.legend ? legend(opts.legend) : null,
    opts.caption ? h('figcaption', { text: opts.caption }) : null);
}

function paramText(params) {
  return Object.entries(params || {}).map(([k, v]) => k + '=' + (typeof v === 'number' ? fmtScore(v) : JSON.stringify(v))).join(' ');
}

async function pageStudies() {
  const doc = await api('studies');
  if (!doc.studies.length) {
    show(h('h1', { text: 'Studies' }), h('p', { class: 'muted', id: 'studies-empty', text: 'No tuning studies yet: start one with `compe tune EXPERIMENT.toml`.' }));
    return;
  }
  const table = tableWrap(h('table', { id: 'studies-table' },
    h('thead', {}, h('tr', {}, ['Study', 'Directions', 'Sampler', 'Pruner', 'Trials', 'Complete', 'Best'].map((t, i) => h('th', { class: i >= 4 ? 'num' : null, text: t })))),
    h('tbody', {}, doc.studies.map(st => h('tr', { 'data-study': st.name },
      h('td', { class: 'name' }, h('a', { href: '#/study/' + encodeURIComponent(st.name), text: st.name })),
      h('td', { text: st.directions.join(', ') }), h('td', { text: st.sampler }), h('td', { text: st.pruner }),
      h('td', { class: 'num', text: st.trials }), h('td', { class: 'num', text: st.counts.complete || 0 }),
      h('td', { class: 'num', text: fmtScore(st.best) }))))));
  show(h('h1', { text: 'Studies' }), table);
}

async function pageStudy(name) {
  const st = await api('studies/' + encodeURIComponent(name));
  const multi = st.directions.length > 1;
  const complete = st.trials.filter(t => t.state === 'complete' && t.values.length);
  const paramNames = Object.keys(st.space);
  const counts = Object.entries(st.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  const bestTrial = st.trials.find(t => t.number === st.best);
  const pareto = new Set(st.pareto);

  // Optimisation history: every complete trial's (first) value as a dot, the best so far as a line.
  let history = null;
  if (complete.length) {
    const yLabel = multi ? 'objective 0' : 'value';
    const f = frame('line-chart history-chart', chartWidth(), 220, extent(complete.map(t => t.number), 0),
      extent(complete.map(t => t.values[0]).concat(complete.map(t => t.best_so_far)), 0.05), { xLabel: 'trial', yLabel, label: 'Optimisation history' });
    let d = '';
    complete.forEach(t => { d += (d ? 'L' : 'M') + f.x(t.number).toFixed(1) + ' ' + f.y(t.best_so_far).toFixed(1); });
    f.svg.append(s('path', { d, stroke: PALETTE[1], class: 'series' }, s('title', { text: 'best so far' })));
    for (const t of complete) {
      f.svg.append(s('circle', { cx: f.x(t.number).toFixed(1), cy: f.y(t.values[0]).toFixed(1), r: 3, fill: PALETTE[0], class: 'dot-point' },
        s('title', { text: `trial ${t.number}: ${fmtScore(t.values[0])}` })));
    }
    history = h('figure', { class: 'chart-box' }, f.svg,
      legend([{ label: 'trial value', color: PALETTE[0] }, { label: 'best so far (' + st.directions[0] + ')', color: PALETTE[1] }]));
  }

  // Each parameter against the (first) objective.
  const scatters = paramNames.map(p => {
    const dist = st.space[p];
    const cat = dist.type === 'categorical';
    const pts = complete.filter(t => t.params[p] !== undefined).map(t => {
      const v = t.params[p];
      const x = cat ? dist.choices.findIndex(c => JSON.stringify(c) === JSON.stringify(v)) : (dist.log ? Math.log10(v) : v);
      return { x, y: t.values[0], color: pareto.has(t.number) ? PALETTE[1] : PALETTE[0], title: `trial ${t.number}: ${p}=${JSON.stringify(v)} → ${fmtScore(t.values[0])}` };
    });
    const xLabel = cat ? p : (dist.log ? 'log10 ' + p : p);
    return scatterChart(pts, { cls: 'param-chart', xLabel, yLabel: multi ? 'objective 0' : 'value', label: p + ' versus the objective',
      xRange: cat ? [-0.5, dist.choices.length - 0.5] : null, xTickLabels: cat ? dist.choices.map(c => String(c)) : null, caption: p });
  });

  const imp = Object.entries(st.importance).sort((a, b) => b[1] - a[1]);
  const importance = imp.length ? barChart(imp.map(([p, v]) => ({ label: p, bars: [{ value: v, color: PALETTE[2], title: `${p}: ${fmtScore(v)}` }] })),
    { cls: 'importance-chart', yLabel: 'importance', label: 'Parameter importance',
      caption: 'squared rank correlation with the objective (categorical: eta squared), summing to 1' }) : null;

  let front = null;
  if (multi) {
    const pts = complete.map(t => ({ x: t.values[0], y: t.values[1], color: pareto.has(t.number) ? PALETTE[1] : PALETTE[7], r: pareto.has(t.number) ? 5 : 3,
      title: `trial ${t.number}: ${t.values.map(fmtScore).join(', ')}` + (pareto.has(t.number) ? ' (Pareto front)' : '') }));
    front = section('Pareto front', scatterChart(pts, { cls: 'pareto-chart', xLabel: `objective 0 (${st.directions[0]})`, yLabel: `objective 1 (${st.directions[1]})`,
      label: 'Pareto front', legend: [{ label: 'Pareto front', color: PALETTE[1] }, { label: 'dominated', color: PALETTE[7] }],
      caption: `${st.pareto.length} trial(s) on the front` }),
    tableWrap(h('table', { id: 'pareto-table' }, h('thead', {}, h('tr', {}, h('th', { text: 'Trial' }), st.directions.map((d, i) => h('th', { class: 'num', text: `objective ${i} (${d})` })), h('th', { text: 'Params' }))),
      h('tbody', {}, st.trials.filter(t => pareto.has(t.number)).map(t => h('tr', {}, h('td', { text: t.number }),
        t.values.map(v => h('td', { class: 'num', text: fmtScore(v) })), h('td', { class: 'mono', text: paramText(t.params) })))))));
  }

  const trials = tableWrap(h('table', { id: 'trials-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Trial' }), h('th', { text: 'State' }), h('th', { class: 'num', text: multi ? 'Values' : 'Value' }),
      h('th', { class: 'num', text: 'Best so far' }), h('th', { text: 'Run' }), h('th', { text: 'Params' }))),
    h('tbody', {}, st.trials.map(t => h('tr', { 'data-trial': t.number, class: t.number === st.best ? 'best' : null },
      h('td', { text: t.number }), h('td', {}, stateBadge(t.state)),
      h('td', { class: 'num', text: t.values.length ? t.values.map(fmtScore).join(', ') : (t.state === 'failed' ? t.error : '–') }),
      h('td', { class: 'num', text: fmtScore(t.best_so_far) }),
      h('td', { class: 'mono' }, t.run_id ? h('a', { href: '#/run/' + encodeURIComponent(t.run_id), text: t.run_id }) : '–'),
      h('td', { class: 'mono', text: paramText(t.params) }))))));

  show(h('h1', { class: 'study-name', text: st.name }),
    h('p', { class: 'subtitle', id: 'study-summary', text: `${st.directions.join(', ')} · sampler ${st.sampler} · pruner ${st.pruner} · ${st.trials.length} trial(s): ${counts}` }),
    bestTrial ? h('p', { id: 'study-best' }, h('strong', { text: `Best${multi ? ' on objective 0' : ''}: trial ${bestTrial.number} = ${fmtScore(bestTrial.values[0])}` }), ' ', h('span', { class: 'mono', text: paramText(bestTrial.params) })) : null,
    front,
    section('Optimisation history', history || h('p', { class: 'muted', text: 'No complete trial yet.' })),
    section('Parameters versus the objective', h('div', { class: 'grid' }, scatters)),
    section('Parameter importance', importance || h('p', { class: 'muted', text: 'No parameters.' })),
    section('Trials', trials));
}

addRoute('studies', () => pageStudies(), 'Studies');
addRoute('study', arg => pageStudy(arg), null, true);

// Diversity page: '#/diversity/<id,id,...>' draws the correlation heatmaps of `compe blend
// analyze` (predictions and errors, in the clustered order), each model's CV and its marginal gain
// on nested CV when added to the blend of the others.
'use strict';

/** Colour of a correlation in [-1, 1]: white at 0, blue towards 1, red towards -1. */
function corrColor(v) {
  const t = Math.max(-1, Math.min(1, Number(v) || 0));
  const [r, g, b] = t >= 0 ? [37, 99, 235] : [220, 38, 38];
  const a = Math.abs(t) * 0.7;  // light enough for the cell text to stay readable
  const mix = c => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

/** An m x m heatmap (row-major `values`) in the given member order. */
function heatmap(id, values, members, order, label) {
  const m = members.length;
  const narrow = window.innerWidth < 600;
  const names = order.map(i => members[i].name || members[i].id);
  const left = narrow ? 70 : 110, top = narrow ? 70 : 100;
  const cell = Math.max(28, Math.min(64, ((narrow ? 360 : 560) - left) / m));
  const W = left + cell * m + 4, H = top + cell * m + 4;
  const short = t => (t.length > (narrow ? 9 : 14) ? t.slice(0, narrow ? 8 : 13) + '…' : t);
  const svg = s('svg', { class: 'chart heatmap', id, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
  order.forEach((i, r) => {
    svg.append(s('text', { x: left - 6, y: top + r * cell + cell / 2 + 4, 'text-anchor': 'end', class: 'label' }, short(names[r]), s('title', { text: names[r] })));
    const cx = left + r * cell + cell / 2, cy = top - 6;
    svg.append(s('text', { x: cx, y: cy, 'text-anchor': 'start', class: 'label', transform: `rotate(-45 ${cx} ${cy})` }, short(names[r]), s('title', { text: names[r] })));
    order.forEach((j, c) => {
      const v = values[i * m + j];
      const g = s('g', { class: 'cell', 'data-row': members[i].id, 'data-col': members[j].id },
        s('title', { text: `${names[r]} × ${names[c]}: ${Number(v).toFixed(3)}` }));
      g.append(s('rect', { x: left + c * cell, y: top + r * cell, width: cell - 1, height: cell - 1, fill: corrColor(v) }));
      if (cell >= 30) g.append(s('text', { x: left + c * cell + cell / 2, y: top + r * cell + cell / 2 + 4, 'text-anchor': 'middle',
        class: 'value', fill: Math.abs(v) > 0.6 ? '#fff' : '#111827', text: Number(v).toFixed(2) }));
      svg.append(g);
    });
  });
  return h('figure', { class: 'chart-box' }, svg, h('figcaption', { text: label }));
}

async function pageDiversity(arg, query) {
  const ids = arg.split(',').filter(Boolean);
  const method = query.get('method') || '';
  const doc = await api('diversity', { ids: ids.join(','), method });
  const kind = query.get('corr') === 'pearson' ? 'pearson' : 'spearman';
  const members = doc.members, order = doc.order;
  const better = doc.greater_is_better ? 'higher is better' : 'lower is better';
  const corrSel = h('select', { id: 'corr-select', 'aria-label': 'Correlation', onchange: e => {
    const q = new URLSearchParams(query); q.set('corr', e.target.value);
    location.hash = '#/diversity/' + ids.map(encodeURIComponent).join(',') + '?' + q;
  } }, [['spearman', 'Spearman'], ['pearson', 'Pearson']].map(([v, t]) => h('option', { value: v, text: t })));
  corrSel.value = kind;
  const name = k => (k === 'pearson' ? 'Pearson' : 'Spearman');
  const rows = order.map(i => {
    const mem = members[i];
    const gain = mem.marginal_gain;
    return h('tr', { 'data-run': mem.id },
      h('td', { class: 'mono' }, h('a', { href: '#/run/' + encodeURIComponent(mem.id), text: mem.id })),
      h('td', { class: 'name', text: mem.name }),
      h('td', { class: 'num cv', text: fmtScore(mem.cv) }),
      h('td', { class: 'num delta gain ' + (gain > 0 ? 'better' : gain < 0 ? 'worse' : ''), text: fmtDelta(gain) }));
  });
  const table = tableWrap(h('table', { id: 'diversity-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Run' }), h('th', { text: 'Name' }), h('th', { class: 'num', text: 'CV (' + doc.metric + ')' }),
      h('th', { class: 'num', text: 'Marginal gain' }))),
    h('tbody', {}, rows)));
  const gains = barChart(order.map(i => ({ label: members[i].id.slice(0, 8), bars: [{ value: members[i].marginal_gain,
    color: members[i].marginal_gain >= 0 ? '#059669' : '#dc2626', title: `${members[i].name}: ${fmtDelta(members[i].marginal_gain)}` }] })),
  { cls: 'gain-chart', label: 'Marginal gain of each model', caption: `nested-CV ${doc.metric} of the ${doc.method} blend of all minus that of the others (positive helps)` });
  show(h('h1', { text: 'Diversity' }),
    h('p', { class: 'subtitle' }, `${members.length} models · ${doc.metric} (${better}) · blend of all (${doc.method}, nested CV): `,
      h('strong', { id: 'blend-score', text: fmtScore(doc.blend_score) })),
    h('div', { class: 'toolbar' }, corrSel),
    h('div', { class: 'grid' },
      section(name(kind) + ' of predictions', heatmap('heatmap-predictions', doc[kind], members, order, `${name(kind)} correlation of OOF predictions, clustered order`)),
      section(name(kind) + ' of errors', heatmap('heatmap-errors', doc['error_' + kind], members, order, `${name(kind)} correlation of OOF errors (prediction − truth), clustered order`))),
    section('Models', table, gains));
}

addRoute('diversity', (arg, query) => pageDiversity(arg, query), null, true);

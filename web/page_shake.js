// Shake-up page: '#/shake/<id,id,...>' simulates public/private splits of the runs (GET /api/shake)
// and draws each candidate's public − private histogram and the expected rank changes.
'use strict';

/** Histogram of public − private for one candidate over the shared bin edges. */
function gapHistogram(doc, c, color) {
  const edges = doc.gap_edges;
  const counts = c.gap_histogram;
  const top = Math.max(1, ...counts);
  const f = frame('shake-hist', chartWidth(), 160, [edges[0], edges[edges.length - 1]], [0, top],
    { xLabel: 'public − private', yLabel: 'splits', label: `public minus private score of ${c.name}` });
  counts.forEach((n, i) => {
    if (!n) return;
    const x0 = f.x(edges[i]), x1 = f.x(edges[i + 1]);
    f.svg.append(s('rect', { x: x0, y: f.y(n), width: Math.max(1, x1 - x0 - 1), height: f.y(0) - f.y(n), fill: color, class: 'bar' },
      s('title', { text: `${fmtDelta(edges[i])} … ${fmtDelta(edges[i + 1])}: ${n} split(s)` })));
  });
  // Zero: where public and private agree.
  if (edges[0] < 0 && edges[edges.length - 1] > 0) {
    f.svg.append(s('line', { x1: f.x(0), x2: f.x(0), y1: f.y(0), y2: f.y(top), class: 'diagonal' }, s('title', { text: 'public = private' })));
  }
  return h('figure', { class: 'chart-box shake-histogram', 'data-candidate': c.name }, f.svg,
    h('figcaption', { text: `${c.name}${c.label && c.label !== c.name ? ' · ' + c.label : ''}: mean ${fmtDelta(c.gap.mean)}, 5–95% [${fmtDelta(c.gap.p5)}, ${fmtDelta(c.gap.p95)}]` }));
}

/** Mean public rank against mean private rank per candidate, with the expected |change|. */
function rankChart(doc) {
  return barChart(doc.candidates.map(c => ({
    label: c.name,
    note: `E|Δ| ${c.mean_abs_rank_change.toFixed(2)}`,
    bars: [
      { value: c.mean_public_rank, color: PALETTE[0], title: `${c.name}: mean public rank ${c.mean_public_rank.toFixed(2)}` },
      { value: c.mean_private_rank, color: PALETTE[1], title: `${c.name}: mean private rank ${c.mean_private_rank.toFixed(2)}` },
    ],
  })), {
    cls: 'shake-ranks', yLabel: 'mean rank (1 = best)', label: 'mean public and private rank per candidate',
    legend: [{ label: 'public rank', color: PALETTE[0] }, { label: 'private rank', color: PALETTE[1] }],
    caption: `P(public #1 is private #1) = ${doc.p_public_top_is_private_top.toFixed(2)}; expected |rank change| ${doc.mean_abs_rank_change.toFixed(2)} place(s)`,
  });
}

async function pageShake(arg, query) {
  const ids = String(arg || '').split(',').filter(Boolean);
  const params = { ids: ids.join(',') };
  for (const k of ['public_fraction', 'simulations', 'seed', 'source']) if (query.get(k)) params[k] = query.get(k);
  const doc = await api('shake', params);
  const pm = v => `${fmtScore(v.mean)} ± ${v.sd.toFixed(4)}`;
  const anyActual = doc.candidates.some(c => c.actual.public !== null || c.actual.private !== null);
  const head = ['Run', 'Name', 'Public', 'Private', 'sd(pub − priv)', 'E|rank Δ|', 'P(private #1)'].concat(anyActual ? ['Actual public', 'Actual private'] : []);
  const table = tableWrap(h('table', { id: 'shake-table', class: 'wrap-head' },
    h('thead', {}, h('tr', {}, head.map((t, i) => h('th', { class: i >= 2 ? 'num' : null, text: t })))),
    h('tbody', {}, doc.candidates.map(c => h('tr', { 'data-run': c.name },
      h('td', { class: 'mono' }, h('a', { href: '#/run/' + encodeURIComponent(c.name), text: c.name })),
      h('td', { class: 'name', text: c.label }),
      h('td', { class: 'num', text: pm(c.public) }),
      h('td', { class: 'num', text: pm(c.private) }),
      h('td', { class: 'num', text: c.gap.sd.toFixed(4) }),
      h('td', { class: 'num', text: c.mean_abs_rank_change.toFixed(2) }),
      h('td', { class: 'num', text: c.p_private_best.toFixed(2) }),
      anyActual ? [h('td', { class: 'num', text: fmtScore(c.actual.public) }), h('td', { class: 'num', text: fmtScore(c.actual.private) })] : null)))));
  const pairs = doc.candidates.length > 1 ? tableWrap(h('table', { id: 'shake-pairs', class: 'wrap-head' },
    h('thead', {}, h('tr', {}, ['A', 'B', 'P(A > B public)', 'P(A > B private | public)'].map((t, i) => h('th', { class: i >= 2 ? 'num' : null, text: t })))),
    h('tbody', {}, doc.pairs.filter(p => p.p_a_public >= 0.5).map(p => h('tr', {},
      h('td', { class: 'mono', text: p.a }), h('td', { class: 'mono', text: p.b }),
      h('td', { class: 'num', text: p.p_a_public.toFixed(2) }),
      h('td', { class: 'num', text: p.p_private_given_public === null ? '–' : p.p_private_given_public.toFixed(2) })))))) : null;
  const source = doc.mode === 'solution' ? 're-splits of the solution\'s scored rows' : 'OOF rows resampled to the test size';
  show(h('h1', { text: 'Shake-up' }),
    h('p', { class: 'muted', id: 'shake-summary',
      text: `${doc.simulations} simulated splits (${source}): ${doc.public_rows} public / ${doc.private_rows} private rows; metric ${doc.metric}, ${doc.direction}.` }),
    section('Candidates', table),
    section('Public − private', h('div', { class: 'grid' }, doc.candidates.map((c, i) => gapHistogram(doc, c, PALETTE[i % PALETTE.length])))),
    doc.candidates.length > 1 ? section('Rank change', rankChart(doc)) : null,
    pairs ? section('Pairs', pairs) : null);
}

addRoute('shake', (arg, query) => pageShake(arg, query), null, true);

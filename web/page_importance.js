// A run's feature importance (details.importance of /api/runs/<id>): horizontal bars of the
// permutation drop (the metric lost when the feature is shuffled among the OOF rows, with its
// std as a whisker) where the run measured it, else of the gain share; the top 20 features.
'use strict';

function importanceChart(rows) {
  if (!rows || !rows.length) return h('p', { class: 'muted', text: 'No feature importance recorded (this model reports none).' });
  const perm = rows.some(r => r.permutation_mean !== null);
  const top = rows.slice(0, 20).map(r => ({ name: r.feature, value: perm ? r.permutation_mean : r.gain, sd: perm ? r.permutation_std : null, gain: r.gain }));
  const W = chartWidth(), rowH = 18, left = Math.min(220, W * 0.35), right = 90, H = top.length * rowH + 30;
  const vals = top.map(t => t.value || 0).concat(top.map(t => (t.value || 0) + (t.sd || 0)), [0]);
  const lo = Math.min(...vals), hi = Math.max(...vals) || 1;
  const x = v => left + (v - lo) / (hi - lo || 1) * (W - left - right);
  const svg = s('svg', { class: 'importance-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'Feature importance' });
  top.forEach((t, i) => {
    const y = 10 + i * rowH, v = t.value || 0;
    svg.append(s('text', { x: left - 6, y: y + rowH * 0.65, 'text-anchor': 'end', text: t.name.length > 30 ? t.name.slice(0, 29) + '…' : t.name }));
    svg.append(s('rect', { x: Math.min(x(0), x(v)), y: y + 2, width: Math.max(1, Math.abs(x(v) - x(0))), height: rowH - 5, fill: PALETTE[0], class: 'bar' },
      s('title', { text: `${t.name}: ${perm ? 'permutation ' + fmtScore(t.value) + ' ± ' + fmtScore(t.sd) + ', ' : ''}gain ${fmtScore(t.gain)}` })));
    if (t.sd) svg.append(s('line', { x1: x(v - t.sd), x2: x(v + t.sd), y1: y + rowH / 2, y2: y + rowH / 2, stroke: PALETTE[7], class: 'whisker' }));
    svg.append(s('text', { x: Math.max(x(v), x(0)) + 4, y: y + rowH * 0.65, class: 'value', text: fmtScore(t.value) }));
  });
  return h('figure', { class: 'chart-box', id: 'run-importance' }, svg,
    h('figcaption', { text: perm ? 'Permutation importance on the OOF rows (metric drop, mean ± std over folds and shuffles)' : 'Gain share per feature (mean over fold models)' }));
}

// Image runs on the run page (GET /api/runs/<id>/images, /columns; images from /api/images/<id>):
//  - detection: a paged grid of the train images with the ground-truth boxes (green) and the OOF
//    boxes (blue; missed truth and false positives in orange/red), label and score beside each
//    box, a score threshold, a filter to images with misses or false positives, sorting by the
//    image's AP or its number of errors; a click opens the image large;
//  - segmentation: the same grid with the truth and OOF masks drawn on a canvas over the image
//    (one colour per class; truth filled, OOF filled lighter with its outline), toggles per class
//    and per source, the image's Dice, worst first;
//  - multilabel: ROC AUC per label column of the pooled OOF and per fold.
// RLE codes are decoded here: pixels numbered from 1, top to bottom then left to right.
'use strict';

const IMG_SOURCES = { truth: '#059669', pred: '#2563eb' };
const IMG_PAGE = 24;

function hasArtifact(run, name) {
  return run.artifacts.some(a => a.name === name || String(a.path || '').endsWith('/' + name + '.csv'));
}

function imageUrl(url, size) {
  return withToken(url + (size ? '?size=' + size : ''));
}

/** The 0/1 mask (row-major, width x height) of a column-major, 1-based RLE code. */
function decodeRle(code, width, height) {
  const mask = new Uint8Array(width * height);
  const t = String(code || '').trim().split(/\s+/).filter(Boolean).map(Number);
  for (let i = 0; i + 1 < t.length; i += 2) {
    for (let k = t[i] - 1, end = Math.min(t[i] - 1 + t[i + 1], width * height); k < end; ++k) {
      mask[(k % height) * width + Math.floor(k / height)] = 1;
    }
  }
  return mask;
}

function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The image as an SVG <image> under an SVG of the image's own pixel coordinates. */
function imageSvg(img, size, cls) {
  return s('svg', { class: 'img-svg ' + (cls || ''), viewBox: `0 0 ${img.width} ${img.height}`, 'data-id': img.id, role: 'img',
    'aria-label': img.id, preserveAspectRatio: 'xMidYMid meet' },
  img.url ? s('image', { href: imageUrl(img.url, size), x: 0, y: 0, width: img.width, height: img.height, preserveAspectRatio: 'none' }) : null);
}

// ---------- detection ----------

function drawBoxes(svg, img, classes, threshold, large) {
  const stroke = Math.max(1, Math.max(img.width, img.height) / (large ? 300 : 120));
  const font = Math.max(8, Math.max(img.width, img.height) / (large ? 40 : 14));
  const label = b => (classes[b.label] !== undefined ? classes[b.label] : String(b.label));
  const draw = (b, source) => {
    const miss = !b.matched;
    const cls = `box ${source}${miss ? (source === 'truth' ? ' missed' : ' false-positive') : ''}`;
    const text = source === 'pred' ? `${label(b)} ${Number(b.score).toFixed(2)}` : label(b);
    const g = s('g', { class: cls, 'data-source': source },
      s('rect', { x: b.x1, y: b.y1, width: Math.max(0, b.x2 - b.x1), height: Math.max(0, b.y2 - b.y1), 'stroke-width': stroke }),
      s('text', { x: b.x1 + stroke, y: source === 'pred' ? b.y2 - stroke : b.y1 + font, 'font-size': font, text }),
      s('title', { text: `${source === 'truth' ? 'truth' : 'prediction'}: ${text}${miss ? (source === 'truth' ? ' (missed)' : ' (false positive)') : ''}` }));
    svg.append(g);
  };
  img.truth.forEach(b => draw(b, 'truth'));
  img.pred.filter(b => b.score >= threshold).forEach(b => draw(b, 'pred'));
  return svg;
}

function openLarge(title, body, caption) {
  closeLarge();
  const box = h('div', { class: 'img-large', id: 'img-large', role: 'dialog', 'aria-label': title },
    h('div', { class: 'img-large-inner' },
      h('div', { class: 'img-large-head' }, h('strong', { class: 'mono', text: title }),
        h('button', { class: 'link', id: 'img-large-close', onclick: closeLarge, text: 'Close' })),
      body, h('p', { class: 'muted', text: caption })));
  box.addEventListener('click', e => { if (e.target === box) closeLarge(); });
  document.body.append(box);
}

function closeLarge() {
  const el = document.getElementById('img-large');
  if (el) el.remove();
}

function pagerRow(doc, go) {
  const from = doc.total ? doc.offset + 1 : 0, to = doc.offset + doc.images.length;
  return h('div', { class: 'pager' },
    h('button', { id: 'img-prev', disabled: doc.offset === 0, onclick: () => go(Math.max(0, doc.offset - doc.limit)), text: '‹ Prev' }),
    h('span', { id: 'img-range', text: `${from}–${to} of ${doc.total}` }),
    h('button', { id: 'img-next', disabled: to >= doc.total, onclick: () => go(doc.offset + doc.limit), text: 'Next ›' }));
}

function select(id, label, options, value, onchange) {
  return h('label', { class: 'img-control' }, label + ' ',
    h('select', { id, onchange }, options.map(([v, t]) => h('option', { value: v, selected: v === value ? true : null, text: t }))));
}

function detectionSection(run) {
  const state = { offset: 0, sort: 'ap', filter: 'all', threshold: 0.5 };
  const grid = h('div', { class: 'img-grid', id: 'img-grid' });
  const pager = h('div', {});
  const summary = h('p', { class: 'muted', id: 'img-summary' });
  const value = h('span', { class: 'mono', id: 'img-threshold-value', text: state.threshold.toFixed(2) });
  const load = async () => {
    const doc = await api('runs/' + encodeURIComponent(run.run_id) + '/images', { offset: state.offset, limit: IMG_PAGE, sort: state.sort, filter: state.filter, threshold: state.threshold });
    grid.replaceChildren(...doc.images.map(img => {
      const svg = drawBoxes(imageSvg(img, 256, 'thumb'), img, doc.classes, doc.threshold, false);
      const caption = `${img.id} · fold ${img.fold === null ? '–' : img.fold} · AP50 ${fmtScore(img.ap)} · ${img.misses} missed · ${img.false_positives} false pos.`;
      return h('figure', { class: 'img-cell', 'data-id': img.id, tabindex: 0, onclick: () => openLarge(img.id,
        drawBoxes(imageSvg(img, 0, 'large'), img, doc.classes, doc.threshold, true), caption) }, svg,
      h('figcaption', {}, h('span', { class: 'mono', text: img.id }), ` AP50 ${fmtScore(img.ap)} · ${img.misses} missed · ${img.false_positives} false pos.`));
    }));
    summary.textContent = doc.total ? `${doc.total} images; boxes scoring at least ${doc.threshold.toFixed(2)} are drawn and counted.` : 'No image matches.';
    pager.replaceChildren(pagerRow(doc, off => { state.offset = off; load().catch(showError); }));
    grid.setAttribute('data-loaded', String(Date.now()));
  };
  const reload = () => { state.offset = 0; load().catch(showError); };
  const slider = h('input', { type: 'range', id: 'img-threshold', min: 0, max: 1, step: 0.05, value: state.threshold,
    oninput: e => { value.textContent = Number(e.target.value).toFixed(2); },
    onchange: e => { state.threshold = Number(e.target.value); reload(); } });
  const controls = h('div', { class: 'toolbar img-toolbar' },
    h('label', { class: 'img-control' }, 'Score ≥ ', slider, value),
    select('img-filter', 'Show', [['all', 'all images'], ['misses', 'with misses'], ['false_positives', 'with false positives'], ['errors', 'with any error']], state.filter,
      e => { state.filter = e.target.value; reload(); }),
    select('img-sort', 'Sort', [['ap', 'AP50, worst first'], ['errors', 'errors, most first'], ['id', 'image id']], state.sort,
      e => { state.sort = e.target.value; reload(); }));
  const legendRow = legend([{ label: 'truth', color: IMG_SOURCES.truth }, { label: 'OOF prediction', color: IMG_SOURCES.pred },
    { label: 'missed truth', color: '#d97706' }, { label: 'false positive', color: '#dc2626' }]);
  return load().then(() => section('OOF boxes', h('div', { id: 'img-detection' }, controls, legendRow, summary, grid, pager)));
}

// ---------- segmentation ----------

function classColor(classes, label) {
  const i = classes.indexOf(label);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

/** Paints the masks of the shown classes and sources on `canvas` (the image's own pixels). */
function paintMasks(canvas, img, classes, shown) {
  const W = img.width, H = img.height;
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(W, H);
  const px = data.data;
  const put = (k, rgb, a) => {
    const o = k * 4, keep = px[o + 3] / 255, add = a / 255;  // "over": the later layer on top
    for (let c = 0; c < 3; ++c) px[o + c] = Math.round(rgb[c] * add + px[o + c] * keep * (1 - add));
    px[o + 3] = Math.round(255 * (add + keep * (1 - add)));
  };
  for (const source of ['truth', 'pred']) {
    if (!shown.sources[source]) continue;
    for (const m of img[source]) {
      if (!shown.classes[m.label]) continue;
      const rgb = hexRgb(classColor(classes, m.label));
      const mask = decodeRle(m.rle, W, H);
      for (let y = 0; y < H; ++y) {
        for (let x = 0; x < W; ++x) {
          const k = y * W + x;
          if (!mask[k]) continue;
          if (source === 'truth') { put(k, rgb, 110); continue; }
          const edge = x === 0 || y === 0 || x === W - 1 || y === H - 1 || !mask[k - 1] || !mask[k + 1] || !mask[k - W] || !mask[k + W];
          put(k, edge ? [17, 24, 39] : rgb, edge ? 230 : 70);
        }
      }
    }
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

function maskView(img, classes, shown, size, cls) {
  const canvas = paintMasks(h('canvas', { class: 'img-mask', 'data-id': img.id }), img, classes, shown);
  const wrap = h('div', { class: 'img-stack ' + cls }, img.url ? h('img', { src: imageUrl(img.url, size), alt: img.id, class: 'img-base' }) : null, canvas);
  return wrap;
}

function segmentationSection(run) {
  const state = { offset: 0, sort: 'dice' };
  const shown = { classes: {}, sources: { truth: true, pred: true } };
  const grid = h('div', { class: 'img-grid', id: 'img-grid' });
  const pager = h('div', {});
  const toggles = h('div', { class: 'toolbar img-toolbar', id: 'img-toggles' });
  let doc = null;
  const draw = () => {
    grid.replaceChildren(...doc.images.map(img => {
      const perClass = Object.entries(img.dice_per_class).map(([c, d]) => `${c} ${fmtScore(d)}`).join(' · ');
      const caption = `${img.id} · fold ${img.fold === null ? '–' : img.fold} · Dice ${fmtScore(img.dice)} (${perClass})`;
      return h('figure', { class: 'img-cell', 'data-id': img.id, 'data-dice': img.dice, tabindex: 0,
        onclick: () => openLarge(img.id, maskView(img, doc.classes, shown, 0, 'large'), caption) },
      maskView(img, doc.classes, shown, 256, 'thumb'),
      h('figcaption', {}, h('span', { class: 'mono', text: img.id }), ` Dice ${fmtScore(img.dice)}`, h('span', { class: 'muted', text: ' ' + perClass })));
    }));
    grid.setAttribute('data-loaded', String(Date.now()));
  };
  const toggle = (id, text, color, get, set) => h('label', { class: 'img-control' },
    h('input', { type: 'checkbox', id, checked: get(), onchange: e => { set(e.target.checked); draw(); } }),
    color ? h('span', { class: 'swatch', 'data-color': color }) : null, text);
  const load = async () => {
    doc = await api('runs/' + encodeURIComponent(run.run_id) + '/images', { offset: state.offset, limit: IMG_PAGE, sort: state.sort });
    for (const c of doc.classes) if (!(c in shown.classes)) shown.classes[c] = true;
    toggles.replaceChildren(
      toggle('img-show-truth', 'truth (filled)', null, () => shown.sources.truth, v => { shown.sources.truth = v; }),
      toggle('img-show-pred', 'OOF (outlined)', null, () => shown.sources.pred, v => { shown.sources.pred = v; }),
      ...doc.classes.map((c, i) => toggle('img-class-' + i, c, classColor(doc.classes, c), () => shown.classes[c], v => { shown.classes[c] = v; })),
      select('img-sort', 'Sort', [['dice', 'Dice, worst first'], ['id', 'image id']], state.sort, e => { state.sort = e.target.value; state.offset = 0; load().catch(showError); }));
    paintSwatches(toggles);
    pager.replaceChildren(pagerRow(doc, off => { state.offset = off; load().catch(showError); }));
    draw();
  };
  return load().then(() => section('OOF masks', h('div', { id: 'img-segmentation' }, toggles,
    h('p', { class: 'muted', text: 'Masks decoded from the RLE codes; per-image Dice is the mean over the classes (both empty = 1).' }), grid, pager)));
}

// ---------- multilabel ----------

async function columnsSection(run) {
  const doc = await api('runs/' + encodeURIComponent(run.run_id) + '/columns');
  if (!doc.columns.length) return null;
  const folds = [...new Set(doc.columns.flatMap(c => Object.keys(c.folds)))].sort((a, b) => Number(a) - Number(b));
  const chart = barChart(doc.columns.map(c => ({ label: c.name, bars: [{ value: c.auc, color: PALETTE[0], title: `${c.name}: AUC ${fmtScore(c.auc)}` }] })),
    { cls: 'column-chart', yLabel: 'ROC AUC', label: 'AUC per label column', caption: 'ROC AUC per label column, pooled OOF' });
  const table = tableWrap(h('table', { id: 'run-columns', class: 'wrap-head' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Column' }), h('th', { class: 'num', text: 'AUC' }), h('th', { class: 'num', text: 'Positives' }),
      folds.map(f => h('th', { class: 'num', text: 'fold ' + f })))),
    h('tbody', {}, doc.columns.map(c => h('tr', {}, h('td', { class: 'name', text: c.name }), h('td', { class: 'num', text: fmtScore(c.auc) }),
      h('td', { class: 'num', text: `${c.positives} / ${c.rows}` }), folds.map(f => h('td', { class: 'num', text: fmtScore(c.folds[f]) })))))));
  return section('Label columns', h('div', { id: 'run-columns-box' }, chart, table));
}

addRunSection(run => (hasArtifact(run, 'oof_boxes') ? detectionSection(run) : null));
addRunSection(run => (hasArtifact(run, 'oof_masks') ? segmentationSection(run) : null));
addRunSection(run => (hasArtifact(run, 'oof') ? columnsSection(run) : null));

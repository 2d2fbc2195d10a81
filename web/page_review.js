// Review queues: '#/review' lists them, '#/review/<name>' reviews one item at a time.
// Keyboard first: Enter or a accepts the suggested label, digits 0-9 relabel to class k, s skips,
// u undoes, j / k (or arrows) move between items, b saves boxes, Delete removes the selected box.
// Box items show the image (or its id as text when the image does not load) with an SVG layer:
// drag a box to move it, drag on the image to draw one, select one and press Delete to remove it.
// Every edit is saved at once (one transaction in the store); the history panel shows each edit,
// and when another reviewer's edit replaced yours (or yours replaced theirs) the page says so.
'use strict';

const REVIEWER_KEY = 'compe.reviewer';

function reviewerName() {
  let name = '';
  try { name = localStorage.getItem(REVIEWER_KEY) || ''; } catch (e) { name = ''; }
  return name || 'reviewer';
}

function setReviewerName(name) {
  try { localStorage.setItem(REVIEWER_KEY, name); } catch (e) { /* private mode: kept for this page only */ }
}

function labelText(v) {
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) return v.length + (v.length === 1 ? ' box' : ' boxes');
  return String(v);
}

async function pageReviewList() {
  const doc = await api('review');
  if (!doc.queues.length) {
    show(h('h1', { text: 'Review' }), h('p', { class: 'muted', id: 'review-empty', text: 'No review queues yet: build one with `compe review build NAME --from RUN`.' }));
    return;
  }
  const table = tableWrap(h('table', { id: 'review-queues' },
    h('thead', {}, h('tr', {}, ['Queue', 'Kind', 'Items', 'Reviewed', 'Rules'].map((t, i) => h('th', { class: i === 2 || i === 3 ? 'num' : null, text: t })))),
    h('tbody', {}, doc.queues.map(q => h('tr', { 'data-queue': q.name },
      h('td', { class: 'name' }, h('a', { href: '#/review/' + encodeURIComponent(q.name), text: q.name })),
      h('td', { text: q.kind }), h('td', { class: 'num', text: q.items }), h('td', { class: 'num', text: q.reviewed }),
      h('td', { text: q.rules.join(', ') }))))));
  show(h('h1', { text: 'Review' }), table);
}

/** The state of one open queue page. */
const review = { queue: null, items: [], index: 0, mine: {}, boxes: null, selected: -1, timer: null, notice: '' };

function suggestedLabel(item) {
  for (const r of item.reasons || []) if (r.suggested !== undefined) return String(r.suggested);
  // Else the class the runs give the highest mean probability.
  const sums = {};
  for (const probs of Object.values(item.predictions || {})) {
    if (!probs || typeof probs !== 'object') continue;
    for (const [c, p] of Object.entries(probs)) sums[c] = (sums[c] || 0) + Number(p);
  }
  const best = Object.entries(sums).sort((a, b) => b[1] - a[1])[0];
  return best ? best[0] : (typeof item.label === 'string' ? item.label : null);
}

async function pageReviewQueue(name, query) {
  const doc = await api('review/' + encodeURIComponent(name));
  review.queue = doc.queue;
  review.items = doc.items;
  review.boxes = null;
  review.selected = -1;
  review.notice = '';
  const wanted = query && query.get && query.get('item');
  let at = doc.items.findIndex(it => it.key === wanted);
  if (at < 0) at = doc.items.findIndex(it => it.status === 'open');
  review.index = Math.max(0, at);
  await renderReviewItem();
  if (review.timer) clearInterval(review.timer);
  // Another reviewer may edit the same item: look again every few seconds while the page is open.
  review.timer = setInterval(() => {
    if (!location.hash.startsWith('#/review/')) { clearInterval(review.timer); review.timer = null; return; }
    refreshItem().catch(() => {});
  }, 3000);
}

function currentItem() { return review.items[review.index]; }

/** Reloads the current item and its history; says so when someone else's edit is the latest. */
async function refreshItem() {
  const item = currentItem();
  if (!item) return;
  const doc = await api('review/' + encodeURIComponent(review.queue.name) + '/item', { key: item.key });
  const changed = doc.item.last_edit !== item.last_edit;
  review.items[review.index] = doc.item;
  if (changed) {
    noteOthersEdit(doc.item);
    review.boxes = null;
    renderItemView(doc.history);
  } else {
    renderHistory(doc.history);
  }
}

/** When someone else edited the item after this page's last edit of it, the page says so. */
function noteOthersEdit(item) {
  const mine = review.mine[item.key];
  if (mine && item.last_edit > mine && item.last_reviewer !== reviewerName()) {
    review.notice = `${item.last_reviewer} changed this item after your edit: the label is now ${labelText(item.label)} (the later edit wins; yours stays in the history).`;
  }
}

async function renderReviewItem() {
  const item = currentItem();
  if (!item) {
    show(h('h1', { text: 'Review ' + review.queue.name }), h('p', { class: 'muted', text: 'This queue has no items.' }));
    return;
  }
  const doc = await api('review/' + encodeURIComponent(review.queue.name) + '/item', { key: item.key });
  review.items[review.index] = doc.item;
  noteOthersEdit(doc.item);
  renderItemView(doc.history);
}

function classNames() {
  const info = review.queue.info || {};
  return (info.classes || []).map(String);
}

function reasonsView(item) {
  return h('ul', { class: 'review-reasons', id: 'review-reasons' }, (item.reasons || []).map(r =>
    h('li', {}, h('b', { text: r.rule || 'reason' }), r.text ? ': ' + r.text : '', r.score !== undefined ? ` (score ${fmtScore(r.score)})` : '')));
}

function predictionsView(item) {
  const runs = Object.entries(item.predictions || {});
  if (!runs.length) return null;
  const classes = classNames().length ? classNames() : Object.keys(runs[0][1] || {});
  return tableWrap(h('table', { id: 'review-predictions' },
    h('thead', {}, h('tr', {}, h('th', { text: 'run' }), classes.map(c => h('th', { class: 'num', text: c })))),
    h('tbody', {}, runs.map(([run, probs]) => h('tr', {}, h('td', { text: run }),
      classes.map(c => h('td', { class: 'num', text: probs && probs[c] !== undefined ? fmtScore(probs[c]) : '–' })))))));
}

function featuresView(item) {
  const entries = Object.entries(item.data || {}).filter(([k]) => k !== 'width' && k !== 'height' || review.queue.kind !== 'boxes');
  if (!entries.length) return null;
  return tableWrap(h('table', { id: 'review-features', class: 'kv' },
    h('tbody', {}, entries.map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', { text: v === null ? '–' : String(v) }))))));
}

function classButtons(item) {
  return h('div', { class: 'review-classes', id: 'review-classes' }, classNames().map((c, k) =>
    h('button', { type: 'button', 'data-class': c, class: String(item.label) === c ? 'current' : null,
      onclick: () => saveEdit('relabel', c), text: (k < 10 ? k + ': ' : '') + c })));
}

function renderItemView(history) {
  const item = currentItem();
  const q = review.queue;
  const isBoxes = q.kind === 'boxes';
  const suggested = isBoxes ? null : suggestedLabel(item);
  const reviewer = h('input', { id: 'review-reviewer', value: reviewerName(), 'aria-label': 'reviewer',
    onchange: e => setReviewerName(e.target.value.trim()) });
  const actions = h('div', { class: 'review-actions' },
    isBoxes ? h('button', { type: 'button', id: 'review-save-boxes', onclick: () => saveBoxes(), text: 'Save boxes (b)' })
      : h('button', { type: 'button', id: 'review-accept', onclick: () => saveEdit('accept', suggested), text: `Accept ${suggested === null ? '' : suggested} (Enter)` }),
    isBoxes ? h('button', { type: 'button', id: 'review-delete-box', onclick: () => deleteSelectedBox(), text: 'Delete box (Del)' }) : null,
    h('button', { type: 'button', id: 'review-skip', onclick: () => saveEdit('skip'), text: 'Skip (s)' }),
    h('button', { type: 'button', id: 'review-undo', onclick: () => saveEdit('undo'), text: 'Undo (u)' }),
    h('button', { type: 'button', id: 'review-prev', onclick: () => move(-1), text: '← prev (k)' }),
    h('button', { type: 'button', id: 'review-next', onclick: () => move(1), text: 'next (j) →' }));
  const reviewed = review.items.filter(it => it.status !== 'open').length;
  show(h('h1', { text: 'Review ' + q.name }),
    h('p', { class: 'muted', id: 'review-progress', text: `item ${review.index + 1} of ${review.items.length} · ${reviewed} reviewed · reviewer ` }, reviewer),
    review.notice ? h('p', { class: 'review-notice', id: 'review-notice', role: 'status', text: review.notice }) : null,
    h('section', { class: 'review-item', id: 'review-item', 'data-key': item.key, 'data-status': item.status },
      h('h2', {}, 'id ', h('code', { id: 'review-key', text: item.key })),
      h('p', {}, 'label ', h('b', { id: 'review-label', text: labelText(item.label) }),
        ` (queued as ${labelText(item.original)}; ${item.status}${item.last_reviewer ? ' by ' + item.last_reviewer : ''})`),
      isBoxes ? boxEditor(item) : null,
      isBoxes ? null : classButtons(item),
      actions,
      section('Why it was queued', reasonsView(item)),
      predictionsView(item) ? section('Predictions', predictionsView(item)) : null,
      featuresView(item) ? section(isBoxes ? 'Data' : 'Features', featuresView(item)) : null,
      h('div', { id: 'review-history-box' })));
  renderHistory(history);
}

function renderHistory(history) {
  const box = document.getElementById('review-history-box');
  if (!box) return;
  box.replaceChildren(section('History', history.length ? tableWrap(h('table', { id: 'review-history' },
    h('thead', {}, h('tr', {}, ['#', 'action', 'old', 'new', 'by', 'time'].map(t => h('th', { text: t })))),
    h('tbody', {}, history.map(e => h('tr', { 'data-edit': e.id },
      h('td', { class: 'num', text: e.id }), h('td', { text: e.action }), h('td', { text: labelText(e.old) }),
      h('td', { text: labelText(e.new) }), h('td', { text: e.reviewer }), h('td', { text: fmtTime(e.time) })))))) :
    h('p', { class: 'muted', text: 'No edits yet.' })));
}

async function saveEdit(action, value) {
  const item = currentItem();
  if (!item) return;
  if ((action === 'accept' || action === 'relabel') && (value === null || value === undefined)) return;
  const body = { key: item.key, action, reviewer: reviewerName(), based_on: review.mine[item.key] === undefined ? item.last_edit : Math.max(item.last_edit, review.mine[item.key]) };
  if (value !== undefined) body.value = value;
  let doc;
  try {
    doc = await apiRequest('POST', 'review/' + encodeURIComponent(review.queue.name) + '/edit', JSON.stringify(body), 'application/json');
  } catch (err) {
    review.notice = 'Not saved: ' + err.message;
    renderItemView([]);
    await refreshItem();
    return;
  }
  review.mine[item.key] = doc.edit.id;
  review.items[review.index] = doc.item;
  review.boxes = null;
  review.selected = -1;
  review.notice = doc.overridden.length ?
    `Saved; this replaces ${doc.overridden.map(e => e.reviewer + "'s " + e.action).join(', ')} made since you opened the item (both stay in the history).` : '';
  // After an accept, relabel or skip the next item comes up; undo stays on this one.
  if (action !== 'undo' && action !== 'boxes' && review.index + 1 < review.items.length && !review.notice) review.index += 1;
  await renderReviewItem();
}

function move(step) {
  const next = review.index + step;
  if (next < 0 || next >= review.items.length) return;
  review.index = next;
  review.boxes = null;
  review.selected = -1;
  review.notice = '';
  renderReviewItem();
}

// ---- boxes: an SVG layer over the image in the image's pixel coordinates ----

function imageSize(item) {
  const d = item.data || {};
  return { w: Number(d.width) || 256, h: Number(d.height) || 256 };
}

function boxEditor(item) {
  if (!review.boxes) review.boxes = (Array.isArray(item.label) ? item.label : []).map(b => Object.assign({}, b));
  const size = imageSize(item);
  const img = h('img', { id: 'review-image', alt: '', src: withToken('/api/images/' + encodeURIComponent(item.key) + '?size=256') });
  const fallback = h('div', { class: 'review-image-id', id: 'review-image-id', hidden: true, text: item.key });
  img.addEventListener('error', () => { img.hidden = true; fallback.hidden = false; });
  const svg = s('svg', { id: 'review-boxes', viewBox: `0 0 ${size.w} ${size.h}`, preserveAspectRatio: 'none' });
  const wrap = h('div', { class: 'review-canvas' }, img, fallback, svg);
  wrap.style.aspectRatio = `${size.w} / ${size.h}`;  // CSSOM: the page's CSP allows no style attributes
  drawReviewBoxes(svg);
  attachBoxDrag(svg);
  return wrap;
}

function drawReviewBoxes(svg) {
  svg.replaceChildren();
  review.boxes.forEach((b, i) => {
    svg.append(s('rect', { x: b.x1, y: b.y1, width: b.x2 - b.x1, height: b.y2 - b.y1, 'data-box': i,
      class: 'review-box' + (i === review.selected ? ' selected' : ''), stroke: PALETTE[b.label % PALETTE.length] },
      s('title', { text: 'class ' + b.label })));
  });
}

function svgPoint(svg, ev) {
  const m = svg.getScreenCTM().inverse();
  const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m);
  const vb = svg.viewBox.baseVal;
  return { x: Math.min(Math.max(p.x, 0), vb.width), y: Math.min(Math.max(p.y, 0), vb.height) };
}

function attachBoxDrag(svg) {
  let drag = null;
  svg.addEventListener('pointerdown', ev => {
    const p = svgPoint(svg, ev);
    const i = ev.target.getAttribute && ev.target.getAttribute('data-box');
    if (i !== null && i !== undefined) {
      review.selected = Number(i);
      drag = { mode: 'move', start: p, orig: Object.assign({}, review.boxes[review.selected]) };
    } else {
      review.boxes.push({ x1: p.x, y1: p.y, x2: p.x, y2: p.y, label: 0 });
      review.selected = review.boxes.length - 1;
      drag = { mode: 'draw', start: p };
    }
    svg.setPointerCapture(ev.pointerId);
    drawReviewBoxes(svg);
    ev.preventDefault();
  });
  svg.addEventListener('pointermove', ev => {
    if (!drag) return;
    const p = svgPoint(svg, ev);
    const b = review.boxes[review.selected];
    if (drag.mode === 'move') {
      const vb = svg.viewBox.baseVal;
      const dx = Math.min(Math.max(p.x - drag.start.x, -drag.orig.x1), vb.width - drag.orig.x2);
      const dy = Math.min(Math.max(p.y - drag.start.y, -drag.orig.y1), vb.height - drag.orig.y2);
      Object.assign(b, { x1: drag.orig.x1 + dx, x2: drag.orig.x2 + dx, y1: drag.orig.y1 + dy, y2: drag.orig.y2 + dy });
    } else {
      Object.assign(b, { x1: Math.min(drag.start.x, p.x), x2: Math.max(drag.start.x, p.x), y1: Math.min(drag.start.y, p.y), y2: Math.max(drag.start.y, p.y) });
    }
    drawReviewBoxes(svg);
  });
  const end = () => {
    if (drag && drag.mode === 'draw') {
      const b = review.boxes[review.selected];
      if (b.x2 - b.x1 < 2 || b.y2 - b.y1 < 2) { review.boxes.splice(review.selected, 1); review.selected = -1; }
    }
    drag = null;
    drawReviewBoxes(svg);
  };
  svg.addEventListener('pointerup', end);
  svg.addEventListener('pointercancel', end);
}

function deleteSelectedBox() {
  if (review.selected < 0 || !review.boxes) return;
  review.boxes.splice(review.selected, 1);
  review.selected = -1;
  const svg = document.getElementById('review-boxes');
  if (svg) drawReviewBoxes(svg);
}

function saveBoxes() {
  const round = v => Math.round(v * 10) / 10;
  const boxes = (review.boxes || []).map(b => ({ x1: round(b.x1), y1: round(b.y1), x2: round(b.x2), y2: round(b.y2), label: b.label }));
  return saveEdit('boxes', boxes);
}

document.addEventListener('keydown', ev => {
  if (!location.hash.startsWith('#/review/') || !review.queue) return;
  if (ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'TEXTAREA')) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const item = currentItem();
  if (!item) return;
  const isBoxes = review.queue.kind === 'boxes';
  const k = ev.key;
  let handled = true;
  if (/^[0-9]$/.test(k) && isBoxes && review.selected >= 0) {
    review.boxes[review.selected].label = Number(k);
    drawReviewBoxes(document.getElementById('review-boxes'));
  } else if (/^[0-9]$/.test(k) && !isBoxes && classNames()[Number(k)] !== undefined) saveEdit('relabel', classNames()[Number(k)]);
  else if ((k === 'Enter' || k === 'a') && !isBoxes) saveEdit('accept', suggestedLabel(item));
  else if (k === 's') saveEdit('skip');
  else if (k === 'u' || k === 'z') saveEdit('undo');
  else if (k === 'b' && isBoxes) saveBoxes();
  else if ((k === 'Delete' || k === 'Backspace') && isBoxes) deleteSelectedBox();
  else if (k === 'j' || k === 'ArrowRight' || k === 'ArrowDown') move(1);
  else if (k === 'k' || k === 'ArrowLeft' || k === 'ArrowUp') move(-1);
  else handled = false;
  if (handled) ev.preventDefault();
});

addRoute('review', (arg, query) => (arg ? pageReviewQueue(arg, query) : pageReviewList()), 'Review');

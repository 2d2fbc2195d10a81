// Browser and HTTP tests of the review page of `compe ui`: a queue built from a real run on the
// titanic example relabelled by keyboard, an imported image item whose boxes are drawn, moved and
// deleted with the mouse, two reviewers on one item; then the export and the history.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, launchChromium, compe, serveUi, getJson, cleanUp } from './setup.mjs';

let tmp, ws, profile, browser, ui, queue;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-review-'));
  ws = path.join(tmp, 'ws');
  compe('init', ws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
  const run = JSON.parse(compe('run', '--model', 'linear', '--workspace', ws, '--json'));
  queue = JSON.parse(compe('review', 'build', 'noise', '--from', run.run_id, '--top', '6', '--workspace', ws, '--json'));
  const items = path.join(tmp, 'boxes.jsonl');
  fs.writeFileSync(items, JSON.stringify({ id: 'img-1', label: [{ x1: 10, y1: 10, x2: 40, y2: 50, label: 0 }],
    reasons: 'more boxes than expected', data: { width: 200, height: 100 } }) + '\n');
  compe('review', 'import', 'boxes', items, '--workspace', ws);
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'review', VIEWPORTS.desktop));
  ui = await serveUi(ws);
});

after(() => cleanUp(browser, [ui && ui.proc], [tmp, profile]));

async function openPage(hash, viewport, reviewer) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${ui.base}/`);
  await page.evaluate(name => localStorage.setItem('compe.reviewer', name), reviewer || 'ann');
  await page.goto(`${ui.base}/${hash}`);
  await page.waitForSelector('body[data-ready]', { timeout: 10000 });
  assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${hash} at ${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
  return { page, errors };
}

/** A POST on a connection of its own, closed after the answer (the server caps the connections
 * one client address may hold, and the browser's pages hold some). */
function post(body, queueName = 'noise', contentType = 'application/json') {
  const u = new URL(ui.base);
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: `/api/review/${queueName}/edit`, method: 'POST',
      agent: false, headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data), Connection: 'close' } }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', d => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A GET of the API from inside the page: its connections stay within the browser's pool, so the
 * server's per-client connection cap is never reached while pages are open. */
function pageJson(page, apiPath) {
  return page.evaluate(p => fetch(p).then(r => r.json()), apiPath);
}

async function waitForKey(page, key) {
  await page.waitForFunction(k => {
    const el = document.getElementById('review-key');
    return el && el.textContent === k;
  }, key, { timeout: 10000 });
}

async function waitForLabel(page, label) {
  await page.waitForFunction(l => {
    const el = document.getElementById('review-label');
    return el && el.textContent === l;
  }, label, { timeout: 10000 });
}

describe('review API', () => {
  test('lists queues and refuses bad edits', async () => {
    const list = (await getJson(ui.base, '/api/review')).body.queues;
    assert.deepEqual(list.map(q => q.name).sort(), ['boxes', 'noise']);
    const q = (await getJson(ui.base, '/api/review/noise')).body;
    assert.equal(q.items.length, queue.items.length);
    assert.equal((await getJson(ui.base, '/api/review/none')).status, 404);
    const key = q.items[0].key;
    let r = await post({ key, action: 'relabel', value: '1' });
    assert.equal(r.status, 400, 'a reviewer is required');
    r = await post({ key, action: 'erase', reviewer: 'x' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /unknown action 'erase'/);
    r = await post({ key: 'img-1', action: 'boxes', reviewer: 'x', value: [{ x1: 5, y1: 1, x2: 2, y2: 4, label: 0 }] }, 'boxes');
    assert.equal(r.status, 400);
    const form = await post('key=1&action=skip', 'noise', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415, 'a form post (what another site could send) is refused');
    assert.equal((await getJson(ui.base, '/api/review/noise/item?key=' + encodeURIComponent(key))).body.history.length, 0);
  });
});

describe('review page', () => {
  test('relabels by keyboard, undoes, and the export and history agree', async () => {
    const { page, errors } = await openPage('#/review/noise', 'desktop', 'ann');
    const items = queue.items;
    const classes = queue.info.classes;
    await waitForKey(page, items[0].key);
    assert.ok((await page.textContent('#review-reasons')).length > 0);
    assert.ok(await page.$('#review-predictions'));
    assert.match(await page.textContent('#review-features'), /sex/);
    // Item 1: the digit of the other class; the page moves on to item 2.
    const other = c => classes[(classes.indexOf(c) + 1) % classes.length];
    await page.keyboard.press(String(classes.indexOf(other(items[0].original))));
    await waitForKey(page, items[1].key);
    // Item 2: skip; item 3: relabel, then undo (stays on item 3? no: undo applies to the shown item).
    await page.keyboard.press('s');
    await waitForKey(page, items[2].key);
    await page.keyboard.press(String(classes.indexOf(other(items[2].original))));
    await waitForKey(page, items[3].key);
    await page.keyboard.press('k');
    await waitForKey(page, items[2].key);
    await waitForLabel(page, other(items[2].original));
    await page.keyboard.press('u');
    await waitForLabel(page, items[2].original);
    await page.waitForSelector('#review-history tr[data-edit]');
    const rows = await page.$$eval('#review-history tbody tr', trs => trs.map(tr => [...tr.children].map(td => td.textContent)));
    assert.deepEqual(rows.map(r => r[1]), ['relabel', 'undo']);
    assert.deepEqual(rows.map(r => r[4]), ['ann', 'ann']);
    await page.screenshot({ path: path.join(SHOTS, 'review-desktop.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();

    const out = path.join(tmp, 'labels.csv');
    const exp = JSON.parse(compe('review', 'export', 'noise', '-o', out, '--workspace', ws, '--json'));
    assert.equal(exp.rows, 1);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.deepEqual(lines, ['id,survived', `${items[0].key},${other(items[0].original)}`]);
    const history = JSON.parse(compe('review', 'history', 'noise', '--workspace', ws, '--json'));
    assert.deepEqual(history.map(e => [e.key, e.action]), [[items[0].key, 'relabel'], [items[1].key, 'skip'],
      [items[2].key, 'relabel'], [items[2].key, 'undo']]);
  });

  test('two reviewers on one item: both kept, the later wins, the earlier page says so', async () => {
    const key = queue.items[4].key;
    const { page, errors } = await openPage(`#/review/noise?item=${encodeURIComponent(key)}`, 'desktop', 'ann');
    await waitForKey(page, key);
    const before = queue.items[4].original;
    const classes = queue.info.classes;
    const other = classes[(classes.indexOf(before) + 1) % classes.length];
    await page.keyboard.press(String(classes.indexOf(other)));
    await page.waitForFunction(() => document.getElementById('review-key') && document.getElementById('review-history-box'));
    // Bob had the item open before Ann's edit and saves after it.
    // (Sent from the browser, whose connection pool stays within the server's per-client cap.)
    const bob = await page.evaluate(body => fetch('/api/review/noise/edit', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(async r => ({ status: r.status, body: await r.json() })),
    { key, action: 'relabel', value: before, reviewer: 'bob', based_on: 0 });
    assert.equal(bob.status, 200, JSON.stringify(bob));
    assert.deepEqual(bob.body.overridden.map(e => e.reviewer), ['ann']);
    // Ann's page, back on that item, shows Bob's edit as the current label and says so.
    await page.keyboard.press('k');
    await waitForKey(page, key);
    await page.waitForSelector('#review-notice', { timeout: 10000 });
    assert.match(await page.textContent('#review-notice'), /bob changed this item after your edit/);
    await waitForLabel(page, before);
    const hist = (await pageJson(page, `/api/review/noise/item?key=${encodeURIComponent(key)}`)).history;
    assert.deepEqual(hist.map(e => e.reviewer), ['ann', 'bob']);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('draws, moves and deletes boxes on a phone, saves them as one edit, exports COCO', async () => {
    const { page, errors } = await openPage('#/review/boxes', 'phone', 'ann');
    await waitForKey(page, 'img-1');
    // No image endpoint answers for this id: the id is shown as text instead.
    await page.waitForSelector('#review-image-id:not([hidden])', { timeout: 10000 });
    assert.equal(await page.textContent('#review-image-id'), 'img-1');
    const svg = await page.$('#review-boxes');
    const r = await svg.boundingBox();
    const sx = r.width / 200, sy = r.height / 100;
    const at = (x, y) => [r.x + x * sx, r.y + y * sy];
    // Draw a new box from (100, 20) to (150, 80).
    await page.mouse.move(...at(100, 20));
    await page.mouse.down();
    await page.mouse.move(...at(125, 50), { steps: 4 });
    await page.mouse.move(...at(150, 80), { steps: 4 });
    await page.mouse.up();
    assert.equal(await page.$$eval('#review-boxes rect', els => els.length), 2);
    // Move the first box by (+20, +10).
    await page.mouse.move(...at(25, 30));
    await page.mouse.down();
    await page.mouse.move(...at(35, 35), { steps: 4 });
    await page.mouse.move(...at(45, 40), { steps: 4 });
    await page.mouse.up();
    // Draw a third one and delete it with the Delete key.
    await page.mouse.move(...at(160, 10));
    await page.mouse.down();
    await page.mouse.move(...at(190, 40), { steps: 4 });
    await page.mouse.up();
    assert.equal(await page.$$eval('#review-boxes rect', els => els.length), 3);
    await page.keyboard.press('Delete');
    assert.equal(await page.$$eval('#review-boxes rect', els => els.length), 2);
    await page.keyboard.press('b');
    await waitForLabel(page, '2 boxes');
    await page.screenshot({ path: path.join(SHOTS, 'review-phone.png'), fullPage: true });
    assert.deepEqual(errors, []);
    const hist = (await pageJson(page, '/api/review/boxes/item?key=img-1')).history;
    await page.close();

    assert.equal(hist.length, 1);
    assert.equal(hist[0].action, 'boxes');
    const [moved, drawn] = hist[0].new;
    const near = (a, b) => Math.abs(a - b) <= 2.5;
    assert.ok(near(moved.x1, 30) && near(moved.y1, 20) && near(moved.x2, 60) && near(moved.y2, 60), JSON.stringify(moved));
    assert.ok(near(drawn.x1, 100) && near(drawn.y1, 20) && near(drawn.x2, 150) && near(drawn.y2, 80), JSON.stringify(drawn));

    const csv = path.join(tmp, 'boxes.csv'), coco = path.join(tmp, 'boxes.json');
    compe('review', 'export', 'boxes', '-o', csv, '--coco', coco, '--workspace', ws);
    assert.equal(fs.readFileSync(csv, 'utf8').trim().split('\n').length, 3);
    const doc = JSON.parse(fs.readFileSync(coco, 'utf8'));
    assert.equal(doc.images[0].width, 200);
    assert.equal(doc.annotations.length, 2);
    assert.ok(near(doc.annotations[1].bbox[2], 50) && near(doc.annotations[1].bbox[3], 60), JSON.stringify(doc.annotations[1]));
  });
});

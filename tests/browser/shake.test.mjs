// The shake-up page and /api/shake of `compe ui` against a real workspace with real runs.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, launchChromium, compe, serveUi, getJson, cleanUp } from './setup.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';

let tmp, ws, profile, browser, ui;
const runs = {};

function runJson(...args) {
  return JSON.parse(compe('run', '--workspace', ws, '--json', ...args));
}

async function openPage(hash, viewport) {
  const page = await browser.newPage();
  const dialogs = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${ui.base}/${hash}`);
  await page.waitForSelector('body[data-ready]', { timeout: 20000 });
  assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${hash} at ${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
  return { page, dialogs, errors };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-shake-'));
  ws = path.join(tmp, 'ws');
  compe('init', ws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
  runs.xgb = runJson('--model', 'xgboost', '--name', 'xgb').run_id;
  runs.linear = runJson('--model', 'linear', '--name', 'linear').run_id;
  const strong = path.join(tmp, 'strong.toml');
  fs.writeFileSync(strong, '[model]\nbackend = "linear"\n[model.params]\nC = 0.05\n');
  runs.hostile = runJson(strong, '--name', HOSTILE, '--allow-multi').run_id;
  compe('lb', 'add', '--workspace', ws, runs.xgb, '--public', '0.8');
  compe('lb', 'add', '--workspace', ws, runs.linear, '--public', '0.77');
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'shake', VIEWPORTS.desktop));
  ui = await serveUi(ws);
});

after(() => cleanUp(browser, [ui && ui.proc], [tmp, profile]));

describe('shake', () => {
  test('/api/shake simulates the runs against the solution, and refuses bad parameters', async () => {
    const ids = [runs.xgb, runs.linear, runs.hostile].join(',');
    const r = await getJson(ui.base, `/api/shake?ids=${ids}&simulations=200`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mode, 'solution');
    assert.equal(r.body.simulations, 200);
    assert.equal(r.body.candidates.length, 3);
    for (const c of r.body.candidates) {
      assert.equal(c.gap_histogram.reduce((a, b) => a + b, 0), 200);
      assert.ok(c.actual.public !== null && c.actual.private !== null);
    }
    assert.equal(r.body.gap_edges.length, 21);
    const oof = await getJson(ui.base, `/api/shake?ids=${runs.xgb}&source=oof&simulations=50&public_fraction=0.4`);
    assert.equal(oof.status, 200, JSON.stringify(oof.body));
    assert.equal(oof.body.mode, 'oof');
    assert.equal(oof.body.public_fraction, 0.4);
    for (const bad of ['ids=', `ids=${runs.xgb}&public_fraction=1`, `ids=${runs.xgb}&public_fraction=0`,
      `ids=${runs.xgb}&simulations=0`, `ids=${runs.xgb}&source=lb`, 'ids=..%2F..%2Fetc']) {
      const b = await getJson(ui.base, '/api/shake?' + bad);
      assert.equal(b.status, 400, bad + ' ' + JSON.stringify(b.body));
      assert.ok(b.body.error, bad);
    }
    assert.equal((await getJson(ui.base, '/api/shake?ids=zzzzzzzz')).status, 404);
  });

  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`shake page at ${viewport}: table, histograms, rank chart, no injected markup`, async () => {
      const { page, dialogs, errors } = await openPage(`#/shake/${runs.xgb},${runs.linear},${runs.hostile}`, viewport);
      assert.equal(await page.textContent('main h1'), 'Shake-up');
      assert.equal(await page.locator('#shake-table tbody tr').count(), 3);
      assert.equal(await page.locator('figure.shake-histogram').count(), 3);
      assert.ok(await page.locator('figure.shake-histogram rect.bar').count() > 3);
      assert.equal(await page.locator('svg.shake-ranks').count(), 1);
      assert.match(await page.textContent('#shake-summary'), /public \/ \d+ private rows/);
      // The hostile run name is shown as text, never as markup.
      assert.ok((await page.textContent('#shake-table')).includes(HOSTILE));
      assert.equal(await page.locator('main img').count(), 0);
      await page.screenshot({ path: path.join(SHOTS, `shake-${viewport}.png`), fullPage: true });
      // On a wide screen every table fits its box: nothing to scroll sideways.
      const wraps = await page.$$eval('main .table-wrap', ws => ws.map(w => [w.querySelector('table').id, w.scrollWidth, w.clientWidth]));
      assert.equal(wraps.length, 2);
      if (viewport === 'desktop') {
        for (const [id, scrollW, clientW] of wraps) assert.ok(scrollW <= clientW, `#${id} is ${scrollW}px wide in a ${clientW}px box`);
      }
      assert.deepEqual(dialogs, []);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test('the LB page links to the shake-up of its runs', async () => {
    const { page } = await openPage('#/lb', 'desktop');
    const href = await page.getAttribute('#lb-shake', 'href');
    assert.equal(href, `#/shake/${runs.xgb},${runs.linear}`);
    await page.click('#lb-shake');
    await page.waitForFunction(() => document.body.getAttribute('data-ready') === location.hash, null, { timeout: 20000 });
    assert.equal(await page.locator('#shake-table tbody tr').count(), 2);
    await page.close();
  });
});

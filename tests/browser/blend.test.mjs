// The diversity page and /api/diversity of `compe ui` against a real workspace: two real runs
// and a third with a hostile name (a blend of the two), so names are checked to stay text.
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

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-blend-ui-'));
  ws = path.join(tmp, 'ws');
  compe('init', ws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
  runs.xgb = JSON.parse(compe('run', '--workspace', ws, '--json', '--model', 'xgboost', '--name', 'xgb')).run_id;
  runs.linear = JSON.parse(compe('run', '--workspace', ws, '--json', '--model', 'linear', '--name', 'linear')).run_id;
  runs.blend = JSON.parse(compe('blend', runs.xgb, runs.linear, '--method', 'rank_mean', '--workspace', ws, '--json', '--name', HOSTILE)).run_id;
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'blend', VIEWPORTS.desktop));
  ui = await serveUi(ws);
});

after(() => cleanUp(browser, [ui && ui.proc], [tmp, profile], 'SIGTERM'));

describe('/api/diversity', () => {
  test('correlations, clustered order, CVs and marginal gains of three runs', async () => {
    const ids = [runs.xgb, runs.linear, runs.blend];
    const r = await getJson(ui.base, `/api/diversity?ids=${ids.map(i => i.slice(0, 6)).join(',')}&method=mean`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body;
    assert.deepEqual(d.members.map(m => m.id), ids);
    assert.deepEqual(d.members.map(m => m.name), ['xgb', 'linear', HOSTILE]);
    assert.equal(d.metric, 'roc_auc');
    assert.equal(d.greater_is_better, true);
    assert.equal(d.method, 'mean');
    assert.deepEqual([...d.order].sort(), [0, 1, 2]);
    for (const key of ['pearson', 'spearman', 'error_pearson', 'error_spearman']) {
      assert.equal(d[key].length, 9, key);
      for (let i = 0; i < 3; ++i) {
        assert.ok(Math.abs(d[key][i * 3 + i] - 1) < 1e-12, key);
        for (let j = 0; j < 3; ++j) assert.ok(Math.abs(d[key][i * 3 + j] - d[key][j * 3 + i]) < 1e-12, key);
      }
    }
    // The best member comes first in the clustered order.
    const best = Math.max(...d.members.map(m => m.cv));
    assert.equal(d.members[d.order[0]].cv, best);
    assert.ok(d.members.every(m => Number.isFinite(m.marginal_gain)));
    assert.ok(d.blend_score > 0.5 && d.blend_score <= 1);
  });

  test('bad requests are refused with a message', async () => {
    for (const [q, status] of [[`ids=${runs.xgb}`, 400], ['ids=', 400], [`ids=${runs.xgb},..%2Fetc`, 400],
      [`ids=${runs.xgb},zzzzzzzz`, 404], [`ids=${runs.xgb},${runs.linear}&method=meen`, 404]]) {
      const r = await getJson(ui.base, '/api/diversity?' + q);
      assert.equal(r.status, status, q + ' ' + JSON.stringify(r.body));
      assert.ok(r.body.error, q);
    }
  });
});

for (const viewport of Object.keys(VIEWPORTS)) {
  describe(`diversity page at ${viewport}`, () => {
    test('heatmaps of predictions and errors, the models table and the gains', async () => {
      const page = await browser.newPage();
      const dialogs = [], errors = [];
      page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
      page.on('pageerror', e => errors.push(String(e)));
      await page.setViewportSize(VIEWPORTS[viewport]);
      // From the runs page: select three runs, then the Diversity button.
      await page.goto(`${ui.base}/#/runs`);
      await page.waitForSelector('body[data-ready]', { timeout: 10000 });
      assert.equal(await page.isDisabled('#diversity-btn'), true);
      for (const id of [runs.xgb, runs.linear, runs.blend]) await page.check(`tr[data-run="${id}"] input[type=checkbox]`);
      await page.click('#diversity-btn');
      await page.waitForFunction(() => (document.body.dataset.ready || '').startsWith('#/diversity/'), null, { timeout: 60000 });
      assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
      assert.equal(await page.textContent('main h1'), 'Diversity');
      for (const id of ['#heatmap-predictions', '#heatmap-errors'])
        assert.equal(await page.$$eval(`${id} g.cell rect`, els => els.length), 9, id);
      const rows = await page.$$eval('#diversity-table tbody tr', trs => trs.map(tr => tr.dataset.run));
      assert.deepEqual([...rows].sort(), [runs.xgb, runs.linear, runs.blend].sort());
      const gains = await page.$$eval('#diversity-table td.gain', tds => tds.map(td => td.textContent));
      assert.ok(gains.every(g => /^[+-]?\d/.test(g)), gains.join(' '));
      assert.match(await page.textContent('#blend-score'), /^0\.\d+/);
      assert.equal(await page.$$eval('svg.gain-chart rect.bar', els => els.length), 3);
      // The hostile name is text: no image element, no dialog.
      assert.equal(await page.$$eval('main img', els => els.length), 0);
      assert.ok((await page.textContent('#diversity-table')).includes(HOSTILE));
      const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scrollW <= innerW, `diversity at ${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
      await page.screenshot({ path: path.join(SHOTS, `diversity-${viewport}.png`), fullPage: true });
      // Pearson instead of Spearman.
      await page.selectOption('#corr-select', 'pearson');
      await page.waitForFunction(() => (document.body.dataset.ready || '').includes('corr=pearson'));
      assert.match(await page.textContent('main'), /Pearson of predictions/);
      assert.deepEqual(dialogs, []);
      assert.deepEqual(errors, []);
      await page.close();
    });
  });
}

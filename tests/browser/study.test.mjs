// Browser and HTTP tests of the study pages of `compe ui`: a single-objective and a
// two-objective study tuned for real on the titanic example.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, launchChromium, compe, serveUi, getJson, cleanUp } from './setup.mjs';

let tmp, ws, profile, browser, ui;

const SPACE = 'C = {type = "float", low = 0.001, high = 100.0, log = true}\n' +
  'standardize = {type = "categorical", choices = [true, false]}\n';

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-study-'));
  ws = path.join(tmp, 'ws');
  compe('init', ws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
  const single = path.join(tmp, 'single.toml');
  fs.writeFileSync(single, '[model]\nbackend = "linear"\n[features]\ndrop = ["name"]\n[tune]\ntrials = 6\nseed = 1\n' +
    '[tune.sampler_options]\nn_startup_trials = 3\n[tune.space]\n' + SPACE);
  compe('tune', single, '--workspace', ws, '--study', 'lin-search');
  const multi = path.join(tmp, 'multi.toml');
  fs.writeFileSync(multi, '[model]\nbackend = "linear"\n[features]\ndrop = ["name"]\n[tune]\ntrials = 6\nseed = 2\n' +
    'objectives = ["cv", "fit_seconds"]\n[tune.sampler_options]\nn_startup_trials = 3\n[tune.space]\n' + SPACE);
  compe('tune', multi, '--workspace', ws, '--study', 'lin-pareto');
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'study', VIEWPORTS.desktop));
  ui = await serveUi(ws);
});

after(() => cleanUp(browser, [ui && ui.proc], [tmp, profile]));

async function openPage(hash, viewport) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${ui.base}/${hash}`);
  await page.waitForSelector('body[data-ready]', { timeout: 10000 });
  assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${hash} at ${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
  return { page, errors };
}

describe('study API', () => {
  test('lists studies and shows one with trials, best, importance and Pareto front', async () => {
    const list = (await getJson(ui.base, '/api/studies')).body.studies;
    assert.deepEqual(list.map(st => st.name).sort(), ['lin-pareto', 'lin-search']);
    const single = list.find(st => st.name === 'lin-search');
    assert.deepEqual(single.directions, ['maximize']);
    assert.equal(single.trials, 6);
    assert.ok(single.best > 0.5 && single.best < 1, String(single.best));

    const st = (await getJson(ui.base, '/api/studies/lin-search')).body;
    assert.equal(st.trials.length, 6);
    assert.deepEqual(Object.keys(st.space), ['C', 'standardize']);
    const values = st.trials.map(t => t.values[0]);
    assert.equal(st.trials.find(t => t.number === st.best).values[0], Math.max(...values));
    let best = -Infinity;
    for (const t of st.trials) {
      best = Math.max(best, t.values[0]);
      assert.equal(t.best_so_far, best);
      assert.ok(t.run_id, 'each trial records its run');
    }
    assert.deepEqual(Object.keys(st.importance).sort(), ['C', 'standardize']);
    assert.deepEqual(st.pareto, []);

    const mo = (await getJson(ui.base, '/api/studies/lin-pareto')).body;
    assert.deepEqual(mo.directions, ['maximize', 'minimize']);
    assert.ok(mo.trials.every(t => t.values.length === 2));
    assert.ok(mo.pareto.length >= 1);
    const dominated = (a, b) => b.values[0] >= a.values[0] && b.values[1] <= a.values[1] &&
      (b.values[0] > a.values[0] || b.values[1] < a.values[1]);
    for (const n of mo.pareto) {
      const a = mo.trials.find(t => t.number === n);
      assert.ok(!mo.trials.some(b => dominated(a, b)), `trial ${n} is dominated`);
    }
    for (const t of mo.trials) {
      if (!mo.pareto.includes(t.number)) assert.ok(mo.trials.some(b => dominated(t, b)), `trial ${t.number} should be on the front`);
    }
    const missing = await getJson(ui.base, '/api/studies/nothing');
    assert.equal(missing.status, 404);
    assert.ok(missing.body.error);
  });
});

describe('study pages', () => {
  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`studies and study pages at ${viewport}`, async () => {
      const { page, errors } = await openPage('#/studies', viewport);
      const names = await page.$$eval('#studies-table tbody tr', trs => trs.map(tr => tr.getAttribute('data-study')));
      assert.deepEqual(names.sort(), ['lin-pareto', 'lin-search']);
      await page.screenshot({ path: path.join(SHOTS, `studies-${viewport}.png`), fullPage: true });
      await page.click('a[href="#/study/lin-search"]');
      await page.waitForFunction(() => document.body.dataset.ready === '#/study/lin-search');
      assert.equal(await page.textContent('h1.study-name'), 'lin-search');
      assert.equal(await page.$$eval('#trials-table tbody tr', trs => trs.length), 6);
      assert.equal(await page.$$eval('svg.history-chart circle.dot-point', els => els.length), 6);
      assert.equal(await page.$$eval('svg.param-chart', els => els.length), 2);
      assert.equal(await page.$$eval('svg.importance-chart rect.bar', els => els.length), 2);
      assert.equal(await page.$$eval('svg.pareto-chart', els => els.length), 0);
      assert.match(await page.textContent('#study-best'), /^Best: trial \d+ = 0\.\d+/);
      await page.screenshot({ path: path.join(SHOTS, `study-${viewport}.png`), fullPage: true });
      await page.evaluate(() => { location.hash = '#/study/lin-pareto'; });
      await page.waitForFunction(() => document.body.dataset.ready === '#/study/lin-pareto');
      assert.equal(await page.$$eval('svg.pareto-chart circle.dot-point', els => els.length), 6);
      const front = await page.$$eval('#pareto-table tbody tr', trs => trs.length);
      assert.ok(front >= 1);
      await page.screenshot({ path: path.join(SHOTS, `study-pareto-${viewport}.png`), fullPage: true });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});

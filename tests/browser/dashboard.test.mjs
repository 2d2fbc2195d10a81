// Browser and HTTP tests of `compe ui` against a real workspace with real runs.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, COMPE, launchChromium, compe, serveUi, cleanUp, offScreen, overlaps } from './setup.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const TOKEN = 'test-token-0123456789';

let tmp, ws, profile;
const runs = {};        // role -> run id
const servers = [];     // {proc, url}
let browser;

function runJson(...args) {
  return JSON.parse(compe('run', '--workspace', ws, '--json', ...args));
}

/** Starts `compe ui` on the test's workspace; the server is stopped after the tests. */
async function startUi(...args) {
  const s = await serveUi(ws, ...args);
  servers.push(s);
  return s;
}

function stopUi(s, signal = 'SIGTERM') {
  return new Promise((resolve, reject) => {
    if (s.proc.exitCode !== null) return resolve(s.proc.exitCode);
    const timer = setTimeout(() => reject(new Error('compe ui did not stop on ' + signal)), 5000);
    s.proc.once('exit', (code, sig) => { clearTimeout(timer); resolve(code === null ? sig : code); });
    s.proc.kill(signal);
  });
}

/** A raw GET (the path is sent exactly as given, no URL normalisation), from a loopback address of
 * its own: the server caps connections per client address, and the browser, from 127.0.0.1, may
 * hold all of its share in keep-alive connections after loading a page. */
function rawGet(base, rawPath, headers = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET', headers,
      localAddress: '127.0.0.3' }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(base, p, headers) {
  const r = await rawGet(base, p, headers);
  return { status: r.status, body: JSON.parse(r.body) };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-ui-'));
  ws = path.join(tmp, 'ws');
  compe('init', ws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
  runs.xgb = runJson('--model', 'xgboost', '--name', 'xgb baseline').run_id;
  runs.linear = runJson('--model', 'linear', '--name', 'linear baseline').run_id;
  runs.hostile = runJson('--model', 'linear', '--name', HOSTILE).run_id;
  compe('tag', '--workspace', ws, runs.xgb, 'gbdt', '<b>bold-tag</b>');
  compe('note', '--workspace', ws, runs.xgb, 'note with <script>alert(2)</script> inside');
  compe('lb', 'add', '--workspace', ws, runs.xgb, '--public', '0.8', '--private', '0.79');
  compe('lb', 'add', '--workspace', ws, runs.linear, '--public', '0.77');
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'ui', VIEWPORTS.desktop));
});

after(() => cleanUp(browser, servers.map(s => s.proc), [tmp, profile]));

/** Opens `hash` at a viewport, waits for the page to render, checks the page body does not scroll sideways. */
async function openPage(base, hash, viewport, query = '') {
  const page = await browser.newPage();
  const dialogs = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${base}/${query}${hash}`);
  await page.waitForSelector('body[data-ready]', { timeout: 10000 });
  assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${hash} at ${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
  return { page, dialogs, errors };
}

async function shot(page, name, viewport) {
  await page.screenshot({ path: path.join(SHOTS, `${name}-${viewport}.png`), fullPage: true });
}

describe('JSON API', () => {
  let ui;
  before(async () => { ui = await startUi(); });
  after(async () => { assert.equal(await stopUi(ui), 0); });

  test('health and the run list with paging, sorting and filters', async () => {
    const h = await getJson(ui.base, '/api/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    const all = (await getJson(ui.base, '/api/runs')).body;
    assert.equal(all.total, 3);
    assert.deepEqual(all.runs.map(r => r.run_id), [runs.hostile, runs.linear, runs.xgb]);  // newest first
    const page = (await getJson(ui.base, '/api/runs?limit=1&offset=1')).body;
    assert.equal(page.total, 3);
    assert.deepEqual(page.runs.map(r => r.run_id), [runs.linear]);
    const asc = (await getJson(ui.base, '/api/runs?sort=cv&order=asc')).body.runs.map(r => r.cv);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    const desc = (await getJson(ui.base, '/api/runs?sort=cv&order=desc')).body.runs.map(r => r.cv);
    assert.deepEqual(desc, [...asc].reverse());
    const named = (await getJson(ui.base, '/api/runs?name=baseline')).body;
    assert.deepEqual(named.runs.map(r => r.run_id).sort(), [runs.linear, runs.xgb].sort());
    assert.equal((await getJson(ui.base, '/api/runs?tag=gbdt')).body.total, 1);
    assert.equal((await getJson(ui.base, '/api/runs?status=failed')).body.total, 0);
    assert.equal((await getJson(ui.base, '/api/runs?metric=roc_auc')).body.total, 3);
    for (const bad of ['limit=0', 'limit=x', 'offset=-1', 'sort=tags', 'order=up', 'status=done', 'cv_min=abc']) {
      const r = await getJson(ui.base, '/api/runs?' + bad);
      assert.equal(r.status, 400, bad);
      assert.ok(r.body.error, bad);
    }
  });

  test('run detail, metrics, compare and lb', async () => {
    const run = (await getJson(ui.base, `/api/runs/${runs.xgb.slice(0, 5)}`)).body;
    assert.equal(run.run_id, runs.xgb);
    assert.equal(Object.keys(run.folds).length, 5);
    assert.equal(run.config.model.backend, 'xgboost');
    assert.deepEqual(run.metric_keys, ['train-auc', 'valid-auc']);
    assert.ok(run.artifacts.some(a => a.name === 'oof' && a.file === 'oof.csv'));
    assert.deepEqual(run.lb.map(l => [l.public, l.private]), [[0.8, 0.79]]);
    assert.equal((await getJson(ui.base, '/api/runs/zzzzzzzz')).status, 404);

    const m = (await getJson(ui.base, `/api/runs/${runs.xgb}/metrics?key=valid-auc`)).body;
    assert.equal(m.series.length, 5);
    for (const se of m.series) {
      assert.equal(se.key, 'valid-auc');
      assert.equal(se.steps.length, se.values.length);
      assert.ok(se.steps.length > 1);
    }

    const c = (await getJson(ui.base, `/api/compare?ids=${runs.xgb},${runs.linear}`)).body;
    const keys = c.config_diff.map(d => d.key);
    assert.ok(keys.includes('model.backend'), keys.join(' '));
    assert.ok(!keys.includes('competition.metric'));
    assert.deepEqual(c.config_diff.find(d => d.key === 'model.backend').values, ['xgboost', 'linear']);
    assert.equal(c.runs[0].curves.length, 5);
    assert.ok(c.runs[0].curves.every(se => se.key.startsWith('valid-')));
    assert.equal((await getJson(ui.base, `/api/compare?ids=${runs.xgb}`)).status, 400);

    const lb = (await getJson(ui.base, '/api/lb')).body;
    assert.deepEqual(lb.runs.map(r => [r.id, r.public, r.private]), [[runs.xgb, 0.8, 0.79], [runs.linear, 0.77, null]]);
  });

  test('artifacts download from inside the workspace only', async () => {
    const oof = await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/oof`);
    assert.equal(oof.status, 200);
    assert.match(oof.headers['content-type'], /^text\/csv/);
    assert.match(oof.headers['content-disposition'], /attachment; filename="oof.csv"/);
    assert.equal(oof.body, fs.readFileSync(path.join(ws, 'runs', runs.xgb, 'oof.csv'), 'utf8'));
    const meta = await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/meta.json`);
    assert.equal(meta.status, 200);
    assert.match(meta.headers['content-type'], /^application\/json/);
    assert.equal((await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/run.log`)).status, 200);
    assert.equal((await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/nothing.csv`)).status, 404);
    // A symlink planted in the run folder pointing outside the workspace is refused.
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(ws, 'runs', runs.xgb, 'leak.txt'));
    assert.equal((await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/leak.txt`)).status, 403);
    for (const p of ['..%2F..%2Fcompe.toml', '..%2Fcompe.toml', '../../compe.toml', '%2Fetc%2Fpasswd', '/etc/passwd',
      '..%5C..%5Ccompe.toml', '%2E%2E%2F%2E%2E%2Fcompe.toml', '..', '.', '%00']) {
      const r = await rawGet(ui.base, `/api/runs/${runs.xgb}/artifacts/${p}`);
      assert.ok([400, 403, 404].includes(r.status), `${p}: ${r.status}`);
      assert.ok(!r.body.includes('[competition]') && !r.body.includes('root:'), p);
    }
  });

  test('errors name paths relative to the workspace and are never cut at a NUL', async () => {
    const real = fs.realpathSync(ws);
    for (const p of ['/api/runs/zzzzzzzz', '/api/runs/nosuch!', '/api/studies/none', '/api/health',
      `/api/runs/${runs.xgb}/artifacts/nothing.csv`]) {
      const r = await rawGet(ui.base, p);
      assert.ok(!r.body.includes(ws) && !r.body.includes(real), `${p}: ${r.body}`);
    }
    const missing = await getJson(ui.base, '/api/runs/zzzzzzzz');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no run 'zzzzzzzz' in store '\.compe\/compe\.db'/);
    assert.equal((await getJson(ui.base, '/api/health')).body.store, '.compe/compe.db');
    for (const p of ['/api/runs/%00', '/api/runs/ab%00cd', '/api/studies/x%01y']) {
      const r = await getJson(ui.base, p);
      assert.equal(r.status, 400, p);
      assert.match(r.body.error, /holds a control character \(0x0[01] at offset [0-9]\): run ids, study names and file names are printable text$/);
    }
    assert.match((await getJson(ui.base, '/api/runs/ab%00cd')).body.error, /^'ab\\u0000cd' in the path/);
  });

  test('only loopback Host headers are answered without a token', async () => {
    assert.equal((await rawGet(ui.base, '/api/health', { Host: 'evil.example' })).status, 403);
    assert.equal((await rawGet(ui.base, '/', { Host: 'evil.example:80' })).status, 403);
    assert.equal((await rawGet(ui.base, '/api/health', { Host: 'localhost' })).status, 200);
  });
});

describe('pages', () => {
  let ui;
  before(async () => { ui = await startUi(); });
  after(async () => { assert.equal(await stopUi(ui, 'SIGINT'), 0); });

  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`runs page at ${viewport}`, async () => {
      const { page, dialogs, errors } = await openPage(ui.base, '#/runs', viewport);
      const ids = await page.$$eval('#runs-table tbody tr', trs => trs.map(tr => tr.getAttribute('data-run')));
      assert.deepEqual(ids, [runs.hostile, runs.linear, runs.xgb]);
      const names = await page.$$eval('#runs-table td.name', tds => tds.map(td => td.textContent));
      assert.ok(names.includes(HOSTILE), names.join('|'));
      assert.equal(await page.$$eval('main img', els => els.length), 0);
      const tags = await page.$$eval('#runs-table .tag', els => els.map(e => e.textContent));
      assert.ok(tags.includes('<b>bold-tag</b>'));
      const cvText = await page.textContent(`#runs-table tr[data-run="${runs.xgb}"] td.cv`);
      assert.match(cvText, /^0\.\d+$/);
      assert.equal(await page.textContent('#page-info'), '1–3 of 3');
      await shot(page, 'runs', viewport);
      // Name, CV and status are on screen without scrolling sideways, at both sizes.
      const first = ['td.name', 'td.cv', 'td.status', 'th[data-sort=name]', 'th[data-sort=cv]', 'th[data-sort=status]'];
      assert.deepEqual(await offScreen(page, first.map(c => '#runs-table ' + c).join(', ')), []);
      if (viewport === 'phone') {
        assert.ok((await offScreen(page, '#runs-table td.nowrap')).length > 0, 'on a phone the other columns scroll');
      }
      // Sort by CV (ascending on a second click), then filter by name: both go through the server.
      await page.click('th.sortable >> text=CV');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=cv&order=desc');
      await page.click('th.sortable >> text=CV');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=cv&order=asc');
      const cvs = await page.$$eval('#runs-table td.cv', tds => tds.map(td => Number(td.textContent)));
      assert.deepEqual(cvs, [...cvs].sort((a, b) => a - b));
      await page.fill('#name-filter', 'img');
      await page.waitForFunction(() => (document.body.dataset.ready || '').includes('name=img'));
      assert.deepEqual(await page.$$eval('#runs-table tbody tr', trs => trs.map(tr => tr.getAttribute('data-run'))), [runs.hostile]);
      await page.selectOption('#status-filter', 'failed');
      await page.waitForFunction(() => (document.body.dataset.ready || '').includes('status=failed'));
      assert.equal(await page.textContent('#page-info'), '0–0 of 0');
      assert.deepEqual(dialogs, []);
      assert.deepEqual(errors, []);
      await page.close();
    });

    test(`run page at ${viewport}`, async () => {
      const { page, dialogs, errors } = await openPage(ui.base, `#/run/${runs.xgb}`, viewport);
      assert.equal(await page.textContent('#run-id'), runs.xgb);
      assert.equal(await page.textContent('h1.run-name'), 'xgb baseline');
      assert.match(await page.textContent('#run-cv'), /^CV 0\.\d+$/);
      assert.equal(await page.$$eval('svg.fold-chart rect.bar', els => els.length), 5);
      assert.equal(await page.$$eval('svg.curve-chart', els => els.length), 5);
      assert.equal(await page.$$eval('svg.curve-chart path.series', els => els.filter(e => e.getAttribute('d').length > 10).length), 10);
      // Feature importance: one bar per feature of the run's importance.csv (gain shares: no permutation asked).
      const detail = (await getJson(ui.base, `/api/runs/${runs.xgb}`)).body;
      assert.ok(detail.details.importance.length > 0);
      assert.equal(await page.$$eval('svg.importance-chart rect.bar', els => els.length), Math.min(20, detail.details.importance.length));
      assert.match(await page.textContent('#run-importance figcaption'), /^Gain share/);
      const config = await page.textContent('#config-table');
      assert.ok(config.includes('model.backend') && config.includes('xgboost'));
      const main = await page.textContent('main');
      assert.ok(main.includes('note with <script>alert(2)</script> inside'));
      assert.ok(main.includes('compe run'));  // the command line
      const links = await page.$$eval('ul.artifacts a', as => as.map(a => a.getAttribute('href')));
      assert.ok(links.includes(`/api/runs/${runs.xgb}/artifacts/oof`), links.join(' '));
      assert.equal(await page.$$eval('#run-lb tbody tr', trs => trs.length), 1);
      await shot(page, 'run', viewport);
      await page.close();

      const hostile = await openPage(ui.base, `#/run/${runs.hostile}`, viewport);
      assert.equal(await hostile.page.textContent('h1.run-name'), HOSTILE);
      assert.equal(await hostile.page.$$eval('main img', els => els.length), 0);
      assert.equal(await hostile.page.$$eval('svg.fold-chart rect.bar', els => els.length), 5);
      await shot(hostile.page, 'run-hostile', viewport);
      assert.deepEqual([...dialogs, ...hostile.dialogs], []);
      assert.deepEqual([...errors, ...hostile.errors], []);
      await hostile.page.close();
    });

    test(`compare page at ${viewport}`, async () => {
      const { page, errors } = await openPage(ui.base, `#/compare/${runs.xgb},${runs.linear}`, viewport);
      const keys = await page.$$eval('#config-diff tbody th', ths => ths.map(th => th.textContent));
      assert.ok(keys.includes('model.backend'), keys.join(' '));
      assert.ok(!keys.includes('competition.metric'));
      assert.equal(await page.$$eval('svg.paired-chart rect.bar', els => els.length), 10);
      assert.equal(await page.$$eval('#fold-deltas tbody tr', trs => trs.length), 5);
      const delta = await page.textContent('#fold-deltas tbody tr:first-child td:last-child');
      assert.match(delta, /^[+-]?\d/);
      assert.equal(await page.$$eval('svg.compare-curve', els => els.length), 1);
      await shot(page, 'compare', viewport);
      assert.deepEqual(errors, []);
      await page.close();
    });

    test(`compare selection from the runs page at ${viewport}`, async () => {
      const { page } = await openPage(ui.base, '#/runs', viewport);
      await page.check(`tr[data-run="${runs.xgb}"] input[type=checkbox]`);
      await page.check(`tr[data-run="${runs.hostile}"] input[type=checkbox]`);
      await page.click('text=Compare selected');
      await page.waitForFunction(() => (document.body.dataset.ready || '').startsWith('#/compare/'));
      const names = await page.$$eval('#compare-runs td.name', tds => tds.map(td => td.textContent));
      assert.deepEqual(names.sort(), [HOSTILE, 'xgb baseline'].sort());
      assert.equal(await page.$$eval('main img', els => els.length), 0);
      await page.close();
    });

    test(`CV vs LB page at ${viewport}`, async () => {
      const { page, errors } = await openPage(ui.base, '#/lb', viewport);
      assert.equal(await page.$$eval('svg.lb-chart circle.public', els => els.length), 2);
      assert.equal(await page.$$eval('svg.lb-chart rect.private', els => els.length), 1);
      const rows = await page.$$eval('#lb-table tbody tr', trs => trs.map(tr => tr.querySelector('td').textContent));
      assert.deepEqual(rows, [runs.xgb, runs.linear]);
      await shot(page, 'lb', viewport);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test('an unknown run shows an error, not a blank page', async () => {
    const page = await browser.newPage();
    await page.goto(`${ui.base}/#/run/zzzzzzzz`);
    await page.waitForSelector('body[data-ready="error"]');
    assert.match(await page.textContent('.error'), /no run 'zzzzzzzz'/);
    await page.close();
  });
});

describe('CV vs LB scatter with crowded points', () => {
  // A workspace of its own: linear runs whose CV and LB scores nearly coincide, one apart.
  let lws, ui;
  const ids = [];
  before(async () => {
    lws = path.join(tmp, 'ws-lb');
    compe('init', lws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
    const lbs = [[0.771, 0.765], [0.772, null], [0.771, 0.768], [0.7715, null], [0.772, 0.77], [0.80, 0.79]];
    lbs.forEach(([pub, priv], i) => {
      const exp = path.join(tmp, `lb-${i}.toml`);
      fs.writeFileSync(exp, i === lbs.length - 1 ? '[model]\nbackend = "xgboost"\n'
        : `[model]\nbackend = "linear"\n[model.params]\nC = ${[1, 1, 0.9, 0.95, 1.05][i]}\n`);
      const id = JSON.parse(compe('run', exp, '--workspace', lws, '--json', '--name', `crowd-${i}`, '--allow-multi')).run_id;
      ids.push(id);
      compe('lb', 'add', '--workspace', lws, id, '--public', String(pub), ...(priv === null ? [] : ['--private', String(priv)]));
    });
    ui = await serveUi(lws);
    servers.push(ui);
  });
  after(async () => { if (ui) assert.equal(await stopUi(ui), 0); });

  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`point labels do not overlap at ${viewport}`, async () => {
      const { page, errors } = await openPage(ui.base, '#/lb', viewport);
      assert.equal(await page.$$eval('svg.lb-chart circle.public', els => els.length), ids.length);
      // The data make the test mean something: some points are closer than a label's size, so
      // labels all put right of their points would collide.
      const crowded = await page.$eval('svg.lb-chart', svg => {
        const b = svg.querySelector('text.point-label').getBBox();
        const pts = [...svg.querySelectorAll('circle.public')].map(c => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]);
        let n = 0;
        pts.forEach((p, i) => pts.slice(i + 1).forEach(q => { if (Math.abs(p[0] - q[0]) < b.width && Math.abs(p[1] - q[1]) < b.height) n++; }));
        return n;
      });
      assert.ok(crowded > 0, 'no two points are close enough to crowd their labels');
      const boxes = await page.$$eval('svg.lb-chart text.point-label', ts => ts.map(t => {
        const r = t.getBoundingClientRect();
        return { name: 'label ' + t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      }));
      const markers = await page.$$eval('svg.lb-chart circle.public, svg.lb-chart rect.private', els => els.map((e, i) => {
        const r = e.getBoundingClientRect();
        return { name: `marker ${i}`, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      }));
      const chart = await page.$eval('svg.lb-chart', e => e.getBoundingClientRect().toJSON());
      await shot(page, 'lb-crowded', viewport);
      assert.deepEqual(overlaps(boxes), [], 'labels overlap each other');
      assert.deepEqual(overlaps(boxes, markers), [], 'labels cover points');
      for (const b of boxes) assert.ok(b.left >= chart.left && b.right <= chart.right && b.top >= chart.top && b.bottom <= chart.bottom, b.name);
      // The best public score's label is always shown; the others that would collide are left out and counted.
      const labelled = boxes.map(b => b.name.replace('label ', ''));
      assert.ok(labelled.includes(ids[ids.length - 1]), labelled.join(' '));
      assert.ok(labelled.length >= 2, labelled.join(' '));
      const left = ids.length - labelled.length;
      const note = await page.$eval('#lb-label-note', e => (e.hidden ? '' : e.textContent));
      if (left) assert.match(note, new RegExp(`^${left} of ${ids.length} labels left out`));
      else assert.equal(note, '');
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});

describe('tracking: git, command-trainer curves, stale runs, sort and filter', () => {
  // A workspace of its own under git (committed, then changed), with runs of the Titanic example:
  // the xgboost experiment, the example command trainer (curves through COMPE_METRICS_FILE), a
  // failed run and, in the first test, a run whose process is killed.
  let tws, ui;
  const t = {};
  const trainer = `python3 ${path.join(ROOT, 'examples', 'command_trainer', 'train_fold.py')}`;
  const git = (...args) => execFileSync('git', ['-C', tws, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'ignore' });
  const writeExp = (name, text) => { const p = path.join(tws, 'experiments', name); fs.writeFileSync(p, text); return p; };
  const runIn = (...args) => JSON.parse(compe('run', '--workspace', tws, '--json', ...args));
  const waitFor = async (cond, what, ms = 60000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting for ' + what);
      await new Promise(r => setTimeout(r, 100));
    }
  };

  before(async () => {
    tws = path.join(tmp, 'ws-track');
    compe('init', tws, '--from', path.join(ROOT, 'examples', 'titanic', 'data'));
    fs.mkdirSync(path.join(tws, 'experiments'));
    git('init', '-q');
    git('add', 'compe.toml');
    git('commit', '-qm', 'competition');
    fs.appendFileSync(path.join(tws, 'compe.toml'), '# an uncommitted change\n');
    t.xgb = runIn(path.join(ROOT, 'examples', 'titanic', 'experiments', 'xgb_depth4.toml')).run_id;
    t.cmd = runIn(writeExp('mlp.toml', `name = "b-command"\n[model]\nbackend = "command"\n[model.params]\ncommand = "${trainer}"\n` +
      '[model.params.params]\nepochs = 20\nlog_every = 5\n[features]\ndrop = ["name"]\n'), '--allow-multi').run_id;
    assert.throws(() => runIn(writeExp('broken.toml', 'name = "c-broken"\n[model]\nbackend = "command"\n[model.params]\ncommand = "exit 3"\n')));
    t.broken = JSON.parse(compe('runs', '--workspace', tws, '--status', 'failed', '--json')).runs[0].run_id;
    ui = await serveUi(tws);
    servers.push(ui);
  });
  after(async () => { if (ui) assert.equal(await stopUi(ui), 0); });

  test('a run whose process was killed shows as interrupted', async () => {
    const pidFile = path.join(tmp, 'trainer.pid');
    const exp = writeExp('sleepy.toml', `name = "d-killed"\n[model]\nbackend = "command"\n[model.params]\ncommand = "echo $$ > ${pidFile}; exec sleep 60"\n`);
    const proc = spawn(COMPE, ['run', exp, '--workspace', tws, '--json'], { stdio: 'ignore' });
    const exited = new Promise(resolve => proc.once('exit', (code, sig) => resolve(sig)));
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 'the trainer to start');
    const running = (await getJson(ui.base, '/api/runs?status=running')).body;
    assert.equal(running.total, 1, 'alive, so still running');
    t.killed = running.runs[0].run_id;
    assert.equal(running.runs[0].pid, proc.pid);
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');  // the trainer has its own process group
    const all = (await getJson(ui.base, '/api/runs')).body;
    const killed = all.runs.find(r => r.run_id === t.killed);
    assert.equal(killed.status, 'interrupted');
    assert.match(killed.error, new RegExp(`process ${proc.pid} on .* is gone`));
    assert.equal((await getJson(ui.base, '/api/runs?status=running')).body.total, 0);
  });

  test('API: sort by name and status, filter by a cv range', async () => {
    const names = r => r.body.runs.map(x => x.name);
    assert.deepEqual(names(await getJson(ui.base, '/api/runs?sort=name')), ['b-command', 'c-broken', 'd-killed', 'xgb-depth4']);
    assert.deepEqual(names(await getJson(ui.base, '/api/runs?sort=name&order=desc')), ['xgb-depth4', 'd-killed', 'c-broken', 'b-command']);
    const byStatus = (await getJson(ui.base, '/api/runs?sort=status')).body;
    assert.equal(byStatus.order, 'asc');
    assert.deepEqual(byStatus.runs.map(x => x.status), ['failed', 'finished', 'finished', 'interrupted']);
    assert.deepEqual(byStatus.runs.slice(1, 3).map(x => x.run_id), [t.cmd, t.xgb], 'ties newest first');
    const cvs = Object.fromEntries((await getJson(ui.base, '/api/runs')).body.runs.map(x => [x.run_id, x.cv]));
    assert.ok(cvs[t.xgb] !== cvs[t.cmd] && cvs[t.xgb] !== null && cvs[t.cmd] !== null, JSON.stringify(cvs));
    const [lo, hi] = [t.xgb, t.cmd].sort((a, b) => cvs[a] - cvs[b]);
    const mid = (cvs[lo] + cvs[hi]) / 2;
    const above = (await getJson(ui.base, `/api/runs?cv_min=${mid}`)).body;
    assert.deepEqual(above.runs.map(x => x.run_id), [hi]);
    assert.equal(above.cv_min, mid);
    assert.deepEqual((await getJson(ui.base, `/api/runs?cv_max=${mid}`)).body.runs.map(x => x.run_id), [lo]);
    assert.equal((await getJson(ui.base, `/api/runs?cv_min=${cvs[lo]}&cv_max=${cvs[hi]}`)).body.total, 2, 'bounds are inclusive');
    assert.equal((await getJson(ui.base, '/api/runs?cv_min=0')).body.total, 2, 'runs without a score never match a range');
    for (const bad of ['cv_min=x', 'cv_max=1e999', 'cv_min=0.9&cv_max=0.1', 'sort=tag']) {
      const r = await getJson(ui.base, '/api/runs?' + bad);
      assert.equal(r.status, 400, bad);
      assert.ok(r.body.error, bad);
    }
  });

  test('API: the command run has its commit, diff and curves', async () => {
    const run = (await getJson(ui.base, `/api/runs/${t.cmd}`)).body;
    assert.match(run.git.commit, /^[0-9a-f]{40}$/);
    assert.equal(run.git.dirty, true);
    assert.ok(run.artifacts.some(a => a.name === 'diff' && a.file === 'git.diff'), JSON.stringify(run.artifacts));
    const diff = await rawGet(ui.base, `/api/runs/${t.cmd}/artifacts/diff`);
    assert.equal(diff.status, 200);
    assert.ok(diff.body.includes('+# an uncommitted change'));
    assert.deepEqual(run.metric_keys, ['train-logloss', 'valid-logloss']);
    const m = (await getJson(ui.base, `/api/runs/${t.cmd}/metrics?key=valid-logloss`)).body;
    assert.deepEqual(m.series.map(se => se.fold), [0, 1, 2, 3, 4]);
    for (const se of m.series) assert.deepEqual(se.steps, [5, 10, 15, 20]);
    const xgb = (await getJson(ui.base, `/api/runs/${t.xgb}`)).body;
    assert.equal(xgb.git.commit, run.git.commit);
    assert.deepEqual(xgb.metric_keys, ['train-auc', 'valid-auc']);
  });

  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`runs page sorts by name and status and filters a cv range at ${viewport}`, async () => {
      const { page, errors } = await openPage(ui.base, '#/runs', viewport);
      const column = cls => page.$$eval(`#runs-table td.${cls}`, tds => tds.map(td => td.textContent));
      await page.click('th[data-sort=name] button');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=name&order=asc');
      assert.deepEqual(await column('name'), ['b-command', 'c-broken', 'd-killed', 'xgb-depth4']);
      assert.equal(await page.getAttribute('th[data-sort=name]', 'aria-sort'), 'ascending');
      await page.click('th[data-sort=name] button');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=name&order=desc');
      assert.deepEqual(await column('name'), ['xgb-depth4', 'd-killed', 'c-broken', 'b-command']);
      await page.click('th[data-sort=status] button');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=status&order=asc');
      assert.deepEqual(await column('status'), ['failed', 'finished', 'finished', 'interrupted']);
      assert.equal(await page.inputValue('#sort-select'), 'status:asc');
      // The widest badges (failed, interrupted) and runs without a CV keep the first columns on screen.
      assert.deepEqual(await offScreen(page, '#runs-table td.name, #runs-table td.cv, #runs-table td.status'), []);
      const cvs = (await column('cv')).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
      assert.equal(cvs.length, 2);
      await page.fill('#cv-min', String((cvs[0] + cvs[1]) / 2));
      await page.press('#cv-min', 'Enter');
      await page.waitForFunction(() => (document.body.dataset.ready || '').includes('cv_min='));
      assert.deepEqual((await column('cv')).map(Number), [cvs[1]]);
      assert.equal(await page.textContent('#page-info'), '1–1 of 1');
      await shot(page, 'runs-sorted-filtered', viewport);
      await page.fill('#cv-min', '');
      await page.press('#cv-min', 'Enter');
      await page.waitForFunction(() => document.body.dataset.ready === '#/runs?sort=status&order=asc');
      assert.equal(await page.textContent('#page-info'), '1–4 of 4');
      assert.deepEqual(errors, []);
      await page.close();
    });

    test(`a command run's page shows commit, diff and curves at ${viewport}`, async () => {
      const { page, errors } = await openPage(ui.base, `#/run/${t.cmd}`, viewport);
      assert.equal(await page.textContent('h1.run-name'), 'b-command');
      assert.equal(await page.$$eval('svg.curve-chart', els => els.length), 5);
      assert.equal(await page.$$eval('svg.curve-chart path.series', els => els.filter(e => e.getAttribute('d').length > 10).length), 10);
      const main = await page.textContent('main');
      const run = (await getJson(ui.base, `/api/runs/${t.cmd}`)).body;
      assert.ok(main.includes(run.git.commit.slice(0, 12) + ' on ') && main.includes('(dirty)'), 'git row');
      const files = await page.$$eval('ul.artifacts a', as => as.map(a => a.textContent));
      assert.ok(files.includes('git.diff'), files.join(' '));
      await shot(page, 'run-command-curves', viewport);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});

describe('token rule', () => {
  test('a non-loopback host without --token gets a generated token', async () => {
    // 0.0.0.0 is not loopback: a token is generated and printed with the URL.
    const ui = await startUi('--host', '0.0.0.0');
    assert.match(ui.out(), /^token: [0-9a-f]{32}$/m);
    assert.match(ui.url, /\?token=[0-9a-f]{32}$/);
    const port = new URL(ui.url).port;
    assert.equal((await rawGet(`http://127.0.0.1:${port}`, '/api/health')).status, 401);
    const token = new URL(ui.url).searchParams.get('token');
    assert.equal((await rawGet(`http://127.0.0.1:${port}`, `/api/health?token=${token}`)).status, 200);
    assert.equal(await stopUi(ui), 0);
  });

  test('with --token every request must carry it', async () => {
    const ui = await startUi('--host', '127.0.0.2', '--token', TOKEN);
    assert.equal(new URL(ui.url).hostname, '127.0.0.2');
    for (const p of ['/', '/common.js', '/app.js', '/app.css', '/api/health', '/api/runs', `/api/runs/${runs.xgb}/artifacts/oof`]) {
      assert.equal((await rawGet(ui.base, p)).status, 401, p);
      assert.equal((await rawGet(ui.base, p + (p.includes('?') ? '&' : '?') + 'token=wrong-token-000')).status, 401, p);
      assert.equal((await rawGet(ui.base, p, { Authorization: 'Bearer wrong-token-000' })).status, 401, p);
      assert.equal((await rawGet(ui.base, `${p}?token=${TOKEN}`)).status, 200, p);
      assert.equal((await rawGet(ui.base, p, { Authorization: `Bearer ${TOKEN}` })).status, 200, p);
    }
    const index = await rawGet(ui.base, `/?token=${TOKEN}`);
    assert.ok(index.body.includes(`app.js?token=${TOKEN}`));
    assert.ok(index.body.includes(`common.js?token=${TOKEN}`));
    assert.ok(index.headers['content-security-policy'].includes("script-src 'self'"));

    // The page opened with ?token= keeps it for its API calls and download links.
    for (const viewport of Object.keys(VIEWPORTS)) {
      const { page } = await openPage(ui.base, '#/runs', viewport, `?token=${TOKEN}`);
      assert.equal(await page.$$eval('#runs-table tbody tr', trs => trs.length), 3);
      await page.click(`a[href="#/run/${runs.xgb}"]`);
      await page.waitForFunction(id => document.body.dataset.ready === '#/run/' + id, runs.xgb);
      const href = await page.getAttribute('ul.artifacts a >> nth=0', 'href');
      assert.ok(href.endsWith(`?token=${TOKEN}`), href);
      assert.equal((await rawGet(ui.base, href)).status, 200);
      await shot(page, 'run-token', viewport);
      await page.close();
    }
    const denied = await browser.newPage();
    const res = await denied.goto(`${ui.base}/#/runs`);
    assert.equal(res.status(), 401);
    await denied.close();
    assert.equal(await stopUi(ui), 0);
  });

  test('bad options are refused', () => {
    assert.throws(() => compe('ui', '--workspace', ws, '--token', 'short', '--port', '0'), /token/);
    assert.throws(() => compe('ui', '--workspace', ws, '--port', '70000'), /port/);
  });
});

// The image pages of `compe ui`: a detection run's OOF boxes against the truth on its images, a
// segmentation run's masks, a multilabel run's AUC per column, and the image endpoint's rules
// (no traversal, thumbnails cached on disk, ETag). Workspaces come from image_fixtures.mjs.
// Environment: as setup.mjs, plus COMPE_IMAGE_RUN_FIXTURE (default: tests/compe_image_run_fixture
// beside COMPE_BIN).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, launchChromium, compe, serveUi, getJson, cleanUp } from './setup.mjs';
import { detectionWorkspace, segmentationWorkspace } from './image_fixtures.mjs';

let tmp, profile, browser, det, seg, ml, uiDet, uiSeg, uiMl;

/** A GET sent as written; resolves with {status, headers, body: Buffer}. */
function getRaw(base, rawPath, headers = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET', headers }, res => {
      const parts = [];
      res.on('data', d => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-images-ui-'));
  det = detectionWorkspace(path.join(tmp, 'det'));
  seg = segmentationWorkspace(path.join(tmp, 'seg'));
  // Files the image endpoint must never send: one beside the image folder, one outside the
  // workspace, and symlinks to them from inside the folder.
  fs.writeFileSync(path.join(det.ws, 'data', 'secret.png'), 'SECRET-BESIDE');
  fs.writeFileSync(path.join(tmp, 'outside.png'), 'SECRET-OUTSIDE');
  fs.symlinkSync('../secret.png', path.join(det.ws, 'data', 'images', 'evil.png'));
  fs.symlinkSync(path.join(tmp, 'outside.png'), path.join(det.ws, 'data', 'images', 'far.png'));
  const mlWs = path.join(tmp, 'ml');
  compe('init', mlWs, '--from', path.join(ROOT, 'tests', 'data', 'multilabel'));
  fs.writeFileSync(path.join(tmp, 'lin.toml'), 'name = "lin"\n[model]\nbackend = "linear"\n[model.params]\nC = 0.05\n');
  ml = { ws: mlWs, runId: JSON.parse(compe('run', path.join(tmp, 'lin.toml'), '--workspace', mlWs, '--json')).run_id };
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'images', VIEWPORTS.desktop));
  [uiDet, uiSeg, uiMl] = await Promise.all([serveUi(det.ws), serveUi(seg.ws), serveUi(ml.ws)]);
});

after(() => cleanUp(browser, [uiDet && uiDet.proc, uiSeg && uiSeg.proc, uiMl && uiMl.proc], [tmp, profile], 'SIGTERM'));

describe('/api/images', () => {
  test('refuses traversal, encoded dots, absolute paths, NUL and symlinks leading outside', async () => {
    for (const p of ['/api/images/..%2Fcompe.toml', '/api/images/%2e%2e%2fcompe.toml', '/api/images/%2e%2e',
      '/api/images/..%2F..%2Foutside', '/api/images/%2Fetc%2Fpasswd', '/api/images/img_0%00', '/api/images/a%5C..%5Csecret',
      '/api/images/../../compe.toml', '/api/images/..%252Fcompe.toml', '/api/images/img_0?size=8', '/api/images/img_0?size=9999']) {
      const r = await getRaw(uiDet.base, p);
      assert.ok([400, 403, 404].includes(r.status), `${p}: ${r.status}`);
      const text = r.body.toString('latin1');
      assert.ok(!text.includes('[competition]') && !text.includes('SECRET') && !text.includes('root:'), `${p} leaked: ${text.slice(0, 80)}`);
      assert.equal(JSON.parse(text).error !== undefined, true, p);
    }
    for (const p of ['/api/images/evil', '/api/images/far']) {
      const r = await getJson(uiDet.base, p);
      assert.equal(r.status, 403, p);
      assert.match(r.body.error, /outside the image folder/);
      assert.ok(!r.body.error.includes(tmp), 'absolute path shown: ' + r.body.error);
    }
    assert.equal((await getJson(uiDet.base, '/api/images/secret')).status, 404);
  });

  test('sends the image with ETag and caches thumbnails on disk, made again when the source changes', async () => {
    const src = path.join(det.ws, 'data', 'images', 'img_1.png');
    const full = await getRaw(uiDet.base, '/api/images/img_1');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-type'], 'image/png');
    assert.deepEqual(full.body, fs.readFileSync(src));
    assert.ok(full.headers.etag);
    assert.equal(full.headers['cache-control'], 'private, no-cache');
    assert.equal((await getRaw(uiDet.base, '/api/images/img_1', { 'If-None-Match': full.headers.etag })).status, 304);
    const cached = path.join(det.ws, '.compe', 'cache', 'thumbs', '64', 'img_1.png');
    const thumb = await getRaw(uiDet.base, '/api/images/img_1?size=64');
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers['x-compe-thumbnail'], '64');
    assert.deepEqual(thumb.body, fs.readFileSync(cached));
    assert.equal(thumb.body.readUInt32BE(16), 64);  // IHDR width: 160x120 scaled to 64x48
    assert.equal(thumb.body.readUInt32BE(20), 48);
    const first = fs.statSync(cached).mtimeMs;
    await getRaw(uiDet.base, '/api/images/img_1?size=64');
    assert.equal(fs.statSync(cached).mtimeMs, first, 'a fresh thumbnail is reused');
    const later = new Date(Date.now() + 10000);
    fs.utimesSync(src, later, later);
    const again = await getRaw(uiDet.base, '/api/images/img_1?size=64');
    assert.equal(again.status, 200);
    assert.ok(fs.statSync(cached).mtimeMs > first, 'a source newer than its thumbnail makes it again');
  });
});

describe('/api/runs/<id>/images', () => {
  test('detection: truth and OOF boxes per image, errors at the threshold, AP, filters and sorting', async () => {
    const r = await getJson(uiDet.base, `/api/runs/${det.runId}/images?sort=id`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body;
    assert.equal(d.kind, 'detection');
    assert.deepEqual(d.classes, ['square', 'bar']);
    assert.equal(d.total, 6);
    const by = Object.fromEntries(d.images.map(i => [i.id, i]));
    assert.deepEqual(Object.keys(by), ['img_0', 'img_1', 'img_2', 'img_3', 'img_4', 'img_5']);
    assert.deepEqual([by.img_0.width, by.img_0.height, by.img_0.url], [160, 120, '/api/images/img_0']);
    assert.deepEqual(d.images.map(i => [i.misses, i.false_positives]), [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0], [1, 1]]);
    assert.deepEqual(d.images.map(i => Number(i.ap.toFixed(9))), [1, 0.5, 1, 1, 1, 0]);  // COCO's 101-point sum
    assert.deepEqual(by.img_0.truth[1], { x1: 80, y1: 20, x2: 150, y2: 40, label: 1, matched: true });
    assert.equal(by.img_4.pred.length, 2);
    const low = (await getJson(uiDet.base, `/api/runs/${det.runId}/images?sort=errors&threshold=0.2`)).body;
    assert.equal(low.images[0].id, 'img_5');
    assert.equal(low.images.find(i => i.id === 'img_4').false_positives, 1);
    const misses = (await getJson(uiDet.base, `/api/runs/${det.runId}/images?filter=misses`)).body;
    assert.deepEqual(misses.images.map(i => i.id), ['img_5', 'img_1']);
    const worst = (await getJson(uiDet.base, `/api/runs/${det.runId}/images?limit=2`)).body;
    assert.deepEqual([worst.total, worst.images.map(i => i.id)], [6, ['img_5', 'img_1']]);
    for (const q of ['sort=dice', 'threshold=7', 'limit=0', 'filter=boxes']) {
      const bad = await getJson(uiDet.base, `/api/runs/${det.runId}/images?${q}`);
      assert.equal(bad.status, 400, q);
    }
  });

  test('segmentation: RLE masks and Dice per image and class, worst first', async () => {
    const d = (await getJson(uiSeg.base, `/api/runs/${seg.runId}/images`)).body;
    assert.equal(d.kind, 'segmentation');
    assert.deepEqual(d.images.map(i => i.id), ['img_2', 'img_3', 'img_0', 'img_1']);
    assert.deepEqual(d.images.map(i => i.dice), [0.5, 0.5, 0.9, 1]);
    const img0 = d.images[2];
    assert.equal(img0.dice_per_class.square, 0.8);
    assert.deepEqual(img0.truth.map(m => m.label), ['square']);
    assert.match(img0.truth[0].rle, /^621 30 681 30 /);  // column 10 from row 20: 10 * 60 + 20 + 1
  });

  test('multilabel: AUC per label column, pooled and per fold', async () => {
    const d = (await getJson(uiMl.base, `/api/runs/${ml.runId}/columns`)).body;
    assert.equal(d.task, 'multilabel');
    assert.equal(d.columns.length, 10);
    assert.equal(d.columns[0].name, 'tshirt');
    for (const c of d.columns) {
      assert.ok(c.auc > 0.5 && c.auc <= 1, `${c.name}: ${c.auc}`);
      assert.equal(Object.keys(c.folds).length, 5);
    }
    assert.deepEqual((await getJson(uiDet.base, `/api/runs/${det.runId}/columns`)).body.columns, []);
  });
});

async function openRun(base, id, viewport) {
  const page = await browser.newPage();
  const problems = [];
  page.on('dialog', d => { problems.push('dialog ' + d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => problems.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${base}/#/run/${id}`);
  await page.waitForSelector('body[data-ready]', { timeout: 20000 });
  assert.notEqual(await page.getAttribute('body', 'data-ready'), 'error', await page.textContent('main'));
  return { page, problems };
}

async function noSidewaysScroll(page, what) {
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${what}: page is ${scrollW}px wide in a ${innerW}px viewport`);
}

for (const viewport of Object.keys(VIEWPORTS)) {
  describe(`image run pages at ${viewport}`, () => {
    test('detection: boxes drawn on thumbnails, threshold, filter, large view', async () => {
      const { page, problems } = await openRun(uiDet.base, det.runId, viewport);
      await page.waitForSelector('#img-grid figure.img-cell');
      assert.equal(await page.$$eval('#img-grid figure.img-cell', els => els.length), 6);
      assert.equal(await page.$$eval('#img-grid g.box.truth rect', els => els.length), 7);
      assert.equal(await page.$$eval('#img-grid g.box.pred rect', els => els.length), 7, 'the 0.3 box is under the threshold');
      assert.equal(await page.$$eval('#img-grid g.box.truth.missed', els => els.length), 2);
      assert.equal(await page.$$eval('#img-grid g.box.pred.false-positive', els => els.length), 2);
      // The box's rectangle sits where the file says, in the image's own pixels.
      const rect = await page.$eval('#img-grid figure[data-id="img_0"] g.box.truth rect', r =>
        [r.getAttribute('x'), r.getAttribute('y'), r.getAttribute('width'), r.getAttribute('height')].map(Number));
      assert.deepEqual(rect, [10, 10, 40, 40]);
      assert.match(await page.textContent('#img-grid figure[data-id="img_4"]'), /square 0\.70/);
      // Each image is a cached thumbnail, loaded by the page.
      await page.waitForFunction(() => [...document.querySelectorAll('#img-grid image')].length === 6);
      const hrefs = await page.$$eval('#img-grid image', els => els.map(e => e.getAttribute('href')));
      assert.ok(hrefs.every(h => /^\/api\/images\/img_\d\?size=256$/.test(h)), hrefs.join(' '));
      await page.screenshot({ path: path.join(SHOTS, `run-detection-${viewport}.png`), fullPage: true });
      // The threshold slider: the weak bar appears and counts as a false positive.
      await page.$eval('#img-threshold', el => { el.value = '0.2'; el.dispatchEvent(new Event('change')); });
      await page.waitForFunction(() => document.querySelectorAll('#img-grid g.box.pred rect').length === 8);
      assert.equal(await page.$$eval('#img-grid g.box.pred.false-positive', els => els.length), 3);
      // Only the images with misses.
      await page.selectOption('#img-filter', 'misses');
      await page.waitForFunction(() => document.querySelectorAll('#img-grid figure.img-cell').length === 2);
      assert.deepEqual(await page.$$eval('#img-grid figure.img-cell', els => els.map(e => e.dataset.id)), ['img_5', 'img_1']);
      await noSidewaysScroll(page, `detection at ${viewport}`);
      await page.click('#img-grid figure[data-id="img_1"]');
      await page.waitForSelector('#img-large svg.img-svg.large');
      assert.equal(await page.$$eval('#img-large g.box.truth rect', els => els.length), 2);
      assert.equal(await page.getAttribute('#img-large image', 'href'), '/api/images/img_1');
      await page.screenshot({ path: path.join(SHOTS, `run-detection-large-${viewport}.png`) });
      await page.click('#img-large-close');
      assert.equal(await page.$('#img-large'), null);
      assert.ok(fs.existsSync(path.join(det.ws, '.compe', 'cache', 'thumbs', '256', 'img_0.png')), 'thumbnails cached');
      assert.deepEqual(problems, []);
      await page.close();
    });

    test('segmentation: masks painted over the image per class and source, Dice worst first', async () => {
      const { page, problems } = await openRun(uiSeg.base, seg.runId, viewport);
      await page.waitForSelector('#img-grid canvas.img-mask');
      assert.deepEqual(await page.$$eval('#img-grid figure.img-cell', els => els.map(e => e.dataset.id)), ['img_2', 'img_3', 'img_0', 'img_1']);
      // img_0: the truth square covers x 10..29, y 20..49; the OOF square y 20..39.
      const alpha = (x, y) => page.$eval('#img-grid canvas.img-mask[data-id="img_0"]', (c, [px, py]) => c.getContext('2d').getImageData(px, py, 1, 1).data[3], [x, y]);
      assert.equal(await page.$eval('#img-grid canvas.img-mask[data-id="img_0"]', c => [c.width, c.height].join('x')), '80x60');
      assert.ok(await alpha(15, 45) > 0, 'truth only');
      assert.ok(await alpha(15, 30) > await alpha(15, 45), 'truth and OOF');
      assert.equal(await alpha(70, 55), 0, 'no mask');
      assert.equal(await alpha(9, 45), 0, 'left of the truth square');
      assert.match(await page.textContent('#img-grid figure[data-id="img_0"]'), /Dice 0\.9\b/);
      await noSidewaysScroll(page, `segmentation at ${viewport}`);
      await page.screenshot({ path: path.join(SHOTS, `run-segmentation-${viewport}.png`), fullPage: true });
      await page.uncheck('#img-show-truth');
      assert.equal(await alpha(15, 45), 0, 'truth hidden');
      assert.ok(await alpha(15, 30) > 0, 'the OOF mask stays');
      await page.uncheck('#img-class-0');
      assert.equal(await alpha(15, 30), 0, 'class square hidden');
      await page.check('#img-show-truth');
      await page.check('#img-class-0');
      await page.click('#img-grid figure[data-id="img_0"]');
      await page.waitForSelector('#img-large canvas.img-mask');
      assert.ok(await page.$eval('#img-large canvas.img-mask', c => c.getContext('2d').getImageData(15, 45, 1, 1).data[3]) > 0);
      await page.screenshot({ path: path.join(SHOTS, `run-segmentation-large-${viewport}.png`) });
      assert.deepEqual(problems, []);
      await page.close();
    });

    test('multilabel: AUC per label column as bars and a table', async () => {
      const { page, problems } = await openRun(uiMl.base, ml.runId, viewport);
      await page.waitForSelector('#run-columns');
      assert.equal(await page.$$eval('#run-columns tbody tr', els => els.length), 10);
      assert.equal(await page.$$eval('#run-columns-box svg rect.bar', els => els.length), 10);
      assert.equal(await page.$$eval('#run-columns thead th', els => els.length), 3 + 5);
      await noSidewaysScroll(page, `multilabel at ${viewport}`);
      await page.screenshot({ path: path.join(SHOTS, `run-multilabel-${viewport}.png`), fullPage: true });
      assert.deepEqual(problems, []);
      await page.close();
    });
  });
}

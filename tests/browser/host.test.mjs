// Browser and HTTP tests of `compe host serve` with the titanic solution: uploads, Kaggle's error
// messages, tokens, the daily limit, the deadline, the reveal, and a server killed mid-upload.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT, SHOTS, VIEWPORTS, COMPE, launchChromium, compe, cleanUp } from './setup.mjs';

const DATA = path.join(ROOT, 'examples', 'titanic', 'data');
const SOLUTION = path.join(DATA, 'solution.csv');
const SAMPLE = fs.readFileSync(path.join(DATA, 'sample_submission.csv'), 'utf8');

let tmp, profile, browser;
const servers = [];

/** compe host init; returns {dir, tokens: {team: token}}. */
function initHost(name, ...args) {
  const dir = path.join(tmp, name);
  const out = compe('host', 'init', dir, '--solution', SOLUTION, '--metric', 'roc_auc', ...args);
  const tokens = {};
  for (const m of out.matchAll(/^(\S+)\s+([0-9a-f]{32})$/gm)) tokens[m[1]] = m[2];
  return { dir, tokens };
}

/** Starts `compe host serve` and resolves with {proc, base} once it prints its URL. */
function serve(dir) {
  return new Promise((resolve, reject) => {
    const proc = spawn(COMPE, ['host', 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('compe host serve printed no URL: ' + out + err)), 15000);
    proc.stderr.on('data', d => { err += d; });
    proc.stdout.on('data', d => {
      out += d;
      const m = out.match(/^url: (http:\/\/[^/\s]+)\//m);
      if (m) {
        clearTimeout(timer);
        const s = { proc, base: m[1] };
        servers.push(s);
        resolve(s);
      }
    });
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`compe host serve exited ${code}: ${out}${err}`)); });
  });
}

function stop(s, signal = 'SIGTERM') {
  return new Promise(resolve => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve(s.proc.exitCode ?? s.proc.signalCode);
    s.proc.once('exit', (code, sig) => resolve(code === null ? sig : code));
    s.proc.kill(signal);
  });
}

/** One HTTP request, the path sent as given. */
function request(base, method, rawPath, { headers = {}, body } = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method, headers }, res => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', d => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, body: data, json });
      });
    });
    req.on('error', reject);
    // A request must never hang the suite (e.g. one in flight when a test kills the server).
    req.setTimeout(20000, () => req.destroy(new Error(`${method} ${rawPath}: no answer in 20 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const bearer = token => ({ Authorization: 'Bearer ' + token });
const get = (base, p, token) => request(base, 'GET', p, { headers: token ? bearer(token) : {} });
const upload = (base, team, token, csv, name = 'sub.csv') =>
  request(base, 'POST', `/api/teams/${team}/submissions?name=${encodeURIComponent(name)}`,
    { headers: { ...bearer(token), 'Content-Type': 'text/csv' }, body: csv });

/** A submission from the solution's targets with noise: a deterministic generator per seed. */
function noisy(seed, noise) {
  let x = seed >>> 0;
  const rand = () => { x = (x * 1664525 + 1013904223) >>> 0; return x / 4294967296; };
  const lines = fs.readFileSync(SOLUTION, 'utf8').trim().split('\n').slice(1);
  return 'id,survived\n' + lines.map(l => {
    const [id, y] = l.split(',');
    return `${id},${(Number(y) * (1 - noise) + rand() * noise).toFixed(6)}`;
  }).join('\n') + '\n';
}

const sha256 = text => crypto.createHash('sha256').update(text).digest('hex');

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-host-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  ({ browser, profile } = await launchChromium(CHROMIUM, 'host', VIEWPORTS.desktop));
});

after(() => cleanUp(browser, servers.map(s => s.proc), [tmp, profile]));

describe('JSON API', () => {
  let host, srv;
  before(async () => {
    host = initHost('api', '--deadline', '2099-01-01T00:00:00Z', '--daily-limit', '3', '--teams', 'alpha,beta,gamma',
      '--title', 'Titanic <img src=x onerror=alert(1)> cup');
    srv = await serve(host.dir);
  });
  after(async () => { assert.equal(await stop(srv), 0); });

  test('every request needs a team token', async () => {
    const { alpha } = host.tokens;
    // alpha with its last character changed (a fixed '0' was alpha itself when alpha ended in '0')
    const nearMiss = alpha.slice(0, -1) + (alpha.endsWith('0') ? '1' : '0');
    for (const p of ['/', '/common.js', '/host.js', '/host.css', '/app.css', '/api/info', '/api/leaderboard', '/api/teams/alpha/submissions']) {
      assert.equal((await get(srv.base, p)).status, 401, p);
      assert.equal((await get(srv.base, p, '0123456789abcdef0123456789abcdef')).status, 401, p);
      assert.equal((await get(srv.base, p + '?token=' + nearMiss)).status, 401, p);
      assert.equal((await get(srv.base, p, alpha)).status, 200, p);
      assert.equal((await get(srv.base, p + '?token=' + alpha)).status, 200, p);
    }
    const page = await get(srv.base, '/?token=' + alpha);
    assert.ok(page.body.includes(`host.js?token=${alpha}`));
    assert.ok(page.body.includes(`common.js?token=${alpha}`));
    assert.ok(page.headers['content-security-policy'].includes("script-src 'self'"));
    // The solution is not a resource of the server, under any name.
    for (const p of ['/private/solution.csv', '/solution.csv', '/host.toml', '/host.db', '/index.html', '/app.js',
      '/../private/solution.csv', '/%2E%2E/private/solution.csv', '/submissions/']) {
      const r = await get(srv.base, p, alpha);
      assert.ok([400, 404].includes(r.status), `${p}: ${r.status}`);
      assert.ok(!r.body.includes('Usage') && !r.body.includes('Private'), p);
    }
  });

  test('a token for another team is refused', async () => {
    const { alpha, beta } = host.tokens;
    const r = await get(srv.base, '/api/teams/beta/submissions', alpha);
    assert.equal(r.status, 403);
    assert.equal(r.json.error, "this token does not belong to team 'beta'");
    assert.equal((await upload(srv.base, 'beta', alpha, SAMPLE)).status, 403);
    assert.equal((await request(srv.base, 'PUT', '/api/teams/beta/finals', { headers: bearer(alpha), body: '{"ids":[]}' })).status, 403);
    assert.equal((await get(srv.base, '/api/teams/beta/submissions', beta)).json.submissions.length, 0);
    assert.equal((await get(srv.base, '/api/info', beta)).json.team, 'beta');
  });

  test('uploads: raw and multipart, public score only, stored with their sha256', async () => {
    const { alpha } = host.tokens;
    const csv = noisy(7, 0.8);
    const priv = JSON.parse(compe('score', '--solution', SOLUTION, '--submission', writeTmp('p.csv', csv), '--metric', 'roc_auc', '--json'));
    const r = await upload(srv.base, 'alpha', alpha, csv, 'noisy.csv');
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.id, 1);
    assert.equal(r.json.name, 'noisy.csv');
    assert.equal(r.json.sha256, sha256(csv));
    assert.ok(Math.abs(r.json.public - priv.public) < 1e-12);
    assert.ok(!('private' in r.json));
    assert.ok(!r.body.includes(String(priv.private)), 'the private score is in the answer');
    assert.equal(r.json.remaining_today, 2);
    assert.equal(fs.readFileSync(path.join(host.dir, 'submissions', sha256(csv) + '.csv'), 'utf8'), csv);

    const form = new FormData();
    form.append('file', new Blob([SAMPLE], { type: 'text/csv' }), 'sample.csv');
    const m = await fetch(`${srv.base}/api/teams/alpha/submissions`, { method: 'POST', headers: bearer(alpha), body: form });
    assert.equal(m.status, 201);
    const doc = await m.json();
    assert.equal(doc.name, 'sample.csv');
    assert.equal(doc.public, 0.5);

    const subs = (await get(srv.base, '/api/teams/alpha/submissions', alpha)).json;
    assert.deepEqual(subs.submissions.map(s => s.id), [1, 2]);
    assert.ok(subs.submissions.every(s => !('private' in s)));
    assert.deepEqual(subs.counted, [1, 2]);
    const lb = (await get(srv.base, '/api/leaderboard', alpha)).json;
    assert.equal(lb.revealed, false);
    assert.equal(lb.private, null);
    assert.deepEqual(lb.public.map(x => [x.rank, x.team, x.entries, x.you]), [[1, 'alpha', 2, true]]);
    assert.ok(!JSON.stringify(lb).includes(String(priv.private)));
  });

  test('bad uploads get Kaggle\'s messages and do not count', async () => {
    const { gamma } = host.tokens;
    const wrong = await upload(srv.base, 'gamma', gamma, SAMPLE.replace('id,survived', 'id,Survived'), 'wrong.csv');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error,
      'wrong.csv: wrong columns id, Survived; expected columns: id, survived; missing: survived; unexpected: Survived');
    const rows = SAMPLE.trim().split('\n');
    const twice = [rows[0], ...rows.slice(1), ...rows.slice(1)].join('\n') + '\n';
    const t = await upload(srv.base, 'gamma', gamma, twice, 'twice.csv');
    assert.equal(t.status, 400);
    assert.match(t.json.error, /^twice\.csv: submission must have 328 rows, found 656; 328 duplicate id\(s\)/);
    const nan = await upload(srv.base, 'gamma', gamma, SAMPLE.replace('\n982,0.5\n', '\n982,nan\n'), 'nan.csv');
    assert.equal(nan.status, 400);
    assert.match(nan.json.error, /at id\(s\) '982'/);
    const empty = await upload(srv.base, 'gamma', gamma, '', 'empty.csv');
    assert.equal(empty.status, 400);
    const big = await upload(srv.base, 'gamma', gamma, SAMPLE + 'x'.repeat(400 * 1024), 'big.csv');
    assert.equal(big.status, 413);
    assert.equal(big.json.code, 'too_large');
    const info = (await get(srv.base, '/api/info', gamma)).json;
    assert.equal(info.submissions_today, 0);
    assert.equal(info.remaining_today, 3);
  });

  test('a malformed multipart upload gets 400 saying what is wrong with the body', async () => {
    const { gamma } = host.tokens;
    const post = (type, body) => request(srv.base, 'POST', '/api/teams/gamma/submissions',
      { headers: { ...bearer(gamma), 'Content-Type': type }, body });
    const part = b => `--${b}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n` +
      `Content-Type: text/csv\r\n\r\n${SAMPLE}\r\n`;
    const none = await post('multipart/form-data', part('xyz') + '--xyz--\r\n');
    assert.equal(none.status, 400, none.body);
    assert.match(none.json.error, /has no boundary: the Content-Type header must name it/);
    const wrong = await post('multipart/form-data; boundary=abc', part('xyz') + '--xyz--\r\n');
    assert.equal(wrong.status, 400, wrong.body);
    assert.match(wrong.json.error, /does not parse with the boundary 'abc' of its Content-Type header/);
    const truncated = await post('multipart/form-data; boundary=xyz', part('xyz').slice(0, 120));
    assert.equal(truncated.status, 400, truncated.body);
    assert.match(truncated.json.error, /truncated/);
    const garbage = await post('multipart/form-data; boundary=xyz', 'not multipart at all\r\n\r\n');
    assert.equal(garbage.status, 400, garbage.body);
    assert.doesNotMatch(garbage.json.error, /no such resource/);
    assert.equal((await get(srv.base, '/api/info', gamma)).json.submissions_today, 0);
  });

  test('the daily limit refuses the next upload until 00:00 UTC', async () => {
    const { beta } = host.tokens;
    for (let i = 0; i < 3; ++i) assert.equal((await upload(srv.base, 'beta', beta, noisy(100 + i, 0.9))).status, 201);
    const r = await upload(srv.base, 'beta', beta, noisy(200, 0.9));
    assert.equal(r.status, 429);
    assert.equal(r.json.code, 'daily_limit');
    assert.match(r.json.error, /^daily submission limit reached: 3 submission\(s\) per UTC day; the next is accepted from \d{4}-\d\d-\d\dT00:00:00\.000Z$/);
    assert.equal((await get(srv.base, '/api/teams/beta/submissions', beta)).json.submissions.length, 3);
  });

  test('finals: up to two of the team\'s own submissions', async () => {
    const { alpha } = host.tokens;
    const put = body => request(srv.base, 'PUT', '/api/teams/alpha/finals', { headers: bearer(alpha), body });
    const ok = await put('{"ids":[2]}');
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(ok.json.finals, [2]);
    assert.deepEqual(ok.json.counted, [2]);
    assert.equal((await put('{"ids":[1,2,3]}')).status, 400);
    const other = await put('{"ids":[3]}');  // beta's
    assert.equal(other.status, 404);
    assert.match(other.json.error, /team 'alpha' has no submission 3/);
    assert.equal((await put('not json')).status, 400);
    assert.deepEqual((await put('{"ids":[]}')).json.counted, [1, 2]);
  });
});

function writeTmp(name, text) {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

async function openPage(base, token, viewport) {
  const page = await browser.newPage();
  const dialogs = [], errors = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => errors.push(String(e)));
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.goto(`${base}/?token=${token}`);
  await page.waitForSelector('body[data-ready="ok"]', { timeout: 10000 });
  const [scrollW, innerW] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollW <= innerW, `${viewport}: page is ${scrollW}px wide in a ${innerW}px viewport`);
  return { page, dialogs, errors };
}

async function reloaded(page) {
  await page.waitForSelector('body[data-ready="ok"]', { timeout: 10000 });
}

async function shot(page, name, viewport) {
  await page.screenshot({ path: path.join(SHOTS, `${name}-${viewport}.png`), fullPage: true });
}

describe('page', () => {
  let host, srv;
  before(async () => {
    host = initHost('page', '--deadline', '2099-01-01T00:00:00Z', '--daily-limit', '5', '--teams', 'alpha,beta,gamma',
      '--title', 'Titanic <img src=x onerror=alert(1)> cup');
    srv = await serve(host.dir);
    // Other teams' entries for the boards: gamma leads the public board with a weak private score.
    assert.equal((await upload(srv.base, 'gamma', host.tokens.gamma, noisy(3, 0.95))).status, 201);
    assert.equal((await upload(srv.base, 'beta', host.tokens.beta, noisy(4, 0.99))).status, 201);
  });
  after(async () => { assert.equal(await stop(srv, 'SIGINT'), 0); });

  for (const viewport of Object.keys(VIEWPORTS)) {
    test(`upload, an error, finals and the leaderboard at ${viewport}`, async () => {
      const { page, dialogs, errors } = await openPage(srv.base, host.tokens.alpha, viewport);
      assert.equal(await page.textContent('#team'), 'team alpha');
      assert.equal(await page.textContent('h1'), 'Titanic <img src=x onerror=alert(1)> cup');
      assert.equal(await page.$$eval('main img', els => els.length), 0);
      assert.ok(!(await page.textContent('main')).includes('null'));
      const before = await page.$$eval('#subs tbody tr', trs => trs.length).catch(() => 0);

      await page.setInputFiles('#file', { name: `good-${viewport}.csv`, mimeType: 'text/csv', buffer: Buffer.from(noisy(viewport.length, 0.7)) });
      await page.click('#submit');
      await page.waitForSelector('#upload-ok');
      await reloaded(page);
      assert.match(await page.textContent('#upload-score'), /^0\.\d+$/);
      assert.equal(await page.$$eval('#subs tbody tr', trs => trs.length), before + 1);
      assert.equal(await page.$$eval('#subs td.private', tds => tds.length), 0);
      assert.ok((await page.textContent('#subs')).includes(`good-${viewport}.csv`));
      const teams = await page.$$eval('#public-lb tbody tr', trs => trs.map(tr => tr.getAttribute('data-team')));
      assert.deepEqual([...teams].sort(), ['alpha', 'beta', 'gamma']);
      assert.equal(await page.$$eval('#public-lb tr.you', trs => trs.length), 1);
      assert.equal(await page.$$eval('#private-lb', els => els.length), 0);
      await shot(page, 'host', viewport);

      await page.setInputFiles('#file', { name: 'wrong.csv', mimeType: 'text/csv', buffer: Buffer.from(SAMPLE.replace('id,survived', 'passenger,survived')) });
      await page.click('#submit');
      await page.waitForSelector('#upload-error');
      await reloaded(page);
      assert.match(await page.textContent('#upload-error'), /wrong\.csv: wrong columns passenger, survived; expected columns: id, survived/);
      assert.equal(await page.$$eval('#subs tbody tr', trs => trs.length), before + 1);
      await shot(page, 'host-error', viewport);

      // Mark the newest submission as the only final.
      const newest = await page.getAttribute('#subs tbody tr:first-child', 'data-id');
      for (const box of await page.$$('input.final:checked')) await box.uncheck();
      await page.check('#subs tbody tr:first-child input.final');
      await page.click('#save-finals');
      await page.waitForFunction(id => document.body.dataset.ready === 'ok' &&
        document.getElementById('finals-note').textContent === `Finals: ${id}.`, newest);
      assert.deepEqual(dialogs, []);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test('after the reveal: private leaderboard and shake-up, submissions closed', async () => {
    const out = compe('host', 'reveal', host.dir);
    assert.match(out, /private leaderboard and shake-up/);
    for (const viewport of Object.keys(VIEWPORTS)) {
      const { page, errors } = await openPage(srv.base, host.tokens.alpha, viewport);
      await page.waitForSelector('#private-lb');
      assert.ok(await page.isVisible('#closed'));
      assert.equal(await page.$$eval('#file', els => els.length), 0);
      const rows = await page.$$eval('#private-lb tbody tr', trs => trs.map(tr => [tr.getAttribute('data-team'),
        tr.querySelector('td.change').textContent]));
      assert.equal(rows.length, 3);
      assert.ok(rows.every(([, c]) => /^(▲ \d+|▼ \d+|–)$/.test(c)), JSON.stringify(rows));
      assert.ok(await page.$$eval('#subs td.private', tds => tds.length) >= 2);
      assert.ok(await page.isDisabled('#save-finals'));
      assert.ok(!(await page.textContent('main')).includes('null'));
      await shot(page, 'host-revealed', viewport);
      assert.deepEqual(errors, []);
      await page.close();
    }
    const lb = (await get(srv.base, '/api/leaderboard', host.tokens.beta)).json;
    assert.equal(lb.revealed, true);
    const alpha = lb.private.find(r => r.team === 'alpha');
    assert.equal(alpha.auto_selected, false);
    assert.equal(alpha.finals.length, 1);  // the last one marked on the phone page
    for (const r of lb.private) assert.equal(r.change, r.public_rank - r.rank);
    const late = await upload(srv.base, 'beta', host.tokens.beta, SAMPLE);
    assert.equal(late.status, 403);
    assert.equal(late.json.code, 'closed');
  });
});

describe('deadline', () => {
  test('after the deadline uploads and finals are refused and the private board is shown', async () => {
    const deadline = new Date(Date.now() + 6000);
    const host = initHost('deadline', '--deadline', deadline.toISOString(), '--teams', 'alpha,beta');
    const srv = await serve(host.dir);
    assert.equal((await upload(srv.base, 'alpha', host.tokens.alpha, noisy(1, 0.8))).status, 201);
    assert.equal((await get(srv.base, '/api/leaderboard', host.tokens.alpha)).json.private, null);
    await new Promise(r => setTimeout(r, Math.max(0, deadline.getTime() - Date.now()) + 200));
    const late = await upload(srv.base, 'beta', host.tokens.beta, SAMPLE);
    assert.equal(late.status, 403);
    assert.match(late.json.error, /^the competition has ended: the deadline was \d{4}-/);
    const fin = await request(srv.base, 'PUT', '/api/teams/alpha/finals', { headers: bearer(host.tokens.alpha), body: '{"ids":[1]}' });
    assert.equal(fin.status, 403);
    const lb = (await get(srv.base, '/api/leaderboard', host.tokens.beta)).json;
    assert.equal(lb.revealed, true);
    assert.deepEqual(lb.private.map(r => [r.team, r.finals, r.auto_selected]), [['alpha', [1], true]]);
    assert.equal(await stop(srv), 0);
  });
});

describe('a killed server', () => {
  test('SIGKILL mid-upload loses no accepted submission and leaves nothing half-written', async () => {
    const host = initHost('kill', '--deadline', '2099-01-01T00:00:00Z', '--daily-limit', '1000', '--teams', 'alpha,beta');
    const srv = await serve(host.dir);
    const accepted = [];
    const sent = new Set();
    let n = 0;
    // A slow upload: headers and half of the body, then nothing until the kill.
    const slowBody = noisy(9999, 0.5);
    const u = new URL(srv.base);
    const slow = http.request({ host: u.hostname, port: u.port, method: 'POST', path: '/api/teams/beta/submissions',
      headers: { ...bearer(host.tokens.beta), 'Content-Type': 'text/csv', 'Content-Length': Buffer.byteLength(slowBody) } });
    slow.on('error', () => {});
    slow.write(slowBody.slice(0, slowBody.length >> 1));
    // Four clients upload as fast as they can; the server is killed once 12 are accepted.
    let killed = false;
    const client = async team => {
      while (!killed) {
        const csv = noisy(++n, 0.5);
        sent.add(sha256(csv));
        try {
          const r = await upload(srv.base, team, host.tokens[team], csv);
          if (r.status === 201) {
            accepted.push({ id: r.json.id, sha256: r.json.sha256, team });
            if (accepted.length >= 12 && !killed) { killed = true; srv.proc.kill('SIGKILL'); }
          } else if (!killed) {
            throw new Error(`upload answered ${r.status}: ${r.body}`);
          }
        } catch (e) {
          if (!killed) throw e;
        }
      }
    };
    await Promise.all([client('alpha'), client('beta'), client('alpha'), client('beta')]);
    assert.equal(await stop(srv), 'SIGKILL');
    slow.destroy();

    const status = JSON.parse(compe('host', 'status', host.dir, '--json'));
    const byId = new Map(status.submissions.map(s => [s.id, s]));
    for (const a of accepted) {
      const s = byId.get(a.id);
      assert.ok(s, `accepted submission ${a.id} is lost`);
      assert.equal(s.sha256, a.sha256);
      assert.equal(s.team, a.team);
    }
    for (const s of status.submissions) {
      const file = path.join(host.dir, 'submissions', s.sha256 + '.csv');
      assert.ok(fs.existsSync(file), `submission ${s.id}: no file`);
      assert.equal(sha256(fs.readFileSync(file)), s.sha256, `submission ${s.id}: torn file`);
      assert.ok(sent.has(s.sha256));
    }
    assert.ok(!status.submissions.some(s => s.sha256 === sha256(slowBody)), 'the half upload was recorded');
    assert.ok(status.submissions.length >= accepted.length);

    // The host serves again from what was committed.
    const again = await serve(host.dir);
    const subs = (await get(again.base, '/api/teams/alpha/submissions', host.tokens.alpha)).json.submissions;
    assert.equal(subs.length, status.submissions.filter(s => s.team === 'alpha').length);
    assert.equal((await upload(again.base, 'alpha', host.tokens.alpha, SAMPLE)).status, 201);
    assert.equal(await stop(again), 0);
  });
});

// What every browser test file shares: its environment and a headless Debian chromium.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = process.env.COMPE_ROOT || path.resolve(here, '..', '..');
export const COMPE = process.env.COMPE_BIN;
export const SHOTS = process.env.COMPE_SCREENSHOTS || path.join(ROOT, 'build', 'browser-screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const VIEWPORTS = { desktop: { width: 1400, height: 900 }, phone: { width: 390, height: 844 } };

assert.ok(COMPE, 'set COMPE_BIN to the compe executable');
assert.ok(fs.existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}: run scripts/install-deps.sh`);

/** Launches chromium at `executablePath` with a fresh profile folder (prefix names the test) and
 * the given default viewport; returns {browser, profile}. Remove `profile` when done. */
export async function launchChromium(executablePath, prefix, viewport) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `compe-${prefix}-chromium-`));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });
  return { browser, profile };
}

/** Runs compe with `args` and returns its stdout; throws on a non-zero exit. */
export function compe(...args) {
  return execFileSync(COMPE, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts `compe ui` on workspace `ws` (port 0, then `args`) and resolves with
 * {proc, url, base, out} once it prints its URL; rejects if it exits first or stays silent. */
export function serveUi(ws, ...args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(COMPE, ['ui', '--workspace', ws, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('compe ui printed no URL: ' + out + err)), 15000);
    proc.stderr.on('data', d => { err += d; });
    proc.stdout.on('data', d => {
      out += d;
      const m = out.match(/^url: (http:\/\/\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], base: new URL(m[1]).origin, out: () => out });
      }
    });
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`compe ui exited ${code}: ${out}${err}`)); });
  });
}

/** A GET whose path is sent exactly as given (no URL normalisation); resolves with
 * {status, body} where body is the parsed JSON. */
export function getJson(base, rawPath) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET' }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** End of a test file: closes the browser, sends `signal` to the processes still running and
 * removes the folders (null entries are skipped). */
export async function cleanUp(browser, procs, dirs, signal = 'SIGKILL') {
  if (browser) await browser.close();
  for (const p of procs) if (p && p.exitCode === null && p.signalCode === null) p.kill(signal);
  for (const d of dirs) if (d) fs.rmSync(d, { recursive: true, force: true });
}

/** The elements matching `selector` on `page` that do not lie wholly inside the visible part of
 * their nearest `.table-wrap` (its box before any sideways scrolling) and of the viewport, as
 * strings for an assertion message; throws when nothing matches. */
export async function offScreen(page, selector) {
  const out = await page.$$eval(selector, els => {
    window.scrollTo(0, window.scrollY);
    return els.map(el => {
      const wrap = el.closest('.table-wrap');
      let left = 0, right = window.innerWidth;
      if (wrap) {
        wrap.scrollLeft = 0;
        const w = wrap.getBoundingClientRect();
        left = Math.max(left, w.left + wrap.clientLeft);
        right = Math.min(right, w.left + wrap.clientLeft + wrap.clientWidth);
      }
      const r = el.getBoundingClientRect();
      return r.left >= left - 0.5 && r.right <= right + 0.5 ? null
        : `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.slice(0, 30)}" spans ${r.left.toFixed(0)}-${r.right.toFixed(0)}, visible ${left.toFixed(0)}-${right.toFixed(0)}`;
    });
  });
  if (!out.length) throw new Error(`nothing matches ${selector}`);
  return out.filter(Boolean);
}

/** Pairs of boxes ({left, top, right, bottom}, named by `name`) that overlap, as strings. */
export function overlaps(boxes, others = boxes) {
  const hits = [];
  for (const a of boxes) {
    for (const b of others) {
      if (a === b || (others === boxes && boxes.indexOf(b) < boxes.indexOf(a))) continue;
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) hits.push(`${a.name} overlaps ${b.name}`);
    }
  }
  return hits;
}

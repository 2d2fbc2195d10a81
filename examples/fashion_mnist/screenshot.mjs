// Takes the README's dashboard screenshot: a run's page (curves per fold) in `compe ui`.
// Usage: node screenshot.mjs COMPE_BINARY WORKSPACE RUN_ID OUT.png [WIDTH]
// Needs playwright-core (npm, in the repository's node_modules) and /usr/bin/chromium.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [compe, ws, run, out, width = '1280'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node screenshot.mjs COMPE_BINARY WORKSPACE RUN_ID OUT.png [WIDTH]');
  process.exit(2);
}
const ui = spawn(compe, ['ui', '--workspace', ws, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let text = '';
  const timer = setTimeout(() => reject(new Error('compe ui printed no URL')), 15000);
  ui.stdout.on('data', d => {
    text += d;
    const m = text.match(/^url: (http:\/\/\S+)$/m);
    if (m) { clearTimeout(timer); resolve(new URL(m[1]).origin); }
  });
  ui.on('exit', code => reject(new Error(`compe ui exited ${code}`)));
});
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'compe-shot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  viewport: { width: Number(width), height: 900 },
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}/#/run/${run}`);
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
  await page.waitForTimeout(500);
  // The header, fold scores and training curves.
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: Number(width), height: 1450 } });
  console.log(out);
} finally {
  await browser.close();
  ui.kill('SIGTERM');
  fs.rmSync(profile, { recursive: true, force: true });
}

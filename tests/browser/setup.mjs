// What every browser test file shares: its environment and a headless Debian chromium.
// Environment: COMPE_BIN (the compe executable, required), COMPE_ROOT (the repository, default
// two folders up), COMPE_SCREENSHOTS (default <root>/build/browser-screenshots),
// CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = process.env.COMPE_ROOT || path.resolve(here, '..', '..');
export const COMPE = process.env.COMPE_BIN;
export const SHOTS = process.env.COMPE_SCREENSHOTS || path.join(ROOT, 'build', 'browser-screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

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

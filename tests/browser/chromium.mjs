// Headless Debian chromium for the browser tests, one throwaway profile per test file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

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

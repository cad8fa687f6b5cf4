/**
 * @module Browser tests of the dashboard (docs/operations.md, "Dashboard"): Debian's chromium (FERRY_CHROMIUM
 * overrides /usr/bin/chromium) driven headless by playwright-core, a login through the dashboard's own form,
 * and screenshots into docs/screenshots/<name>.png when FERRY_SCREENSHOTS=1 (npm run screenshots).
 * `browserSkip()` says why the tests cannot run here; with CI=true a missing browser is an error instead, so CI
 * never passes by skipping them.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export type { Browser, BrowserContext, Page };

export const CHROMIUM = process.env['FERRY_CHROMIUM'] ?? '/usr/bin/chromium';
/** The viewport of every page, and so of every screenshot. */
export const VIEWPORT = { width: 1280, height: 800 } as const;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SCREENSHOT_DIR = join(ROOT, 'docs/screenshots');

/** Why the browser tests cannot run here, or undefined when they can. Throws under CI=true instead of skipping. */
export function browserSkip(env: Record<string, string | undefined> = process.env): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    const why = `no chromium at ${CHROMIUM} (apt-get install chromium, or set FERRY_CHROMIUM)`;
    if (env['CI'] === 'true') throw new Error(`CI=true and the browser tests cannot run: ${why}`);
    return why;
  }
}

/** Headless chromium; close it in the test's cleanup. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Containers run tests as root, where chromium's sandbox cannot start; /dev/shm is small there too.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A fresh context (own cookies) at the screenshot viewport. */
export function context(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
}

/** Logs in through the dashboard's form at `${baseUrl}/login`; resolves once the shell shows the session. */
export async function login(page: Page, baseUrl: string, credential: string, next = '/devices'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByTestId('login-token').fill(credential);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session').waitFor();
}

/** Writes docs/screenshots/<name>.png (the viewport) when FERRY_SCREENSHOTS=1; returns the path, or undefined. */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  if (process.env['FERRY_SCREENSHOTS'] !== '1') return undefined;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

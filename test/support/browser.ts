// Headless Chromium for the status page's tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), started with flags that keep it off the network,
// in contexts that refuse and record any request not to 127.0.0.1, and that collect what the
// console says (a Content-Security-Policy violation shows up there).
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Where the test run writes screenshots for a person to look at (gitignored). */
export const SCREENSHOT_DIR = join(ROOT, 'test-output', 'status-page');

export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface GuardedContext {
  context: BrowserContext;
  /** Requests the context refused because they were not to 127.0.0.1. */
  offsite: string[];
  /** Console errors and warnings, e.g. a CSP violation or a script error. */
  console: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

function local(url: string): boolean {
  if (/^(data|about|blob):/.test(url)) return true;
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

export async function guardedContext(browser: Browser, options: BrowserContextOptions = DESKTOP): Promise<GuardedContext> {
  const context = await browser.newContext(options);
  const offsite: string[] = [];
  const messages: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  const watch = (page: Page) => {
    page.on('console', (m) => {
      // Where it happened (for a failed load, the resource), so a failure at the end says which request.
      if (m.type() === 'error' || m.type() === 'warning') messages.push(`${m.type()}: ${m.text()} (at ${m.location().url || page.url()})`);
    });
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
  };
  context.on('page', watch);
  return {
    context,
    offsite,
    console: messages,
    newPage: () => context.newPage(),
    close: () => context.close(),
  };
}

/** Signs in through the form, as a person would; resolves on the page sign-in leads to. */
export async function signIn(page: Page, baseUrl: string, token: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/sign-in?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL((url) => url.pathname === next.split('?')[0]), page.click('button[type=submit]')]);
}

/** A full-page screenshot in `dir` (test-output/status-page/ unless told) as <name>.png; returns the path. */
export async function screenshot(page: Page, name: string, dir: string = SCREENSHOT_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

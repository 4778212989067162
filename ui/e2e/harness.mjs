// Shared setup for the e2e tests: Debian's chromium through playwright-core
// (no downloaded browser), the static server on the built dist/, and pages
// with the Tauri IPC mock injected before any page script.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { fixture, NOW } from './fixtures.mjs';
import { startServer } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, '..', 'dist');
export const SHOTS = join(here, 'screenshots');
const MOCK = readFileSync(join(here, 'mock-ipc.js'), 'utf8');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Messages Chromium itself logs that are expected and harmless.
const BENIGN_CONSOLE = [
  /frame-ancestors' is ignored when delivered via a <meta> element/,
];

export async function setup() {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html missing: run "npm run build" first`);
  }
  const exe = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(exe)) throw new Error(`${exe} missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  const server = await startServer(DIST);
  // launch() gives every run a fresh temporary user data dir, removed on close.
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Open the app in a fresh context. Returns the page plus `problems`, the
 * page errors and console errors seen (tests assert it stays empty).
 */
export async function openApp(env, { query = '', colorScheme = 'light', viewport = { width: 1280, height: 860 }, fx } = {}) {
  const context = await env.browser.newContext({
    colorScheme,
    viewport,
    locale: 'en-US',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
  await context.clock.setFixedTime(NOW);
  await context.addInitScript({
    content: `window.__AW_FIXTURE__ = ${JSON.stringify(fx ?? fixture())};\n${MOCK}`,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const t = m.text();
    if (BENIGN_CONSOLE.some((re) => re.test(t))) return;
    problems.push(`console.${m.type()}: ${t}`);
  });
  await page.goto(env.server.url + (query ? `?${query}` : ''));
  return { page, context, problems };
}

/** invoke() calls the page made, optionally only those of one command. */
export function calls(page, cmd) {
  return page.evaluate((c) => window.__awCalls.filter((x) => !c || x.cmd === c), cmd ?? null);
}

/** Poll `fn` until it returns a truthy value (or throw after `timeout` ms). */
export async function until(fn, what, timeout = 5000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function emit(page, payload) {
  return page.evaluate((p) => window.__awEmit(p), payload);
}

export function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations);
}

// Shared setup for the browser tests: the built web app, a real server as a child process, and
// Debian's Chromium driven by playwright-core (never a browser downloaded by a tool).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startService } from '../../harness/service.js';
import { sleep } from '../../harness/wait.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Debian's Chromium; BOXOFFICE_CHROMIUM points elsewhere (or at nothing, to see the skip). */
export const CHROMIUM = process.env.BOXOFFICE_CHROMIUM ?? '/usr/bin/chromium';
export const ADMIN_KEY = 'test-admin-key-0123456789';
export const RESULTS_DIR = join(ROOT, 'test-results', 'browser');

export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n[browser tests] SKIPPED: ${CHROMIUM} not found. Install Debian's Chromium to run them:\n` +
      '    apt-get update && apt-get install -y chromium\n',
  );
}

export const PHONE = { width: 390, height: 844 };
export const LAPTOP = { width: 1280, height: 800 };

// ---------------------------------------------------------------------------------------------
// The web app: build it when web/dist is missing or older than its sources.

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function webIsFresh(): boolean {
  const built = join(ROOT, 'web/dist/index.html');
  if (!existsSync(built)) return false;
  const sources = ['web/src', 'web/index.html', 'web/vite.config.ts'].map((p) => newestMtime(join(ROOT, p)));
  return statSync(built).mtimeMs >= Math.max(...sources);
}

/** Builds web/dist once even when several test files ask at the same time (a lock directory). */
export async function ensureWebBuilt(): Promise<void> {
  const lock = join(tmpdir(), `boxoffice-web-build-${Buffer.from(ROOT).toString('hex').slice(-24)}.lock`);
  const deadline = Date.now() + 120_000;
  while (!webIsFresh()) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`web build lock ${lock} held too long; remove it`);
      await sleep(250);
      continue;
    }
    try {
      if (!webIsFresh()) {
        execFileSync(
          process.execPath,
          [
            join(ROOT, 'node_modules/vite/bin/vite.js'),
            'build',
            '--config',
            'web/vite.config.ts',
            '--logLevel',
            'warn',
          ],
          {
            cwd: ROOT,
            stdio: 'inherit',
          },
        );
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The service: `node --import tsx src/server.ts` on a free port with an in-memory database,
// started by the harness's one service starter (harness/service.ts).

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
  /** What the server printed, for failure messages. */
  output(): string;
}

/** How long a server may take to become ready before a suite gives up on it. */
const STACK_START_MS = 180_000;

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const service = await startService({
    mode: 'embedded',
    dataDir: 'memory',
    adminKey: ADMIN_KEY,
    // The app's first screen lists the demo concerts.
    seedDemo: true,
    settings: { HOLD_TTL_SECONDS: 60, QUEUE_ADMIT_PER_SECOND: 20, QUEUE_MAX_ACTIVE: 100 },
    extra: { NODE_ENV: 'test', ...env },
    fromSource: true,
    // Compiling from source and seeding the demo hall and arena (about 10,000 seats) took 67 s on a
    // 2-core machine under a load of 24; the default minute failed suites by luck, not by fault.
    cluster: { root: ROOT, readyTimeoutMs: STACK_START_MS },
  });
  const instance = service.cluster.instances[0]!;
  return { url: instance.url, stop: service.stop, output: () => instance.logTail() };
}

// ---------------------------------------------------------------------------------------------
// The browser.

/**
 * The stack a browser suite runs against: the built app, a real server with `env`, and one
 * Chromium, started before the file's tests and stopped after them.
 */
export function useStack(env: Record<string, string>): {
  server: () => RunningServer;
  browser: () => Browser;
} {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await ensureWebBuilt();
    server = await startServer(env);
    browser = await launchBrowser();
  }, STACK_START_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  return { server: () => server!, browser: () => browser! };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** A fresh visitor (empty storage) with a viewport; Korean, as the app's default audience. */
export async function newVisitor(
  browser: Browser,
  baseURL: string,
  viewport: { width: number; height: number },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport, locale: 'ko-KR', timezoneId: 'Asia/Seoul' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
      problems.push(message.text());
  });
  (page as Page & { problems?: string[] }).problems = problems;
  return { context, page };
}

/** Uncaught errors and console errors the page produced (failed HTTP calls excluded: they are tested). */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** A screenshot under test-results/browser/, named for the step. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}

/**
 * Keep a screenshot in docs/screenshots/ (committed). Written when missing or when
 * BOXOFFICE_UPDATE_SCREENSHOTS=1, so ordinary runs leave the working tree clean.
 */
export function publish(path: string, name: string): void {
  const dir = join(ROOT, 'docs/screenshots');
  const target = join(dir, name);
  if (existsSync(target) && process.env.BOXOFFICE_UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(dir, { recursive: true });
  copyFileSync(path, target);
}

export { eventually, sleep } from '../../harness/wait.js';

// Shared setup for the browser tests: the built web app, a real server as a child process, and
// Debian's Chromium driven by playwright-core (never a browser downloaded by a tool).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Debian's Chromium; BOXOFFICE_CHROMIUM points elsewhere (or at nothing, to see the skip). */
export const CHROMIUM = process.env.BOXOFFICE_CHROMIUM ?? '/usr/bin/chromium';
export const ADMIN_KEY = 'test-admin-key';
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
// The service: `node --import tsx src/server.ts` on a free port with an in-memory database.

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
  /** What the server printed, for failure messages. */
  output(): string;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: 'memory',
      ADMIN_KEY,
      HOLD_TTL_SECONDS: '60',
      QUEUE_ADMIT_PER_SECOND: '20',
      QUEUE_MAX_ACTIVE: '100',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      SEED_DEMO: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk) => {
    log += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    log += chunk;
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode} before ready:\n${log}`);
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server not ready on ${url} after 60 s:\n${log}`);
    }
    await sleep(200);
  }
  return { url, stop, output: () => log };
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
  }, 120_000);
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

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Polls `probe` until it returns a value (not null/undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing happened within ${timeoutMs} ms`);
    await sleep(100);
  }
}

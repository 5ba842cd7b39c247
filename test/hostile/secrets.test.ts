import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { resolveSecret, SecretError } from '../../src/auth/secret.js';
import { sameSecret } from '../../src/http/auth.js';

const scratch = mkdtempSync(join(tmpdir(), 'bo-secret-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(scratch, `d${dirs++}`);

/** Runs the real server entry point until it exits (or is stopped after `timeoutMs`). */
function startServer(env: Record<string, string>, timeoutMs = 20_000) {
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('the token secret', () => {
  test('when no secret file exists, then one of 32 random bytes is written whole (temporary file, then linked into place) and reused', () => {
    const dir = freshDir();
    const first = resolveSecret(undefined, dir);
    expect(first.length).toBe(32);
    const file = join(dir, 'auth-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first)).toBe(true);
    expect(readdirSync(dir)).toEqual(['auth-secret']); // no temporary file left behind
    expect(resolveSecret(undefined, dir).equals(first)).toBe(true);
  });

  test.each([
    ['empty', ''],
    ['blank', '\n'],
    ['truncated', `${Buffer.alloc(31, 7).toString('base64')}\n`],
    ['damaged', '%%% not base64 %%%'],
  ])('when the secret file is %s, then start-up is refused with a message naming the file', (_, content) => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'auth-secret'), content);
    expect(() => resolveSecret(undefined, dir)).toThrow(SecretError);
    expect(() => resolveSecret(undefined, dir)).toThrow(/auth-secret.*(empty|truncated|damaged)/);
  });

  test('when the secret file cannot be read, then start-up is refused with a message naming the file', () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'auth-secret'), { recursive: true }); // a directory where the file should be
    expect(() => resolveSecret(undefined, dir)).toThrow(/cannot read the token secret file .*auth-secret/);
  });

  test('when an empty secret file is in the data directory, then the server process stops with that message instead of signing with a zero-length key', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'auth-secret'), '');
    const run = await startServer({ DATA_DIR: dir });
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull(); // it stopped by itself
    expect(run.stderr).toMatch(/boxoffice: the token secret file .*auth-secret is empty/);
    expect(run.stderr).not.toMatch(/\bat .+\.(ts|js):\d+/); // a message, not a stack
  });

  test.each([
    ['AUTH_SECRET', { AUTH_SECRET: 'x'.repeat(31), DATA_DIR: 'memory' }],
    ['ADMIN_KEY', { ADMIN_KEY: 'k'.repeat(15), DATA_DIR: 'memory' }],
  ])('when %s is too short, then the server process stops naming it', async (name, env) => {
    const run = await startServer(env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`boxoffice: ${name} must be at least`);
  });
});

describe('key comparison', () => {
  test('when keys are compared, then only the identical key matches, whatever the lengths', () => {
    const key = 'admin-key-0123456789';
    expect(sameSecret(key, key)).toBe(true);
    expect(sameSecret(`${key}x`, key)).toBe(false);
    expect(sameSecret(key.slice(0, -1), key)).toBe(false);
    expect(sameSecret('', key)).toBe(false);
    expect(sameSecret(key.toUpperCase(), key)).toBe(false);
  });
});

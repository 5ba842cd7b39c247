import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MIN_AUTH_SECRET_BYTES } from '../config.js';

/** A secret file that cannot be used: start-up stops rather than sign with a weak key. */
export class SecretError extends ConfigError {
  override name = 'SecretError';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The token-signing secret: AUTH_SECRET when given (config checks its length); otherwise one
 * generated on first start and kept in the data directory so tokens survive a restart
 * ('memory' keeps nothing, so a new secret per process). Config refuses a missing AUTH_SECRET
 * whenever instances could share state.
 *
 * A secret file that is empty, truncated, not base64 or unreadable stops the process: read as
 * it is, it would be a short (even zero-length) HMAC key and every token forgeable.
 */
export function resolveSecret(authSecret: string | undefined, dataDir: string): Buffer {
  if (authSecret) return Buffer.from(authSecret, 'utf8');
  if (dataDir === 'memory') return randomBytes(32);
  const file = join(dataDir, 'auth-secret');
  const existing = readSecretFile(file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  return publish(file, secret) ?? (readSecretFile(file) as Buffer);
}

/** The secret kept in `file`; undefined when there is no such file. */
function readSecretFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new SecretError(
      `cannot read the token secret file ${file} (${code ?? String(error)}); fix its permissions, or set AUTH_SECRET`,
    );
  }
  const secret = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (secret.length < MIN_AUTH_SECRET_BYTES) {
    throw new SecretError(
      `the token secret file ${file} is empty, truncated or damaged (${secret.length} of at least ${MIN_AUTH_SECRET_BYTES} bytes); delete it to generate a new one (signing out every user), or set AUTH_SECRET`,
    );
  }
  return secret;
}

/**
 * Writes the secret whole to a temporary file, flushes it, then links it into place: the
 * secret file either does not exist or is complete, whatever crashes in between. A link (a
 * rename that never replaces) leaves a secret another process put there first untouched; then
 * that one is used, and undefined is returned.
 */
function publish(file: string, secret: Buffer): Buffer | undefined {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${secret.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return undefined;
  } finally {
    unlinkSync(temporary);
  }
}

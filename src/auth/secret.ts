import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The token-signing secret: AUTH_SECRET when given; otherwise one generated on first start and
 * kept in the data directory so tokens survive a restart ('memory' keeps nothing, so a new
 * secret per process). Config refuses a missing AUTH_SECRET whenever instances could share state.
 */
export function resolveSecret(authSecret: string | undefined, dataDir: string): Buffer {
  if (authSecret) return Buffer.from(authSecret, 'utf8');
  if (dataDir === 'memory') return randomBytes(32);
  const file = join(dataDir, 'auth-secret');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

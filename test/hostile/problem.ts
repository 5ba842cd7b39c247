import { expect } from 'vitest';
import { errorCatalog } from '../../src/shared/errors.js';

/** Text that must never reach a client: stack frames, SQL, driver and file names. */
export const LEAK =
  /\bat .+\.(ts|js|mjs):\d+|node_modules|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|syntax error|relation "|violates|pglite|postgres|ioredis|ERR |\bLua\b|TypeError|ReferenceError/i;

/** A well-formed problem+json answer with the given status and code (any code when omitted). */
export function expectProblem(
  res: { status: number; headers: Record<string, unknown>; body: unknown; text?: string },
  status: number,
  code?: string,
): void {
  const text = res.text ?? (typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
  expect(res.status, text).toBe(status);
  expect(String(res.headers['content-type']), text).toContain('application/problem+json');
  const body = (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(Object.keys(errorCatalog)).toContain(body.code);
  if (code) expect(body.code).toBe(code);
  for (const member of ['type', 'title', 'detail']) expect(typeof body[member]).toBe('string');
  expect(text).not.toMatch(LEAK);
}

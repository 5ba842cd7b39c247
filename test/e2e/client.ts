import { expect } from 'vitest';
import type { Problem } from '../../harness/api-types.js';
import type { ErrorCode } from '../../src/shared/errors.js';

/**
 * How the contract suites talk to a built server: plain `fetch`, JSON in and out, and the one
 * check every refusal of API.md must pass (its status and code, problem+json, no stack trace).
 */

export interface Reply<T = unknown> {
  status: number;
  type: string;
  /** The success body; on an error status, read `problem`. */
  body: T;
  problem: Problem & Record<string, unknown>;
  text: string;
  headers: Headers;
}

export interface User {
  userId: string;
  accessToken: string;
}

export interface SendOptions {
  body?: unknown;
  as?: User;
  queueToken?: string;
  headers?: Record<string, string>;
}

/** A client of the server at `base()` (read when a request leaves: servers start in beforeAll). */
export function e2eClient(base: () => string) {
  async function send<T = any>(method: string, url: string, options: SendOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.as) headers.authorization = `Bearer ${options.as.accessToken}`;
    if (options.queueToken) headers['queue-token'] = options.queueToken;
    const response = await fetch(base() + url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    const body = type.includes('json') && text ? JSON.parse(text) : text;
    return { status: response.status, type, body, problem: body, text, headers: response.headers };
  }

  function expectProblem(reply: Reply<unknown>, status: number, code: ErrorCode): void {
    expect({ status: reply.status, code: reply.problem.code }, reply.text.slice(0, 300)).toEqual({
      status,
      code,
    });
    expect(reply.type).toContain('application/problem+json');
    expect(typeof reply.problem.detail).toBe('string');
    expect(reply.text).not.toMatch(/\bat .+\.(js|ts):\d+/); // no stack trace
  }

  return { send, expectProblem };
}

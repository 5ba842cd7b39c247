import { setTimeout as delay } from 'node:timers/promises';
import type { App } from '../http/types.js';
import { AppError } from '../shared/errors.js';

/**
 * Counts requests in flight; once shutdown begins, refuses new ones with 503 (and closes their
 * connection) while those already accepted finish. Returns the wait: at least `minMs`, and until
 * every accepted request is answered or `maxMs` has passed.
 */
export function drainOnShutdown(app: App): (minMs: number, maxMs: number) => Promise<void> {
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  app.addHook('onRequest', async (request, reply) => {
    if (draining && request.url !== '/health/live') {
      reply.header('connection', 'close');
      throw new AppError('UNAVAILABLE', 'The instance is shutting down; try again');
    }
    // Event streams stay open until the app closes (it ends them): they are not waited for.
    if (request.url.includes('/events')) return;
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  return async (minMs, maxMs) => {
    draining = true;
    const allAnswered =
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idle = resolve;
          });
    await Promise.all([delay(minMs), Promise.race([allAnswered, delay(maxMs, undefined, { ref: false })])]);
  };
}

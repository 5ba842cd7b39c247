import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Signer } from '../../src/auth/signer.js';
import { QueueTokens } from '../../src/queue/queue-token.js';

const user = '0b80ca2d-31d4-43ac-ab1e-8362be945675';
const concert = '5eed0000-0000-4000-8000-000000000001';

describe('queue tokens', () => {
  const tokens = new QueueTokens(new Signer(randomBytes(32)));

  it('when a ticket is numbered from the clock (ms × 1000), then its token names it exactly', () => {
    // Lines number from the clock in ms × 1000: ~2^51 today, up to the largest safe integer.
    for (const ticket of [Date.parse('2026-12-02T06:00:00Z') * 1000 + 1, Number.MAX_SAFE_INTEGER]) {
      const claims = { concertId: concert, userId: user, ticket };
      expect(tokens.verify(tokens.issue(claims))).toEqual(claims);
    }
  });
});

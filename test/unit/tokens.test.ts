import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Signer, VerifiedTokens } from '../../src/auth/signer.js';
import { QueueTokens } from '../../src/queue/queue-token.js';
import { AccessTokens } from '../../src/users/access-token.js';

const user = '0b80ca2d-31d4-43ac-ab1e-8362be945675';
const concert = '5eed0000-0000-4000-8000-000000000001';

describe('signed tokens', () => {
  const signer = new Signer(randomBytes(32));
  const access = new AccessTokens(signer);
  const queue = new QueueTokens(signer);

  test('when a token is issued, then it verifies to what it names and is the same every time', () => {
    expect(access.verify(access.issue(user))).toBe(user);
    const claims = { concertId: concert, userId: user, ticket: 123_456_789 };
    expect(queue.verify(queue.issue(claims))).toEqual(claims);
    expect(queue.issue(claims)).toBe(queue.issue(claims));
  });

  test('when any byte is changed, then it no longer verifies', () => {
    const token = queue.issue({ concertId: concert, userId: user, ticket: 7 });
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const swapped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      expect(queue.verify(swapped), `position ${i}`).toBeNull();
    }
  });

  test('when the signature is spelled differently but decodes to the same bytes, then it is refused', () => {
    const token = access.issue(user);
    const last = token.at(-1)!;
    // The last character of a 32-byte signature carries two padding bits: flip one of them.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
    const signature = token.split('.')[1]!;
    const spelledTwice = signature.slice(0, -1) + twin;
    expect(Buffer.from(spelledTwice, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(access.verify(token.slice(0, -1) + twin)).toBeNull();
  });

  test('when a token of one kind or of another server is presented, then it is refused', () => {
    expect(queue.verify(access.issue(user))).toBeNull();
    expect(access.verify(queue.issue({ concertId: concert, userId: user, ticket: 1 }))).toBeNull();
    const other = new AccessTokens(new Signer(randomBytes(32)));
    expect(access.verify(other.issue(user))).toBeNull();
    for (const junk of ['', '.', 'a.b.c', 'abc', `${'A'.repeat(600)}.x`])
      expect(access.verify(junk)).toBeNull();
  });
});

describe('verified tokens memo', () => {
  test('when a token was verified, then the check is not run again; refusals are never remembered', () => {
    const memo = new VerifiedTokens<string>(2);
    let checks = 0;
    const check = (t: string) => {
      checks++;
      return t.startsWith('ok') ? t.toUpperCase() : null;
    };
    expect(memo.verify('ok-1', check)).toBe('OK-1');
    expect(memo.verify('ok-1', check)).toBe('OK-1');
    expect(checks).toBe(1);
    expect(memo.verify('bad', check)).toBeNull();
    expect(memo.verify('bad', check)).toBeNull();
    expect(checks).toBe(3);
    // Full: it starts over rather than growing.
    memo.verify('ok-2', check);
    memo.verify('ok-3', check);
    expect(memo.verify('ok-1', check)).toBe('OK-1');
    expect(checks).toBe(6);
  });
});

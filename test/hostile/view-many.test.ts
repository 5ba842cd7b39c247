import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { QueueStore } from '../../src/queue/queue-store.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('batched ticket reads');

const timings = { activeTtlMs: 10_000, idleTimeoutMs: 5_000 };
const concertId = '11111111-2222-4333-8444-555555555555';
const user = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe.each(backends)('viewMany on the $name store', (backend) => {
  let store: QueueStore & { dispose(): Promise<void> };
  beforeEach(async () => {
    store = await backend.openQueueStore(timings, { maxActive: 2, admitPerSecond: 100, paused: false });
  });
  afterEach(() => store.dispose());

  test('when many tickets are read in one call, then each view is what view() says, in order, owners checked', async () => {
    const t0 = 1_000_000;
    for (let i = 1; i <= 6; i++) await store.join(concertId, user(i), t0);
    expect(await store.advance(concertId, t0)).toBe(2); // tickets 1 and 2 ACTIVE, 3..6 WAITING
    const refs = [
      { ticket: 4, owner: user(4) },
      { ticket: 1, owner: user(1) },
      { ticket: 3, owner: user(3) },
      { ticket: 5, owner: user(6) }, // someone else's ticket reads EXPIRED
      { ticket: 99, owner: user(99) }, // unknown
      { ticket: 6 }, // no owner check
    ];
    const batch = await store.viewMany(concertId, refs, t0 + 1, false);
    const single = [];
    for (const { ticket, owner } of refs)
      single.push(await store.view(concertId, ticket, t0 + 1, false, owner));
    expect(batch).toEqual(single);
    expect(batch.map((v) => v.state)).toEqual([
      'WAITING',
      'ACTIVE',
      'WAITING',
      'EXPIRED',
      'EXPIRED',
      'WAITING',
    ]);
    expect(batch[0]).toMatchObject({ position: 2 });
    expect(await store.viewMany(concertId, [], t0, true)).toEqual([]);
  });

  test('when a batch read touches, then those waiting tickets stay alive and the others go idle', async () => {
    const t0 = 2_000_000;
    await store.updateSettings(concertId, { paused: true });
    for (let i = 1; i <= 4; i++) await store.join(concertId, user(i), t0);
    await store.viewMany(
      concertId,
      [1, 2].map((ticket) => ({ ticket, owner: user(ticket) })),
      t0 + 4_000,
      true,
    );
    await store.advance(concertId, t0 + 6_000);
    const after = await store.viewMany(
      concertId,
      [1, 2, 3, 4].map((ticket) => ({ ticket, owner: user(ticket) })),
      t0 + 6_000,
      false,
    );
    expect(after.map((v) => v.state)).toEqual(['WAITING', 'WAITING', 'EXPIRED', 'EXPIRED']);
  });

  test('when 1,200 tickets are read at once, then one call answers them all', async () => {
    const t0 = 3_000_000;
    await store.updateSettings(concertId, { paused: true });
    for (let i = 1; i <= 1200; i++) await store.join(concertId, user(i), t0);
    const views = await store.viewMany(
      concertId,
      Array.from({ length: 1200 }, (_, i) => ({ ticket: i + 1, owner: user(i + 1) })),
      t0 + 1,
      true,
    );
    expect(views.map((v) => (v.state === 'WAITING' ? v.position : 0))).toEqual(
      Array.from({ length: 1200 }, (_, i) => i + 1),
    );
  });
});

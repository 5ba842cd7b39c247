import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { QueueStore } from '../../src/queue/queue-store.js';
import { prequeueOf } from '../../src/sale/prequeue-of.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('pre-queue store');

const CONCERT = '5eed0000-0000-4000-8000-000000000001';
const user = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const IDLE_MS = 60_000;

/** The pre-queue primitives, the same on the in-process store and on Redis. */
describe.each(backends)('the pre-queue in the queue store on $name', (backend) => {
  let store: QueueStore & { dispose(): Promise<void> };
  const t0 = Date.parse('2026-11-21T10:00:00.000Z');
  /** The line's numbering starts at the first pre-queue join's clock in ms × 1000 (h3's layout). */
  const T = (n: number) => t0 * 1000 + n;

  beforeEach(async () => {
    store = await backend.openQueueStore(
      { activeTtlMs: 600_000, idleTimeoutMs: IDLE_MS },
      { maxActive: 100, admitPerSecond: 100, paused: false },
    );
  });
  afterEach(async () => {
    await store.dispose();
  });

  test('when users pre-queue, then they get tickets from the line’s sequence, no place, and idle or leaving users drop out', async () => {
    const pre = prequeueOf(store);
    expect(await pre.prequeueJoin(CONCERT, user(1), t0)).toEqual({ ticket: T(1), created: true });
    expect(await pre.prequeueJoin(CONCERT, user(2), t0)).toEqual({ ticket: T(2), created: true });
    expect(await pre.prequeueJoin(CONCERT, user(1), t0 + 1000)).toEqual({ ticket: T(1), created: false });
    expect(await pre.prequeueJoin(CONCERT, user(3), t0 + 1000)).toEqual({ ticket: T(3), created: true });
    expect(await pre.prequeueCount(CONCERT)).toBe(3);

    expect(await pre.prequeueView(CONCERT, T(1), t0 + 2000, true, user(1))).toBe('PREQUEUED');
    expect(await pre.prequeueView(CONCERT, T(1), t0 + 2000, true, user(2))).toBe('EXPIRED');
    expect(await pre.prequeueView(CONCERT, T(99), t0 + 2000, true)).toBe('EXPIRED');
    // User 2 was last seen at t0: silent for the idle timeout, it is dropped.
    expect(await pre.prequeueView(CONCERT, T(2), t0 + IDLE_MS, true, user(2))).toBe('EXPIRED');
    expect(await pre.prequeueLeave(CONCERT, T(3), user(1))).toBe('LEFT'); // not user 1's ticket: stays
    expect(await pre.prequeueCount(CONCERT)).toBe(2);
    expect(await pre.prequeueLeave(CONCERT, T(3), user(3))).toBe('LEFT');
    expect(await pre.prequeueCount(CONCERT)).toBe(1);
    // A user who went idle gets a new ticket when joining again.
    expect(await pre.prequeueJoin(CONCERT, user(2), t0 + IDLE_MS)).toEqual({ ticket: T(4), created: true });
  });

  test('when the pre-queue closes, then its list is frozen once, the drawn order goes into the line once, and later joiners come after it', async () => {
    const pre = prequeueOf(store);
    for (let i = 1; i <= 5; i++) await pre.prequeueJoin(CONCERT, user(i), t0);
    // The line already had a waiter before the sale was scheduled: it keeps its place.
    const early = await store.join(CONCERT, user(50), t0);
    expect(early.ticket).toBe(T(6));
    await store.view(CONCERT, T(6), t0 + 30_000, true, user(50));
    await pre.prequeueView(CONCERT, T(1), t0 + 30_000, true, user(1));
    await pre.prequeueView(CONCERT, T(2), t0 + 30_000, true, user(2));
    await pre.prequeueView(CONCERT, T(4), t0 + 30_000, true, user(4));

    // At t0 + 61 s, tickets 3 and 5 (silent since t0) are idle and stay out of the draw.
    const opening = t0 + IDLE_MS + 1000;
    const closed = await pre.closePrequeue(CONCERT, opening);
    expect(closed).toEqual({ state: 'CLOSED', base: T(6), tickets: [T(1), T(2), T(4)] });
    // Frozen: no joins, no leaves, the same list for every instance that asks.
    expect(await pre.prequeueJoin(CONCERT, user(9), opening)).toBeNull();
    expect(await pre.prequeueLeave(CONCERT, T(1), user(1))).toBe('CLOSED');
    expect(await pre.prequeueView(CONCERT, T(1), opening, true, user(1))).toBe('CLOSED');
    expect(await pre.prequeueCount(CONCERT)).toBe(0);
    expect(await prequeueOf(store).closePrequeue(CONCERT, opening + 5000)).toEqual(closed);

    await expect(pre.applyDraw(CONCERT, [T(4), T(1)], opening)).rejects.toThrow(/draw/);
    await expect(pre.applyDraw(CONCERT, [T(4), T(1), T(3)], opening)).rejects.toThrow(/draw/);
    expect(await pre.applyDraw(CONCERT, [T(4), T(1), T(2)], opening)).toBe(true);
    expect(await pre.applyDraw(CONCERT, [T(1), T(2), T(4)], opening)).toBe(false);
    expect(await pre.closePrequeue(CONCERT, opening)).toEqual({ state: 'OPEN', base: T(6), tickets: [] });

    // The r-th drawn user holds line ticket base + r, behind the earlier waiter.
    const position = async (ticket: number, owner: string) => {
      const view = await store.view(CONCERT, ticket, opening + 1000, true, owner);
      return view.state === 'WAITING' ? view.position : view.state;
    };
    expect(await position(T(6), user(50))).toBe(1);
    expect(await position(T(7), user(4))).toBe(2);
    expect(await position(T(8), user(1))).toBe(3);
    expect(await position(T(9), user(2))).toBe(4);
    const late = await store.join(CONCERT, user(60), opening + 1000);
    expect(late.ticket).toBe(T(10));
    expect(await position(T(10), user(60))).toBe(5);
    // Admission follows the line: the early waiter, then the draw, then the late joiner.
    // The line started at the first pre-queue join, so its settings come from their source first.
    await store.restoreSettings(CONCERT, { maxActive: 100, admitPerSecond: 100, paused: false });
    expect((await store.advance(CONCERT, opening + 2000)).admitted).toBe(5);
    for (const [ticket, owner] of [
      [6, 50],
      [7, 4],
      [8, 1],
      [9, 2],
      [10, 60],
    ] as const) {
      expect((await store.view(CONCERT, T(ticket), opening + 2000, false, user(owner))).state).toBe('ACTIVE');
    }
  });
});

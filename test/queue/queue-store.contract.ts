import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LinePicture } from '../../src/queue/line-picture.js';
import type { QueueSettings, QueueStore, QueueTimings, TicketView } from '../../src/queue/queue-store.js';
import type { StoreHarness } from './store-harness.js';

/**
 * One contract, every QueueStore: the in-process store is the reference, and the Redis store
 * must be indistinguishable from it through the interface. Time is a plain number handed to
 * each call, so nothing here sleeps.
 */

const T0 = 1_700_000_000_000;
const SECOND = 1_000;
const TIMINGS: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 60_000 };
const DEFAULTS: QueueSettings = { maxActive: 100, admitPerSecond: 100, paused: false };
const CONCERT = 'c0ffee00-0000-4000-8000-000000000001';
const OTHER_CONCERT = 'c0ffee00-0000-4000-8000-000000000002';

/**
 * The n-th ticket of a line first joined at T0: a line numbers from the clock in ms × 1000,
 * so that numbers are never reused after its store loses its data.
 */
function t(n: number, firstJoin = T0): number {
  return firstJoin * 1000 + n;
}

/** One admission step; how many it admitted. */
async function advance(store: QueueStore, now: number, concert = CONCERT): Promise<number> {
  return (await store.advance(concert, now)).admitted;
}

function userIds(count: number, tag = 'user'): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i + 1}`);
}

/** Joins one by one, so tickets follow the given order. */
async function joinInOrder(store: QueueStore, users: string[], now: number, concert = CONCERT) {
  const tickets: number[] = [];
  for (const user of users) tickets.push((await store.join(concert, user, now)).ticket);
  return tickets;
}

async function stateOf(store: QueueStore, ticket: number, now: number, concert = CONCERT) {
  return (await store.view(concert, ticket, now, false)).state;
}

function positionIn(view: TicketView): number {
  if (view.state !== 'WAITING') throw new Error(`expected WAITING, got ${view.state}`);
  return view.position;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing storm can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The contract, for one store implementation (see queue-store.contract.test.ts). */
export function queueStoreContract(harness: StoreHarness): void {
  describe.skipIf(harness.skip)('contract', () => {
    afterEach(() => harness.cleanup());
    afterAll(() => harness.close());

    /**
     * A case only a store shared by several instances can fail: the in-process store has no
     * server to ping and no second instance to race with (its "peer" is itself).
     */
    const itShared = (name: string, run: () => Promise<void>) => harness.shared && it(name, run);

    /**
     * A fresh store whose lines' settings are stored, as the admission ticker or the first
     * join restores them from their source; `bare` leaves them unset.
     */
    const setup = async (
      over: { timings?: Partial<QueueTimings>; defaults?: Partial<QueueSettings>; bare?: boolean } = {},
    ) => {
      const settings = { ...DEFAULTS, ...over.defaults };
      const created = harness.create({ ...TIMINGS, ...over.timings }, settings);
      if (!over.bare) {
        for (const concert of [CONCERT, OTHER_CONCERT])
          await created.store.restoreSettings(concert, settings);
      }
      return created;
    };

    describe('joining', () => {
      it('when users join one after another, then tickets are arrival numbers and positions count from 1', async () => {
        const { store } = await setup();
        const first = await store.join(CONCERT, 'alice', T0);
        const second = await store.join(CONCERT, 'bob', T0 + 1);
        expect(first).toEqual({
          ticket: t(1),
          created: true,
          started: true,
          view: {
            state: 'WAITING',
            position: 1,
            admissions: { count: 0, spanMs: 0 },
            settings: DEFAULTS,
          },
        });
        expect(second).toMatchObject({
          ticket: t(2),
          created: true,
          started: false,
          view: { state: 'WAITING', position: 2 },
        });
      });

      it('when many users join in one batch, then each gets what joining alone in that order gives, the same user twice the same ticket', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'zoe', T0);
        const batch = await store.joinMany(CONCERT, ['alice', 'bob', 'alice', 'zoe', 'carol'], T0 + 1);
        expect(batch.map((j) => [j.ticket, j.created, j.started])).toEqual([
          [t(2), true, false],
          [t(3), true, false],
          [t(2), false, false],
          [t(1), false, false],
          [t(4), true, false],
        ]);
        expect(batch.map((j) => (j.view.state === 'WAITING' ? j.view.position : null))).toEqual([
          2, 3, 2, 1, 4,
        ]);
        expect(await store.joinMany(CONCERT, [], T0 + 2)).toEqual([]);
        // A batch that starts a line reports it once, on its first join.
        const other = await store.joinMany(OTHER_CONCERT, ['alice', 'bob'], T0 + 3);
        expect(other.map((j) => j.started)).toEqual([true, false]);
        expect(await store.registeredLines()).toEqual(
          expect.arrayContaining([expect.objectContaining({ concertId: OTHER_CONCERT })]),
        );
      });

      it('when a waiting user joins again, then the same ticket comes back (created false) and counts as seen', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob'], T0);
        const again = await store.join(CONCERT, 'bob', T0 + 50 * SECOND);
        expect(again).toMatchObject({
          ticket: t(2),
          created: false,
          view: { state: 'WAITING', position: 2 },
        });
        // Last seen at T0 + 50 s, so still alive 59.999 s after that, while alice is not.
        expect(await stateOf(store, t(2), T0 + 109_999)).toBe('WAITING');
        expect(await stateOf(store, t(1), T0 + 109_999)).toBe('EXPIRED');
      });

      it('when an active user joins again, then the same ticket comes back ACTIVE (created false)', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'alice', T0);
        await advance(store, T0 + 10);
        const again = await store.join(CONCERT, 'alice', T0 + 20);
        expect(again).toEqual({
          ticket: t(1),
          created: false,
          started: false,
          view: { state: 'ACTIVE', activeUntil: T0 + 10 + TIMINGS.activeTtlMs },
        });
      });

      it('when a user who left joins again, then a new ticket is taken at the back', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob', 'carol'], T0);
        await store.leave(CONCERT, t(1), T0 + 1);
        const again = await store.join(CONCERT, 'alice', T0 + 2);
        expect(again).toMatchObject({ ticket: t(4), created: true, view: { state: 'WAITING', position: 3 } });
        expect(await stateOf(store, t(1), T0 + 3)).toBe('EXPIRED');
      });

      it('when a user whose active window lapsed joins again, then a new ticket is taken at the back', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'alice', T0);
        await advance(store, T0);
        await store.join(CONCERT, 'bob', T0 + TIMINGS.activeTtlMs - 1);
        const again = await store.join(CONCERT, 'alice', T0 + TIMINGS.activeTtlMs);
        expect(again).toMatchObject({ ticket: t(3), created: true, view: { state: 'WAITING', position: 2 } });
      });

      it('when a user whose waiting ticket went idle joins again, then a new ticket is taken at the back', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'alice', T0);
        await store.join(CONCERT, 'bob', T0 + 30 * SECOND);
        const again = await store.join(CONCERT, 'alice', T0 + TIMINGS.idleTimeoutMs);
        expect(again).toMatchObject({ ticket: t(3), created: true, view: { state: 'WAITING', position: 2 } });
      });

      it('when the same user joins two concerts, then each line issues its own ticket', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob'], T0, CONCERT);
        const other = await store.join(OTHER_CONCERT, 'bob', T0);
        expect(other).toMatchObject({ ticket: t(1), created: true, view: { state: 'WAITING', position: 1 } });
        expect(await advance(store, T0, OTHER_CONCERT)).toBe(1);
        expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 2, active: 0 });
        expect((await store.concertIds()).sort()).toEqual([CONCERT, OTHER_CONCERT].sort());
      });
    });

    describe('order and positions', () => {
      it('when the line advances, then tickets are admitted in ticket order, skipping those who left', async () => {
        const { store } = await setup({ defaults: { admitPerSecond: 2 } });
        await joinInOrder(store, userIds(6), T0);
        expect(await advance(store, T0)).toBe(2);
        await store.leave(CONCERT, t(3), T0 + 1);
        expect(await advance(store, T0 + SECOND)).toBe(2);
        const states = [];
        for (let ticket = 1; ticket <= 6; ticket++) states.push(await stateOf(store, t(ticket), T0 + SECOND));
        expect(states).toEqual(['ACTIVE', 'ACTIVE', 'EXPIRED', 'ACTIVE', 'ACTIVE', 'WAITING']);
        expect(positionIn(await store.view(CONCERT, t(6), T0 + SECOND, true))).toBe(1);
      });

      it('when others leave, are admitted or join behind, then a waiting position never grows', async () => {
        const { store } = await setup({ defaults: { admitPerSecond: 3 } });
        await joinInOrder(store, userIds(10), T0);
        const positions: number[] = [];
        const watch = async (now: number) =>
          positions.push(positionIn(await store.view(CONCERT, t(10), now, true)));

        await watch(T0);
        await store.leave(CONCERT, t(4), T0 + 1);
        await watch(T0 + 1);
        await joinInOrder(store, ['late-1', 'late-2'], T0 + 2);
        await watch(T0 + 2);
        await advance(store, T0 + 3);
        await watch(T0 + 3);
        await store.leave(CONCERT, t(9), T0 + 4);
        await watch(T0 + 4);
        await store.leave(CONCERT, t(2), T0 + 5); // an ACTIVE one: nobody waiting moves
        await watch(T0 + 5);
        await advance(store, T0 + 3 + SECOND);
        await watch(T0 + 3 + SECOND);

        expect(positions).toEqual([10, 9, 9, 6, 5, 5, 2]);
      });
    });

    describe('admission limits', () => {
      it('when the line advances again and again, then never more than maxActive are ACTIVE', async () => {
        const { store } = await setup({ defaults: { maxActive: 3 } });
        await joinInOrder(store, userIds(10), T0);
        expect(await advance(store, T0)).toBe(3);
        for (let step = 1; step <= 5; step++) expect(await advance(store, T0 + step * SECOND)).toBe(0);
        expect(await store.counts(CONCERT, T0 + 5 * SECOND)).toEqual({ waiting: 7, active: 3 });
      });

      it('when an active user leaves, then the next advance gives the slot to the next in line', async () => {
        const { store } = await setup({ defaults: { maxActive: 1 } });
        await joinInOrder(store, ['alice', 'bob'], T0);
        expect(await advance(store, T0)).toBe(1);
        expect(await advance(store, T0 + 10)).toBe(0);
        await store.leave(CONCERT, t(1), T0 + 20);
        expect(await stateOf(store, t(1), T0 + 20)).toBe('EXPIRED');
        expect(await advance(store, T0 + 30)).toBe(1);
        expect(await store.view(CONCERT, t(2), T0 + 30, true)).toEqual({
          state: 'ACTIVE',
          activeUntil: T0 + 30 + TIMINGS.activeTtlMs,
        });
      });

      it('when advancing repeatedly within one second, then admitPerSecond are admitted, and more once the second has passed', async () => {
        const { store } = await setup({ defaults: { admitPerSecond: 5 } });
        await joinInOrder(store, userIds(20), T0);
        expect(await advance(store, T0)).toBe(5);
        for (const offset of [1, 500, 999]) expect(await advance(store, T0 + offset)).toBe(0);
        expect(await advance(store, T0 + SECOND)).toBe(5);
        expect(await advance(store, T0 + 2 * SECOND - 1)).toBe(0);
        expect(await advance(store, T0 + 2 * SECOND)).toBe(5);
        expect(await store.counts(CONCERT, T0 + 2 * SECOND)).toEqual({ waiting: 5, active: 15 });
      });

      it('when admissions are spread over a second, then the rate window slides instead of resetting', async () => {
        const { store } = await setup({ defaults: { admitPerSecond: 5, maxActive: 2 } });
        await joinInOrder(store, userIds(20), T0);
        expect(await advance(store, T0)).toBe(2);
        await store.updateSettings(CONCERT, { maxActive: 100 });
        expect(await advance(store, T0 + 500)).toBe(3);
        expect(await advance(store, T0 + 999)).toBe(0);
        // The two from T0 have left the window; the three from T0 + 500 have not.
        expect(await advance(store, T0 + 1_000)).toBe(2);
        expect(await advance(store, T0 + 1_499)).toBe(0);
        expect(await advance(store, T0 + 1_500)).toBe(3);
      });
    });

    describe('expiry', () => {
      it('when the active window reaches activeUntil, then the ticket is EXPIRED with no advance having run', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'alice', T0);
        await advance(store, T0);
        const until = T0 + TIMINGS.activeTtlMs;
        expect(await store.view(CONCERT, t(1), until - 1, true)).toEqual({
          state: 'ACTIVE',
          activeUntil: until,
        });
        expect(await store.counts(CONCERT, until - 1)).toEqual({ waiting: 0, active: 1 });
        expect(await store.counts(CONCERT, until)).toEqual({ waiting: 0, active: 0 });
        expect(await store.view(CONCERT, t(1), until, true)).toEqual({ state: 'EXPIRED' });
        expect(await store.view(CONCERT, t(1), until + 1, true)).toEqual({ state: 'EXPIRED' });
      });

      it('when a lapsed active ticket is swept by advance, then its slot goes to the next in line', async () => {
        const { store } = await setup({ defaults: { maxActive: 1 }, timings: { idleTimeoutMs: 3_600_000 } });
        await joinInOrder(store, ['alice', 'bob'], T0);
        await advance(store, T0);
        expect(await advance(store, T0 + TIMINGS.activeTtlMs - 1)).toBe(0);
        expect(await advance(store, T0 + TIMINGS.activeTtlMs)).toBe(1);
        expect(await stateOf(store, t(1), T0 + TIMINGS.activeTtlMs)).toBe('EXPIRED');
        expect(await stateOf(store, t(2), T0 + TIMINGS.activeTtlMs)).toBe('ACTIVE');
      });

      it('when a waiting ticket is not seen for the idle timeout, then it is EXPIRED; a touch keeps it alive', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob'], T0);
        expect((await store.view(CONCERT, t(1), T0 + 40 * SECOND, true)).state).toBe('WAITING');
        // A view without touch is no sign of life: bob's last sign is still his join.
        expect(await stateOf(store, t(2), T0 + 59_999)).toBe('WAITING');
        expect(await stateOf(store, t(2), T0 + 60_000)).toBe('EXPIRED');
        expect(await stateOf(store, t(1), T0 + 99_999)).toBe('WAITING');
        expect(await stateOf(store, t(1), T0 + 100_000)).toBe('EXPIRED');
        expect(await store.counts(CONCERT, T0 + 100_000)).toEqual({ waiting: 0, active: 0 });
      });

      it('when advance runs, then idle waiting tickets are dropped and do not hold the line back', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob', 'carol'], T0);
        await store.view(CONCERT, t(2), T0 + 30 * SECOND, true);
        expect(await advance(store, T0 + TIMINGS.idleTimeoutMs)).toBe(1);
        expect(await store.counts(CONCERT, T0 + TIMINGS.idleTimeoutMs)).toEqual({ waiting: 0, active: 1 });
        expect(await stateOf(store, t(2), T0 + TIMINGS.idleTimeoutMs)).toBe('ACTIVE');
        expect(await stateOf(store, t(1), T0 + TIMINGS.idleTimeoutMs)).toBe('EXPIRED');
        expect(await stateOf(store, t(3), T0 + TIMINGS.idleTimeoutMs)).toBe('EXPIRED');
      });

      it('when advance runs while paused, then idle tickets are still dropped and positions close up', async () => {
        const { store } = await setup({ defaults: { paused: true } });
        await joinInOrder(store, ['alice', 'bob'], T0);
        await store.view(CONCERT, t(2), T0 + 30 * SECOND, true);
        expect(await advance(store, T0 + TIMINGS.idleTimeoutMs)).toBe(0);
        expect(await store.counts(CONCERT, T0 + TIMINGS.idleTimeoutMs)).toEqual({ waiting: 1, active: 0 });
        expect(positionIn(await store.view(CONCERT, t(2), T0 + TIMINGS.idleTimeoutMs, true))).toBe(1);
      });
    });

    describe('settings', () => {
      it('when settings were never set, then the defaults apply', async () => {
        const { store } = await setup();
        expect(await store.getSettings(CONCERT)).toEqual(DEFAULTS);
      });

      it('when settings are patched, then only the named fields change, and views carry them', async () => {
        const { store } = await setup();
        expect(await store.updateSettings(CONCERT, { maxActive: 7 })).toEqual({ ...DEFAULTS, maxActive: 7 });
        expect(await store.updateSettings(CONCERT, { admitPerSecond: 3 })).toEqual({
          ...DEFAULTS,
          maxActive: 7,
          admitPerSecond: 3,
        });
        expect(await store.updateSettings(CONCERT, {})).toEqual({
          ...DEFAULTS,
          maxActive: 7,
          admitPerSecond: 3,
        });
        expect(await store.getSettings(CONCERT)).toEqual({ ...DEFAULTS, maxActive: 7, admitPerSecond: 3 });
        expect(await store.getSettings(OTHER_CONCERT)).toEqual(DEFAULTS);
        const { view } = await store.join(CONCERT, 'alice', T0);
        expect(view).toMatchObject({ settings: { maxActive: 7, admitPerSecond: 3, paused: false } });
      });

      it('when the line is paused, then advance admits nobody; when resumed, admission restarts', async () => {
        const { store } = await setup();
        await joinInOrder(store, ['alice', 'bob'], T0);
        expect(await store.updateSettings(CONCERT, { paused: true })).toEqual({ ...DEFAULTS, paused: true });
        expect(await advance(store, T0 + 1)).toBe(0);
        expect(await store.view(CONCERT, t(1), T0 + 2, true)).toMatchObject({
          state: 'WAITING',
          position: 1,
          settings: { paused: true },
        });
        expect(await store.updateSettings(CONCERT, { paused: false })).toEqual(DEFAULTS);
        expect(await advance(store, T0 + 3)).toBe(2);
      });
    });

    describe('missing settings, lost data and the registry', () => {
      it('when a line has no stored settings, then advance admits nobody and says so; once restored, admission starts', async () => {
        const { store } = await setup({ bare: true });
        await store.join(CONCERT, 'alice', T0);
        expect(await store.advance(CONCERT, T0)).toEqual({
          admitted: 0,
          settingsMissing: true,
          live: true,
          lost: false,
        });
        // Restored as the source has them: a paused sale stays paused.
        await store.restoreSettings(CONCERT, { ...DEFAULTS, paused: true });
        expect(await store.advance(CONCERT, T0 + 1)).toMatchObject({ admitted: 0, settingsMissing: false });
        await store.updateSettings(CONCERT, { paused: false });
        expect(await store.advance(CONCERT, T0 + 2)).toMatchObject({ admitted: 1, live: true });
      });

      it('when an operator changed a setting before the restore, then the restore keeps the change', async () => {
        const { store } = await setup({ bare: true });
        await store.updateSettings(CONCERT, { paused: true });
        await store.join(CONCERT, 'alice', T0);
        expect(await store.advance(CONCERT, T0)).toMatchObject({ admitted: 0, settingsMissing: true });
        await store.restoreSettings(CONCERT, { ...DEFAULTS, maxActive: 9 });
        expect(await store.getSettings(CONCERT)).toEqual({ ...DEFAULTS, maxActive: 9, paused: true });
        expect(await store.advance(CONCERT, T0)).toMatchObject({ admitted: 0, settingsMissing: false });
      });

      it('when the store lost its data, then old tickets read EXPIRED and lost, and new ones are numbered above them', async () => {
        const before = await setup();
        const alice = await before.store.join(CONCERT, 'alice', T0);
        await before.store.join(CONCERT, 'bob', T0);
        // Another store over nothing: a restarted process, a Redis that came back empty.
        const { store } = await setup();
        expect(await store.view(CONCERT, alice.ticket, T0 + SECOND, true, 'alice')).toEqual({
          state: 'EXPIRED',
          lost: true,
        });
        expect(await store.advance(CONCERT, T0 + SECOND)).toMatchObject({ admitted: 0, lost: true });
        const mallory = await store.join(CONCERT, 'mallory', T0 + SECOND);
        expect(mallory).toMatchObject({ ticket: t(1, T0 + SECOND), created: true, started: true });
        expect(mallory.ticket).toBeGreaterThan(t(2));
        // Bob's old token names no ticket of the new line, even in his own name.
        expect(await store.view(CONCERT, t(2), T0 + SECOND, true, 'bob')).toEqual({
          state: 'EXPIRED',
          lost: true,
        });
        await store.leave(CONCERT, t(2), T0 + SECOND, 'bob');
        expect(await store.advance(CONCERT, T0 + SECOND)).toMatchObject({ admitted: 1, lost: false });
        expect((await store.view(CONCERT, mallory.ticket, T0 + SECOND, true)).state).toBe('ACTIVE');
      });

      it('when lines are joined, then the registry lists them with their latest join, and unregister spares a line joined since', async () => {
        const { store } = await setup();
        await store.join(CONCERT, 'alice', T0);
        await store.join(OTHER_CONCERT, 'carol', T0 + 3);
        const byId = (lines: { concertId: string }[]) =>
          [...lines].sort((a, b) => a.concertId.localeCompare(b.concertId));
        expect(byId(await store.registeredLines())).toEqual([
          { concertId: CONCERT, lastJoin: T0 },
          { concertId: OTHER_CONCERT, lastJoin: T0 + 3 },
        ]);
        // A join behind a waiter may leave the latest join where it was (Redis spares itself the
        // call): whoever is ahead already keeps the line stepped.
        await store.join(CONCERT, 'bob', T0 + 5);
        const latest = async () =>
          (await store.registeredLines()).find((l) => l.concertId === CONCERT)?.lastJoin;
        const seen = (await latest())!;
        expect(seen).toBeGreaterThanOrEqual(T0);
        await store.unregister(CONCERT, seen - 1);
        expect((await store.concertIds()).sort()).toEqual([CONCERT, OTHER_CONCERT].sort());
        await store.leave(CONCERT, t(1), T0 + 6);
        await store.leave(CONCERT, t(2), T0 + 6);
        await store.unregister(CONCERT, seen);
        expect(await store.concertIds()).toEqual([OTHER_CONCERT]);
        // Off the registry, the line keeps its numbering and its old tickets read EXPIRED, not lost.
        expect(await store.view(CONCERT, t(1), T0 + 6, true)).toEqual({ state: 'EXPIRED' });
        // A join into the empty line puts it back, its latest join moved.
        expect(await store.join(CONCERT, 'dave', T0 + 7)).toMatchObject({ ticket: t(3), started: false });
        expect(await latest()).toBe(T0 + 7);
        // Joined again at the same clock reading (or by a clock behind) once empty, it still moves.
        await store.leave(CONCERT, t(3), T0 + 7);
        await store.join(CONCERT, 'erin', T0 + 7);
        expect(await latest()).toBeGreaterThan(T0 + 7);
      });

      it('when everyone has left or lapsed, then advance reports the line not live', async () => {
        const { store } = await setup({ defaults: { maxActive: 1 } });
        await joinInOrder(store, ['alice', 'bob'], T0);
        expect(await store.advance(CONCERT, T0)).toMatchObject({ admitted: 1, live: true });
        await store.leave(CONCERT, t(2), T0 + 1);
        expect(await store.advance(CONCERT, T0 + 1)).toMatchObject({ admitted: 0, live: true });
        expect(await store.advance(CONCERT, T0 + TIMINGS.activeTtlMs)).toMatchObject({
          admitted: 0,
          live: false,
        });
      });
    });

    describe('reading', () => {
      it('when tickets wait and are active, then counts reports both, and nothing for an unknown concert', async () => {
        const { store } = await setup({ defaults: { maxActive: 2 } });
        expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 0, active: 0 });
        await joinInOrder(store, userIds(5), T0);
        await advance(store, T0);
        expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 3, active: 2 });
        await store.leave(CONCERT, t(4), T0 + 1);
        expect(await store.counts(CONCERT, T0 + 1)).toEqual({ waiting: 2, active: 2 });
      });

      it('when a ticket is read or left in the name of another user, then it reads EXPIRED and stays', async () => {
        // A token signed before the store lost its data names a ticket number that now
        // belongs to someone else: the owner check keeps it from acting on that ticket.
        const { store } = await setup({ defaults: { maxActive: 1 } });
        await store.join(CONCERT, 'alice', T0);
        await store.join(CONCERT, 'bob', T0);
        await advance(store, T0);
        expect(await store.view(CONCERT, t(1), T0, true, 'mallory')).toEqual({ state: 'EXPIRED' });
        expect(await store.view(CONCERT, t(2), T0, true, 'mallory')).toEqual({ state: 'EXPIRED' });
        await store.leave(CONCERT, t(1), T0, 'mallory');
        await store.leave(CONCERT, t(2), T0, 'mallory');
        expect((await store.view(CONCERT, t(1), T0, true, 'alice')).state).toBe('ACTIVE');
        expect((await store.view(CONCERT, t(2), T0, true, 'bob')).state).toBe('WAITING');
        await store.leave(CONCERT, t(1), T0, 'alice');
        expect(await store.view(CONCERT, t(1), T0, true, 'alice')).toEqual({ state: 'EXPIRED' });
      });

      it('when settings are patched with an explicit undefined, then the setting is kept', async () => {
        const { store } = await setup({ defaults: { maxActive: 2 } });
        await store.join(CONCERT, 'alice', T0);
        expect(await store.updateSettings(CONCERT, { maxActive: undefined, paused: false })).toMatchObject({
          maxActive: 2,
        });
        expect(await advance(store, T0)).toBe(1);
      });

      it('when a ticket or concert is unknown, then it reads EXPIRED and leaving or advancing it does nothing', async () => {
        const { store } = await setup();
        // A token cannot name a line that never issued a ticket: its store lost it.
        expect(await store.view(CONCERT, t(1), T0, true)).toEqual({ state: 'EXPIRED', lost: true });
        await store.join(CONCERT, 'alice', T0);
        expect(await store.view(CONCERT, t(42), T0, true)).toEqual({ state: 'EXPIRED' });
        await expect(store.leave(CONCERT, t(42), T0)).resolves.toBeUndefined();
        await expect(store.leave(OTHER_CONCERT, 1, T0)).resolves.toBeUndefined();
        expect(await advance(store, T0, OTHER_CONCERT)).toBe(0);
        expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 1, active: 0 });
      });

      it('when tickets were admitted, then a waiting view samples admissions over the last minute', async () => {
        const { store } = await setup({
          defaults: { admitPerSecond: 3 },
          timings: { idleTimeoutMs: 3_600_000 },
        });
        await joinInOrder(store, userIds(10), T0);
        await advance(store, T0);
        await advance(store, T0 + 2 * SECOND);
        const admissionsAt = async (now: number) => {
          const view = await store.view(CONCERT, t(10), now, true);
          return view.state === 'WAITING' ? view.admissions : view;
        };
        expect(await admissionsAt(T0 + 5 * SECOND)).toEqual({ count: 6, spanMs: 5_000 });
        // An admission exactly one window old has left the sample.
        expect(await admissionsAt(T0 + 60 * SECOND)).toEqual({ count: 3, spanMs: 58_000 });
        expect(await admissionsAt(T0 + 62 * SECOND)).toEqual({ count: 0, spanMs: 0 });
      });

      itShared('when the store is reachable, then ping resolves', async () => {
        const { store } = await setup();
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('concurrency', () => {
      itShared(
        'when 500 users join at once through two instances, then they get distinct tickets 1..500',
        async () => {
          const { store, peer } = await setup();
          const results = await Promise.all(
            userIds(500).map((user, i) => (i % 2 === 0 ? store : peer).join(CONCERT, user, T0 + i)),
          );
          // Numbered from whichever join reached the store first.
          const first = Math.min(...results.map((r) => r.ticket));
          expect(results.map((r) => r.ticket).sort((a, b) => a - b)).toEqual(
            Array.from({ length: 500 }, (_, i) => first + i),
          );
          expect(results.every((r) => r.created)).toBe(true);
          expect(results.filter((r) => r.started)).toHaveLength(1);
          // Nobody left, so everyone ahead of a ticket is still there.
          expect(results.every((r) => positionIn(r.view) === r.ticket - first + 1)).toBe(true);
          expect(await store.counts(CONCERT, T0 + 500)).toEqual({ waiting: 500, active: 0 });
        },
      );

      it('when one user joins 50 times at once, then there is one ticket, created once', async () => {
        const { store, peer } = await setup();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? store : peer).join(CONCERT, 'alice', T0 + i)),
        );
        expect(new Set(results.map((r) => r.ticket)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await store.counts(CONCERT, T0 + 50)).toEqual({ waiting: 1, active: 0 });
      });

      itShared(
        'when two instances advance, join and leave concurrently, then no limit is overshot and admission follows ticket order',
        async () => {
          const maxActive = 20;
          const admitPerSecond = 15;
          const { store, peer } = await setup({
            defaults: { maxActive, admitPerSecond },
            // Nothing lapses or idles during the storm, so every admission stays visible.
            timings: { activeTtlMs: 3_600_000, idleTimeoutMs: 3_600_000 },
          });
          const next = random(20_261_121);
          const OPERATIONS = 900;
          const STEP_MS = 5;
          const advances: Promise<{ now: number; admitted: number }>[] = [];
          const joins: Promise<number>[] = [];
          const activeSeen: Promise<number>[] = [];
          const leaves: Promise<void>[] = [];
          // The line's first ticket, taken before the storm so that its numbering is known.
          joins.push(store.join(CONCERT, 'opener', T0).then((r) => r.ticket));
          await joins[0];
          for (let i = 0; i < OPERATIONS; i++) {
            const instance = i % 2 === 0 ? store : peer;
            const now = T0 + i * STEP_MS;
            const roll = next();
            if (roll < 0.4) {
              joins.push(instance.join(CONCERT, `user-${i}`, now).then((r) => r.ticket));
            } else if (roll < 0.75) {
              advances.push(advance(instance, now).then((admitted) => ({ now, admitted })));
            } else if (roll < 0.9) {
              // Any ticket issued so far, waiting or active (or already gone: then a no-op).
              const ticket = t(1 + Math.floor(next() * joins.length));
              leaves.push(instance.leave(CONCERT, ticket, now));
            } else {
              activeSeen.push(instance.counts(CONCERT, now).then((c) => c.active));
            }
          }
          const [steps, tickets, actives] = await Promise.all([
            Promise.all(advances),
            Promise.all(joins),
            Promise.all(activeSeen),
            Promise.all(leaves),
          ]);
          const end = T0 + OPERATIONS * STEP_MS;

          expect(new Set(tickets).size).toBe(tickets.length);
          expect(Math.max(...actives)).toBeLessThanOrEqual(maxActive);

          // Every admission happened at its step's `now`; check every 1 s window ending at one.
          const admissions = steps.filter((s) => s.admitted > 0).sort((a, b) => a.now - b.now);
          for (const { now } of admissions) {
            const inWindow = admissions
              .filter((s) => s.now > now - SECOND && s.now <= now)
              .reduce((sum, s) => sum + s.admitted, 0);
            expect(inWindow, `admissions in the second up to ${now - T0} ms`).toBeLessThanOrEqual(
              admitPerSecond,
            );
          }
          const totalAdmitted = steps.reduce((sum, s) => sum + s.admitted, 0);
          expect(totalAdmitted).toBeGreaterThan(maxActive); // leaves freed slots: the limits were exercised

          // No ticket was admitted twice, nor by two instances: the store's own log of admissions
          // (what a waiting view samples) matches what the advance calls reported.
          const sentinel = await store.join(CONCERT, 'sentinel', end);
          expect(sentinel.view).toMatchObject({ state: 'WAITING', admissions: { count: totalAdmitted } });

          // First come, first admitted: nobody still waiting is ahead of anyone admitted.
          const byState: Record<string, number[]> = { WAITING: [], ACTIVE: [], EXPIRED: [] };
          for (const ticket of tickets) byState[await stateOf(store, ticket, end)]!.push(ticket);
          const active = byState.ACTIVE!;
          const waiting = byState.WAITING!;
          expect(active.length).toBeLessThanOrEqual(maxActive);
          expect(active.length).toBeGreaterThan(0);
          expect(waiting.length).toBeGreaterThan(0);
          expect(Math.max(...active)).toBeLessThan(Math.min(...waiting));
          expect(await store.counts(CONCERT, end)).toEqual({
            waiting: waiting.length + 1,
            active: active.length,
          });
        },
      );
    });
    describe('the picture of the line', () => {
      type Op =
        | { kind: 'join'; users: number[] }
        | { kind: 'leave'; pick: number }
        | { kind: 'admit'; n: number }
        | { kind: 'idle'; keep: number[] };
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            kind: fc.constant('join' as const),
            users: fc.array(fc.nat(120), { minLength: 1, maxLength: 12 }),
          }),
        },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('admit' as const), n: fc.integer({ min: 1, max: 12 }) }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('idle' as const),
            keep: fc.array(fc.nat(), { maxLength: 40 }),
          }),
        },
      );
      let run = 0;

      it('when users join, leave, go idle and are admitted at random, then positions from the picture (fresh or refreshed, on another instance) are the rank-based ones', async () => {
        const { store, peer } = await setup();
        const idle = TIMINGS.idleTimeoutMs;
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
            run++;
            const concert = `c0ffee00-0000-4000-9000-${String(run).padStart(12, '0')}`;
            await store.restoreSettings(concert, { ...DEFAULTS, paused: true });
            let now = T0;
            /** WAITING tickets in line order, as the store's answers say; every ticket ever issued. */
            let waiting: number[] = [];
            const issued: number[] = [];
            let copy: LinePicture | undefined;
            const check = async () => {
              const fresh = await peer.picture(concert, now);
              copy = await peer.picture(concert, now, copy);
              for (const ticket of issued) {
                // A status read with touch: nobody goes idle between the steps that mean it.
                const view = await store.view(concert, ticket, now, true);
                const rank = view.state === 'WAITING' ? view.position : undefined;
                const model = waiting.indexOf(ticket);
                expect(rank).toBe(model < 0 ? undefined : model + 1);
                expect(fresh?.position(ticket)).toBe(rank);
                expect(copy?.position(ticket)).toBe(rank);
                if (view.state === 'WAITING') expect(fresh?.view(ticket, now)).toEqual(view);
              }
            };
            for (const step of ops) {
              now += 1;
              if (step.kind === 'join') {
                // One batch, as the joins of one turn of an instance's event loop arrive.
                const users = step.users.map((u) => `user-${u}`);
                for (const joined of await store.joinMany(concert, users, now)) {
                  if (joined.created && !issued.includes(joined.ticket)) {
                    issued.push(joined.ticket);
                    waiting.push(joined.ticket);
                  }
                }
              } else if (step.kind === 'leave' && issued.length > 0) {
                const ticket = issued[step.pick % issued.length]!;
                await store.leave(concert, ticket, now);
                waiting = waiting.filter((w) => w !== ticket);
              } else if (step.kind === 'admit') {
                await store.updateSettings(concert, { paused: false, admitPerSecond: step.n });
                now += SECOND + 1;
                const admitted = await advance(store, now, concert);
                await store.updateSettings(concert, { paused: true });
                waiting = waiting.slice(admitted);
              } else if (step.kind === 'idle') {
                // Those kept show a sign of life half-way; the others go silent past the timeout
                // and the next admission step (paused: it only sweeps) drops them.
                now += Math.ceil(idle * 0.6);
                const kept = new Set(step.keep.map((i) => waiting[i % Math.max(1, waiting.length)]));
                for (const ticket of kept)
                  if (ticket !== undefined) await store.view(concert, ticket, now, true);
                now += Math.ceil(idle * 0.6);
                await advance(store, now, concert);
                waiting = waiting.filter((w) => kept.has(w));
              }
              await check();
            }
          }),
          { numRuns: 40 },
        );
      });
    });
  });
}

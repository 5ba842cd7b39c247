import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdmissionTicker } from '../../src/queue/admission-ticker.js';
import type { QueueSettings, QueueStore, QueueTimings } from '../../src/queue/queue-store.js';
import type { Clock } from '../../src/shared/clock.js';
import { redisTarget, shouldSkipRedis } from './redis-target.js';
import { memoryHarness, redisHarness } from './store-harness.js';

/**
 * The ticker over the real stores: which lines it steps, when it lets them go, and where a
 * line's missing settings come from.
 */

const target = await redisTarget();
const harnesses = [memoryHarness(), redisHarness(target, shouldSkipRedis(target, 'admission ticker'))];

const T0 = 1_700_000_000_000;
const TIMINGS: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 3_600_000 };
const DEFAULTS: QueueSettings = { maxActive: 100, admitPerSecond: 1000, paused: false };
const PRUNE_AFTER_MS = 5_000;
const quiet = { error: () => {}, warn: () => {} } as never;

function concert(i: number): string {
  return `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

class TestClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** The real store, with the lines each advance call named written down. */
function counting(store: QueueStore): { store: QueueStore; advanced: string[] } {
  const advanced: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'advance') {
        return (concertId: string, now: number) => {
          advanced.push(concertId);
          return target.advance(concertId, now);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, advanced };
}

describe.each(harnesses.map((h) => [h.name, h] as const))(
  'admission ticker over the %s store',
  (_name, harness) => {
    describe.skipIf(harness.skip)('ticks', () => {
      afterEach(() => harness.cleanup());
      afterAll(() => harness.close());

      it('when 1,000 finished lines are registered, then a tick steps only the live line, and the finished ones are let go', async () => {
        const { store: real } = harness.create(TIMINGS, DEFAULTS);
        const { store, advanced } = counting(real);
        const clock = new TestClock(T0);
        const ticker = new AdmissionTicker(store, clock, quiet, async () => DEFAULTS, {}, PRUNE_AFTER_MS);
        // 1,000 concerts whose only buyer has left, and one with a line.
        await Promise.all(
          Array.from({ length: 1000 }, async (_, i) => {
            const { ticket } = await real.join(concert(i), `gone-${i}`, T0);
            await real.leave(concert(i), ticket, T0);
          }),
        );
        const live = concert(5000);
        await real.restoreSettings(live, { ...DEFAULTS, admitPerSecond: 1 });
        for (const user of ['alice', 'bob', 'carol']) await real.join(live, user, T0);

        await ticker.tick(); // first sight of every line (and their settings restored)
        expect(new Set(advanced).size).toBe(1001);
        advanced.length = 0;
        clock.advance(1000);
        await ticker.tick();
        expect(advanced).toEqual([live]);
        expect(await real.counts(live, clock.now())).toEqual({ waiting: 1, active: 2 });

        // A finished line joined again is stepped again.
        await real.join(concert(7), 'back', clock.now());
        advanced.length = 0;
        await ticker.tick();
        expect(advanced.sort()).toEqual([concert(7), live].sort());

        clock.advance(PRUNE_AFTER_MS);
        await ticker.tick();
        expect((await real.concertIds()).sort()).toEqual([concert(7), live].sort());
      });

      it('when a line the ticker saw empty is joined again by a clock a little behind, with more behind that join, then the ticker steps it and lets them in', async () => {
        const { store: real } = harness.create(TIMINGS, DEFAULTS);
        const { store, advanced } = counting(real);
        const clock = new TestClock(T0);
        const ticker = new AdmissionTicker(store, clock, quiet, async () => DEFAULTS, {}, PRUNE_AFTER_MS);
        const line = concert(3);
        const { ticket } = await real.join(line, 'alice', T0);
        await real.leave(line, ticket, T0);
        await ticker.tick();
        await ticker.tick(); // seen empty: not stepped until joined again
        advanced.length = 0;
        await ticker.tick();
        expect(advanced).toEqual([]);

        // Another instance's clock is 5 ms behind; only the first of these joins finds nobody
        // ahead, so only it marks the line joined.
        for (const user of ['bob', 'carol', 'dave']) await real.join(line, user, T0 - 5);
        await ticker.tick();
        expect(advanced).toEqual([line]);
        expect(await real.counts(line, clock.now())).toEqual({ waiting: 0, active: 3 });
      });

      it('when a line has no stored settings, then the ticker restores them from the source, so a paused sale stays paused', async () => {
        const { store } = harness.create(TIMINGS, DEFAULTS);
        const clock = new TestClock(T0);
        let source: QueueSettings = { ...DEFAULTS, paused: true };
        const ticker = new AdmissionTicker(store, clock, quiet, async () => source);
        const line = concert(1);
        await store.join(line, 'alice', T0);
        await ticker.tick();
        expect(await store.getSettings(line)).toEqual({ ...DEFAULTS, paused: true });
        expect(await store.counts(line, T0)).toEqual({ waiting: 1, active: 0 });
        // The stored settings now rule; the source is asked only when they are missing.
        source = DEFAULTS;
        await ticker.tick();
        expect(await store.counts(line, T0)).toEqual({ waiting: 1, active: 0 });
        await store.updateSettings(line, { paused: false });
        await ticker.tick();
        expect(await store.counts(line, T0)).toEqual({ waiting: 0, active: 1 });
      });
    });
  },
);

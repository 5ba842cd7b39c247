import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConcertsService } from '../../src/concerts/concerts.service.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import type { Database } from '../../src/db/client.js';
import { saleSamples } from '../../src/db/schema.js';
import { SAMPLE_PERIOD_MS, SaleSampler } from '../../src/ops/sale-sampler.js';
import { saleSnapshot } from '../../src/ops/sale-snapshot.js';
import { SaleSchedule } from '../../src/sale/sale-schedule.js';
import { ManualClock } from '../../src/shared/clock.js';
import { startApp, testConfig } from '../helpers/app.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('sale sampler');

const ADMIN_KEY = 'sampler-admin-key';

describe.each(backends)('live sale samples on $name', (backend) => {
  // Opened once for the file, outside the test's own time limit (slow on a loaded machine).
  let database: Database;
  beforeAll(async () => {
    database = await backend.openDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  test('when several instances sample at once, then one row per period lands, admissions from every instance add up, the rate is exact, and old samples go', async () => {
    const clock = new ManualClock(Date.parse('2026-11-21T10:00:00.000Z'));
    const defaults = { maxActive: 10, admitPerSecond: 10, paused: false };
    const store = await backend.openQueueStore({ activeTtlMs: 600_000, idleTimeoutMs: 3_600_000 }, defaults);
    const app = await startApp({ config: testConfig({ ADMIN_KEY }), database, queueStore: store, clock });
    try {
      const headers = { 'admin-key': ADMIN_KEY };
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/concerts',
        headers,
        payload: {
          title: 'Live',
          venue: 'Hall',
          dates: [{ date: addDays(todayUtc(clock.now()), 30), price: 1 }],
        },
      });
      const { concertId } = created.json();
      for (let i = 0; i < 5; i++)
        await store.join(concertId, `00000000-0000-4000-8000-00000000000${i}`, clock.now());
      // A line started by a join admits nobody until its settings are restored (QueueService does it).
      await store.restoreSettings(concertId, defaults);
      clock.advance(1000);
      expect((await store.advance(concertId, clock.now())).admitted).toBe(5);

      const schedule = new SaleSchedule(database.db, defaults);
      const concerts = new ConcertsService(database.db);
      const instances = Array.from(
        { length: 6 },
        () =>
          new SaleSampler(
            database.db,
            (now) => saleSnapshot(store, concerts, schedule, now),
            () => clock.now(),
          ),
      );
      const [a, b] = instances as [SaleSampler, SaleSampler];

      // Which instance samples when is the test's choice, so every count is exact. Period 0: a
      // admitted 2 and samples first (it flushes, then wins the claim); b admitted 3 and samples
      // after a's row is written, so its 3 reach the next period's sample, not this one.
      a.admitted(concertId, 2);
      b.admitted(concertId, 3);
      clock.set(Math.ceil(clock.now() / SAMPLE_PERIOD_MS) * SAMPLE_PERIOD_MS);
      expect(await a.sample(clock.now())).toBe(true);
      expect(await b.sample(clock.now())).toBe(false);

      // Period 1: all six race for the claim; exactly one wins. Nothing is left unflushed, so the
      // row holds the same 5 whichever wins (the race decides only who writes it).
      clock.advance(SAMPLE_PERIOD_MS);
      const raced = await Promise.all(instances.map((s) => s.sample(clock.now())));
      expect(raced.filter(Boolean)).toHaveLength(1);

      // Period 2: b admitted 10 more and samples first: it flushes, then wins; then the six race
      // and all lose.
      b.admitted(concertId, 10);
      clock.advance(SAMPLE_PERIOD_MS);
      expect(await b.sample(clock.now())).toBe(true);
      expect(await Promise.all(instances.map((s) => s.sample(clock.now())))).toEqual(
        instances.map(() => false),
      );

      const read = async () =>
        (await app.inject({ url: `/api/v1/admin/concerts/${concertId}/samples`, headers })).json();
      const charts = await read();
      expect(charts.periodSeconds).toBe(SAMPLE_PERIOD_MS / 1000);
      expect(charts.samples).toHaveLength(3);
      expect(charts.samples[2]).toMatchObject({ waiting: 0, active: 5, sold: 0, revenue: 0 });
      // Every instance's admissions add up (2, then 2 + 3, then 2 + 3 + 10), and the rate is the
      // difference per second of the period.
      const totals = await database.db
        .select({ admitted: saleSamples.admitted })
        .from(saleSamples)
        .where(eq(saleSamples.concertId, concertId))
        .orderBy(saleSamples.at);
      expect(totals.map((t) => t.admitted)).toEqual([2, 5, 15]);
      expect(charts.samples.map((p: { admittedPerSecond: number }) => p.admittedPerSecond)).toEqual([
        0,
        3 / 5,
        10 / 5,
      ]);
      expect((await app.inject({ url: `/api/v1/admin/concerts/${concertId}/samples` })).statusCode).toBe(401);

      // Half an hour on: the old samples are gone, the new one stays.
      clock.advance(31 * 60_000);
      expect(await a.sample(clock.now())).toBe(true);
      expect((await read()).samples).toHaveLength(1);
    } finally {
      await app.close();
      await store.dispose();
    }
  });
});

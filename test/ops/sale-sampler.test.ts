import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConcertsService } from '../../src/concerts/concerts.service.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { SaleSchedule } from '../../src/concerts/sale-schedule.js';
import { loadConfig } from '../../src/config.js';
import { saleSamples } from '../../src/db/schema.js';
import { SAMPLE_PERIOD_MS, SaleSampler } from '../../src/ops/sale-sampler.js';
import { saleSnapshot } from '../../src/ops/sale-snapshot.js';
import { ManualClock } from '../../src/shared/clock.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('sale sampler');

const ADMIN_KEY = 'sampler-admin-key';

describe.each(backends)('live sale samples on $name', (backend) => {
  test('when several instances sample at once, then one row per period lands, admissions from every instance add up, and old samples go', async () => {
    const database = await backend.openDatabase();
    const clock = new ManualClock(Date.parse('2026-11-21T10:00:00.000Z'));
    const defaults = { maxActive: 10, admitPerSecond: 10, paused: false };
    const store = await backend.openQueueStore({ activeTtlMs: 600_000, idleTimeoutMs: 3_600_000 }, defaults);
    const config = loadConfig({ DATA_DIR: 'memory', ADMIN_KEY, RATE_LIMIT_PER_MINUTE: '0' });
    const app = await buildApp({
      config,
      database,
      queueStore: store,
      secret: randomBytes(32),
      clock,
      backgroundJobs: false,
      webRoot: null,
    });
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

      // Instance a admitted 2, b admitted 3; six instances race for the first period.
      a.admitted(concertId, 2);
      b.admitted(concertId, 3);
      clock.set(Math.ceil(clock.now() / SAMPLE_PERIOD_MS) * SAMPLE_PERIOD_MS);
      const first = await Promise.all(instances.map((s) => s.sample(clock.now())));
      expect(first.filter(Boolean)).toHaveLength(1);

      // The next period: 10 more through b.
      b.admitted(concertId, 10);
      clock.advance(SAMPLE_PERIOD_MS);
      // An instance's admissions reach the sample of the period it flushes them in, or the next
      // one when another instance sampled first: here b flushes (and samples) before the rest race.
      const second = [
        await b.sample(clock.now()),
        ...(await Promise.all(instances.map((s) => s.sample(clock.now())))),
      ];
      expect(second.filter(Boolean)).toHaveLength(1);

      const read = async () =>
        (await app.inject({ url: `/api/v1/admin/concerts/${concertId}/samples`, headers })).json();
      const charts = await read();
      expect(charts.periodSeconds).toBe(SAMPLE_PERIOD_MS / 1000);
      expect(charts.samples).toHaveLength(2);
      expect(charts.samples[1]).toMatchObject({ waiting: 0, active: 5, sold: 0, revenue: 0 });
      // Every instance's admissions add up: 2 + 3 + 10 by the second sample. How many of the first
      // period's 5 its sample holds depends on which instance won that race and whether a and b
      // had flushed by then; the second period's rate is whatever the first left over.
      const totals = await database.db
        .select({ admitted: saleSamples.admitted })
        .from(saleSamples)
        .where(eq(saleSamples.concertId, concertId))
        .orderBy(saleSamples.at);
      expect(totals[1]!.admitted).toBe(15);
      expect(charts.samples[1].admittedPerSecond).toBe(
        (15 - totals[0]!.admitted) / (SAMPLE_PERIOD_MS / 1000),
      );
      expect((await app.inject({ url: `/api/v1/admin/concerts/${concertId}/samples` })).statusCode).toBe(401);

      // Half an hour on: the old samples are gone, the new one stays.
      clock.advance(31 * 60_000);
      expect(await a.sample(clock.now())).toBe(true);
      expect((await read()).samples).toHaveLength(1);
    } finally {
      await app.close();
      await store.dispose();
      await database.close();
    }
  });
});

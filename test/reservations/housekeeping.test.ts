import { sql } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { ConcertsService } from '../../src/concerts/concerts.service.js';
import { noSeatChanges } from '../../src/concerts/seat-changes.js';
import { rowsOf } from '../../src/db/client.js';
import { IDEMPOTENCY_RETENTION_MS } from '../../src/db/idempotency.js';
import { IdempotencyPurge } from '../../src/db/idempotency-purge.js';
import { HoldSweeper } from '../../src/reservations/hold-sweeper.js';
import { ReservationsService } from '../../src/reservations/reservations.service.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { type TestContext, useService } from '../helpers/context.js';

announceSkips('housekeeping');

const silent = { warn: () => {} } as never;

async function statuses(s: TestContext): Promise<Record<string, number>> {
  const rows = rowsOf<{ status: string; n: number }>(
    await s.database.db.execute(sql`SELECT status, count(*)::int AS n FROM reservations GROUP BY status`),
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe.each(backends)('housekeeping on $name', (backend) => {
  const service = useService(backend, { env: { MAX_HOLDS_PER_USER: '50' } });

  test('when many holds have lapsed, then the sweeper rewrites them in bounded batches, the rest on later periods', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ seats: 30 });
    const buyer = await s.activeBuyer(concertId);
    for (let seat = 1; seat <= 25; seat++)
      expect((await s.hold(buyer, concertId, dates[0]!, seat)).status).toBe(201);
    s.clock.advance(s.config.holdTtlMs);
    // Still live: a hold taken now must not be swept.
    const live = await s.activeBuyer(concertId);
    expect((await s.hold(live, concertId, dates[0]!, 30)).status).toBe(201);

    const db = s.database.db;
    const reservations = new ReservationsService(
      db,
      new ConcertsService(db),
      { holdTtlMs: s.config.holdTtlMs, maxHoldsPerUser: 50 },
      noSeatChanges,
    );
    const sweeper = new HoldSweeper(reservations, s.clock, silent, {
      periodMs: 1000,
      batch: 10,
      maxBatches: 2,
    });
    expect(await sweeper.sweep()).toBe(20);
    expect(await statuses(s)).toEqual({ EXPIRED: 20, HELD: 6 });
    expect(await sweeper.sweep()).toBe(5);
    expect(await sweeper.sweep()).toBe(0);
    expect(await statuses(s)).toEqual({ EXPIRED: 25, HELD: 1 });
  });

  test('when many keys are past retention, then the purge deletes them in bounded batches and stays due until none is left', async () => {
    const s = service();
    const user = await s.newUser();
    for (let i = 0; i < 8; i++) expect((await s.charge(user, 1, `old-${i}`)).status).toBe(200);
    s.clock.advance(IDEMPOTENCY_RETENTION_MS + 1);
    expect((await s.charge(user, 1, 'fresh')).status).toBe(200);
    const keys = async () =>
      rowsOf<{ key: string }>(
        await s.database.db.execute(sql`SELECT key FROM idempotency_keys ORDER BY key`),
      ).map((r) => r.key);

    const settings = { periodMs: 1000, everyMs: 60_000, batch: 3, maxBatches: 2 };
    const purge = new IdempotencyPurge(s.database.db, s.clock, silent, settings);
    expect(await purge.purge()).toBe(6);
    // Not finished: the next period carries on at once rather than an hour later.
    expect(await purge.purge()).toBe(2);
    expect(await keys()).toEqual(['fresh']);
    // Done: nothing runs until the next purge is due.
    expect(await purge.purge()).toBe(0);
    // A retry of a purged key runs as a new request.
    expect((await s.charge(user, 1, 'old-0')).status).toBe(200);
    expect((await s.call('GET', '/api/v1/balance', { user })).body.balance).toBe(10);
  });
});

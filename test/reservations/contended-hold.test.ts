import { and, count, eq, sql } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { reservations } from '../../src/db/schema.js';
import { backends, skipWithout } from '../helpers/backends.js';
import { useService } from '../helpers/context.js';

// Two transactions at once need a server: the embedded engine has one connection.
const server = backends.find((b) => b.kind === 'servers');
skipWithout('contended hold', ['database', 'redis'], 'two transactions at once');

describe.skipIf(!server)('a seat being taken on the PostgreSQL server', () => {
  const service = useService(server ?? backends[0]!);

  test('when another transaction is taking the seat right now, then a hold is refused at once instead of waiting for it', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId);
    const db = s.database.db;

    // A winner mid-transaction: its seat row is locked and stays locked until it ends.
    const whileLocked = await db.transaction(async (tx) => {
      await tx.execute(sql`
        SELECT 1 FROM seats WHERE seat_number = 9
          AND show_id = (SELECT id FROM shows WHERE concert_id = ${concertId}) FOR UPDATE`);
      const started = Date.now();
      const refused = await s.hold(buyer, concertId, dates[0]!, 9);
      return { refused, ms: Date.now() - started };
    });
    // Waiting would have ended at the statement timeout (5 s) with a 503, not a refusal.
    expect(whileLocked.refused.status).toBe(409);
    expect(whileLocked.refused.body.code).toBe('SEAT_UNAVAILABLE');
    expect(whileLocked.ms).toBeLessThan(2000);

    // The other transaction wrote nothing: the seat is free again and the next hold wins it.
    expect((await s.hold(buyer, concertId, dates[0]!, 9)).status).toBe(201);
  });

  test('when 200 buyers press one seat at once, then one holds it and 199 are told it is taken; a buyer at their limit does not keep the seat from the others', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyers = [];
    for (let i = 0; i < 200; i++) buyers.push(await s.activeBuyer(concertId));
    const answers = await Promise.all(buyers.map((b) => s.hold(b, concertId, dates[0]!, 7)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(199);
    expect(new Set(refused.map((a) => a.body.code))).toEqual(new Set(['SEAT_UNAVAILABLE']));
    const held = await s.database.db
      .select({ n: count() })
      .from(reservations)
      .where(and(eq(reservations.concertId, concertId), eq(reservations.seatNumber, 7)));
    expect(held).toEqual([{ n: 1 }]);

    // A buyer at the hold limit tries first; the seat still goes to the next buyer. Both are
    // chosen among the refused: the winner already holds seat 7, one hold nearer its limit.
    const [full, other] = buyers.filter((_, i) => answers[i]!.status === 409);
    if (!full || !other) throw new Error('expected refused buyers');
    for (let seat = 20; seat < 20 + s.config.maxHoldsPerUser; seat++)
      expect((await s.hold(full, concertId, dates[0]!, seat)).status).toBe(201);
    const [limited, next] = await Promise.all([
      s.hold(full, concertId, dates[0]!, 8),
      s.hold(other, concertId, dates[0]!, 8),
    ]);
    expect(limited.body.code).toBe('HOLD_LIMIT_REACHED');
    expect(next.status).toBe(201);
  });
});

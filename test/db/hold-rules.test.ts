import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('hold rules');

/**
 * The hold rules of src/reservations/hold-rules.sql at the instant a hold ends, on each
 * database: a hold is live strictly before its expiry and over at it, in the same microsecond
 * for every rule, so a seat is never free while its reservation still reads HELD (nor held
 * while it reads EXPIRED). These functions are the one statement of the rule (the TypeScript
 * twin and its unit test are gone; test/unit/one-rule.test.ts proves nothing else spells it).
 */

const EXPIRY = '2026-12-01T12:05:00.000Z';
const at = (offsetMicros: number) =>
  sql`(${EXPIRY}::timestamptz + make_interval(secs => ${offsetMicros / 1_000_000}))`;

describe.each(backends)('hold rules on $name', (backend) => {
  let database: Database;
  // Opening (and migrating) a database is the slow part; room for a busy CI machine.
  beforeAll(async () => {
    database = await backend.openDatabase();
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });

  async function rules(status: string, expires: string | null, offsetMicros: number, sold = false) {
    const [row] = rowsOf<{ live: boolean; lapsed: boolean; status: string; free: boolean }>(
      await database.db.execute(sql`
        SELECT hold_is_live(${status}, ${expires}::timestamptz, ${at(offsetMicros)}) AS live,
               hold_has_lapsed(${status}, ${expires}::timestamptz, ${at(offsetMicros)}) AS lapsed,
               reservation_status(${status}, ${expires}::timestamptz, ${at(offsetMicros)}) AS status,
               seat_is_free(${sold}, ${expires}::timestamptz, ${at(offsetMicros)}) AS free`),
    );
    return row!;
  }

  test('when a HELD hold is read a microsecond before its expiry, then it is live and its seat is not free', async () => {
    expect(await rules('HELD', EXPIRY, -1)).toEqual({
      live: true,
      lapsed: false,
      status: 'HELD',
      free: false,
    });
  });

  test('when a HELD hold is read at its expiry or after, then it has lapsed, reads EXPIRED and its seat is free', async () => {
    for (const offset of [0, 1, 3_600_000_000]) {
      expect(await rules('HELD', EXPIRY, offset), `at +${offset} µs`).toEqual({
        live: false,
        lapsed: true,
        status: 'EXPIRED',
        free: true,
      });
    }
  });

  test('when a reservation is not HELD, then it is never live nor lapsed and reads as stored, whatever the time', async () => {
    for (const status of ['CONFIRMED', 'CANCELLED', 'EXPIRED', 'REFUNDED']) {
      for (const offset of [-1, 0, 1]) {
        const r = await rules(status, EXPIRY, offset);
        expect({ live: r.live, lapsed: r.lapsed, status: r.status }, `${status} at ${offset}`).toEqual({
          live: false,
          lapsed: false,
          status,
        });
      }
    }
  });

  test('when a seat is sold, then it is not free at any time; with no hold at all, it is free', async () => {
    for (const offset of [-1, 0, 1]) {
      expect((await rules('HELD', EXPIRY, offset, true)).free, `sold, held until then, at ${offset}`).toBe(
        false,
      );
      expect((await rules('HELD', null, offset, true)).free, `sold, no hold, at ${offset}`).toBe(false);
      expect((await rules('HELD', null, offset, false)).free, `unsold, no hold, at ${offset}`).toBe(true);
    }
  });

  test('when the rules are read at one instant, then a seat is free exactly when its hold is not live', async () => {
    // The two sides of one rule must agree at every instant around the boundary.
    for (const offset of [-2, -1, 0, 1, 2]) {
      const r = await rules('HELD', EXPIRY, offset);
      expect(r.free, `at ${offset} µs`).toBe(!r.live);
      expect(r.lapsed, `at ${offset} µs`).toBe(!r.live);
    }
  });
});

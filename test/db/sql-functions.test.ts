import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, rowsOf } from '../../src/db/client.js';
import { announceSkips, backends } from '../helpers/backends.js';

announceSkips('sql functions');

/** The database functions' sources: the migrations install these texts. */
const SOURCES = [
  'src/reservations/hold-rules.sql',
  'src/db/idempotency.sql',
  'src/reservations/hold-seats.sql',
  'src/wallet/charge-balance.sql',
  'src/payments/pay-reservations.sql',
  'src/webhooks/record-event.sql',
  'src/refunds/refund-payment.sql',
  'src/refunds/cancel-show.sql',
  'src/tickets/check-in.sql',
];

/** Every function a source file defines, with its body (the text between the dollar quotes). */
function definedIn(path: string): { name: string; body: string }[] {
  const text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  return [...text.matchAll(/CREATE OR REPLACE FUNCTION (\w+)\([\s\S]*?\bAS \$\$([\s\S]*?)\$\$;/g)].map(
    (m) => ({ name: m[1]!, body: m[2]! }),
  );
}

describe.each(backends)('database functions on $name', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await backend.openDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  test.each(SOURCES)(
    'when the migrations have run, then every function of %s is installed exactly as written there',
    async (path) => {
      const functions = definedIn(path);
      expect(functions.length).toBeGreaterThan(0);
      for (const { name, body } of functions) {
        const installed = rowsOf<{ prosrc: string }>(
          await database.db.execute(sql`SELECT prosrc FROM pg_proc WHERE proname = ${name}`),
        );
        // One definition per name: an old overload left behind would be a second implementation.
        expect(installed, name).toHaveLength(1);
        expect(installed[0]!.prosrc, `${name} differs from ${path}: add a migration carrying it`).toBe(body);
      }
    },
  );
});

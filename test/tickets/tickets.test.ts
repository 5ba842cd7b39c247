import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { createScratchDatabase } from '../../harness/cluster.js';
import { Signer } from '../../src/auth/signer.js';
import { type Database, openDatabase, rowsOf } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { newSigningKeyPem, TicketKeyError } from '../../src/tickets/ticket-keys.js';
import { AccessTokens } from '../../src/users/access-token.js';
import { startApp, testConfig } from '../helpers/app.js';
import { announceSkips, backends, serverUrls } from '../helpers/backends.js';
import { type Response, TestContext, type User, useService } from '../helpers/context.js';

announceSkips('tickets');

const GATE_KEY = 'test-gate-key-0123456789';
/** Every check-in of a burst takes an attempt before its key is compared (http/auth.ts). */
const ENV = { GATE_KEY, ADMIN_KEY_FAILURES_PER_HOUR: '1000' };

interface Ticket {
  ticketId: string;
  paymentId: string;
  concertId: string;
  date: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  status: 'VALID' | 'USED' | 'VOID';
  checkedInAt: string | null;
  code: string;
}

/** POST /gate/checkins with `gateKey` (null: no Gate-Key header). */
async function checkIn(app: App, code: unknown, gateKey: string | null = GATE_KEY): Promise<Response> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/gate/checkins',
    headers: gateKey === null ? {} : { 'gate-key': gateKey },
    payload: { code } as object,
  });
  const body = res.body ? JSON.parse(res.body) : res.body;
  return { status: res.statusCode, body, headers: res.headers };
}

async function tickets(s: TestContext, user: User): Promise<Ticket[]> {
  const res = await s.call<Ticket[]>('GET', '/api/v1/tickets', { user });
  expect(res.status).toBe(200);
  return res.body;
}

async function keysOf(app: App): Promise<{ keys: Record<string, string>[] }> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/tickets/keys' });
  expect(res.statusCode).toBe(200);
  return JSON.parse(res.body);
}

/**
 * A buyer who paid for `seats` of the concert's first date, one payment per seat, a second
 * apart. Every seat is held first: the buyer's last payment ends their turn in line.
 */
async function buyer(s: TestContext, seats: number[]) {
  const { concertId, dates } = await s.newConcert({ price: 10_000 });
  const buyer = await s.activeBuyer(concertId, 10_000 * seats.length);
  const holds: string[] = [];
  for (const seat of seats) {
    const held = await s.hold(buyer, concertId, dates[0]!, seat);
    expect([held.status, held.body]).toMatchObject([201, {}]);
    holds.push(held.body.reservationId);
  }
  for (const reservationId of holds) {
    const paid = await s.pay(buyer, reservationId);
    expect([paid.status, paid.body]).toMatchObject([201, {}]);
    s.clock.advance(1000);
  }
  return { ...buyer, concertId, date: dates[0]! };
}

/** Verifies a code as an offline gate would: the JWK set only, no call to the service. */
function verifiesOffline(
  code: string,
  jwks: { keys: Record<string, string>[] },
): Record<string, unknown> | null {
  const [h, p, sig] = code.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'EdDSA') return null;
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  const ok = verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url'));
  return ok ? JSON.parse(Buffer.from(p, 'base64url').toString()) : null;
}

/** A code in the service's form signed by some other key (a fresh one, or one of our own kids lied about). */
function codeSignedBy(privateKey: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
}

function kidOf(publicKey: KeyObject): string {
  const x = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return createHash('sha256').update(x).digest().subarray(0, 12).toString('base64url');
}

async function refund(s: TestContext, userId: string, paymentId: string): Promise<void> {
  const [row] = rowsOf<{ out_refusal: string | null }>(
    await s.database.db.execute(sql`SELECT out_refusal FROM refund_payment(${userId}::uuid, ${paymentId}::uuid,
      gen_random_uuid(), ${new Date(s.clock.now())}::timestamptz, 10, 24, NULL, '')`),
  );
  expect(row!.out_refusal).toBeNull();
}

async function checkedInAt(s: TestContext, ticketId: string): Promise<string | null> {
  const [row] = rowsOf<{ at: string | null }>(
    await s.database.db.execute(
      sql`SELECT checked_in_at::text AS at FROM reservations WHERE id = ${ticketId}`,
    ),
  );
  return row!.at;
}

describe.each(backends)('tickets and the gate on $name', (backend) => {
  const service = useService(backend, { env: ENV });

  test('when a buyer paid for seats, then each is a VALID ticket, newest first, whose code a gate verifies offline', async () => {
    const s = service();
    const b = await buyer(s, [7, 3]);
    const list = await tickets(s, b.user);
    expect(list.map((t) => [t.seatNumber, t.status, t.checkedInAt])).toEqual([
      [3, 'VALID', null],
      [7, 'VALID', null],
    ]);
    expect(list[0]).toMatchObject({
      concertId: b.concertId,
      date: b.date,
      title: 'Test Concert',
      venue: 'Test Hall',
    });
    const jwks = await keysOf(s.app);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    }
    for (const t of list) {
      expect(verifiesOffline(t.code, jwks)).toEqual({
        tid: t.ticketId,
        cid: b.concertId,
        date: b.date,
        seat: t.seatNumber,
        sec: t.section,
        row: t.row,
        num: t.number,
      });
    }
    const other = await s.newUser();
    expect(await tickets(s, other)).toEqual([]);
    expect((await s.call('GET', '/api/v1/tickets')).status).toBe(401);
  });

  test('when 50 gates scan one ticket at once, then exactly one admits it and 49 get TICKET_ALREADY_USED with the same first time', async () => {
    const s = service();
    const b = await buyer(s, [5]);
    const [ticket] = await tickets(s, b.user);
    const answers = await Promise.all(Array.from({ length: 50 }, () => checkIn(s.app, ticket!.code)));
    const admitted = answers.filter((a) => a.status === 200);
    expect(admitted).toHaveLength(1);
    const first = admitted[0]!.body;
    expect(first).toEqual({
      ticketId: ticket!.ticketId,
      date: b.date,
      seatNumber: 5,
      section: ticket!.section,
      row: ticket!.row,
      number: ticket!.number,
      checkedInAt: new Date(s.clock.now()).toISOString(),
    });
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(49);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'TICKET_ALREADY_USED', checkedInAt: first.checkedInAt });
    }
    s.clock.advance(60_000);
    const later = await checkIn(s.app, ticket!.code);
    expect(later.body).toMatchObject({ code: 'TICKET_ALREADY_USED', checkedInAt: first.checkedInAt });
    expect(await tickets(s, b.user)).toMatchObject([{ status: 'USED', checkedInAt: first.checkedInAt }]);
  });

  test('when webhooks are on and 50 gates scan one ticket, then one ticket.checked_in event is recorded with the check-in, none for the refusals', async () => {
    const s = service();
    // A database whose connections record events, as the server opens it with WEBHOOK_URL set.
    let database: Database;
    let drop = async () => {};
    if (backend.kind === 'servers') {
      const scratch = await createScratchDatabase(serverUrls.database!, 'bo_test_events_');
      drop = () => scratch.drop();
      database = await openDatabase({
        url: scratch.url,
        dataDir: 'memory',
        poolSize: 20,
        recordEvents: true,
      });
    } else {
      database = await openDatabase({ url: undefined, dataDir: 'memory', recordEvents: true });
    }
    const config = testConfig({ ...ENV, QUEUE_ADMIT_PER_SECOND: '1000' });
    const app = await startApp({ config, database, queueStore: s.store, clock: s.clock });
    try {
      const t = new TestContext(app, s.clock, s.store, config, database);
      const b = await buyer(t, [8]);
      const [ticket] = await tickets(t, b.user);
      const answers = await Promise.all(Array.from({ length: 50 }, () => checkIn(app, ticket!.code)));
      const first = answers.find((a) => a.status === 200)!.body;
      expect(answers.filter((a) => a.status === 409)).toHaveLength(49);
      const events = rowsOf<{ data: Record<string, unknown>; created_at: string }>(
        await database.db.execute(
          sql`SELECT data, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
              FROM webhook_events WHERE type = 'ticket.checked_in'`,
        ),
      );
      expect(events).toEqual([
        {
          created_at: first.checkedInAt,
          data: { ...first, concertId: b.concertId, paymentId: ticket!.paymentId, userId: b.user.userId },
        },
      ]);
    } finally {
      await app.close();
      await database.close();
      await drop();
    }
  }, 180_000); // opens a database of its own: migrating a fresh one is the slow part

  test('when a code is forged, edited, signed by another key or not a code at all, then 400 TICKET_CODE_INVALID and nothing changes', async () => {
    const s = service();
    const b = await buyer(s, [1, 2]);
    const [mine, other] = await tickets(s, b.user);
    const code = mine!.code;
    const [h, p, sig] = code.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const fresh = generateKeyPairSync('ed25519');
    const ourKid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid as string;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const bad: [string, unknown][] = [
      ['empty', ''],
      ['base64 garbage', Buffer.from('not a ticket at all, just bytes').toString('base64')],
      ['random base64url parts', 'AAAA.BBBB.CCCC'],
      ['two parts', `${h}.${p}`],
      ['four parts', `${code}.${sig}`],
      ['signed by a fresh key, its own kid', codeSignedBy(fresh.privateKey, kidOf(fresh.publicKey), claims)],
      ['signed by a fresh key, our kid', codeSignedBy(fresh.privateKey, ourKid, claims)],
      ['claims swapped to another ticket', `${h}.${other!.code.split('.')[1]}.${sig}`],
      ['claims edited', `${h}.${b64({ ...claims, seat: 99 })}.${sig}`],
      ['signature of zeros', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`],
      ['signature cut short', `${h}.${p}.${sig.slice(0, 40)}`],
      ['alg none', `${b64({ alg: 'none', kid: ourKid })}.${p}.`],
      ['alg none with the signature', `${b64({ alg: 'none', kid: ourKid })}.${p}.${sig}`],
      ['an extra header member', `${b64({ alg: 'EdDSA', kid: ourKid, x: 1 })}.${p}.${sig}`],
      ['padding added', `${code}==`],
      ['under the body limit but oversize', 'A'.repeat(60_000)],
      ['unicode', `${h}.${p}.${sig.slice(0, -1)}é`],
    ];
    // One bit flipped at every position of the code (the character's lowest bit).
    for (let i = 0; i < code.length; i++) {
      const flipped = String.fromCharCode(code.charCodeAt(i) ^ 1);
      bad.push([`bit flipped at ${i}`, code.slice(0, i) + flipped + code.slice(i + 1)]);
    }
    for (const [name, value] of bad) {
      const res = await checkIn(s.app, value);
      expect([name, res.status, res.body.code]).toEqual([name, 400, 'TICKET_CODE_INVALID']);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    // Not a string, no code, or a body past the app's limit: the request itself is refused.
    expect((await checkIn(s.app, 12345)).body.code).toBe('VALIDATION_FAILED');
    expect((await checkIn(s.app, null)).body.code).toBe('VALIDATION_FAILED');
    const empty = await s.app.inject({
      method: 'POST',
      url: '/api/v1/gate/checkins',
      headers: { 'gate-key': GATE_KEY, 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.statusCode).toBe(400);
    const huge = await checkIn(s.app, 'A'.repeat(100 * 1024));
    expect([huge.status, huge.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    expect(await checkedInAt(s, mine!.ticketId)).toBeNull();
    expect(await checkedInAt(s, other!.ticketId)).toBeNull();
    expect((await tickets(s, b.user)).map((t) => t.status)).toEqual(['VALID', 'VALID']);
    expect((await checkIn(s.app, code)).status).toBe(200);
  });

  test('when the gate key is missing or wrong, then 401 and nothing changes; wrong keys spend the admin key budget', async () => {
    const s = service();
    const b = await buyer(s, [9]);
    const [ticket] = await tickets(s, b.user);
    expect((await checkIn(s.app, ticket!.code, null)).body.code).toBe('UNAUTHENTICATED');
    expect((await checkIn(s.app, ticket!.code, 'wrong-gate-key-0123456789')).body.code).toBe(
      'UNAUTHENTICATED',
    );
    expect((await checkIn(s.app, ticket!.code, 'test-admin-key-0123456789')).status).toBe(401);
    expect(await checkedInAt(s, ticket!.ticketId)).toBeNull();

    // GATE_KEY unset: check-in is off (401, as for any request without a right key).
    const off = await startApp({
      config: testConfig(),
      database: s.database,
      queueStore: s.store,
      clock: s.clock,
    });
    try {
      const res = await checkIn(off, ticket!.code);
      expect([res.status, res.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      expect(res.body.detail).toContain('GATE_KEY');
    } finally {
      await off.close();
    }

    const budget = await startApp({
      config: testConfig({ GATE_KEY, ADMIN_KEY_FAILURES_PER_HOUR: '3' }),
      database: s.database,
      queueStore: s.store,
      clock: s.clock,
    });
    try {
      for (let i = 0; i < 3; i++)
        expect((await checkIn(budget, ticket!.code, `wrong-${i}-0123456789abc`)).status).toBe(401);
      const spent = await checkIn(budget, ticket!.code, 'wrong-4-0123456789abc');
      expect([spent.status, spent.body.code]).toEqual([429, 'RATE_LIMITED']);
      const admin = await budget.inject({
        method: 'GET',
        url: `/api/v1/admin/concerts/${b.concertId}/stats`,
        headers: { 'admin-key': 'nope-0123456789abcdef' },
      });
      expect(admin.statusCode).toBe(429);
    } finally {
      await budget.close();
    }
    expect(await checkedInAt(s, ticket!.ticketId)).toBeNull();
  });

  test('when a ticket is refunded or its show cancelled, then it is VOID and the gate says TICKET_VOID', async () => {
    const s = service();
    const b = await buyer(s, [4, 6]);
    const [six, four] = await tickets(s, b.user);
    await refund(s, b.user.userId, six!.paymentId);
    const refused = await checkIn(s.app, six!.code);
    expect([refused.status, refused.body.code]).toEqual([409, 'TICKET_VOID']);
    expect(await checkedInAt(s, six!.ticketId)).toBeNull();

    // Checked in first, then the show is cancelled: void wins, it lets no one in again.
    expect((await checkIn(s.app, four!.code)).status).toBe(200);
    await s.database.db.execute(
      sql`SELECT cancel_show((SELECT id FROM shows WHERE concert_id = ${b.concertId} AND date = ${b.date}::date), ${new Date(s.clock.now())}::timestamptz)`,
    );
    expect((await checkIn(s.app, four!.code)).body.code).toBe('TICKET_VOID');
    expect((await tickets(s, b.user)).map((t) => [t.seatNumber, t.status])).toEqual([
      [6, 'VOID'],
      [4, 'VOID'],
    ]);
  });

  test('when TICKET_SIGNING_KEY is set, then it signs new codes, codes signed before still verify, and the keys list both', async () => {
    const s = service();
    const b = await buyer(s, [11, 12]);
    const before = await tickets(s, b.user);
    const generatedKid = JSON.parse(Buffer.from(before[0]!.code.split('.')[0]!, 'base64url').toString()).kid;

    const pem = newSigningKeyPem();
    const configuredKid = kidOf(createPublicKey(pem));
    const secret = randomBytes(32);
    const rotated = await startApp({
      secret,
      config: testConfig({ ...ENV, TICKET_SIGNING_KEY: pem }),
      database: s.database,
      queueStore: s.store,
      clock: s.clock,
    });
    try {
      const jwks = await keysOf(rotated);
      const kids = jwks.keys.map((k) => k.kid);
      expect(kids).toContain(generatedKid);
      expect(kids).toContain(configuredKid);
      const res = await rotated.inject({
        method: 'GET',
        url: '/api/v1/tickets',
        headers: { authorization: `Bearer ${new AccessTokens(new Signer(secret)).issue(b.user.userId)}` },
      });
      const after: Ticket[] = JSON.parse(res.body);
      expect(JSON.parse(Buffer.from(after[0]!.code.split('.')[0]!, 'base64url').toString()).kid).toBe(
        configuredKid,
      );
      expect(verifiesOffline(after[0]!.code, jwks)).not.toBeNull();
      // The old code on the rotated instance, the new code on an instance still on the generated key.
      expect((await checkIn(rotated, before[1]!.code)).status).toBe(200);
      expect((await checkIn(s.app, after[0]!.code)).status).toBe(200);
    } finally {
      await rotated.close();
    }
    // An environment variable in the setting's usual one-line form (\n escaped) is the same key.
    const oneLine = await startApp({
      config: testConfig({ ...ENV, TICKET_SIGNING_KEY: pem.replaceAll('\n', '\\n') }),
      database: s.database,
      queueStore: s.store,
      clock: s.clock,
    });
    await oneLine.close();
    const rows = rowsOf<{ origin: string }>(
      await s.database.db.execute(sql`SELECT origin FROM ticket_keys WHERE kid = ${configuredKid}`),
    );
    expect(rows).toEqual([{ origin: 'configured' }]);
  });

  test('when the stored generated key is empty or damaged, or TICKET_SIGNING_KEY is not Ed25519, then start-up stops saying why', async () => {
    const s = service();
    const start = (env: Record<string, string> = {}) =>
      startApp({
        config: testConfig({ ...ENV, ...env }),
        database: s.database,
        queueStore: s.store,
        clock: s.clock,
      });
    const [saved] = rowsOf<{ kid: string; private_key: string }>(
      await s.database.db.execute(sql`SELECT kid, private_key FROM ticket_keys WHERE origin = 'generated'`),
    );
    try {
      for (const damage of ['', '   ', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n']) {
        await s.database.db.execute(
          sql`UPDATE ticket_keys SET private_key = ${damage} WHERE origin = 'generated'`,
        );
        await expect(start()).rejects.toThrow(TicketKeyError);
      }
      await s.database.db.execute(sql`UPDATE ticket_keys SET private_key = NULL WHERE origin = 'generated'`);
      await expect(start()).rejects.toThrow(/generated ticket key .* is empty/);
      // Another valid Ed25519 key in place of the stored one: it no longer matches its kid.
      await s.database.db.execute(
        sql`UPDATE ticket_keys SET private_key = ${newSigningKeyPem()} WHERE origin = 'generated'`,
      );
      await expect(start()).rejects.toThrow(/does not match/);
    } finally {
      await s.database.db.execute(
        sql`UPDATE ticket_keys SET private_key = ${saved!.private_key} WHERE kid = ${saved!.kid}`,
      );
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    await expect(start({ TICKET_SIGNING_KEY: rsa as string })).rejects.toThrow(
      /TICKET_SIGNING_KEY is a rsa key/,
    );
    const app = await start();
    await app.close();
  });

  test.skipIf(backend.kind !== 'embedded')(
    'when the embedded service restarts on its DATA_DIR, then it signs with the key it generated before',
    async () => {
      const s = service();
      const dataDir = await mkdtemp(join(tmpdir(), 'bo-tickets-'));
      const kids: string[][] = [];
      try {
        for (let start = 0; start < 2; start++) {
          const database = await openDatabase({ url: undefined, dataDir });
          const app = await startApp({
            config: testConfig(ENV),
            database,
            queueStore: s.store,
            clock: s.clock,
          });
          kids.push((await keysOf(app)).keys.map((k) => k.kid!));
          await app.close();
          await database.close();
        }
        expect(kids[0]).toHaveLength(1);
        expect(kids[1]).toEqual(kids[0]);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    180_000, // two fresh databases to migrate
  );

  test('when several instances start at once on one database, then exactly one key is generated and all sign with it', async () => {
    const s = service();
    let databases: Database[] = [];
    let drop = async () => {};
    if (backend.kind === 'servers') {
      // A database of its own, reached through one pool per instance, as separate processes would.
      const scratch = await createScratchDatabase(serverUrls.database!, 'bo_test_keys_');
      drop = () => scratch.drop();
      databases = await Promise.all(
        Array.from({ length: 6 }, () => openDatabase({ url: scratch.url, dataDir: 'memory', poolSize: 2 })),
      );
    } else {
      await s.database.db.execute(sql`DELETE FROM ticket_keys`);
      databases = Array.from({ length: 6 }, () => s.database);
    }
    const apps = await Promise.all(
      databases.map((database) =>
        startApp({ config: testConfig(ENV), database, queueStore: s.store, clock: s.clock }),
      ),
    );
    try {
      const sets = await Promise.all(apps.map((app) => keysOf(app)));
      expect(sets[0]!.keys).toHaveLength(1);
      for (const set of sets) expect(set).toEqual(sets[0]);
      const [count] = rowsOf<{ n: number }>(
        await databases[0]!.db.execute(
          sql`SELECT count(*)::int AS n FROM ticket_keys WHERE origin = 'generated'`,
        ),
      );
      expect(count!.n).toBe(1);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      if (backend.kind === 'servers') await Promise.all(databases.map((d) => d.close()));
      await drop();
    }
  });
});

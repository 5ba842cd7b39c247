import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
// The verifier the README tells buyers to run: the test recomputes the draw with it, not with
// the server's own code.
import { drawOrder } from '../../scripts/verify-draw.mjs';
import { ConcertsService } from '../../src/concerts/concerts.service.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { postgresSettingsSource, SaleSchedule } from '../../src/sale/sale-schedule.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type TestContext, useService } from '../helpers/context.js';

announceSkips('sale day');

const admin = { 'admin-key': ADMIN_KEY };
const MINUTE = 60_000;

async function scheduledConcert(s: TestContext, opensAt: number) {
  const res = await s.call('POST', '/api/v1/admin/concerts', {
    headers: admin,
    body: {
      title: 'Sale Day',
      venue: 'Hall',
      saleOpensAt: new Date(opensAt).toISOString(),
      dates: [{ date: addDays(todayUtc(s.clock.now()), 30), price: 50_000 }],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.saleOpensAt).toBe(new Date(opensAt).toISOString());
  return res.body.concertId as string;
}

const status = (s: TestContext, queueToken: string) =>
  s.call('GET', '/api/v1/queue/status', { queueToken }).then((r) => r.body);

describe.each(backends)('sale day on $name', (backend) => {
  const service = useService(backend, {
    env: {
      PREQUEUE_MINUTES: '30',
      QUEUE_IDLE_TIMEOUT_SECONDS: '600',
      QUEUE_MAX_ACTIVE: '5',
      QUEUE_ADMIT_PER_SECOND: '5',
    },
  });

  test('when a sale is scheduled, then joins wait for the pre-queue, the pre-queue is drawn at the opening in the committed order, and later joiners come after it', async () => {
    const s = service();
    const opensAt = s.clock.now() + 60 * MINUTE;
    const concertId = await scheduledConcert(s, opensAt);
    const listed = (await s.call('GET', '/api/v1/concerts')).body;
    expect(listed).toEqual([
      expect.objectContaining({ concertId, saleOpensAt: new Date(opensAt).toISOString() }),
    ]);

    // Before the pre-queue opens: refused, with the opening time.
    const early = await s.join(await s.newUser(), concertId);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'SALE_NOT_OPEN', saleOpensAt: new Date(opensAt).toISOString() });
    expect(early.headers['content-type']).toContain('application/problem+json');

    const before = (await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body;
    expect(before).toMatchObject({ saleOpensAt: new Date(opensAt).toISOString(), seed: null, tickets: null });
    expect(before.seedCommitment).toMatch(/^[0-9a-f]{64}$/);

    // Inside the window: WAITING without a place.
    s.clock.set(opensAt - 20 * MINUTE);
    const buyers: { user: Awaited<ReturnType<TestContext['newUser']>>; token: string; ticket: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const user = await s.newUser(`pre${i}`);
      const joined = await s.join(user, concertId);
      expect(joined.status).toBe(201);
      expect(joined.body).toMatchObject({
        status: 'WAITING',
        position: null,
        estimatedWaitSeconds: null,
        saleOpensAt: new Date(opensAt).toISOString(),
      });
      buyers.push({ user, token: joined.body.token, ticket: joined.body.ticket });
    }
    const again = await s.join(buyers[0]!.user, concertId);
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(buyers[0]!.token);
    const gated = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, {
      user: buyers[0]!.user,
      queueToken: buyers[0]!.token,
    });
    expect(gated.status).toBe(403);
    expect(gated.body).toMatchObject({ code: 'QUEUE_NOT_ACTIVE', position: null });
    const line = await s.call('GET', `/api/v1/admin/concerts/${concertId}/queue`, { headers: admin });
    expect(line.body).toMatchObject({ waiting: 40, prequeued: 40, active: 0 });

    // One leaves, one goes silent past the idle timeout; the rest keep polling.
    const leaver = buyers.pop()!;
    expect(
      (await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: leaver.token })).status,
    ).toBe(204);
    const silent = buyers.pop()!;
    for (const at of [opensAt - 11 * MINUTE, opensAt - 6 * MINUTE, opensAt - 1000]) {
      s.clock.set(at);
      for (const b of buyers) {
        expect(await status(s, b.token)).toMatchObject({
          status: 'WAITING',
          position: null,
          ticket: b.ticket,
        });
      }
    }

    // The opening: the first request after it draws (here a late joiner's).
    s.clock.set(opensAt + 1000);
    const late = await s.join(await s.newUser('late'), concertId);
    expect(late.status).toBe(201);
    expect(late.body.position).toBe(buyers.length + 1);

    const draw = (await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body;
    expect(createHash('sha256').update(Buffer.from(draw.seed, 'hex')).digest('hex')).toBe(
      before.seedCommitment,
    );
    const present = buyers.map((b) => b.ticket).sort((a, b) => a - b);
    expect([...draw.tickets].sort((a: number, b: number) => a - b)).toEqual(present);
    expect(draw.tickets).toEqual(drawOrder(draw.seed, present));
    expect(draw.tickets).not.toContain(silent.ticket);
    expect(draw.tickets).not.toContain(leaver.ticket);

    // Each buyer's place is their drawn place, and their token and ticket are unchanged.
    for (const b of buyers) {
      const st = await status(s, b.token);
      expect(st).toMatchObject({
        status: 'WAITING',
        ticket: b.ticket,
        position: draw.tickets.indexOf(b.ticket) + 1,
      });
      expect((await s.join(b.user, concertId)).body.token).toBe(b.token);
    }
    expect((await status(s, silent.token)).status).toBe('EXPIRED');

    // Admission follows the draw, and the late joiner comes last.
    // Admission follows the draw: each step lets in the next five of the drawn order.
    const admitted: number[] = [];
    for (let round = 0; round < 40 && admitted.length < buyers.length; round++) {
      s.clock.advance(1000);
      await s.advance(concertId);
      const batch = [];
      for (const b of buyers) {
        if (!admitted.includes(b.ticket) && (await status(s, b.token)).status === 'ACTIVE') batch.push(b);
      }
      const next = draw.tickets.slice(admitted.length, admitted.length + batch.length);
      expect(batch.map((b) => b.ticket).sort()).toEqual([...next].sort());
      admitted.push(...next);
      // The late joiner is let in only with or after the last of the pre-queue.
      if ((await status(s, late.body.token)).status === 'ACTIVE')
        expect(admitted).toHaveLength(buyers.length);
      for (const b of batch) await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: b.token });
    }
    expect(admitted).toEqual(draw.tickets);

    const moved = await s.call('PATCH', `/api/v1/admin/concerts/${concertId}/queue`, {
      headers: admin,
      body: { saleOpensAt: new Date(opensAt + 60 * MINUTE).toISOString() },
    });
    expect(moved.status).toBe(400);
  });

  test('when the operator sets, moves and clears an opening, then the seed commitment never changes and clearing opens the sale at once', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const url = `/api/v1/admin/concerts/${concertId}/queue`;
    expect((await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body.code).toBe('NOT_FOUND');

    const opensAt = s.clock.now() + 10 * MINUTE;
    const set = await s.call('PATCH', url, {
      headers: admin,
      body: { saleOpensAt: new Date(opensAt).toISOString() },
    });
    expect(set.body).toMatchObject({ saleOpensAt: new Date(opensAt).toISOString(), waiting: 0 });
    const commitment = (await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body.seedCommitment;
    const user = await s.newUser();
    const joined = await s.join(user, concertId);
    expect(joined.body.position).toBeNull();

    const later = opensAt + 5 * MINUTE;
    await s.call('PATCH', url, { headers: admin, body: { saleOpensAt: new Date(later).toISOString() } });
    const moved = (await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body;
    expect(moved).toMatchObject({ seedCommitment: commitment, saleOpensAt: new Date(later).toISOString() });
    expect((await status(s, joined.body.token)).position).toBeNull();

    const cleared = await s.call('PATCH', url, { headers: admin, body: { saleOpensAt: null } });
    expect(cleared.body.saleOpensAt).toBe(new Date(s.clock.now()).toISOString());
    expect(await status(s, joined.body.token)).toMatchObject({ status: 'WAITING', position: 1 });
    const draw = (await s.call('GET', `/api/v1/concerts/${concertId}/draw`)).body;
    expect(draw).toMatchObject({ seedCommitment: commitment, tickets: [joined.body.ticket] });

    for (const body of [{ saleOpensAt: 'tomorrow' }, { saleOpensAt: 5 }]) {
      expect((await s.call('PATCH', url, { headers: admin, body })).body.code).toBe('VALIDATION_FAILED');
    }
  });

  test('when the operator pauses a line, then PostgreSQL keeps it even after the store lost its copy', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const url = `/api/v1/admin/concerts/${concertId}/queue`;
    await s.call('PATCH', url, { headers: admin, body: { paused: true, maxActive: 2 } });
    // The store's copy reverts (as a Redis that came back empty reads: the defaults).
    await s.store.updateSettings(concertId, { paused: false, maxActive: 5, admitPerSecond: 5 });
    expect((await s.call('GET', url, { headers: admin })).body).toMatchObject({ paused: true, maxActive: 2 });
  });
});

describe.each(backends)('sale day with the admission ticker running on $name', (backend) => {
  // The app's own ticker (every 100 ms, at the test's clock), not a test stepping the store: the
  // ticker skips a line it last saw empty until the line is joined again, and the draw puts a
  // whole line of waiters in without a join.
  const service = useService(backend, {
    backgroundJobs: true,
    env: { PREQUEUE_MINUTES: '30', QUEUE_IDLE_TIMEOUT_SECONDS: '600', QUEUE_MAX_ACTIVE: '3' },
  });
  const ticks = () => new Promise((resolve) => setTimeout(resolve, 400));

  test('when the ticker saw the pre-queued line empty before the opening, then it still admits the drawn users after it', async () => {
    const s = service();
    const opensAt = s.clock.now() + 10 * MINUTE;
    const concertId = await scheduledConcert(s, opensAt);
    s.clock.set(opensAt - 5 * MINUTE);
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) tokens.push((await s.join(await s.newUser(`pre${i}`), concertId)).body.token);
    // Ticks see the line with nobody in it (the pre-queue is not the line), for longer than the
    // ticker keeps an empty line registered: the pre-queue still counts in the gauges.
    for (let i = 0; i < 4; i++) {
      await ticks();
      s.clock.advance(MINUTE);
    }
    const metrics = (await s.call('GET', '/metrics')).body as string;
    expect(metrics.split('\n').filter((l) => l.startsWith('boxoffice_queue'))).toContain(
      `boxoffice_queue_waiting{concert_id="${concertId}"} 5`,
    );

    s.clock.set(opensAt + 1000);
    // The first read (or tick) after the opening draws; the ticker may admit from then on.
    expect(['WAITING', 'ACTIVE']).toContain((await status(s, tokens[0]!)).status);
    let active = 0;
    for (let i = 0; i < 50 && active < 3; i++) {
      await ticks();
      active = (await Promise.all(tokens.map((t) => status(s, t)))).filter(
        (r) => r.status === 'ACTIVE',
      ).length;
    }
    expect(active).toBe(3);
  });
});

describe.each(backends)('sale settings source on $name', (backend) => {
  test('when settings were saved, then the source the admission ticker restores a line from returns them, defaults filling the rest', async () => {
    const database = await backend.openDatabase();
    try {
      const concerts = new ConcertsService(database.db);
      const now = Date.parse('2026-11-21T10:00:00.000Z');
      const { concertId } = await concerts.create(
        { title: 't', venue: 'v', dates: [{ date: '2026-12-24', price: 1 }] },
        now,
      );
      const defaults = { maxActive: 100, admitPerSecond: 20, paused: false };
      const source = postgresSettingsSource(database.db, defaults);
      expect(await source(concertId)).toEqual(defaults);
      await new SaleSchedule(database.db, defaults).saveSettings(concertId, { paused: true, maxActive: 20 });
      expect(await source(concertId)).toEqual({ maxActive: 20, admitPerSecond: 20, paused: true });
      // Another instance, with other defaults, still reads the operator's choices.
      expect(
        await postgresSettingsSource(database.db, { ...defaults, admitPerSecond: 7 })(concertId),
      ).toEqual({
        maxActive: 20,
        admitPerSecond: 7,
        paused: true,
      });
    } finally {
      await database.close();
    }
  });
});

import { describe, expect, test, vi } from 'vitest';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { TurnBatcher, type TurnScheduler } from '../../src/shared/turn-batcher.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { type User, useService } from '../helpers/context.js';

announceSkips('queue');

/**
 * The end of the queue's batching turn, in the test's hands. Requests through `app.inject` reach
 * the batchers over several turns (each awaits its own database reads first), so "these share
 * one store call" cannot be had by issuing them together; instead the test holds the turn open
 * until every request has reached its batcher, then ends it. Outside `together`, batches leave
 * at the real end of the turn.
 */
function turnInHand() {
  let held: (() => void)[] | undefined;
  const schedule: TurnScheduler = (flush) => {
    if (held) held.push(flush);
    else setImmediate(flush);
  };
  /**
   * Runs `requests` with the turn held open until `calls` calls have reached the queue's
   * batchers (an event, counted as they arrive), then lets the turn end and awaits the answers.
   */
  async function together<T>(calls: number, requests: () => Promise<T>): Promise<T> {
    held = [];
    const add = TurnBatcher.prototype.add;
    let arrived = 0;
    let allArrived: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const spy = vi.spyOn(TurnBatcher.prototype, 'add').mockImplementation(function (
      this: TurnBatcher<unknown, unknown>,
      key: string,
      item: unknown,
    ) {
      if (++arrived === calls) allArrived();
      return add.call(this, key, item);
    });
    try {
      const answers = requests();
      await all;
      const flushes = held;
      held = undefined;
      for (const flush of flushes) flush();
      return await answers;
    } finally {
      held = undefined;
      spy.mockRestore();
    }
  }
  return { schedule, together };
}

describe.each(backends)('waiting queue on $name', (backend) => {
  const service = useService(backend, {
    env: {
      QUEUE_MAX_ACTIVE: '3',
      QUEUE_ADMIT_PER_SECOND: '2',
      QUEUE_ACTIVE_TTL_SECONDS: '60',
      QUEUE_IDLE_TIMEOUT_SECONDS: '30',
    },
  });

  test('when 50 users join in order, then they are admitted strictly in that order and positions never grow', async () => {
    const s = service();
    await s.store.updateSettings('00000000-0000-4000-8000-000000000000', {}); // unrelated line: no effect
    const { concertId } = await s.newConcert();
    const buyers = [];
    for (let i = 0; i < 50; i++) {
      const user = await s.newUser(`u${i}`);
      const joined = await s.join(user, concertId);
      expect(joined.body.position).toBe(i + 1);
      buyers.push({ user, queueToken: joined.body.token as string, last: joined.body.position as number });
    }
    const admittedOrder: number[] = [];
    for (let round = 0; admittedOrder.length < 50 && round < 200; round++) {
      s.clock.advance(1000);
      await s.advance(concertId);
      for (const [i, b] of buyers.entries()) {
        if (admittedOrder.includes(i)) continue;
        const status = (await s.call('GET', '/api/v1/queue/status', { queueToken: b.queueToken })).body;
        if (status.status === 'ACTIVE') {
          admittedOrder.push(i);
          // Give the slot back so the line keeps moving.
          expect(
            (await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: b.queueToken })).status,
          ).toBe(204);
        } else {
          expect(status.status).toBe('WAITING');
          expect(status.position).toBeLessThanOrEqual(b.last);
          b.last = status.position;
        }
      }
    }
    expect(admittedOrder).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test('when slots are full, then no more than QUEUE_MAX_ACTIVE are active and a purchase or lapse frees one', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const users = await Promise.all(Array.from({ length: 6 }, () => s.newUser()));
    const tokens: string[] = [];
    for (const u of users) tokens.push((await s.join(u, concertId)).body.token);
    const states = async () =>
      Promise.all(
        tokens.map(async (t) => (await s.call('GET', '/api/v1/queue/status', { queueToken: t })).body.status),
      );

    for (let i = 0; i < 5; i++) {
      s.clock.advance(1000);
      await s.advance(concertId);
    }
    expect(await states()).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'WAITING', 'WAITING', 'WAITING']);

    // A purchase expires the buyer's token at once and the next in line is let in.
    const buyer = { user: users[0]!, queueToken: tokens[0]! };
    await s.charge(buyer.user, 1_000_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 1);
    expect((await s.pay(buyer, held.body.reservationId)).status).toBe(201);
    expect(await states()).toEqual(['EXPIRED', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'WAITING', 'WAITING']);

    // Tokens 2 and 3 were admitted at t=1 s and t=2 s, token 4 at t=5 s (the purchase): at
    // t=62 s the first two have lapsed and the last two get their slots. The waiting ones keep
    // polling (every 19 s) so they are not dropped as idle meanwhile.
    for (let i = 0; i < 3; i++) {
      s.clock.advance(19_000);
      await states();
    }
    await s.advance(concertId);
    expect(await states()).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    const gated = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, {
      user: users[1]!,
      queueToken: tokens[1]!,
    });
    expect(gated.status).toBe(401);
    expect(gated.body.code).toBe('QUEUE_TOKEN_EXPIRED');
  });

  test('when an active window closes, then the token is EXPIRED at that instant even before any admission step', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId);
    const status = await s.call('GET', '/api/v1/queue/status', { queueToken: buyer.queueToken });
    s.clock.set(Date.parse(status.body.activeUntil) - 1);
    expect((await s.call('GET', `/api/v1/concerts/${concertId}/dates`, buyer)).status).toBe(200);
    s.clock.advance(1);
    const expired = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, buyer);
    expect(expired.body.code).toBe('QUEUE_TOKEN_EXPIRED');
  });

  test('when a waiting user stops polling, then they are dropped and the line moves past them', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    await s.store.updateSettings(concertId, { paused: true });
    const quiet = (await s.join(await s.newUser(), concertId)).body.token;
    const eager = (await s.join(await s.newUser(), concertId)).body.token;
    for (let t = 0; t < 35; t += 5) {
      s.clock.advance(5000);
      const st = await s.call('GET', '/api/v1/queue/status', { queueToken: eager });
      expect(st.body.status).toBe('WAITING');
    }
    await s.advance(concertId);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: eager })).body.position).toBe(1);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: quiet })).body.status).toBe('EXPIRED');
    await s.store.updateSettings(concertId, { paused: false });
    await s.advance(concertId);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: eager })).body.status).toBe('ACTIVE');
  });

  test('when a user leaves the line, then the ones behind move up and rejoining puts them at the back', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    await s.store.updateSettings(concertId, { paused: true });
    const first = await s.newUser();
    const firstToken = (await s.join(first, concertId)).body.token;
    const second = (await s.join(await s.newUser(), concertId)).body.token;
    expect((await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: firstToken })).status).toBe(
      204,
    );
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: second })).body.position).toBe(1);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: firstToken })).body.status).toBe(
      'EXPIRED',
    );
    const back = await s.join(first, concertId);
    expect(back.status).toBe(201);
    expect(back.body.position).toBe(2);
  });

  test('when the gate is passed a bad token, then each case has its own code', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const other = await s.newConcert();
    const user = await s.newUser();
    const url = `/api/v1/concerts/${concertId}/dates`;

    expect((await s.call('GET', url)).body.code).toBe('UNAUTHENTICATED');
    expect((await s.call('GET', url, { user: { userId: '', accessToken: 'forged.token' } })).status).toBe(
      401,
    );

    const missing = await s.call('GET', url, { user });
    expect([missing.status, missing.body.code]).toEqual([401, 'QUEUE_TOKEN_INVALID']);
    const garbage = await s.call('GET', url, { user, queueToken: 'not-a-token' });
    expect(garbage.body.code).toBe('QUEUE_TOKEN_INVALID');

    await s.store.updateSettings(concertId, { paused: true });
    const token: string = (await s.join(user, concertId)).body.token;
    // Another ticket number under the original signature.
    const [payload, signature] = token.split('.');
    const bytes = Buffer.from(payload!, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    const edited = `${bytes.toString('base64url')}.${signature}`;
    expect((await s.call('GET', url, { user, queueToken: edited })).body.code).toBe('QUEUE_TOKEN_INVALID');
    // A user token is not a queue token, even though both are signed by the same server.
    expect((await s.call('GET', url, { user, queueToken: user.accessToken })).body.code).toBe(
      'QUEUE_TOKEN_INVALID',
    );

    const waiting = await s.call('GET', url, { user, queueToken: token });
    expect(waiting.status).toBe(403);
    expect(waiting.body).toMatchObject({ code: 'QUEUE_NOT_ACTIVE', position: 1 });
    expect(waiting.body.estimatedWaitSeconds).toBeGreaterThanOrEqual(1);

    const stranger = await s.newUser();
    const forbidden = await s.call('GET', url, { user: stranger, queueToken: token });
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'QUEUE_TOKEN_FORBIDDEN']);
    const elsewhere = await s.call('GET', `/api/v1/concerts/${other.concertId}/dates`, {
      user,
      queueToken: token,
    });
    expect(elsewhere.body.code).toBe('QUEUE_TOKEN_FORBIDDEN');

    await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: token });
    const left = await s.call('GET', url, { user, queueToken: token });
    expect([left.status, left.body.code]).toEqual([401, 'QUEUE_TOKEN_EXPIRED']);

    expect((await s.call('GET', '/api/v1/queue/status')).body.code).toBe('QUEUE_TOKEN_INVALID');
    expect((await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: 'x.y' })).body.code).toBe(
      'QUEUE_TOKEN_INVALID',
    );
  });

  test('when a payment names a reservation of another concert than the token, then it is 403 QUEUE_TOKEN_FORBIDDEN', async () => {
    const s = service();
    const a = await s.newConcert();
    const b = await s.newConcert();
    const user = await s.newUser();
    await s.charge(user, 1_000_000);
    const tokenA = (await s.join(user, a.concertId)).body.token;
    const tokenB = (await s.join(user, b.concertId)).body.token;
    await s.advance(a.concertId);
    await s.advance(b.concertId);
    const held = await s.hold({ user, queueToken: tokenA }, a.concertId, a.dates[0]!, 1);
    const paid = await s.pay({ user, queueToken: tokenB }, held.body.reservationId);
    expect([paid.status, paid.body.code]).toEqual([403, 'QUEUE_TOKEN_FORBIDDEN']);
    expect((await s.call('GET', '/api/v1/balance', { user })).body.balance).toBe(1_000_000);
  });

  test('when the wait is estimated, then it follows the admission rate actually measured', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const tokens: string[] = [];
    for (let i = 0; i < 13; i++) tokens.push((await s.join(await s.newUser(), concertId)).body.token);
    // Admit 2 per second for 5 seconds, giving each slot back at once.
    for (let i = 0; i < 5; i++) {
      s.clock.advance(1000);
      await s.advance(concertId);
      for (const t of tokens.splice(0, 2))
        await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: t });
    }
    const last = await s.call('GET', '/api/v1/queue/status', { queueToken: tokens.at(-1)! });
    expect(last.body.position).toBe(3);
    // 10 admissions over the 4 s between the first and now+1 s: 2.5/s → ceil(3 / 2.5) = 2 s.
    s.clock.advance(1000);
    const later = await s.call('GET', '/api/v1/queue/status', { queueToken: tokens.at(-1)! });
    expect(later.body.estimatedWaitSeconds).toBe(Math.ceil(3 / (10 / 5)));
  });

  test('when a buyer listens to the event stream, then it sends the status on change and closes once ACTIVE', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    await s.store.updateSettings(concertId, { paused: true });
    const token: string = (await s.join(await s.newUser(), concertId)).body.token;
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const address = s.app.server.address() as { port: number };
    const res = await fetch(
      `http://127.0.0.1:${address.port}/api/v1/queue/events?token=${encodeURIComponent(token)}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const events: { status: string; position: number | null }[] = [];
    let buffer = '';
    const admit = setTimeout(async () => {
      await s.store.updateSettings(concertId, { paused: false });
      await s.advance(concertId);
    }, 300);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += new TextDecoder().decode(value);
      for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
        const chunk = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = chunk.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
    clearTimeout(admit);
    expect(events.map((e) => e.status)).toEqual(['WAITING', 'ACTIVE']);
    expect(events[0]!.position).toBe(1);

    const bad = await fetch(`http://127.0.0.1:${address.port}/api/v1/queue/events?token=nope`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  test('when the server shuts down, then open event streams are ended rather than waited for', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    await s.store.updateSettings(concertId, { paused: true });
    const token: string = (await s.join(await s.newUser(), concertId)).body.token;
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = s.app.server.address() as { port: number };
    const res = await fetch(
      `http://127.0.0.1:${port}/api/v1/queue/events?token=${encodeURIComponent(token)}`,
    );
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open
    const started = Date.now();
    await s.app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    for (;;) if ((await reader.read()).done) break;
  });
});

describe.each(backends)('status reads under load on $name', (backend) => {
  const turn = turnInHand();
  const service = useService(backend, {
    env: { QUEUE_MAX_ACTIVE: '2', QUEUE_ADMIT_PER_SECOND: '1000' },
    turnScheduler: turn.schedule,
  });

  test('when 300 status reads and gated reads arrive in one turn, then they reach the store in one call and each gets its own ticket', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const active = [await s.activeBuyer(concertId), await s.activeBuyer(concertId)];
    const waiting: string[] = [];
    for (let i = 0; i < 300; i++)
      waiting.push((await s.join(await s.newUser(`w${i}`), concertId)).body.token);
    const batches = vi.spyOn(s.store, 'viewMany');
    const views = vi.spyOn(s.store, 'view');

    const [statuses, gated] = await turn.together(302, () =>
      Promise.all([
        Promise.all(waiting.map((queueToken) => s.call('GET', '/api/v1/queue/status', { queueToken }))),
        Promise.all(
          active.map((buyer) =>
            s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer),
          ),
        ),
      ]),
    );
    expect(statuses.map((r) => r.body.position)).toEqual(waiting.map((_, i) => i + 1));
    expect(gated.map((r) => r.status)).toEqual([200, 200]);
    // One turn's reads of one concert are one store call (≤ 500 tickets); unbatched, 302 calls.
    expect(batches).toHaveBeenCalledTimes(1);
    expect(batches.mock.calls[0]![0]).toBe(concertId);
    expect(batches.mock.calls[0]![1]).toHaveLength(302);
    if (!(s.store instanceof MemoryQueueStore)) expect(views).not.toHaveBeenCalled();

    // A batch that fails fails each of its reads as a 503, and the next reads work again.
    batches.mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const failed = await turn.together(3, () =>
      Promise.all(
        waiting.slice(0, 3).map((queueToken) => s.call('GET', '/api/v1/queue/status', { queueToken })),
      ),
    );
    expect(failed.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(batches).toHaveBeenCalledTimes(2);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: waiting[0]! })).body.position).toBe(1);
  });
});

describe.each(backends)('joins under load on $name', (backend) => {
  const turn = turnInHand();
  const service = useService(backend, {
    env: { QUEUE_MAX_ACTIVE: '1', QUEUE_ADMIT_PER_SECOND: '1' },
    turnScheduler: turn.schedule,
  });

  test('when 300 users join in one turn, then they reach the store in one call, each gets the place of their arrival, and a second press returns the same token', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const users: User[] = [];
    for (let i = 0; i < 300; i++) users.push(await s.newUser(`j${i}`));
    const batches = vi.spyOn(s.store, 'joinMany');

    const joined = await turn.together(300, () => Promise.all(users.map((user) => s.join(user, concertId))));
    expect(joined.map((r) => r.status)).toEqual(users.map(() => 201));
    // One turn's joins of one line are one store call (≤ 500 users); unbatched, 300 calls. The
    // line is in the order the joins reached the batcher, each as if it had joined alone.
    expect(batches).toHaveBeenCalledTimes(1);
    const arrivalOrder = batches.mock.calls[0]![1];
    expect([...arrivalOrder].sort()).toEqual(users.map((u) => u.userId).sort());
    expect(joined.map((r) => r.body.position)).toEqual(users.map((u) => arrivalOrder.indexOf(u.userId) + 1));
    expect(new Set(joined.map((r) => r.body.ticket)).size).toBe(300);

    // The same user twice in one turn: one ticket, one token, 201 then 200.
    const late = await s.newUser('twice');
    const [a, b] = await turn.together(2, () =>
      Promise.all([s.join(late, concertId), s.join(late, concertId)]),
    );
    expect(batches).toHaveBeenCalledTimes(2);
    expect(batches.mock.calls[1]![1]).toEqual([late.userId, late.userId]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.token).toBe(b.body.token);
    expect(a.body.position).toBe(301);
  });
});

import { request as httpRequest } from 'node:http';
import { describe, expect, test, vi } from 'vitest';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import {
  EVENTS_HEARTBEAT_MS,
  EVENTS_POLL_MS,
  STREAMS_PER_TOKEN,
  StreamHub,
} from '../../src/queue/stream-hub.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { type TestContext, useService } from '../helpers/context.js';
import { expectProblem } from './problem.js';

announceSkips('event streams');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  status: string;
  position: number | null;
  at: number;
}

/** An open event stream: its events as they arrive (with the wall time of arrival), and its end. */
async function openStream(port: number, token: string) {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/queue/events?token=${encodeURIComponent(token)}`, {
    signal: controller.signal,
  });
  const events: Received[] = [];
  let ended = false;
  const done = (async () => {
    if (res.status !== 200 || !res.body) return;
    const reader = res.body.getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += new TextDecoder().decode(value);
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, i)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          buffer = buffer.slice(i + 2);
          if (data) events.push({ ...JSON.parse(data.slice(6)), at: Date.now() });
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  return {
    res,
    events,
    done,
    get ended() {
      return ended;
    },
    close: () => controller.abort(),
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/**
 * Counts the calls of `target[method]` as they are made (the real method still runs);
 * `reached(n)` resolves at the n-th call: an event to await instead of a sleep.
 */
function countCalls(target: any, method: string) {
  const original = target[method] as (...args: unknown[]) => unknown;
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const spy = vi.spyOn(target, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
    count++;
    for (const waiter of waiters.filter((w) => w.n <= count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return original.apply(this, args);
  });
  return {
    spy,
    get count() {
      return count;
    },
    reached: (n: number) =>
      n <= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

async function listen(s: TestContext): Promise<number> {
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  return (s.app.server.address() as { port: number }).port;
}

async function waitingToken(s: TestContext, concertId: string): Promise<string> {
  return (await s.join(await s.newUser(), concertId)).body.token;
}

describe.each(backends)('event streams on $name', (backend) => {
  describe('limits', () => {
    const service = useService(backend, {
      env: { EVENT_STREAMS_MAX: '4', QUEUE_IDLE_TIMEOUT_SECONDS: '30' },
    });

    test('when a fourth stream is opened for one token, then it is 429 RATE_LIMITED; once one closes, another may open', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      await s.store.updateSettings(concertId, { paused: true });
      const token = await waitingToken(s, concertId);
      const port = await listen(s);
      const open = [];
      for (let i = 0; i < STREAMS_PER_TOKEN; i++) {
        const stream = await openStream(port, token);
        expect(stream.res.status).toBe(200);
        open.push(stream);
      }
      const fourth = await fetch(
        `http://127.0.0.1:${port}/api/v1/queue/events?token=${encodeURIComponent(token)}`,
      );
      expectProblem(
        { status: fourth.status, headers: Object.fromEntries(fourth.headers), body: await fourth.text() },
        429,
        'RATE_LIMITED',
      );
      open[0]!.close();
      await until(async () => {
        const again = await openStream(port, token);
        if (again.res.status === 200) open.push(again);
        else await again.res.body?.cancel();
        return again.res.status === 200;
      });
      for (const stream of open) stream.close();
    });

    test('when the instance is at its stream capacity, then the next stream is 503 UNAVAILABLE with Retry-After and polling still works', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      await s.store.updateSettings(concertId, { paused: true });
      const port = await listen(s);
      const open = [];
      for (let i = 0; i < 4; i++) {
        const stream = await openStream(port, await waitingToken(s, concertId));
        expect(stream.res.status).toBe(200);
        open.push(stream);
      }
      const token = await waitingToken(s, concertId);
      const full = await fetch(
        `http://127.0.0.1:${port}/api/v1/queue/events?token=${encodeURIComponent(token)}`,
      );
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
      expectProblem(
        { status: full.status, headers: Object.fromEntries(full.headers), body: await full.text() },
        503,
        'UNAVAILABLE',
      );
      expect((await s.call('GET', '/api/v1/queue/status', { queueToken: token })).status).toBe(200);
      for (const stream of open) stream.close();
    });
  });

  describe('clients that leave', () => {
    const service = useService(backend, { env: { QUEUE_IDLE_TIMEOUT_SECONDS: '30' } });

    test('when a client disconnects while its first status read is in flight, then no poller is left: its slot is free and its ticket goes idle', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      await s.store.updateSettings(concertId, { paused: true });
      const token = await waitingToken(s, concertId);
      const port = await listen(s);

      // What the hub does, counted as it happens (the real methods run).
      const subscribed = countCalls(StreamHub.prototype, 'subscribe');
      const released = countCalls(StreamHub.prototype, 'release');

      // The real store, with its first reads held until the clients are gone.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      // (Status reads go to the store batched, through viewMany; each request here is alone in
      // its batch.)
      const viewMany = s.store.viewMany.bind(s.store);
      let started = 0;
      const spy = vi.spyOn(s.store, 'viewMany').mockImplementation(async (...args) => {
        started++;
        await held;
        return viewMany(...args);
      });
      const gone: Promise<void>[] = [];
      for (let i = 0; i < STREAMS_PER_TOKEN; i++) {
        const req = httpRequest(
          `http://127.0.0.1:${port}/api/v1/queue/events?token=${encodeURIComponent(token)}`,
        );
        req.on('error', () => {});
        gone.push(new Promise((resolve) => req.on('close', () => resolve())));
        req.end();
        await until(() => started === i + 1);
        req.destroy();
      }
      await Promise.all(gone);
      // The server has seen each client go (each stream released its slot) before any read returns.
      await released.reached(STREAMS_PER_TOKEN);
      release();
      await Promise.all(spy.mock.results.map((r) => r.value));
      // Past the reads, the handlers only run microtasks; a turn later they are all done.
      await new Promise((resolve) => setImmediate(resolve));
      spy.mockRestore();
      // No orphan started being read: no poller was ever made for them.
      expect(subscribed.count).toBe(0);

      // Three orphans would hold all three places of the token.
      const stream = await openStream(port, token);
      expect(stream.res.status).toBe(200);
      await until(() => stream.events.length === 1);
      expect(subscribed.count).toBe(1);
      const hub = subscribed.spy.mock.contexts[0] as StreamHub;
      stream.close();
      await stream.done;
      // The server sees the close: the one stream lets go of its slot, and the hub holds none, so
      // nothing reads (and keeps alive) the ticket any more.
      await released.reached(STREAMS_PER_TOKEN + 1);
      expect(hub.size).toBe(0);
      subscribed.spy.mockRestore();
      released.spy.mockRestore();

      // Past the idle timeout the ticket is dropped.
      s.clock.advance(31_000);
      await s.advance(concertId);
      expect((await s.store.view(concertId, 1, s.clock.now(), false)).state).toBe('EXPIRED');
    });
  });

  describe('a slow store', () => {
    const service = useService(backend, { env: { QUEUE_IDLE_TIMEOUT_SECONDS: '60' } });

    test('when the batched read hangs, then heartbeats still reach every stream on time', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      await s.store.updateSettings(concertId, { paused: true });
      const port = await listen(s);
      const streams: Awaited<ReturnType<typeof openStream>>[] = [];
      for (let i = 0; i < 3; i++) streams.push(await openStream(port, await waitingToken(s, concertId)));
      await until(() => streams.every((st) => st.events.length === 1));
      let release!: () => void;
      const stuck = new Promise<void>((resolve) => {
        release = resolve;
      });
      const viewMany = s.store.viewMany.bind(s.store);
      let stuckReads = () => {};
      const readStuck = new Promise<void>((resolve) => {
        stuckReads = resolve;
      });
      const spy = vi.spyOn(s.store, 'viewMany').mockImplementation(async (...args) => {
        stuckReads();
        await stuck;
        return viewMany(...args);
      });
      await readStuck; // the next period's read is now stuck
      s.clock.advance(EVENTS_HEARTBEAT_MS);
      await until(() => streams.every((st) => st.events.length === 2), EVENTS_POLL_MS * 3);
      expect(streams.every((st) => st.events[1]!.status === 'WAITING')).toBe(true);
      release();
      spy.mockRestore();
      for (const st of streams) st.close();
    });
  });

  describe('many streams on one line', () => {
    const service = useService(backend, {
      env: { QUEUE_IDLE_TIMEOUT_SECONDS: '60', QUEUE_MAX_ACTIVE: '1000', QUEUE_ADMIT_PER_SECOND: '1000' },
    });

    test('when 60 streams wait on one line, then the instance reads their tickets in one batched call per period, heartbeats flow, and every stream gets ACTIVE within 2 s of admission', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      await s.store.updateSettings(concertId, { paused: true });
      const tokens: string[] = [];
      for (let i = 0; i < 60; i++) tokens.push(await waitingToken(s, concertId));
      const port = await listen(s);
      const views = vi.spyOn(s.store, 'view');
      const batches = vi.spyOn(s.store, 'viewMany');
      const streams = await Promise.all(tokens.map((token) => openStream(port, token)));
      await until(() => streams.every((st) => st.events.length === 1));
      expect(streams.map((st) => st.events[0]!.position)).toEqual(tokens.map((_, i) => i + 1));
      // One read per stream to open it (batched with the other reads of its turn)...
      const ticketsRead = batches.mock.calls.reduce((n, call) => n + call[1].length, 0);
      expect(ticketsRead).toBeGreaterThanOrEqual(60);
      batches.mockRestore();
      views.mockClear();

      // ...then one call per period for the whole line. A period's read starts only once the
      // previous one has delivered, so at the third call two periods have been read and sent.
      const periods = countCalls(s.store, 'viewMany');
      await periods.reached(3);
      const [first, second, third] = periods.spy.mock.calls;
      for (const call of [first, second, third]) {
        expect(call![0]).toBe(concertId);
        expect(call![1]).toHaveLength(60);
      }
      // (The in-process store answers a batch by looking at each ticket in turn; the Redis one
      // runs one script.)
      if (!(s.store instanceof MemoryQueueStore)) expect(views).not.toHaveBeenCalled();
      expect(streams.every((st) => st.events.length === 1)).toBe(true); // nothing changed, nothing sent
      periods.spy.mockRestore();

      // Heartbeat: past the heartbeat period the same status is sent again.
      s.clock.advance(EVENTS_HEARTBEAT_MS);
      await until(() => streams.every((st) => st.events.length === 2), EVENTS_POLL_MS * 3);
      expect(streams.every((st) => st.events[1]!.status === 'WAITING')).toBe(true);

      await s.store.updateSettings(concertId, { paused: false });
      const admittedAt = Date.now();
      expect(await s.advance(concertId)).toBe(60);
      await until(() => streams.every((st) => st.ended), 5000);
      for (const st of streams) {
        const last = st.events.at(-1)!;
        expect(last.status).toBe('ACTIVE');
        expect(last.at - admittedAt).toBeLessThan(2000);
      }
    });
  });
});

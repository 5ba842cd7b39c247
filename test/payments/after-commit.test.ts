import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../harness/wait.js';
import type { Database } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { startApp, testConfig } from '../helpers/app.js';
import { openScratchDatabase, readyRedis, serverUrls, skipWithout } from '../helpers/backends.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const skip = skipWithout('after commit', ['database', 'redis'], 'PostgreSQL to watch, Redis to cut off');

/**
 * A loopback proxy in front of PostgreSQL that, once armed, holds back the answer to the first
 * statement containing `marker` and runs `beforeAnswer` before letting it through. The answer of
 * an autocommitted statement is only sent once it has committed, so `beforeAnswer` runs exactly
 * between the commit and the moment the app learns of it.
 */
class AnswerInterceptor {
  private server: net.Server | undefined;
  port = 0;
  private armed: { marker: string; beforeAnswer: () => Promise<void> } | undefined;

  constructor(private readonly target: URL) {}

  arm(marker: string, beforeAnswer: () => Promise<void>): void {
    this.armed = { marker, beforeAnswer };
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
      let waiting: (() => Promise<void>) | undefined;
      let chain = Promise.resolve();
      client.on('data', (chunk) => {
        const armed = this.armed;
        if (armed && chunk.includes(armed.marker)) {
          this.armed = undefined;
          waiting = armed.beforeAnswer;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        const hook = waiting;
        waiting = undefined;
        chain = chain.then(async () => {
          if (hook) await hook();
          client.write(chunk);
        });
      });
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.on('error', () => {});
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe.skipIf(skip)('after a payment commits', () => {
  let pg: AnswerInterceptor;
  let redisProxy: TcpProxy;
  let database: Database;
  let store: RedisQueueStore;
  let app: App;
  let disconnect: () => void;

  beforeAll(async () => {
    const redisUrl = new URL(serverUrls.redis!);
    pg = new AnswerInterceptor(new URL(serverUrls.database!));
    await pg.start();
    redisProxy = await new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379)).start();
    database = await openScratchDatabase(serverUrls.database!, (url) => {
      url.hostname = '127.0.0.1';
      url.port = String(pg.port);
      return url;
    });
    redisUrl.port = String(redisProxy.port);
    const redis = await readyRedis(redisUrl.toString());
    disconnect = () => redis.disconnect();
    const config = testConfig({ ADMIN_KEY: 'after-commit-admin-key' });
    store = new RedisQueueStore(
      redis,
      queueOptions(config).timings,
      { maxActive: 10, admitPerSecond: 10, paused: false },
      { prefix: `bo-after-commit-${randomBytes(4).toString('hex')}:` },
    );
    app = await startApp({ config, database, queueStore: store });
  });

  afterAll(async () => {
    await app?.close();
    await redisProxy?.restore().catch(() => {});
    await database?.close();
    disconnect?.();
    await redisProxy?.stop();
    await pg?.stop();
  });

  test('when Redis goes away between the commit and giving the queue slot back, then the buyer gets 201 and the slot comes back once Redis does', async () => {
    const call = async (
      method: 'GET' | 'POST',
      url: string,
      headers: Record<string, string>,
      payload?: object,
    ) => {
      const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    };
    const user = (await call('POST', '/api/v1/users', {}, {})).body;
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const concert = (
      await call(
        'POST',
        '/api/v1/admin/concerts',
        { 'admin-key': 'after-commit-admin-key' },
        { title: 'T', venue: 'V', dates: [{ date: '2099-01-01', price: 1000 }] },
      )
    ).body;
    expect((await call('POST', '/api/v1/balance/charges', auth, { amount: 5000 })).status).toBe(200);
    const { token } = (await call('POST', '/api/v1/queue/tokens', auth, { concertId: concert.concertId }))
      .body;
    await store.advance(concert.concertId, Date.now());
    const gated = { ...auth, 'queue-token': token };
    const held = await call('POST', '/api/v1/reservations', gated, {
      concertId: concert.concertId,
      date: '2099-01-01',
      seatNumber: 7,
    });
    expect(held.status).toBe(201);
    expect((await store.counts(concert.concertId, Date.now())).active).toBe(1);

    let cut = false;
    pg.arm('pay_reservations(', async () => {
      await redisProxy.cut();
      cut = true;
    });
    const paid = await call(
      'POST',
      '/api/v1/payments',
      { ...gated, 'idempotency-key': 'k1' },
      {
        reservationId: held.body.reservationId,
      },
    );
    expect(cut).toBe(true);
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ reservationId: held.body.reservationId, amount: 1000, balance: 4000 });
    // Redis is away: the queue answers 503, but the payment stands.
    expect((await call('GET', '/api/v1/queue/status', { 'queue-token': token })).status).toBe(503);
    expect((await call('GET', '/api/v1/payments', auth)).body).toHaveLength(1);

    await redisProxy.restore();
    await eventually(async () => (await store.counts(concert.concertId, Date.now())).active === 0, {
      what: 'the slot given back once Redis is back',
    });
    expect((await call('GET', '/api/v1/queue/status', { 'queue-token': token })).body.status).toBe('EXPIRED');
    // A retry with the key still gets the first answer, once.
    const retry = await call(
      'POST',
      '/api/v1/payments',
      { ...gated, 'idempotency-key': 'k1' },
      {
        reservationId: held.body.reservationId,
      },
    );
    expect(retry).toEqual(paid);
    expect((await call('GET', '/api/v1/balance', auth)).body.balance).toBe(4000);
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../harness/wait.js';
import type { Database } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { startApp, testConfig } from '../helpers/app.js';
import { openScratchDatabase, readyRedis, serverUrls, skipWithout } from '../helpers/backends.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const skip = skipWithout('outage', ['database', 'redis'], 'a PostgreSQL server and Redis to cut off');

describe.skipIf(skip)('when a backing store goes away', () => {
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let database: Database;
  let store: RedisQueueStore;
  let app: App;
  let disconnect: () => void;

  beforeAll(async () => {
    const pgUrl = new URL(serverUrls.database!);
    const redisUrl = new URL(serverUrls.redis!);
    pgProxy = await new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432)).start();
    redisProxy = await new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379)).start();
    database = await openScratchDatabase(serverUrls.database!, (url) => {
      url.port = String(pgProxy.port);
      return url;
    });
    redisUrl.port = String(redisProxy.port);
    const redis = await readyRedis(redisUrl.toString());
    disconnect = () => redis.disconnect();
    const config = testConfig({ ADMIN_KEY: 'outage-admin-key-0123' });
    store = new RedisQueueStore(
      redis,
      queueOptions(config).timings,
      { maxActive: 10, admitPerSecond: 10, paused: false },
      { prefix: `bo-outage-${randomBytes(4).toString('hex')}:` },
    );
    // With its background jobs, as a running instance has them while its stores go away.
    app = await startApp({ config, database, queueStore: store, backgroundJobs: true });
  });

  afterAll(async () => {
    await app?.close();
    await pgProxy?.restore().catch(() => {});
    await database?.close();
    disconnect?.();
    await pgProxy?.stop();
    await redisProxy?.stop();
  });

  test('when PostgreSQL is unreachable, then requests get a quick 503 UNAVAILABLE and service resumes by itself', async () => {
    const user = (await app.inject({ method: 'POST', url: '/api/v1/users', payload: {} })).json();
    const auth = { authorization: `Bearer ${user.accessToken}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/balance', headers: auth })).statusCode).toBe(200);

    await pgProxy.cut();
    const started = Date.now();
    const down = await app.inject({ method: 'GET', url: '/api/v1/balance', headers: auth });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.json()).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(down.body).not.toMatch(/\.(ts|js):\d+/);
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

    await pgProxy.restore();
    const back = await eventually(
      async () =>
        (await app.inject({ method: 'GET', url: '/api/v1/balance', headers: auth })).statusCode === 200,
      { everyMs: 200, what: 'a balance read once PostgreSQL is back' },
    );
    expect(back).toBe(true);
  });

  test('when Redis is unreachable, then queue calls get a quick 503 UNAVAILABLE and service resumes by itself', async () => {
    const user = (await app.inject({ method: 'POST', url: '/api/v1/users', payload: {} })).json();
    const concert = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/concerts',
      headers: { 'admin-key': 'outage-admin-key-0123' },
      payload: { title: 'T', venue: 'V', dates: [{ date: '2099-01-01', price: 1000 }] },
    });
    const join = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/queue/tokens',
        headers: { authorization: `Bearer ${user.accessToken}` },
        payload: { concertId: concert.json().concertId },
      });
    expect((await join()).statusCode).toBe(201);

    await redisProxy.cut();
    const started = Date.now();
    const down = await join();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(down.statusCode).toBe(503);
    expect(down.json().code).toBe('UNAVAILABLE');
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);

    await redisProxy.restore();
    expect(
      await eventually(async () => (await join()).statusCode === 200, {
        everyMs: 200,
        what: 'a join once Redis is back',
      }),
    ).toBe(true);
  });
});

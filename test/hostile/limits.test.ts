import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Database } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { startApp, testConfig } from '../helpers/app.js';
import { announceSkips, backends, readyRedis, serverUrls, skipWithout } from '../helpers/backends.js';
import { ADMIN_KEY, useService } from '../helpers/context.js';
import { expectProblem } from './problem.js';

announceSkips('abuse limits');

type Inject = Awaited<ReturnType<App['inject']>>;
const asResponse = (res: Inject) => ({ status: res.statusCode, headers: res.headers, body: res.body });

describe.each(backends)('abuse limits on $name', (backend) => {
  describe('the general budget', () => {
    const service = useService(backend, {
      env: { RATE_LIMIT_PER_MINUTE: '5', SIGNUP_LIMIT_PER_MINUTE: '100' },
    });

    test('when every request carries a different unverifiable credential, then they all count against the address', async () => {
      const s = service();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const headers: Record<string, string> =
          i % 2 === 0 ? { authorization: `Bearer forged.${i}` } : { 'queue-token': `x${i}` };
        statuses.push((await s.call('GET', '/api/v1/concerts', { headers })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      // `?token=` on the event stream is a credential like the header: a forged one is the address.
      const stream = await s.call('GET', '/api/v1/queue/events?token=forged');
      expectProblem(stream, 429, 'RATE_LIMITED');
      expect(Number(stream.headers['retry-after'])).toBeGreaterThan(0);
    });

    test('when /metrics is scraped in a loop, then it is limited like any request; health probes never are', async () => {
      const s = service();
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await s.call('GET', '/metrics')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      for (let i = 0; i < 20; i++) expect((await s.call('GET', '/health/ready')).status).toBe(200);
    });

    test('when a user sends a verified token, then the budget is that user’s, whatever the header spelling or credential', async () => {
      const s = service();
      const { concertId } = await s.newConcert();
      const a = await s.newUser();
      const b = await s.newUser();
      const token: string = (await s.join(a, concertId)).body.token;
      // 2 requests so far from this address (creating users counts against the sign-up budget only).
      const asA = [
        () => s.call('GET', '/api/v1/balance', { user: a }),
        () => s.call('GET', '/api/v1/queue/status', { queueToken: token }), // the token names user a
      ];
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await asA[i % 2]!()).status);
      // join + 4 more = 5 allowed; the queue token counts as the same user as the bearer token.
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect((await s.call('GET', '/api/v1/balance', { user: b })).status).toBe(200);
    });
  });

  describe('account creation and wrong keys', () => {
    const service = useService(backend, {
      env: { RATE_LIMIT_PER_MINUTE: '1000', SIGNUP_LIMIT_PER_MINUTE: '3', ADMIN_KEY_FAILURES_PER_HOUR: '3' },
    });

    test('when one address creates accounts in a loop with a fresh Authorization header each time, then the fourth is 429', async () => {
      const s = service();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push(
          (await s.call('POST', '/api/v1/users', { body: {}, headers: { authorization: `x${i}` } })).status,
        );
      }
      expect(statuses).toEqual([201, 201, 201, 429, 429, 429]);
      // Another address has its own budget.
      const other = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        payload: {},
        remoteAddress: '10.1.2.3',
      });
      expect(other.statusCode).toBe(201);
    });

    test('when wrong admin keys are guessed, then the address is refused with 429 after the budget, even with the right key; right keys spend nothing', async () => {
      const s = service();
      const url = '/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/queue';
      for (let i = 0; i < 10; i++) {
        expect((await s.call('GET', url, { headers: { 'admin-key': ADMIN_KEY } })).body.code).toBe(
          'CONCERT_NOT_FOUND',
        );
      }
      const wrong = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          s.call('GET', url, { headers: { 'admin-key': `${ADMIN_KEY}${i}` } }),
        ),
      );
      // Concurrent guesses cannot slip past the budget: exactly 3 were compared.
      expect(wrong.map((r) => r.status).sort()).toEqual([401, 401, 401, 429, 429, 429]);
      const locked = await s.call('GET', url, { headers: { 'admin-key': ADMIN_KEY } });
      expectProblem(locked, 429, 'RATE_LIMITED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      const elsewhere = await s.app.inject({
        method: 'GET',
        url,
        headers: { 'admin-key': ADMIN_KEY },
        remoteAddress: '10.9.9.9',
      });
      expect(elsewhere.json().code).toBe('CONCERT_NOT_FOUND');
    });
  });

  describe('operations endpoints', () => {
    const metricsKey = 'metrics-key-0123456789';
    // Every key-checked request holds one unit of the wrong-key budget while it is checked:
    // 50 scrapes at once need a budget of 50.
    const service = useService(backend, {
      env: { METRICS_KEY: metricsKey, ADMIN_KEY_FAILURES_PER_HOUR: '100' },
    });

    test('when METRICS_KEY is set, then /metrics needs it as a bearer credential', async () => {
      const s = service();
      expectProblem(await s.call('GET', '/metrics'), 401, 'UNAUTHENTICATED');
      expectProblem(
        await s.call('GET', '/metrics', { headers: { authorization: 'Bearer wrong-metrics-key-000' } }),
        401,
        'UNAUTHENTICATED',
      );
      const ok = await s.call('GET', '/metrics', { headers: { authorization: `Bearer ${metricsKey}` } });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('boxoffice_http_requests_total');
    });

    test('when /metrics and /health/ready are hammered, then the stores are read once per period, not once per request', async () => {
      const s = service();
      await s.newConcert();
      const lines = vi.spyOn(s.store, 'concertIds');
      const pings = vi.spyOn(s.store, 'ping');
      const auth = { authorization: `Bearer ${metricsKey}` };
      const scrapes = await Promise.all(
        Array.from({ length: 50 }, () => s.call('GET', '/metrics', { headers: auth })),
      );
      for (let i = 0; i < 20; i++) scrapes.push(await s.call('GET', '/metrics', { headers: auth }));
      expect(scrapes.every((r) => r.status === 200)).toBe(true);
      expect(lines).toHaveBeenCalledTimes(1);
      const probes = await Promise.all(Array.from({ length: 50 }, () => s.call('GET', '/health/ready')));
      expect(probes.every((r) => r.status === 200)).toBe(true);
      expect(pings).toHaveBeenCalledTimes(1);
    });
  });
});

const skipServers = skipWithout(
  'limits across instances',
  ['database', 'redis'],
  'two instances sharing Redis',
);

describe.skipIf(skipServers)('budgets across instances (Redis)', () => {
  let database: Database;
  let redis: Awaited<ReturnType<typeof readyRedis>>;
  const apps: App[] = [];
  const disposers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    database = await backends[1]!.openDatabase();
    redis = await readyRedis(serverUrls.redis!);
    const prefix = `bo-test-rl-${randomBytes(4).toString('hex')}:`;
    const config = testConfig({
      RATE_LIMIT_PER_MINUTE: '6',
      SIGNUP_LIMIT_PER_MINUTE: '4',
      ADMIN_KEY_FAILURES_PER_HOUR: '2',
    });
    const secret = randomBytes(32);
    for (let i = 0; i < 2; i++) {
      const store = await backends[1]!.openQueueStore(queueOptions(config).timings, {
        maxActive: 10,
        admitPerSecond: 10,
        paused: false,
      });
      disposers.push(() => store.dispose());
      apps.push(await startApp({ config, database, queueStore: store, secret, redis, redisPrefix: prefix }));
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const dispose of disposers) await dispose();
    redis?.disconnect();
    await database?.close();
  });

  test('when one client spreads its requests over two instances, then the limits hold for the pair', async () => {
    const [a, b] = apps as [App, App];
    const created: number[] = [];
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? a : b;
      created.push((await app.inject({ method: 'POST', url: '/api/v1/users', payload: {} })).statusCode);
    }
    expect(created).toEqual([201, 201, 201, 201, 429, 429]);

    const user = (
      await a.inject({ method: 'POST', url: '/api/v1/users', payload: {}, remoteAddress: '10.0.0.7' })
    ).json();
    const auth = { authorization: `Bearer ${user.accessToken}` };
    const reads: number[] = [];
    for (let i = 0; i < 8; i++) {
      reads.push(
        (await (i % 2 === 0 ? a : b).inject({ method: 'GET', url: '/api/v1/balance', headers: auth }))
          .statusCode,
      );
    }
    expect(reads).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);

    const url = '/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/queue';
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await (i % 2 === 0 ? a : b).inject({
        method: 'GET',
        url,
        headers: { 'admin-key': `guess-${i}-0000000000` },
        remoteAddress: '10.0.0.8',
      });
      guesses.push(res.statusCode);
      expectProblem(asResponse(res), res.statusCode);
    }
    expect(guesses).toEqual([401, 401, 429, 429]);
  });
});

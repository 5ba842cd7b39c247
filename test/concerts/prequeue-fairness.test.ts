import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { drawOrder as verifierOrder } from '../../scripts/verify-draw.mjs';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import type { Database } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import type { QueueStore } from '../../src/queue/queue-store.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { commitmentOf, drawOrder } from '../../src/sale/draw.js';
import { ManualClock } from '../../src/shared/clock.js';
import { startApp, testConfig } from '../helpers/app.js';
import { announceSkips, backends, readyRedis, serverUrls } from '../helpers/backends.js';

/** Fixed seeds, so every statistic below is deterministic: the test can fail, never flake. */
const seed = (label: string) => createHash('sha256').update(label).digest('hex');

/** Spearman's rank correlation of two permutations of the same ranks 0…n−1. */
function spearman(a: number[], b: number[]): number {
  const n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (a[i]! - b[i]!) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

/** Pearson's chi-square of observed counts against one expected count per cell. */
function chiSquare(observed: number[], expected: number): number {
  return observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
}

describe('the draw procedure', () => {
  test('when four tickets are drawn under 24,000 seeds, then all 24 orders come up equally often (chi-square)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 24_000; i++) {
      const key = drawOrder(seed(`perm-${i}`), [3, 5, 8, 13]).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    // 23 degrees of freedom: 52.6 is the 0.01 % critical value.
    expect(chiSquare([...counts.values()], 1000)).toBeLessThan(52.6);
  });

  test('when 3,000 tickets are drawn under ten seeds, then the place is independent of arrival (rank correlation, quintile table)', () => {
    const n = 3000;
    const tickets = Array.from({ length: n }, (_, i) => 1000 + i * 3); // arrival order = ticket order
    const table = new Array<number>(25).fill(0);
    for (let s = 0; s < 10; s++) {
      const order = drawOrder(seed(`big-${s}`), tickets);
      const place = new Map(order.map((t, i) => [t, i]));
      const places = tickets.map((t) => place.get(t)!);
      // n = 3000: the correlation's standard deviation is 1/√2999 ≈ 0.018; 0.08 is 4.4 of them.
      expect(
        Math.abs(
          spearman(
            tickets.map((_, i) => i),
            places,
          ),
        ),
      ).toBeLessThan(0.08);
      tickets.forEach((_, arrival) => {
        table[Math.floor((arrival * 5) / n) * 5 + Math.floor((places[arrival]! * 5) / n)]!++;
      });
    }
    // 16 degrees of freedom: 42.3 is the 0.01 % critical value.
    expect(chiSquare(table, (10 * n) / 25)).toBeLessThan(42.3);
  });

  test('when the published verifier recomputes a draw, then it gives the same order as the service', () => {
    const tickets = Array.from({ length: 500 }, (_, i) => i * 7 + 1);
    expect(verifierOrder(seed('verify'), tickets)).toEqual(drawOrder(seed('verify'), tickets));
    expect(drawOrder(seed('verify'), [...tickets].reverse())).toEqual(drawOrder(seed('verify'), tickets));
    expect(drawOrder(seed('other'), tickets)).not.toEqual(drawOrder(seed('verify'), tickets));
  });
});

announceSkips('pre-queue fairness');

describe.each(backends)('a fair pre-queue across two instances on $name', (backend) => {
  const clock = new ManualClock();
  const ADMIN = { 'admin-key': 'fairness-admin-key' };
  let database: Database;
  let apps: App[] = [];
  let stores: QueueStore[] = [];
  let cleanup: () => Promise<void> = async () => {};

  beforeAll(async () => {
    database = await backend.openDatabase();
    const config = testConfig({ ADMIN_KEY: ADMIN['admin-key'], QUEUE_IDLE_TIMEOUT_SECONDS: '3600' });
    const timings = queueOptions(config).timings;
    const defaults = { maxActive: 100, admitPerSecond: 20, paused: false };
    if (backend.kind === 'servers') {
      // Two instances: each its own connection, one shared line.
      const prefix = `bo-test-${randomBytes(4).toString('hex')}:`;
      const connections = await Promise.all([readyRedis(serverUrls.redis!), readyRedis(serverUrls.redis!)]);
      stores = connections.map((redis) => new RedisQueueStore(redis, timings, defaults, { prefix }));
      cleanup = async () => {
        for (const c of connections) c.disconnect();
      };
    } else {
      // In process, two app instances over one store stand for two instances over one Redis.
      const shared = new MemoryQueueStore(timings, defaults);
      stores = [shared, shared];
    }
    const secret = randomBytes(32);
    apps = await Promise.all(
      stores.map((queueStore) => startApp({ config, database, queueStore, secret, clock })),
    );
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await cleanup();
    await database?.close();
  });

  const call = async (
    app: App,
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: object,
  ) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(body ? { payload: body } : {}),
    });
    return { status: res.statusCode, body: res.json() };
  };

  test('when 1,000 users pre-queue through either instance for each of three openings, then each opening draws once, both instances show the same places, and place does not depend on arrival or instance', async () => {
    const users = [];
    for (let i = 0; i < 1000; i++) {
      users.push(
        (await call(apps[i % 2]!, 'POST', '/api/v1/users', {}, { name: `u${i}` })).body.accessToken as string,
      );
    }
    for (const opening of [0, 1, 2]) {
      const opensAt = clock.now() + 10 * 60_000;
      const created = await call(apps[0]!, 'POST', '/api/v1/admin/concerts', ADMIN, {
        title: `Opening ${opening}`,
        venue: 'Hall',
        saleOpensAt: new Date(opensAt).toISOString(),
        dates: [{ date: addDays(todayUtc(clock.now()), 60), price: 10_000 }],
      });
      const concertId: string = created.body.concertId;
      // The operator's seed is fixed here so the statistics are reproducible; the commitment
      // is republished to match, before anyone joins.
      const fixed = seed(`opening-${opening}`);
      await database.db.execute(
        sql`UPDATE concert_sales SET draw_seed = ${fixed}, draw_commitment = ${commitmentOf(fixed)} WHERE concert_id = ${concertId}`,
      );

      const joined: { token: string; ticket: number; instance: number }[] = [];
      for (let i = 0; i < users.length; i++) {
        const instance = (i + opening) % 2;
        const res = await call(
          apps[instance]!,
          'POST',
          '/api/v1/queue/tokens',
          { authorization: `Bearer ${users[i]}` },
          {
            concertId,
          },
        );
        expect(res.status).toBe(201);
        expect(res.body.position).toBeNull();
        joined.push({ token: res.body.token, ticket: res.body.ticket, instance });
      }

      // The opening: status reads race through both instances; the first ones draw.
      clock.set(opensAt);
      const statuses = await Promise.all(
        joined.flatMap((j) =>
          apps.map((app) => call(app, 'GET', '/api/v1/queue/status', { 'queue-token': j.token })),
        ),
      );
      const draw = (await call(apps[1]!, 'GET', `/api/v1/concerts/${concertId}/draw`, {})).body;
      expect(draw.seed).toBe(fixed);
      const tickets = joined.map((j) => j.ticket);
      expect(draw.tickets).toEqual(drawOrder(fixed, tickets));

      const places = joined.map((j, i) => {
        const [a, b] = [statuses[2 * i]!.body, statuses[2 * i + 1]!.body];
        expect(a.position).toBe(b.position);
        expect(a.position).toBe(draw.tickets.indexOf(j.ticket) + 1);
        return a.position - 1;
      });
      expect(new Set(places).size).toBe(1000);
      // n = 1000: the correlation's standard deviation is ≈ 0.032; 0.15 is 4.7 of them.
      expect(
        Math.abs(
          spearman(
            places.map((_, i) => i),
            places,
          ),
        ),
      ).toBeLessThan(0.15);
      // Mean place of each instance's joiners: 499.5 ± 13 (one standard deviation); 65 is 5.
      for (const instance of [0, 1]) {
        const mine = places.filter((_, i) => joined[i]!.instance === instance);
        expect(Math.abs(mine.reduce((a, b) => a + b, 0) / mine.length - 499.5)).toBeLessThan(65);
      }

      // After the opening the line is first come, first served again, behind the whole draw.
      for (let i = 0; i < 6; i++) {
        const app = apps[i % 2]!;
        const user = (await call(app, 'POST', '/api/v1/users', {}, { name: `late${i}` })).body.accessToken;
        const res = await call(
          app,
          'POST',
          '/api/v1/queue/tokens',
          { authorization: `Bearer ${user}` },
          { concertId },
        );
        expect(res.body.position).toBe(1000 + i + 1);
      }
      // A pre-queued user who joins again gets their own token and place back.
      const again = await call(
        apps[1]!,
        'POST',
        '/api/v1/queue/tokens',
        { authorization: `Bearer ${users[0]}` },
        {
          concertId,
        },
      );
      expect(again.body).toMatchObject({ token: joined[0]!.token, position: places[0]! + 1 });
      clock.advance(60 * 60_000);
    }
  }, 180_000);
});

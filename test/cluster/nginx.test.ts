import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { startService } from '../../harness/service.js';
import { NginxServer, nginxBinary } from './nginx-support.js';
import {
  adminUrl,
  createConcert,
  expectCleanSale,
  join,
  ownRedis,
  type QueueStatus,
  requireServers,
  type ServerSettings,
  saleWithChecks,
  serversReady,
  signUp,
} from './support.js';

/**
 * The shipped deploy/nginx/boxoffice.conf in front of three instances, as an operator runs it
 * (nginx-support.ts renders it with the test's ports): a whole sale through nginx's one
 * address with an instance SIGKILLed mid-sale, an event stream through it, and the rate
 * limiter keyed by the real client address however X-Forwarded-For is forged
 * (TRUST_PROXY=127.0.0.1: the instances believe nginx, and nginx overwrites the header).
 */

requireServers('nginx');
const NGINX = nginxBinary();
if (!NGINX && serversReady) {
  // The rule of test/helpers/backends.ts skipWithout: announced here, a failure in CI.
  const reason = '[nginx] needs the nginx binary (apt-get install nginx-light)';
  if (process.env.CI) throw new Error(`${reason}: CI must run it`);
  console.warn(`${reason}: skipped — install it to run this suite (CI does)`);
}
const runnable = serversReady && NGINX !== null;

const INSTANCES = 3;
const USERS = 200;
const SEATS = 30;
const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 30,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 20,
  HOLD_TTL_SECONDS: 10,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
};
const VICTIM = 1;
const KILL_AT_SOLD = 10;
const RUN_TIMEOUT_MS = 150_000;
/** Requests per minute per client in the rate-limit run. */
const LIMIT = 12;

/** Three instances on their own database and Redis, trusting nginx only, and nginx in front. */
async function start(cleanups: Cleanup, rateLimitPerMinute: number, extra: Record<string, string> = {}) {
  const redisUrl = await ownRedis(cleanups);
  const service = await startService({
    mode: 'servers',
    instances: INSTANCES,
    scratchDatabase: { adminUrl: adminUrl! },
    redisUrl,
    settings: SETTINGS,
    rateLimitPerMinute,
    extra: {
      TRUST_PROXY: '127.0.0.1',
      // The rate-limit run counts general requests only.
      SIGNUP_LIMIT_PER_MINUTE: '0',
      ...extra,
    },
    cleanup: cleanups,
  });
  const nginx = await NginxServer.start(
    NGINX!,
    service.cluster.instances.map((instance) => instance.port),
  );
  cleanups.add('nginx.stop', () => nginx.stop());
  // One target, nginx: its 502/504 stand for what a reset connection is to an instance.
  const client = new ClusterClient({ targets: [nginx.url], maxInFlight: 150, gateway: true });
  cleanups.add('client.close', () => client.close());
  return { service, nginx, client, redisUrl };
}

/** nginx's error log summed up: each kind of message (numbers and addresses left out) and its count. */
function errorKinds(log: string): string {
  const kinds = new Map<string, number>();
  for (const line of log.split('\n')) {
    const m = /\[(\w+)\] \d+#\d+: (?:\*\d+ )?([^,]*)/.exec(line);
    if (!m) continue;
    const kind = `[${m[1]}] ${m[2]!.replace(/\d+/g, 'N')}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([kind, n]) => `  ${n} × ${kind}`).join('\n') || '  (empty)';
}

/** The `data:` events of an event stream, parsed, until `until` accepts one (or the timeout). */
async function streamUntil(
  url: string,
  until: (status: QueueStatus) => boolean,
  timeoutMs: number,
): Promise<{ status: number; headers: Record<string, unknown>; events: QueueStatus[] }> {
  const res = await request(url, { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip' } });
  const events: QueueStatus[] = [];
  if (res.statusCode !== 200) {
    await res.body.text();
    return { status: res.statusCode, headers: res.headers, events };
  }
  const timer = setTimeout(() => res.body.destroy(), timeoutMs);
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += chunk.toString('utf8');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
        }
        end = buffer.indexOf('\n\n');
      }
      if (events.some(until)) break;
    }
  } catch {
    // Destroyed by the timer: the events read so far are the answer.
  } finally {
    clearTimeout(timer);
    res.body.destroy();
  }
  return { status: res.statusCode, headers: res.headers, events };
}

describe.skipIf(!runnable)(`nginx in front of ${INSTANCES} instances (deploy/nginx/boxoffice.conf)`, () => {
  beforeAll(() => buildServer(), 120_000);

  describe('a sale and an event stream through nginx', () => {
    const cleanups = new Cleanup();
    let started: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      started = await start(cleanups, 0);
    }, 90_000);
    afterAll(cleanups.runAll, 60_000);

    it('when a buyer opens an event stream through nginx, then its status arrives as it changes, uncompressed and unbuffered', async () => {
      const { client, service, nginx } = started;
      const { concertId } = await createConcert(client, service.adminKey, 5);
      const buyer = await signUp(client);
      const joined = await join(client, buyer, concertId);
      const stream = await streamUntil(
        `${nginx.url}/api/v1/queue/events?token=${encodeURIComponent(joined.token)}`,
        (s) => s.status === 'ACTIVE',
        20_000,
      );
      expect(stream.status).toBe(200);
      expect(String(stream.headers['content-type'])).toMatch(/^text\/event-stream/);
      // gzip is on around the shipped file (as in Debian's nginx.conf) and the client accepts it.
      expect(stream.headers['content-encoding']).toBeUndefined();
      expect(stream.events.length).toBeGreaterThan(0);
      expect(stream.events[0]!.token).toBe(joined.token);
      // The admission reached the buyer while the stream was open: nothing waited for its end.
      expect(stream.events.at(-1)!.status).toBe('ACTIVE');
    }, 60_000);

    it('when a request is over the instances’ limits, then nginx refuses it first, in the contract’s problem+json; the admin creation has its 1 MB', async () => {
      const { nginx } = started;
      const send = async (path: string, body: string, headers: Record<string, string> = {}) => {
        const res = await request(`${nginx.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
        const text = await res.body.text();
        return { status: res.statusCode, type: String(res.headers['content-type']), text };
      };
      const json = (size: number) => JSON.stringify({ name: 'x'.repeat(size) });
      const tooLarge = await send('/api/v1/users', json(70 * 1024));
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.type).toBe('application/problem+json');
      expect(JSON.parse(tooLarge.text).code).toBe('PAYLOAD_TOO_LARGE');
      // 100 KB to the admin creation passes nginx and reaches an instance (which wants its key).
      expect((await send('/api/v1/admin/concerts', json(100 * 1024))).status).toBe(401);
      expect((await send('/api/v1/admin/concerts', json(1100 * 1024))).status).toBe(413);
      const headers = await send('/api/v1/users', '{}', { 'x-filler': 'a'.repeat(10_000) });
      expect(headers.status).toBe(431);
      expect(JSON.parse(headers.text).code).toBe('HEADERS_TOO_LARGE');
    }, 60_000);

    it(
      'when one instance is SIGKILLed mid-sale behind nginx, then the sale completes through nginx alone and every guarantee holds',
      async () => {
        const { client, service, nginx, redisUrl } = started;
        const { cluster } = service;
        const events: string[] = [];
        let killing: Promise<void> | undefined;
        let killedAtSold: number | null = null;
        // What nginx logs from here on is the sale's (the earlier tests log refusals of their own).
        const logFrom = nginx.errorLog().length;
        const result = await saleWithChecks({
          name: 'nginx-kill',
          cluster,
          client,
          server: service.server,
          databaseUrl: service.databaseUrl!,
          redisUrl,
          users: USERS,
          seats: SEATS,
          cleanups,
          events,
          sale: {
            onSale: (sold) => {
              if (killing || sold < KILL_AT_SOLD) return;
              killedAtSold = sold;
              // nginx alone finds out: a refused connection moves a request on, and marks the
              // instance down (max_fails) until fail_timeout.
              killing = cluster.kill(VICTIM, 'SIGKILL').then(() => {
                events.push(`instance ${VICTIM} SIGKILLed at ${sold} seats sold; nginx was not told`);
              });
            },
          },
        });
        await killing;
        console.log(
          `[nginx] answers by status: ${JSON.stringify(client.tally.snapshot().byStatus)}\n[nginx] its error log, by kind:\n${errorKinds(nginx.errorLog().slice(logFrom))}`,
        );
        expectCleanSale(result, SEATS);
        // nginx's 502s (tallied as ERR GATEWAY_502, like a reset connection) and its error log
        // tell only of the victim's death: connections refused, reset or closed by it; never
        // "no live upstreams" (every instance marked down) nor a timeout.
        const deathOfAnInstance =
          /connect\(\) failed \(N: Connection refused\)|recv\(\) failed \(N: Connection reset by peer\)|upstream prematurely closed connection|(?:writev|send)\(\) failed \(N: (?:Broken pipe|Connection reset by peer)\)/;
        const otherErrors = errorKinds(nginx.errorLog().slice(logFrom))
          .split('\n')
          .filter((line) => line.includes('[error]') && !deathOfAnInstance.test(line));
        expect(otherErrors).toEqual([]);
        expect(killedAtSold).not.toBeNull();
        expect(killedAtSold!).toBeLessThan(SEATS);
        expect(cluster.instances[VICTIM]!.exitSignal).toBe('SIGKILL');
        expect(cluster.instances.filter((i) => i.alive)).toHaveLength(INSTANCES - 1);
      },
      RUN_TIMEOUT_MS,
    );
  });

  describe('the rate limiter behind nginx', () => {
    const cleanups = new Cleanup();
    let started: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      // What is counted, not how fast: a stall of the shared test machine must neither shed a
      // request (503) nor time out a budget's Redis command (the limiter then lets it through).
      started = await start(cleanups, LIMIT, {
        OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
        REDIS_COMMAND_TIMEOUT_MS: '10000',
      });
    }, 90_000);
    afterAll(cleanups.runAll, 60_000);

    it('when a client forges X-Forwarded-For through nginx, then every request still counts against its real address, and another address keeps its own budget', async () => {
      const { nginx, service } = started;
      const fromLoopback = new Agent({ localAddress: '127.0.0.1' });
      const fromOther = new Agent({ localAddress: '127.0.0.2' });
      try {
        const get = async (agent: Agent, base: string, forged?: string) => {
          const res = await request(`${base}/api/v1/concerts`, {
            dispatcher: agent,
            headers: forged ? { 'x-forwarded-for': forged } : {},
          });
          await res.body.text();
          return res.statusCode;
        };
        // A fresh forged address on every request, one of them naming the other client, one a
        // chain: none opens a budget of its own, since nginx replaces the header with 127.0.0.1.
        const forged = (i: number) =>
          i === 3 ? '127.0.0.2' : i === 5 ? `198.51.100.${i}, 10.0.0.1` : `203.0.113.${i}`;
        const statuses: number[] = [];
        for (let i = 0; i < LIMIT + 3; i++) statuses.push(await get(fromLoopback, nginx.url, forged(i)));
        expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429, 429]);
        // The spent budget is 127.0.0.1's, shared by every instance: straight to one of them,
        // without any header, the same client is refused too.
        expect(await get(fromLoopback, service.cluster.urls[2]!)).toBe(429);
        // Another real client through the same nginx is its own client, even forging the first.
        expect(await get(fromOther, nginx.url, '127.0.0.1')).toBe(200);
      } finally {
        await Promise.all([fromLoopback.close(), fromOther.close()]);
      }
    }, 60_000);
  });
});

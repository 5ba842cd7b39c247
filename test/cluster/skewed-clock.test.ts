import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer, Cluster, createScratchDatabase } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import {
  adminUrl,
  type Buyer,
  clientOf,
  createConcert,
  expectCleanSale,
  hold,
  join,
  ownRedis,
  pay,
  requireServers,
  type ServerSettings,
  saleWithChecks,
  serverEnv,
  serversReady,
  setQueue,
  signUp,
  sleep,
  status,
  untilActive,
} from './support.js';

/**
 * One clock for every shared decision (issue 10 item 1), proven with instances whose wall
 * clocks disagree by two minutes: instance 0 keeps the true time, instance 1 runs under
 * libfaketime 60 s fast and instance 2 60 s slow (their monotonic clocks are shifted too, which
 * must not matter). Each probe aims at the instance where a wrong clock would do harm:
 *
 * - a hold taken on the slow instance lapses at the true time + HOLD_TTL, and the fast one
 *   cannot take the seat over before then;
 * - a payment after the hold lapsed is refused by the slow instance, and one before the lapse
 *   is accepted by the fast instance;
 * - an ACTIVE token polled on every instance stays ACTIVE until activeUntil and is EXPIRED a
 *   second after it, and activeUntil is the true admission time + QUEUE_ACTIVE_TTL;
 * - waiting users who poll the true instance every second are never dropped as idle, while
 *   the skewed instances' tickers run the same line.
 *
 * Then a whole sale across the three, with every invariant of harness/invariants.ts.
 */

requireServers('skewed clock');
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
if (serversReady && !existsSync(FAKETIME_LIB)) {
  throw new Error(
    `the skewed-clock test needs libfaketime (apt-get install faketime): ${FAKETIME_LIB} is missing`,
  );
}

const SKEW = ['', '+60s', '-60s'];
const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 40,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 12,
  HOLD_TTL_SECONDS: 4,
  QUEUE_IDLE_TIMEOUT_SECONDS: 5,
};
const HOLD_TTL_MS = SETTINGS.HOLD_TTL_SECONDS * 1000;
const ACTIVE_TTL_MS = SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000;
/** The bound for "early or late": one second. */
const TOLERANCE_MS = 1_000;
const USERS = 200;
const SEATS = 30;

describe.skipIf(!serversReady)(
  'one clock: one instance 60 s fast and one 60 s slow under libfaketime',
  () => {
    const cleanups = new Cleanup();
    let cluster: Cluster;
    let clients: ClusterClient[];
    let server: ReturnType<typeof serverEnv>;
    let databaseUrl: string;
    let redisUrl: string;

    beforeAll(async () => {
      await buildServer();
      const database = await createScratchDatabase(adminUrl!);
      cleanups.add('database.drop', () => database.drop());
      databaseUrl = database.url;
      redisUrl = await ownRedis(cleanups);
      server = serverEnv({ databaseUrl, redisUrl, settings: SETTINGS });
      cluster = await Cluster.start({
        size: 3,
        env: server.env,
        envOf: (i): Record<string, string> =>
          SKEW[i] ? { FAKETIME: SKEW[i]!, LD_PRELOAD: FAKETIME_LIB } : {},
      });
      cleanups.add('cluster.stop', () => cluster.stop());
      clients = cluster.urls.map(clientOf);
      cleanups.add('close the clients', () => Promise.all(clients.map((c) => c.close())));
    }, 120_000);
    afterAll(cleanups.runAll, 60_000);

    const [TRUE, FAST, SLOW] = [0, 1, 2];

    /** A concert of the probe's own. */
    const probeConcert = async (seats: number) => {
      const concert = await createConcert(clients[TRUE]!, server.adminKey, seats);
      return concert;
    };

    it('when the instances are up, then the skewed ones really run 60 s off (libfaketime works)', async () => {
      // The Date header is each instance's own wall clock; the service's "now" is not.
      const skews = await Promise.all(
        cluster.urls.map(async (url) => {
          const res = await fetch(`${url}/health/live`);
          return Date.parse(res.headers.get('date')!) - Date.now();
        }),
      );
      expect(Math.abs(skews[TRUE]!)).toBeLessThan(2_000);
      expect(skews[FAST]!).toBeGreaterThan(58_000);
      expect(skews[SLOW]!).toBeLessThan(-58_000);
    });

    it.concurrent('when a hold is taken on the slow instance, then the fast one cannot take the seat over before it lapses', async () => {
      const { concertId, date } = await probeConcert(5);
      const [a, b] = await Promise.all([signUp(clients[TRUE]!), signUp(clients[TRUE]!)]);
      for (const buyer of [a!, b!]) {
        await join(clients[TRUE]!, buyer, concertId);
        await untilActive(clients[TRUE]!, buyer);
      }
      const sent = Date.now();
      const held = await hold(clients[SLOW]!, a!, concertId, date, 1);
      const answered = Date.now();
      expect(held.status).toBe(201);
      const expiresAt = Date.parse(held.body.holdExpiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(sent + HOLD_TTL_MS - TOLERANCE_MS);
      expect(expiresAt).toBeLessThanOrEqual(answered + HOLD_TTL_MS + TOLERANCE_MS);

      // B tries for the same seat on the fast instance until it gets it.
      let takenAt: number | undefined;
      while (takenAt === undefined && Date.now() < expiresAt + 5_000) {
        const res = await hold(clients[FAST]!, b!, concertId, date, 1);
        if (res.status === 201) takenAt = Date.now();
        else expect(res.code).toBe('SEAT_UNAVAILABLE');
        await sleep(100);
      }
      expect(takenAt, 'the lapsed hold was never free').toBeDefined();
      // Sent no earlier than this: the take-over happened after the lapse, within a second of it.
      expect(takenAt!).toBeGreaterThanOrEqual(expiresAt);
      expect(takenAt! - expiresAt).toBeLessThan(TOLERANCE_MS + 500);
    });

    it.concurrent('when a hold has lapsed, then the slow instance refuses its payment; before the lapse the fast one accepts it', async () => {
      const { concertId, date } = await probeConcert(5);
      const [late, onTime] = await Promise.all([
        signUp(clients[TRUE]!, 10_000),
        signUp(clients[TRUE]!, 10_000),
      ]);
      for (const buyer of [late!, onTime!]) {
        await join(clients[TRUE]!, buyer, concertId);
        await untilActive(clients[TRUE]!, buyer);
      }
      const [lateHold, onTimeHold] = await Promise.all([
        hold(clients[TRUE]!, late!, concertId, date, 1),
        hold(clients[TRUE]!, onTime!, concertId, date, 2),
      ]);
      expect([lateHold.status, onTimeHold.status]).toEqual([201, 201]);

      // Half the hold's time gone: the fast instance (which believes a minute more has passed) pays.
      await sleep(HOLD_TTL_MS / 2);
      const paid = await pay(clients[FAST]!, onTime!, onTimeHold.body.reservationId);
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);

      // Just past the lapse: the slow instance (a minute behind) must refuse.
      await sleep(Math.max(0, Date.parse(lateHold.body.holdExpiresAt) - Date.now()) + 300);
      const refused = await pay(clients[SLOW]!, late!, lateHold.body.reservationId);
      expect(refused.status, JSON.stringify(refused.body)).toBe(410);
      expect(refused.code).toBe('HOLD_EXPIRED');
    });

    it.concurrent('when a buyer is ACTIVE, then every instance keeps the token ACTIVE until activeUntil and EXPIRED a second after', async () => {
      const { concertId } = await probeConcert(5);
      const buyer = await signUp(clients[TRUE]!);
      const joinedAt = Date.now();
      await join(clients[FAST]!, buyer, concertId);
      const active = await untilActive(clients[SLOW]!, buyer);
      const seenAt = Date.now();
      const activeUntil = Date.parse(active.activeUntil!);
      expect(activeUntil).toBeGreaterThanOrEqual(joinedAt + ACTIVE_TTL_MS - TOLERANCE_MS);
      expect(activeUntil).toBeLessThanOrEqual(seenAt + ACTIVE_TTL_MS + TOLERANCE_MS);

      const wrong: string[] = [];
      while (Date.now() < activeUntil + TOLERANCE_MS + 1_500) {
        for (const [i, client] of clients.entries()) {
          const sent = Date.now();
          const res = await status(client, buyer);
          const now = Date.now();
          if (now < activeUntil - TOLERANCE_MS && res.body.status !== 'ACTIVE')
            wrong.push(`instance ${i}: ${res.body.status} ${activeUntil - now} ms before activeUntil`);
          if (sent > activeUntil + TOLERANCE_MS && res.body.status !== 'EXPIRED')
            wrong.push(`instance ${i}: ${res.body.status} ${sent - activeUntil} ms after activeUntil`);
        }
        await sleep(200);
      }
      expect(wrong).toEqual([]);
    });

    it.concurrent('when waiting users poll the true instance every second, then none is dropped as idle', async () => {
      const { concertId } = await probeConcert(5);
      // Paused: nobody is admitted, so every one of them waits the whole time, and idle drops
      // (which the fast instance's ticker would make at once with its own clock) still run.
      await setQueue(clients[TRUE]!, server.adminKey, concertId, { paused: true });
      const waiters: Buyer[] = await Promise.all(Array.from({ length: 8 }, () => signUp(clients[TRUE]!)));
      for (const w of waiters) await join(clients[TRUE]!, w, concertId);
      const dropped: string[] = [];
      const until = Date.now() + 2.5 * SETTINGS.QUEUE_IDLE_TIMEOUT_SECONDS * 1000;
      while (Date.now() < until) {
        const seen = await Promise.all(waiters.map((w) => status(clients[TRUE]!, w)));
        for (const [i, res] of seen.entries())
          if (res.body.status !== 'WAITING') dropped.push(`waiter ${i}: ${res.status} ${res.body.status}`);
        await sleep(1_000);
      }
      expect(dropped).toEqual([]);
    });

    it(`when ${USERS} users race for ${SEATS} seats across the three instances, then every guarantee holds`, async () => {
      const client = new ClusterClient({ targets: cluster.urls, maxInFlight: 120 });
      cleanups.add('client.close', () => client.close());
      const result = await saleWithChecks({
        name: 'skewed-clock',
        cluster,
        client,
        server,
        databaseUrl,
        redisUrl,
        users: USERS,
        seats: SEATS,
        cleanups,
        events: ['instance 1 under FAKETIME=+60s, instance 2 under FAKETIME=-60s'],
      });
      expectCleanSale(result, SEATS);
    }, 150_000);
  },
);

describe.skipIf(!serversReady)('one clock without a PostgreSQL server: Redis TIME is the reference', () => {
  const cleanups = new Cleanup();
  let cluster: Cluster;
  let server: ReturnType<typeof serverEnv>;

  beforeAll(async () => {
    await buildServer();
    const redisUrl = await ownRedis(cleanups);
    const dataDir = mkdtempSync(joinPath(tmpdir(), 'bo-embedded-'));
    cleanups.add('remove the data directory', () => rmSync(dataDir, { recursive: true, force: true }));
    server = serverEnv({ databaseUrl: '', redisUrl, settings: SETTINGS });
    const { DATABASE_URL: _none, ...env } = server.env;
    // Embedded database, queue in Redis, and this one instance's wall clock a minute fast.
    cluster = await Cluster.start({
      size: 1,
      env: { ...env, DATA_DIR: dataDir, FAKETIME: '+60s', LD_PRELOAD: FAKETIME_LIB },
    });
    cleanups.add('cluster.stop', () => cluster.stop());
  }, 120_000);
  afterAll(cleanups.runAll, 60_000);

  it('when the only instance runs 60 s fast, then holds and ACTIVE windows still follow the true time', async () => {
    const client = clientOf(cluster.urls[0]!);
    cleanups.add('client.close', () => client.close());
    const { concertId, date } = await createConcert(client, server.adminKey, 5);
    const buyer = await signUp(client);
    const joinedAt = Date.now();
    await join(client, buyer, concertId);
    const active = await untilActive(client, buyer);
    const activeUntil = Date.parse(active.activeUntil!);
    expect(activeUntil).toBeGreaterThanOrEqual(joinedAt + ACTIVE_TTL_MS - TOLERANCE_MS);
    expect(activeUntil).toBeLessThanOrEqual(Date.now() + ACTIVE_TTL_MS + TOLERANCE_MS);
    const sent = Date.now();
    const held = await hold(client, buyer, concertId, date, 1);
    expect(held.status).toBe(201);
    const expiresAt = Date.parse(held.body.holdExpiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(sent + HOLD_TTL_MS - TOLERANCE_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + HOLD_TTL_MS + TOLERANCE_MS);
  });
});

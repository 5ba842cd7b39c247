import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer, Cluster, createScratchDatabase } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { eventually } from '../../harness/wait.js';
import {
  adminUrl,
  clientOf,
  createConcert,
  expectCleanSale,
  gated,
  hold,
  join as joinLine,
  ownRedis,
  pay,
  requireServers,
  type ServerSettings,
  saleWithChecks,
  serverEnv,
  serversReady,
  signUp,
  status,
  untilActive,
} from './support.js';

/**
 * A wall clock that steps while the service runs (NTP correcting a drifted host, a VM
 * resumed): two instances, the second under libfaketime reading its offset from a file, which
 * the test rewrites from +0 to +120 s and then to −120 s. Its monotonic clock is left alone
 * (FAKETIME_DONT_FAKE_MONOTONIC), as a real host's would be. Holds, ACTIVE windows and
 * payments taken before a step are judged after it exactly as before; then a whole sale with
 * every invariant.
 */

requireServers('clock step');
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 40,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 30,
  HOLD_TTL_SECONDS: 20,
  QUEUE_IDLE_TIMEOUT_SECONDS: 10,
};
const TOLERANCE_MS = 1_000;

describe.skipIf(!serversReady)('one clock: a wall clock that steps by two minutes while serving', () => {
  const cleanups = new Cleanup();
  let offsetFile: string;
  let cluster: Cluster;
  let server: ReturnType<typeof serverEnv>;
  let databaseUrl: string;
  let redisUrl: string;

  /** Sets the stepping instance's wall clock offset and waits until its Date header shows it. */
  const step = async (offset: string, expectedMs: number) => {
    writeFileSync(offsetFile, `${offset}\n`);
    await eventually(
      async () => {
        const res = await fetch(`${cluster.urls[1]}/health/live`);
        return Math.abs(Date.parse(res.headers.get('date')!) - Date.now() - expectedMs) < 2_000;
      },
      { timeoutMs: 10_000, what: `instance 1's wall clock at ${offset}` },
    );
  };

  beforeAll(async () => {
    await buildServer();
    const dir = mkdtempSync(join(tmpdir(), 'bo-faketime-'));
    cleanups.add('remove the offset file', () => rmSync(dir, { recursive: true, force: true }));
    offsetFile = join(dir, 'offset');
    writeFileSync(offsetFile, '+0\n');
    redisUrl = await ownRedis(cleanups);
    const database = await createScratchDatabase(adminUrl!);
    cleanups.add('database.drop', () => database.drop());
    databaseUrl = database.url;
    server = serverEnv({ databaseUrl, redisUrl, settings: SETTINGS });
    cluster = await Cluster.start({
      size: 2,
      env: server.env,
      envOf: (i): Record<string, string> =>
        i === 1
          ? {
              LD_PRELOAD: FAKETIME_LIB,
              FAKETIME_TIMESTAMP_FILE: offsetFile,
              FAKETIME_CACHE_DURATION: '1',
              FAKETIME_DONT_FAKE_MONOTONIC: '1',
            }
          : {},
    });
    cleanups.add('cluster.stop', () => cluster.stop());
  }, 120_000);
  afterAll(cleanups.runAll, 60_000);

  it('when the wall clock steps forward then back, then holds, windows and payments are judged as before', async () => {
    const stepping = clientOf(cluster.urls[1]!);
    const steady = clientOf(cluster.urls[0]!);
    cleanups.add('close the clients', () => Promise.all([stepping.close(), steady.close()]));
    const { concertId, date } = await createConcert(steady, server.adminKey, 5);
    const [buyer, rival] = await Promise.all([signUp(steady, 10_000), signUp(steady)]);
    await joinLine(stepping, buyer!, concertId);
    const window = await untilActive(stepping, buyer!);
    const held = await hold(stepping, buyer!, concertId, date, 1);
    expect(held.status).toBe(201);

    // Two minutes forward: a wrong clock would lapse the hold and close the window at once.
    await step('+120s', 120_000);
    const after = await status(stepping, buyer!);
    expect([after.body.status, after.body.activeUntil]).toEqual(['ACTIVE', window.activeUntil]);
    const reservation = await stepping.call('GET', `/api/v1/reservations/${held.body.reservationId}`, {
      headers: gated(buyer!),
    });
    expect([reservation.body.status, reservation.body.holdExpiresAt]).toEqual([
      'HELD',
      held.body.holdExpiresAt,
    ]);
    await joinLine(stepping, rival!, concertId);
    await untilActive(stepping, rival!);
    expect((await hold(stepping, rival!, concertId, date, 1)).code).toBe('SEAT_UNAVAILABLE');
    expect((await pay(stepping, buyer!, held.body.reservationId)).status).toBe(201);

    // Two minutes back: a new window and a new hold still last their full time from now.
    await step('-120s', -120_000);
    const late = await signUp(steady);
    const joinedAt = Date.now();
    await joinLine(stepping, late, concertId);
    const lateWindow = await untilActive(stepping, late);
    expect(Date.parse(lateWindow.activeUntil!)).toBeGreaterThanOrEqual(
      joinedAt + SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000 - TOLERANCE_MS,
    );
    expect(Date.parse(lateWindow.activeUntil!)).toBeLessThanOrEqual(
      Date.now() + SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000 + TOLERANCE_MS,
    );
    const sent = Date.now();
    const lateHold = await hold(stepping, late, concertId, date, 2);
    expect(lateHold.status).toBe(201);
    const expiresAt = Date.parse(lateHold.body.holdExpiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(sent + SETTINGS.HOLD_TTL_SECONDS * 1000 - TOLERANCE_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + SETTINGS.HOLD_TTL_SECONDS * 1000 + TOLERANCE_MS);
  }, 90_000);

  it('when 150 users race for 20 seats across both instances, then every guarantee holds', async () => {
    const client = new ClusterClient({ targets: cluster.urls, maxInFlight: 100 });
    cleanups.add('client.close', () => client.close());
    const result = await saleWithChecks({
      name: 'clock-step',
      cluster,
      client,
      server,
      databaseUrl,
      redisUrl,
      users: 150,
      seats: 20,
      cleanups,
      events: ['instance 1 stepped +120 s then −120 s (wall clock only) before the sale'],
    });
    expectCleanSale(result, 20);
  }, 150_000);
});

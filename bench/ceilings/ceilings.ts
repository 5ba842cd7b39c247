import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Cleanup } from '../lib/servers.js';
import type { LoadResult } from '../lib/stats.js';
import { runWrk } from '../lib/wrk.js';
import type { CeilingName } from '../scenarios/scenario.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CEILING_USERS = 10_000;
const CEILING_SHOWS = 50;

export interface Ceiling {
  name: CeilingName;
  what: string;
  load: LoadResult;
}

export interface CeilingOptions {
  root: string;
  instances: number;
  basePort: number;
  databaseUrl: string | null;
  redisUrl: string | null;
  poolSize: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  workDir: string;
  progress: (message: string) => void;
}

async function startCeilingServers(
  o: CeilingOptions,
  cleanup: Cleanup,
): Promise<{ urls: string[]; pids: number[] }> {
  const urls: string[] = [];
  const pids: number[] = [];
  for (let i = 0; i < o.instances; i++) {
    const port = o.basePort + i;
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'ceiling-server.ts')], {
      cwd: o.root,
      env: {
        ...process.env,
        PORT: String(port),
        DB_POOL_SIZE: String(o.poolSize),
        ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
        ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const stop = () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    cleanup.add(`stop ceiling server :${port}`, stop);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ceiling server exited: ${err}`);
      if (Date.now() > deadline) throw new Error(`ceiling server ${url} did not start: ${err}`);
      try {
        if ((await fetch(`${url}/hello`)).ok) break;
      } catch {
        // not yet listening
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    urls.push(url);
    pids.push(child.pid!);
  }
  return { urls, pids };
}

/**
 * HTTP, Redis and SELECT 1 ceilings, measured through the same generator, connection count and
 * instance count as the scenarios; the ceiling servers are stopped before the app starts.
 */
export async function measureHttpCeilings(o: CeilingOptions, cleanup: Cleanup): Promise<Ceiling[]> {
  const { urls, pids } = await startCeilingServers(o, cleanup);
  const routes: { name: CeilingName; path: string; what: string }[] = [
    { name: 'http', path: '/hello', what: 'bare Fastify route' },
    ...(o.redisUrl ? [{ name: 'redis' as const, path: '/redis', what: 'Fastify + one Redis GET' }] : []),
    {
      name: 'pg',
      path: '/pg',
      what: o.databaseUrl
        ? `Fastify + one SELECT 1 (pg pool of ${o.poolSize})`
        : 'Fastify + one SELECT 1 (PGlite)',
    },
  ];
  const out: Ceiling[] = [];
  for (const route of routes) {
    o.progress(`ceiling ${route.name}: ${o.durationSeconds} s`);
    const load = await runWrk({
      name: `ceiling-${route.name}`,
      targets: urls,
      requests: [{ method: 'GET', path: route.path }],
      connections: o.connections,
      durationSeconds: o.durationSeconds,
      warmupSeconds: o.warmupSeconds,
      once: false,
      workDir: o.workDir,
      serverPids: pids,
    });
    out.push({ name: route.name, what: route.what, load });
    o.progress(
      `ceiling ${route.name}: ${Math.round(load.perSecond)} req/s, p99 ${load.latencyMs.p99.toFixed(1)} ms`,
    );
  }
  return out;
}

/** Paid reservations prepared per second of run and client, above any commit rate seen here. */
const PAY_PREPARED_PER_SECOND = 4_000;

interface SqlCeiling {
  name: CeilingName;
  what: string;
  script: string;
  defines: Record<string, number>;
}

/**
 * Each write path's own SQL (one call of its database function, as the service sends it)
 * straight at PostgreSQL with pgbench (C, prepared statements), as many clients as the
 * instances' pools hold, on rows of its own in a scratch database that no app instance uses (its
 * hold sweeper would otherwise rewrite the lapsed holds during the run). What each path reaches
 * in the app is printed as a ratio to its own ceiling.
 */
export async function measureSqlCeilings(o: CeilingOptions): Promise<Ceiling[]> {
  const clients = o.instances * o.poolSize;
  const seconds = Math.max(1, Math.round(o.durationSeconds));
  const perClient = Math.ceil((PAY_PREPARED_PER_SECOND * (seconds + 1)) / clients);
  const payShows = Math.ceil((clients * (perClient + 1)) / 200);
  const client = new pg.Client({ connectionString: o.databaseUrl! });
  await client.connect();
  try {
    o.progress('ceilings: preparing rows for the hold, charge and pay SQL');
    await client.query(`
      INSERT INTO users (id, name, created_at)
        SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'ceiling', now()
        FROM generate_series(1, ${CEILING_USERS}) n;
      INSERT INTO wallets (user_id, balance) SELECT id, 500000000 FROM users;
      INSERT INTO concerts (id, title, venue, created_at)
        VALUES ('00000000-0000-4000-8000-000000000000', 'ceiling', 'ceiling', now());
      INSERT INTO shows (id, concert_id, date, total_seats)
        SELECT ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid,
               '00000000-0000-4000-8000-000000000000', date '2099-01-01' + n, 200
        FROM generate_series(0, ${CEILING_SHOWS - 1}) n;
      INSERT INTO shows (id, concert_id, date, total_seats)
        SELECT ('00000000-0000-4000-b000-' || lpad(n::text, 12, '0'))::uuid,
               '00000000-0000-4000-8000-000000000000', date '2199-01-01' + n, 200
        FROM generate_series(0, ${payShows - 1}) n;
      -- Each show is the simple form's plan: one section A of grade R, its 200 seats in one row.
      INSERT INTO show_sections (show_id, section_no, name, grade, price, first_seat, last_seat, row_seats)
        SELECT id, 0, 'A', 'R', 1000, 1, 200, ARRAY[200]::smallint[] FROM shows;
      INSERT INTO seats (show_id, seat_number, price, section_no, row_no, number_in_row)
        SELECT id, s, 1000, 0, 1, s FROM shows, generate_series(1, 200) s;
      INSERT INTO reservations
        (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
        SELECT ('00000000-0000-4000-a000-' || lpad(n::text, 12, '0'))::uuid,
               ('00000000-0000-4000-8000-' || lpad((n % ${CEILING_USERS} + 1)::text, 12, '0'))::uuid,
               '00000000-0000-4000-8000-000000000000',
               ('00000000-0000-4000-b000-' || lpad((n / 200)::text, 12, '0'))::uuid,
               date '2199-01-01' + n / 200, n % 200 + 1, 1000, 'HELD', now() + interval '1 day', now()
        FROM generate_series(0, ${clients * (perClient + 1) - 1}) n;
      UPDATE seats SET reservation_id = r.id, hold_expires_at = r.hold_expires_at
        FROM reservations r WHERE seats.show_id = r.show_id AND seats.seat_number = r.seat_number;
      ANALYZE;`);
  } finally {
    await client.end();
  }
  const users = CEILING_USERS;
  const paths: SqlCeiling[] = [
    {
      name: 'holdSql',
      what: 'hold_seats (one seat)',
      script: 'hold.pgbench.sql',
      defines: { users, seats: CEILING_SHOWS * 200 },
    },
    { name: 'chargeSql', what: 'charge_balance', script: 'charge.pgbench.sql', defines: { users } },
    {
      name: 'paySql',
      what: 'pay_reservations (one hold)',
      script: 'pay.pgbench.sql',
      defines: { users, per_client: perClient, i: 0 },
    },
  ];
  const out: Ceiling[] = [];
  for (const path of paths) {
    o.progress(`ceiling ${path.name}: ${seconds} s of pgbench, ${clients} clients`);
    const text = await pgbench(o.databaseUrl!, clients, seconds, path);
    const tps = Number(/tps = ([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
    const lat = Number(/latency average = ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN);
    const done = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1] ?? 0);
    o.progress(`ceiling ${path.name}: ${Math.round(tps)} commits/s`);
    out.push({
      name: path.name,
      what: `one ${path.what} call + commit via pgbench (${clients} clients, prepared)`,
      load: {
        requests: done,
        seconds,
        perSecond: tps,
        latencyMs: { p50: lat, p95: Number.NaN, p99: Number.NaN, max: Number.NaN },
        counts: { commit: done },
        socketErrors: {},
        serverCpuPerCore: Number.NaN,
      },
    });
  }
  return out;
}

function pgbench(url: string, clients: number, seconds: number, path: SqlCeiling): Promise<string> {
  const defines = Object.entries(path.defines).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', '1', '-T', String(seconds)];
  return new Promise<string>((resolve, reject) => {
    const child = spawn('pgbench', [...args, ...defines, '-f', join(here, path.script), url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`pgbench ${path.script} exited ${code}: ${out}`)),
    );
  });
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Cleanup } from '../lib/servers.js';
import type { LoadResult } from '../lib/stats.js';
import { runWrk } from '../lib/wrk.js';
import type { CeilingName } from '../scenarios/scenario.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CEILING_USERS = 1_000;
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

/**
 * The hold's SQL straight at PostgreSQL with pgbench (C, prepared statements), as many
 * clients as the instances' pools hold, on rows of its own in a scratch database that no app
 * instance uses (its hold sweeper would otherwise rewrite the lapsed holds during the run).
 */
export async function measureHoldSql(o: CeilingOptions): Promise<Ceiling> {
  const url = o.databaseUrl!;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO users (id, name, created_at)
        SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'ceiling', now()
        FROM generate_series(1, ${CEILING_USERS}) n;
      INSERT INTO concerts (id, title, venue, created_at)
        VALUES ('00000000-0000-4000-8000-000000000000', 'ceiling', 'ceiling', now());
      INSERT INTO shows (id, concert_id, date, total_seats)
        SELECT ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid,
               '00000000-0000-4000-8000-000000000000', date '2099-01-01' + n, 200
        FROM generate_series(0, ${CEILING_SHOWS - 1}) n;
      INSERT INTO seats (show_id, seat_number, price)
        SELECT ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid, s, 1000
        FROM generate_series(0, ${CEILING_SHOWS - 1}) n, generate_series(1, 200) s;
      ANALYZE;`);
  } finally {
    await client.end();
  }
  const clients = o.instances * o.poolSize;
  o.progress(`ceiling holdSql: ${o.durationSeconds} s of pgbench, ${clients} clients`);
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'pgbench',
      [
        '-n',
        '-M',
        'prepared',
        '-c',
        String(clients),
        '-j',
        '1',
        '-T',
        String(Math.max(1, Math.round(o.durationSeconds))),
        '-D',
        `users=${CEILING_USERS}`,
        '-D',
        `seats=${CEILING_SHOWS * 200}`,
        '-r',
        '-f',
        join(here, 'hold.pgbench.sql'),
        url,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`pgbench exited ${code}: ${out}`)),
    );
  });
  o.progress(`ceiling holdSql: ${/tps = ([\d.]+)/.exec(text)?.[1] ?? '?'} commits/s`);
  const tps = Number(/tps = ([\d.]+)/.exec(text)?.[1] ?? Number.NaN);
  const lat = Number(/latency average = ([\d.]+) ms/.exec(text)?.[1] ?? Number.NaN);
  const done = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    name: 'holdSql',
    what: `the hold's 3 statements + commit via pgbench (${clients} clients, prepared)`,
    load: {
      requests: done,
      seconds: o.durationSeconds,
      perSecond: tps,
      latencyMs: { p50: lat, p95: Number.NaN, p99: Number.NaN, max: Number.NaN },
      counts: { commit: done },
      socketErrors: {},
      serverCpuPerCore: Number.NaN,
    },
  };
}

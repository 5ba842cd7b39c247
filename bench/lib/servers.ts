import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export type Mode = 'embedded' | 'cluster';

/** Everything processes and databases a run opened, closed in reverse on the way out. */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];
  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }
  async runAll(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.name} failed: ${(error as Error).message}`);
      }
    }
  }
}

export function buildServer(root: string): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

/** A throwaway database on the local server, dropped at cleanup. */
export async function createScratchDatabase(cleanup: Cleanup): Promise<string> {
  const name = `boxoffice_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  cleanup.add(`drop database ${name}`, async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

export interface Instance {
  url: string;
  pid: number;
  child: ChildProcess;
  output: () => string;
}

export interface ClusterOptions {
  root: string;
  mode: Mode;
  instances: number;
  basePort: number;
  adminKey: string;
  authSecret: string;
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface Cluster {
  instances: Instance[];
  databaseUrl: string | null;
  /** Concerts this run created in the shared Redis, removed at cleanup. */
  trackConcert(concertId: string): void;
  /** Removes a finished scenario's line from Redis now, so the admission ticker stops tending it. */
  forgetConcert(concertId: string): Promise<void>;
}

async function removeLines(ids: Iterable<string>): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for (const id of ids) {
      await redis.srem('bo:concerts', id);
      const keys = await redis.keys(`bo:{${id}}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} not ready within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the built server (`node dist/server.js`): in cluster mode N instances on one scratch
 * PostgreSQL database and the local Redis; in embedded mode one instance with PGlite in a
 * temp directory and the in-process queue.
 */
export async function startCluster(options: ClusterOptions, cleanup: Cleanup): Promise<Cluster> {
  const count = options.mode === 'embedded' ? 1 : options.instances;
  let databaseUrl: string | null = null;
  const base: Record<string, string> = {
    HOST: '127.0.0.1',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
    ADMIN_KEY: options.adminKey,
    AUTH_SECRET: options.authSecret,
    SEED_DEMO: 'false',
    MAX_HOLDS_PER_USER: '50',
    ...options.env,
  };
  const concerts = new Set<string>();
  if (options.mode === 'cluster') {
    databaseUrl = await createScratchDatabase(cleanup);
    base.DATABASE_URL = databaseUrl;
    base.REDIS_URL = REDIS_URL;
    cleanup.add('remove bench concerts from redis', async () => {
      if (concerts.size > 0) await removeLines(concerts);
    });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'boxoffice-bench-'));
    base.DATA_DIR = dir;
    cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  }
  const instances: Instance[] = [];
  // One at a time: the first migrates the database, the others find nothing to do.
  for (let i = 0; i < count; i++) {
    const port = options.basePort + i;
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'dist/server.js'], {
      cwd: options.root,
      env: { ...process.env, ...base, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    cleanup.add(`stop server :${port}`, () => stopChild(child));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, () => out);
    instances.push({ url, pid: child.pid!, child, output: () => out });
  }
  return {
    instances,
    databaseUrl,
    trackConcert: (id) => concerts.add(id),
    forgetConcert: async (id) => {
      if (databaseUrl === null) return;
      await removeLines([id]);
      concerts.delete(id);
    },
  };
}

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from '../../harness/cleanup.js';
import {
  createScratchDatabase as createDatabase,
  forgetConcerts,
  Cluster as ServerCluster,
} from '../../harness/cluster.js';

export { Cleanup } from '../../harness/cleanup.js';
export { buildServer } from '../../harness/cluster.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

export type Mode = 'embedded' | 'cluster';

/** A throwaway database on the local server (harness/cluster.ts), dropped at cleanup. */
export async function createScratchDatabase(cleanup: Cleanup): Promise<string> {
  const database = await createDatabase(PG_ADMIN_URL, `boxoffice_bench_${process.pid}_`);
  cleanup.add(`drop database ${database.name}`, () => database.drop());
  return database.url;
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

/**
 * The benchmark's servers, started by the harness's one cluster starter (harness/cluster.ts)
 * on free ports: in cluster mode N instances on one scratch PostgreSQL database and the local
 * Redis; in embedded mode one instance with PGlite in a temp directory and the in-process queue.
 */
export async function startCluster(options: ClusterOptions, cleanup: Cleanup): Promise<Cluster> {
  const count = options.mode === 'embedded' ? 1 : options.instances;
  let databaseUrl: string | null = null;
  const env: Record<string, string> = {
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
    env.DATABASE_URL = databaseUrl;
    env.REDIS_URL = REDIS_URL;
    cleanup.add('remove bench concerts from redis', () => forgetConcerts(REDIS_URL, [...concerts]));
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'boxoffice-bench-'));
    env.DATA_DIR = dir;
    cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  }
  const cluster = await ServerCluster.start({
    size: count,
    env,
    root: options.root,
    serverPath: join(options.root, 'dist', 'server.js'),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  cleanup.add('stop the servers', () => cluster.stop(10_000));
  return {
    instances: cluster.instances.map((i) => ({
      url: i.url,
      pid: i.pid!,
      child: i.child,
      output: () => i.logTail(),
    })),
    databaseUrl,
    trackConcert: (id) => concerts.add(id),
    forgetConcert: async (id) => {
      if (databaseUrl === null) return;
      await forgetConcerts(REDIS_URL, [id]);
      concerts.delete(id);
    },
  };
}

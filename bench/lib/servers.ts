import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Cleanup } from '../../harness/cleanup.js';
import { createScratchDatabase as createDatabase } from '../../harness/cluster.js';
import { startService } from '../../harness/service.js';

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
 * The benchmark's servers, started by the harness's one service starter (harness/service.ts)
 * on free ports: in cluster mode N instances on one scratch PostgreSQL database and the local
 * Redis; in embedded mode one instance with PGlite in a temp directory and the in-process queue.
 */
export async function startCluster(options: ClusterOptions, cleanup: Cleanup): Promise<Cluster> {
  const service = await startService({
    mode: options.mode === 'cluster' ? 'servers' : 'embedded',
    instances: options.instances,
    scratchDatabase: { adminUrl: PG_ADMIN_URL, prefix: `boxoffice_bench_${process.pid}_` },
    redisUrl: REDIS_URL,
    adminKey: options.adminKey,
    authSecret: options.authSecret,
    settings: { MAX_HOLDS_PER_USER: 50, ...options.env },
    cleanup,
    stopGraceMs: 10_000,
    cluster: {
      root: options.root,
      serverPath: join(options.root, 'dist', 'server.js'),
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    },
  });
  return {
    instances: service.cluster.instances.map((i) => ({
      url: i.url,
      pid: i.pid!,
      child: i.child,
      output: () => i.logTail(),
    })),
    databaseUrl: service.databaseUrl ?? null,
    trackConcert: service.trackConcert,
    forgetConcert: service.forgetConcert,
  };
}

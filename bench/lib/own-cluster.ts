import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, createScratchDatabase, forgetConcerts } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import type { ScenarioContext } from '../scenarios/scenario.js';
import { PG_ADMIN_URL, REDIS_URL } from './servers.js';

export interface OwnCluster {
  cluster: Cluster;
  client: ClusterClient;
  /** The instances' process ids, for their CPU time. */
  pids: number[];
  /** The scratch database (cluster mode); undefined on the embedded database. */
  databaseUrl: string | undefined;
  /** Stops the instances, forgets the concerts' lines in Redis, drops what it made. */
  stop(concertIds: string[]): Promise<void>;
}

/**
 * Instances of a scenario's own, with its own queue settings (the rush, sale day): as many as
 * the run's, on a scratch PostgreSQL database and the run's Redis in cluster mode, or one on an
 * embedded database of its own, with its in-process queue, in embedded mode.
 */
export async function startOwnCluster(
  ctx: ScenarioContext,
  name: string,
  settings: Record<string, number>,
  maxInFlight: number,
): Promise<OwnCluster> {
  const embedded = !ctx.cluster.databaseUrl;
  const database = embedded
    ? undefined
    : await createScratchDatabase(PG_ADMIN_URL, `boxoffice_bench_${name}_`);
  const dataDir = embedded ? mkdtempSync(join(tmpdir(), `boxoffice-${name}-`)) : undefined;
  let cluster: Cluster | undefined;
  const stop = async (concertIds: string[]) => {
    await cluster?.stop();
    if (database) {
      if (concertIds.length > 0) await forgetConcerts(REDIS_URL, concertIds).catch(() => {});
      await database.drop();
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    cluster = await Cluster.start({
      size: embedded ? 1 : ctx.api.urls.length,
      // run.ts built it already
      serverPath: join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'server.js'),
      env: {
        HOST: '127.0.0.1',
        ...(database ? { DATABASE_URL: database.url, REDIS_URL } : { DATA_DIR: dataDir! }),
        AUTH_SECRET: ctx.authSecret,
        ADMIN_KEY: ctx.api.adminKey,
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
        SEED_DEMO: 'false',
        ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])),
      },
    });
  } catch (error) {
    await stop([]);
    throw error;
  }
  return {
    cluster,
    client: new ClusterClient({ targets: cluster.urls, maxInFlight }),
    pids: cluster.instances.map((i) => i.pid).filter((p): p is number => p !== undefined),
    databaseUrl: database?.url,
    stop,
  };
}

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { startService } from '../../harness/service.js';
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
  /** Instances in cluster mode (default: as many as the run's). */
  instances: number = ctx.api.urls.length,
  /** The Redis to use (default the run's); a database of its own keeps other services' tickers away. */
  redisUrl: string = REDIS_URL,
): Promise<OwnCluster> {
  const embedded = !ctx.cluster.databaseUrl;
  const service = await startService({
    mode: embedded ? 'embedded' : 'servers',
    instances,
    scratchDatabase: { adminUrl: PG_ADMIN_URL, prefix: `boxoffice_bench_${name}_` },
    redisUrl,
    authSecret: ctx.authSecret,
    adminKey: ctx.api.adminKey,
    settings,
    // run.ts built it already
    cluster: { serverPath: join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'server.js') },
  });
  const { cluster } = service;
  const stop = async (concertIds: string[]) => {
    for (const id of concertIds) service.trackConcert(id);
    await service.stop();
  };
  return {
    cluster,
    client: new ClusterClient({ targets: cluster.urls, maxInFlight }),
    pids: cluster.instances.map((i) => i.pid).filter((p): p is number => p !== undefined),
    databaseUrl: service.databaseUrl,
    stop,
  };
}

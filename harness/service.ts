import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cleanup } from './cleanup.js';
import {
  Cluster,
  type ClusterOptions,
  createScratchDatabase,
  forgetConcerts,
  PROJECT_ROOT,
} from './cluster.js';

/**
 * The one way the tests, the browser tests and the benchmark describe and start the service:
 * `serverEnv()` writes an instance's environment, `startService()` gives it its stores and
 * starts it (harness/cluster.ts does the processes). Whatever differs between callers is an
 * option here, so a setting added to the server is added once, not in six places.
 */

/** Settings written as they are (QUEUE_MAX_ACTIVE, HOLD_TTL_SECONDS, …), numbers as strings. */
export type ServerSettings = Record<string, string | number | boolean>;

export interface ServerEnvOptions<S extends ServerSettings = ServerSettings> {
  /** A PostgreSQL database (servers mode). */
  databaseUrl?: string;
  /** A Redis (servers mode); with `redisCluster`, one node of a Redis Cluster. */
  redisUrl?: string;
  redisCluster?: boolean;
  /** The embedded database's directory ('memory' for none); only without `databaseUrl`. */
  dataDir?: string;
  /** Default: random. */
  adminKey?: string;
  /** Default: random (instances that share stores must share it, so it is always set). */
  authSecret?: string;
  /**
   * Requests per minute per client; default 0 (off), because test and bench clients all come
   * from 127.0.0.1. `null` leaves the server's own default in force.
   */
  rateLimitPerMinute?: number | null;
  /** Default 'warn': the output is kept for failure messages, not read. */
  logLevel?: string;
  /** Default false: runs create the concerts they use. */
  seedDemo?: boolean;
  /** The queue, hold and other settings of the run. */
  settings?: S;
  /** Anything else (NODE_ENV, …), written last. */
  extra?: Record<string, string>;
}

export interface ServerEnv<S extends ServerSettings = ServerSettings> {
  env: Record<string, string>;
  adminKey: string;
  authSecret: string;
  settings: S;
}

/** The environment of every instance of a run (PORT is set per instance by the starter). */
export function serverEnv<S extends ServerSettings = ServerSettings>(
  options: ServerEnvOptions<S> = {},
): ServerEnv<S> {
  const adminKey = options.adminKey ?? randomBytes(12).toString('hex');
  const authSecret = options.authSecret ?? randomBytes(24).toString('hex');
  const settings = options.settings ?? ({} as S);
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    ...(options.databaseUrl !== undefined ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.dataDir !== undefined ? { DATA_DIR: options.dataDir } : {}),
    ...(options.redisUrl !== undefined ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.redisCluster ? { REDIS_CLUSTER: 'true' } : {}),
    AUTH_SECRET: authSecret,
    ADMIN_KEY: adminKey,
    SEED_DEMO: String(options.seedDemo ?? false),
    LOG_LEVEL: options.logLevel ?? 'warn',
    ...(options.rateLimitPerMinute === null
      ? {}
      : { RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute ?? 0) }),
    ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])),
    ...options.extra,
  };
  return { env, adminKey, authSecret, settings };
}

/**
 * - `embedded`: one instance on the embedded database (PGlite) with the in-process queue;
 * - `servers`: N instances sharing a PostgreSQL database and a Redis.
 */
export type ServiceMode = 'embedded' | 'servers';

export interface StartServiceOptions<S extends ServerSettings = ServerSettings>
  extends Omit<ServerEnvOptions<S>, 'databaseUrl' | 'dataDir'> {
  mode: ServiceMode;
  /** Instances in servers mode (default 1); embedded is always one. */
  instances?: number;
  /** Servers mode: a database to use as it is (kept at stop). */
  databaseUrl?: string;
  /** Servers mode without `databaseUrl`: a scratch database made on this server, dropped at stop. */
  scratchDatabase?: { adminUrl: string; prefix?: string };
  /** Embedded mode: the data directory (default: a new temp directory, removed at stop). */
  dataDir?: string;
  /** Run src/server.ts through tsx rather than the build in dist/ (no compile step). */
  fromSource?: boolean;
  /** Where to add `stop()`, so that it runs with the caller's other clean-ups. */
  cleanup?: Cleanup;
  /** Grace for SIGTERM before SIGKILL at stop (default 5 s). */
  stopGraceMs?: number;
  cluster?: Pick<
    ClusterOptions,
    'envOf' | 'nodeArgs' | 'waitReady' | 'serverPath' | 'readyTimeoutMs' | 'root'
  >;
}

export interface Service<S extends ServerSettings = ServerSettings> {
  cluster: Cluster;
  urls: string[];
  server: ServerEnv<S>;
  adminKey: string;
  authSecret: string;
  /** The PostgreSQL database (servers mode). */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** A concert whose line is in the shared Redis: its keys are removed at stop. */
  trackConcert(concertId: string): void;
  /** Removes a finished concert's line from Redis now (the admission ticker stops tending it). */
  forgetConcert(concertId: string): Promise<void>;
  /** Stops the instances, then removes what this start made; each step whatever became of the others. */
  stop(): Promise<void>;
}

/** Builds (unless from source), provides the stores, starts the instances, waits until they are ready. */
export async function startService<S extends ServerSettings = ServerSettings>(
  options: StartServiceOptions<S>,
): Promise<Service<S>> {
  const made = new Cleanup();
  const concerts = new Set<string>();
  let databaseUrl: string | undefined;
  let dataDir: string | undefined;
  const redisUrl = options.mode === 'servers' ? options.redisUrl : undefined;
  try {
    if (options.mode === 'servers') {
      if (!redisUrl) throw new Error('startService: servers mode needs a redisUrl');
      databaseUrl = options.databaseUrl;
      if (databaseUrl === undefined) {
        if (!options.scratchDatabase)
          throw new Error('startService: servers mode needs a databaseUrl or a scratchDatabase');
        const scratch = await createScratchDatabase(
          options.scratchDatabase.adminUrl,
          options.scratchDatabase.prefix,
        );
        made.add(`drop database ${scratch.name}`, () => scratch.drop());
        databaseUrl = scratch.url;
      }
      made.add('forget the concerts in redis', () => forgetConcerts(redisUrl, [...concerts]));
    } else {
      dataDir = options.dataDir;
      if (dataDir === undefined) {
        const dir = mkdtempSync(join(tmpdir(), 'boxoffice-'));
        made.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
        dataDir = dir;
      }
    }
    const server = serverEnv<S>({
      ...options,
      databaseUrl,
      dataDir,
      redisUrl,
    });
    const root = options.cluster?.root ?? PROJECT_ROOT;
    const cluster = await Cluster.start({
      ...options.cluster,
      root,
      size: options.mode === 'servers' ? (options.instances ?? 1) : 1,
      env: server.env,
      ...(options.fromSource
        ? {
            serverPath: join(root, 'src', 'server.ts'),
            nodeArgs: ['--import', 'tsx', ...(options.cluster?.nodeArgs ?? [])],
          }
        : {}),
    });
    made.add('stop the servers', () => cluster.stop(options.stopGraceMs));
    let stopped: Promise<void> | undefined;
    const service: Service<S> = {
      cluster,
      urls: cluster.urls,
      server,
      adminKey: server.adminKey,
      authSecret: server.authSecret,
      databaseUrl,
      redisUrl,
      trackConcert: (id) => {
        concerts.add(id);
      },
      async forgetConcert(id) {
        if (!redisUrl) return;
        await forgetConcerts(redisUrl, [id]);
        concerts.delete(id);
      },
      stop: () => {
        stopped ??= made.runAll();
        return stopped;
      },
    };
    options.cleanup?.add('stop the service', service.stop);
    return service;
  } catch (error) {
    await made.runAll();
    throw error;
  }
}

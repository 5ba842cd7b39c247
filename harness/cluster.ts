import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { allKeysOf, DEFAULT_PREFIX, registryKey } from '../src/redis/keys.js';
import { reapChild } from './reaper.js';
import { sleep } from './wait.js';

/**
 * The one way anything here starts real server processes (the cluster suites, the browser
 * suites, the benchmark): build once, start N instances on free loopback ports with a given
 * environment, wait until each is ready, kill one hard, stop them all; plus the one
 * throwaway-database helper (tests, bench) and the Redis clean-up of a run's lines.
 *
 * Children are always reaped: `stop()` terminates them, and harness/reaper.ts SIGKILLs
 * whatever is still running should the caller die first (a crashed or interrupted test run).
 */

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const run = promisify(execFile);
let build: Promise<string> | undefined;

/**
 * Compiles src/ to dist/ with tsconfig.build.json, once per process however many callers ask,
 * and returns the path of dist/server.js. Runs the compiler binary directly (no npx lookup).
 */
export function buildServer(root = PROJECT_ROOT): Promise<string> {
  build ??= (async () => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    try {
      await run(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, timeout: 120_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`building the server failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
    }
    const server = join(root, 'dist', 'server.js');
    if (!existsSync(server)) throw new Error(`the build did not produce ${server}`);
    return server;
  })();
  // A failed build may be retried by a later caller.
  build.catch(() => {
    build = undefined;
  });
  return build;
}

export interface ScratchDatabase {
  name: string;
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  /** Drops it, closing whatever connections are left (PostgreSQL 13+ `WITH (FORCE)`). */
  drop(): Promise<void>;
}

/** A fresh, empty database on the server of `adminUrl`, named with a random suffix. */
export async function createScratchDatabase(
  adminUrl: string,
  prefix = 'bo_cluster_',
): Promise<ScratchDatabase> {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Deletes the queue keys of the given concerts and takes them off the registry that every
 * instance's admission ticker walks. Nothing else is touched, so runs that share a Redis
 * database (concert ids are random UUIDs) never disturb one another — unlike FLUSHDB.
 */
export async function forgetConcerts(redisUrl: string, concertIds: string[]): Promise<void> {
  if (concertIds.length === 0) return;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const keys = concertIds.flatMap((id) => allKeysOf(id, DEFAULT_PREFIX));
    await redis.del(...keys);
    await redis.zrem(registryKey(DEFAULT_PREFIX), ...concertIds);
  } finally {
    redis.disconnect();
  }
}

/** Free TCP ports on 127.0.0.1, all distinct (held open together while picked). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolvePort, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolvePort(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

/** GET a URL once without keep-alive: its status, or null when nothing answered in time. */
export function probe(url: string, timeoutMs = 1_000): Promise<number | null> {
  return new Promise((done) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? null));
      res.on('error', () => done(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(null));
  });
}

/** Most output kept per instance, for the error message when one fails. */
const LOG_TAIL_BYTES = 32 * 1024;

export class Instance {
  private tail = '';
  private exited: Promise<void>;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  alive = true;

  constructor(
    readonly index: number,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        this.alive = false;
        this.exitCode = code;
        this.exitSignal = signal;
        done();
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines the process wrote (pino JSON at LOG_LEVEL, and anything on stderr). */
  logTail(): string {
    return this.tail;
  }

  /** Resolves once the process has exited, or after `timeoutMs` (then false). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.alive) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((done) => {
      timer = setTimeout(() => done(false), timeoutMs);
    });
    const result = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return result;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Polls GET /health/ready until 200; fails at once if the process exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) {
        throw new Error(
          `instance ${this.index} (port ${this.port}) exited with ${this.exitCode ?? this.exitSignal} before it was ready:\n${this.tail}`,
        );
      }
      if ((await probe(`${this.url}/health/ready`)) === 200) return;
      await sleep(100);
    }
    throw new Error(`instance ${this.index} (port ${this.port}) not ready in ${timeoutMs} ms:\n${this.tail}`);
  }
}

export interface ClusterOptions {
  /** How many instances (default 3). */
  size?: number;
  /** The environment of every instance; PORT is set per instance. Nothing else is inherited but PATH/HOME. */
  env: Record<string, string>;
  /** More environment for one instance (e.g. LD_PRELOAD of libfaketime for a skewed clock). */
  envOf?: (index: number) => Record<string, string>;
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Wait until every instance is ready (default true); false returns as soon as they are spawned. */
  waitReady?: boolean;
  /** The built server (default: buildServer()). */
  serverPath?: string;
  /** Longest wait for all instances to be ready (default 60 s). */
  readyTimeoutMs?: number;
  root?: string;
}

export class Cluster {
  private constructor(readonly instances: Instance[]) {}

  /**
   * Starts every instance at the same moment (so they also race for the migration lock) and
   * waits until each answers GET /health/ready with 200. On any failure, whatever started is
   * stopped before the error is thrown.
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const size = options.size ?? 3;
    const root = options.root ?? PROJECT_ROOT;
    const serverPath = options.serverPath ?? (await buildServer(root));
    const ports = await freePorts(size);
    // A clean environment: no DATABASE_URL, NODE_OPTIONS or test settings leak in from the runner.
    const base: Record<string, string> = {};
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
      const value = process.env[name];
      if (value !== undefined) base[name] = value;
    }
    const instances = ports.map((port, index) => {
      const child = spawn(process.execPath, [...(options.nodeArgs ?? []), serverPath], {
        cwd: root,
        env: { ...base, ...options.env, ...options.envOf?.(index), PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      reapChild(child);
      return new Instance(index, port, child);
    });
    const cluster = new Cluster(instances);
    if (options.waitReady === false) return cluster;
    try {
      await Promise.all(instances.map((i) => i.waitReady(options.readyTimeoutMs ?? 60_000)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get urls(): string[] {
    return this.instances.map((i) => i.url);
  }

  /** Kills one instance at once (SIGKILL: no graceful shutdown) and waits for it to be gone. */
  async kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const instance = this.instances[index];
    if (!instance) throw new Error(`no instance ${index}`);
    instance.signal(signal);
    if (!(await instance.waitExit(5_000))) throw new Error(`instance ${index} did not exit on ${signal}`);
  }

  /** SIGTERM (graceful shutdown) to all live instances, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const live = this.instances.filter((i) => i.alive);
    for (const i of live) i.signal('SIGTERM');
    await Promise.all(
      live.map(async (i) => {
        if (!(await i.waitExit(graceMs))) {
          i.signal('SIGKILL');
          await i.waitExit(2_000);
        }
      }),
    );
  }
}

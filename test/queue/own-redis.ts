import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePorts } from '../../harness/cluster.js';
import { eventually } from '../../harness/wait.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 10_000;

/**
 * A cluster-enabled redis-server of a test's own, on a spare loopback port with its own data
 * directory (harness/stores.ts starts plain ones; a cluster node needs its own flags).
 */
export interface OwnRedis {
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function until(what: string, check: () => Promise<boolean>): Promise<true> {
  return eventually(check, { timeoutMs: READY_TIMEOUT_MS, everyMs: 50, what }) as Promise<true>;
}

async function ping(port: number): Promise<boolean> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

/** Starts one server that keeps nothing on disk, with `extra` flags. */
async function startRedis(port?: number, extra: string[] = []): Promise<OwnRedis> {
  const [chosen] = port === undefined ? await freePorts(1) : [port];
  const dir = mkdtempSync(join(tmpdir(), 'bo-own-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(`redis-server on ${chosen}`, () => ping(chosen!));
  return {
    port: chosen!,
    url: `redis://127.0.0.1:${chosen}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three (or `masters`) cluster-enabled servers joined into one Redis Cluster, no replicas. */
export async function startRedisCluster(masters = 3): Promise<{ nodes: OwnRedis[]; stop(): Promise<void> }> {
  const ports = await freePorts(masters);
  const nodes: OwnRedis[] = [];
  try {
    for (const port of ports) {
      nodes.push(await startRedis(port, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']));
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await until(`cluster state ok on ${port}`, async () => {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      });
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return { nodes, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

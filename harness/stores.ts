import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePorts } from './cluster.js';
import { reapChild, reapDirectory } from './reaper.js';
import { eventually } from './wait.js';

/**
 * Stores of a test's own, to crash and restart: a `redis-server` and a PostgreSQL cluster
 * (initdb / postgres from the Debian packages), each on a spare loopback port with its own
 * data directory, never the shared ones. Started processes are SIGKILLed if the test process
 * exits first, and their directories removed (harness/reaper.ts).
 */

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Resolves when the child has exited; it is SIGKILLed should this process end first. */
function track(child: ChildProcess): Promise<void> {
  reapChild(child);
  return new Promise((done) => child.once('exit', () => done()));
}

interface ScratchDirectory {
  dir: string;
  release(): void;
}

/** A new directory under the temp dir, removed should this process end before `stop()`. */
function scratchDirectory(prefix: string): ScratchDirectory {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, ...reapDirectory(dir) };
}

/** Output kept per process, for error messages. */
function keepTail(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-16 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

/**
 * The persistence this project prescribes for production Redis (README): an append-only file,
 * fsynced once a second. A crashed redis-server process loses nothing it acknowledged (each
 * write reaches the kernel before the reply); only a crash of the whole host can lose up to a
 * second. `always` would fsync on every write, and every status poll writes (its last-seen
 * time): far too costly for what it adds.
 */
export const REDIS_PERSISTENCE = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: () => string = () => '';

  readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly scratch: ScratchDirectory,
    private readonly flags: readonly string[] = REDIS_PERSISTENCE,
  ) {
    this.dir = scratch.dir;
  }

  /**
   * A redis-server on a spare port (or `port`) with its own data dir, run with the prescribed
   * persistence unless other `flags` are given (a cluster node's, say).
   */
  static async start(port?: number, flags: readonly string[] = REDIS_PERSISTENCE): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePorts(1))[0]!, scratchDirectory('bo-redis-'), flags);
    await server.restart();
    return server;
  }

  /** Reserves a port and a directory without starting (a store that "appears later"). */
  static async reserve(): Promise<RedisServer> {
    return new RedisServer((await freePorts(1))[0]!, scratchDirectory('bo-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (again) on the same port and directory, reading back its append-only file. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.flags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.output = keepTail(child);
    this.exited = track(child);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited:\n${this.output()}`);
        const redis = new Redis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        redis.on('error', () => {});
        try {
          await redis.connect();
          // Still loading the append-only file answers LOADING: not ready yet.
          return (await redis.ping()) === 'PONG';
        } finally {
          redis.disconnect();
        }
      },
      { timeoutMs: 20_000, what: `redis-server on port ${this.port}` },
    );
  }

  /** SIGKILL: no shutdown, no final save; waits until the process is gone. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGSTOP to this server's own process (by the pid this harness started, never by name): it
   * keeps its connections open and answers nothing, as a hung store does, until `thaw()`.
   */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: the frozen server carries on where it stopped. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGTERM, then the data directory goes. */
  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.scratch.release();
  }
}

const run = promisify(execFile);

/** Three (or `masters`) cluster-enabled servers of a test's own joined into one Redis Cluster, no replicas. */
export async function startRedisCluster(
  masters = 3,
): Promise<{ nodes: RedisServer[]; stop(): Promise<void> }> {
  const ports = await freePorts(masters);
  const nodes: RedisServer[] = [];
  const flags = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  try {
    for (const port of ports) nodes.push(await RedisServer.start(port, flags));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await eventually(
        async () =>
          (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes(
            'cluster_state:ok',
          ),
        { timeoutMs: 10_000, everyMs: 50, what: `cluster state ok on ${port}` },
      );
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return { nodes, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

/** Runs a PostgreSQL binary as the `postgres` OS user when this process is root (initdb refuses root). */
function asPostgres(binary: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [binary, args];
  // setpriv execs in place: the pid of the child is the pid of the binary itself.
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', binary, ...args]];
}

export class PostgresServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: () => string = () => '';

  readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly scratch: ScratchDirectory,
  ) {
    this.dir = scratch.dir;
  }

  /** initdb in a new directory (owned by `postgres` when root), on a spare port; not started. */
  static async create(): Promise<PostgresServer> {
    const scratch = scratchDirectory('bo-pg-');
    const { dir } = scratch;
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    const [command, args] = asPostgres(join(PG_BIN, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    execFileSync(command, args, { stdio: 'pipe', timeout: 60_000 });
    return new PostgresServer((await freePorts(1))[0]!, scratch);
  }

  /** The admin URL (database `postgres`), for scratch databases. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the postmaster (after a crash: it recovers from its WAL first) and waits until it answers. */
  async start(): Promise<void> {
    const [command, args] = asPostgres(join(PG_BIN, 'postgres'), [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.dir}`,
      '-c',
      'max_connections=200',
    ]);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = keepTail(child);
    this.exited = track(child);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`postgres exited:\n${this.output()}`);
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1_000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { timeoutMs: 30_000, what: `postgres on port ${this.port}` },
    );
  }

  /**
   * SIGKILL to the postmaster alone, as a crash would: its backends notice it is gone and exit
   * by themselves. Waits until they all have, so that a restart finds the shared memory free.
   */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    const children = childrenOf(pid);
    this.child?.kill('SIGKILL');
    await this.exited;
    await eventually(() => children.every((c) => !existsSync(`/proc/${c}`)), {
      timeoutMs: 30_000,
      what: 'the backends of the killed postmaster to exit',
    });
  }

  private frozen: number[] = [];

  /**
   * SIGSTOP to the postmaster this harness started and to each of its children (the backends
   * serving connections, the checkpointer, the WAL writer), postmaster first so that it starts
   * no new one meanwhile: the server keeps every connection open and answers nothing, and
   * cannot enforce its own statement timeout, until `thaw()`.
   */
  freeze(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    const children = childrenOf(pid);
    for (const child of children) process.kill(child, 'SIGSTOP');
    this.frozen = [pid, ...children];
  }

  /** SIGCONT to every process `freeze()` stopped, children first. */
  thaw(): void {
    for (const pid of this.frozen.reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
    this.frozen = [];
  }

  /** Fast shutdown, then the directory goes. */
  async stop(): Promise<void> {
    this.thaw();
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.scratch.release();
  }
}

/** The pids of a process's direct children (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

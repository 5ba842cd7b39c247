import { Cluster, Command, Redis } from 'ioredis';

/** A single Redis or a Redis Cluster (ioredis), as `connectRedis` makes them. */
export type RedisClient = Redis | Cluster;

/**
 * The app-wide Redis connection (queue, pre-queue, seat versions, rate budgets): one server, or with `cluster` a Redis Cluster that `url`
 * names one node of (the client learns the others and follows slot moves). No offline queue
 * and one retry per command: with Redis gone, a request fails at once (503 UNAVAILABLE)
 * instead of waiting for a reconnect, and the client keeps reconnecting in the background so
 * service resumes by itself.
 *
 * A Redis that is there but does not answer (SIGSTOP, a full network buffer) keeps its
 * connection open, so neither of those helps: `commandTimeoutMs` fails each command that has
 * no reply in time ("Command timed out", a 503), and the request is answered instead of waiting
 * as long as Redis does. The late replies still arrive in order after a thaw and are dropped.
 */
export function connectRedis(
  url: string,
  onError?: (error: Error) => void,
  cluster?: false,
  commandTimeoutMs?: number,
): Redis;
export function connectRedis(
  url: string,
  onError: (error: Error) => void,
  cluster: boolean,
  commandTimeoutMs?: number,
): RedisClient;
export function connectRedis(
  url: string,
  onError: (error: Error) => void = () => {},
  cluster = false,
  commandTimeoutMs?: number,
): RedisClient {
  const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000);
  const options = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy,
  };
  if (cluster) {
    const { hostname, port, username, password } = new URL(url);
    // Failover (a master dies, its replica takes over after cluster-node-timeout): every
    // command goes to the slot's master, never a replica that may lag; a command meeting the
    // dead master's closed connection, CLUSTERDOWN or TRYAGAIN refreshes the slot map and is
    // sent again every FAILOVER_RETRY_MS, as many times as fit in the command timeout, then
    // fails (a 503 for that request); MOVED to the promoted replica is followed at once. The
    // budget bounds each command, so the service answers 503 during the failover window
    // instead of holding requests, and carries on as soon as the slot map names the new master.
    const retries = Math.max(3, Math.ceil((commandTimeoutMs ?? 300) / FAILOVER_RETRY_MS));
    const client = new Cluster([{ host: hostname, port: Number(port || 6379) }], {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: retryStrategy,
      scaleReads: 'master',
      maxRedirections: retries,
      retryDelayOnFailover: FAILOVER_RETRY_MS,
      retryDelayOnClusterDown: FAILOVER_RETRY_MS,
      retryDelayOnTryAgain: FAILOVER_RETRY_MS,
      retryDelayOnMoved: 0,
      redisOptions: {
        ...options,
        // The single server's check-phase timer (failFastWhileUnresponsive) wraps one Redis;
        // a Cluster's node connections are its own, so they keep ioredis's own timeout: a
        // frozen master then costs a request a 503, never a wait as long as the freeze.
        ...(commandTimeoutMs ? { commandTimeout: commandTimeoutMs } : {}),
        ...(username ? { username: decodeURIComponent(username) } : {}),
        ...(password ? { password: decodeURIComponent(password) } : {}),
        ...(url.startsWith('rediss:') ? { tls: {} } : {}),
      },
    });
    client.on('error', onError);
    return client;
  }
  const redis = new Redis(url, {
    ...options,
    // Commands issued in the same tick leave in one write: under a rush that is hundreds of
    // status reads per write instead of one syscall each.
    enableAutoPipelining: true,
  });
  redis.on('error', onError);
  if (commandTimeoutMs) failFastWhileUnresponsive(redis, commandTimeoutMs);
  return redis;
}

/** Between two tries of a command whose slot's master is gone or failing over (Cluster only). */
const FAILOVER_RETRY_MS = 100;

/**
 * `WAIT replicas timeoutMs` on the master that owns `key`'s slot (the server itself when not a
 * cluster): resolves with how many replicas acknowledged every write this connection made
 * before it. Replication is asynchronous, so a master killed right after a write would lose it
 * at failover; after WAIT 1 the replica that takes over has it. Only the client's connection to
 * that master waits; other masters' connections carry on.
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const command = new Command('wait', [replicas, timeoutMs]);
  if (redis instanceof Cluster) {
    // WAIT names no key: route it to the key's slot (ioredis's internal per-node argument),
    // the connection that carried the write.
    const send = redis.sendCommand as unknown as (
      c: Command,
      s: undefined,
      node: { slot: number },
    ) => unknown;
    const slot = new Command('exists', [key]).getSlot();
    send.call(redis, command, undefined, { slot });
  } else {
    void redis.sendCommand(command);
  }
  return Number(await command.promise);
}

/** A command refused at once because Redis has stopped answering (503 UNAVAILABLE). */
class RedisUnresponsive extends Error {
  override name = 'RedisUnresponsive';
  readonly code = 'REDIS_UNRESPONSIVE';
}

/**
 * Each command has `commandTimeoutMs` to be answered, else it fails with "Command timed out"
 * (503). The clock is checked in the event loop's check phase, after the poll phase has read
 * whatever replies arrived: an instance whose loop runs late (a busy machine, a long request)
 * would otherwise time out commands whose replies are sitting unread in the socket, as ioredis's
 * own `commandTimeout` does (its timer runs before the poll phase).
 *
 * Once a command has timed out, every command fails at once until a PING is answered again
 * (one every `commandTimeoutMs`). A request makes several Redis round trips one after another
 * (the rate limiter, the gate, the line): without this each would wait out its own timeout, and
 * a request would take a multiple of it while Redis hangs. A request that needs only PostgreSQL
 * then passes the rate limiter (which gives way on errors) without waiting at all. The client
 * emits 'responsive' when Redis answers again.
 */
function failFastWhileUnresponsive(redis: Redis, commandTimeoutMs: number): void {
  let unresponsive = false;
  const send = redis.sendCommand.bind(redis);
  const timed = (command: Command, stream?: unknown) => {
    let settled = false;
    const result = send(command, stream as never);
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (!settled) command.reject(new Error('Command timed out'));
      });
    }, commandTimeoutMs);
    timer.unref();
    command.promise.then(
      () => {
        settled = true;
        clearTimeout(timer);
      },
      () => {
        settled = true;
        clearTimeout(timer);
      },
    );
    return result;
  };
  const probe = async () => {
    while (unresponsive && redis.status !== 'end') {
      const ping = new Command('ping', []);
      timed(ping);
      const answered = await ping.promise.then(
        () => true,
        () => false,
      );
      if (answered) {
        unresponsive = false;
        // Work that waited for Redis (a paid buyer's slot) can go now, before new requests.
        redis.emit('responsive');
      } else await new Promise((resolve) => setTimeout(resolve, commandTimeoutMs).unref());
    }
  };
  redis.sendCommand = ((command: Command, stream?: unknown) => {
    if (unresponsive) {
      command.reject(new RedisUnresponsive('Redis is not answering'));
      return command.promise;
    }
    const result = timed(command, stream);
    command.promise.catch((error: Error) => {
      if (error?.message === 'Command timed out' && !unresponsive) {
        unresponsive = true;
        void probe();
      }
    });
    return result;
  }) as Redis['sendCommand'];
}

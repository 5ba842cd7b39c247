import type { Redis } from 'ioredis';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import type { QueueSettings, QueueStore, QueueTimings } from '../../src/queue/queue-store.js';
import { RedisQueueStore, type RedisQueueStoreOptions } from '../../src/queue/redis-queue-store.js';
import { connect, deleteByPrefix, type RedisTarget, randomPrefix } from './redis-target.js';

/** One store under test, and a second instance over the same state (another "server"). */
export interface StoreUnderTest {
  store: QueueStore;
  /** Memory has one instance only, so its peer is the store itself. */
  peer: QueueStore;
}

export interface StoreHarness {
  name: string;
  /** Set when this implementation cannot run here; the suite is skipped. */
  skip: boolean;
  /** Several server instances can share it (Redis); the in-process store lives in one process only. */
  shared: boolean;
  /** A fresh store with nothing in it. */
  create(timings: QueueTimings, defaults: QueueSettings, options?: RedisQueueStoreOptions): StoreUnderTest;
  /** Undoes what `create` made since the last cleanup. */
  cleanup(): Promise<void>;
  /** Releases connections at the end of the file. */
  close(): Promise<void>;
}

export function memoryHarness(): StoreHarness {
  return {
    name: 'memory',
    skip: false,
    shared: false,
    create(timings, defaults) {
      const store = new MemoryQueueStore(timings, defaults);
      return { store, peer: store };
    },
    async cleanup() {},
    async close() {},
  };
}

export function redisHarness(target: RedisTarget, skip: boolean): StoreHarness {
  // Two connections, so the peer's commands really interleave with the store's in Redis
  // instead of queueing behind them on one socket.
  let connections: [Redis, Redis] | undefined;
  const prefixes: string[] = [];
  const open = (): [Redis, Redis] => {
    connections ??= [connect(target), connect(target)];
    return connections;
  };
  return {
    name: 'redis',
    skip,
    shared: true,
    create(timings, defaults, options = {}) {
      const [a, b] = open();
      const prefix = options.prefix ?? randomPrefix();
      prefixes.push(prefix);
      return {
        store: new RedisQueueStore(a, timings, defaults, { ...options, prefix }),
        peer: new RedisQueueStore(b, timings, defaults, { ...options, prefix }),
      };
    },
    async cleanup() {
      if (!connections) return;
      const [a] = connections;
      for (const prefix of prefixes.splice(0)) await deleteByPrefix(a, prefix);
    },
    async close() {
      if (!connections) return;
      await Promise.all(connections.map((c) => c.quit()));
      connections = undefined;
    },
  };
}

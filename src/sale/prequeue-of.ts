import type { QueueStore } from '../queue/queue-store.js';
import { MemoryPrequeue } from './memory-prequeue.js';
import type { PrequeueStore } from './prequeue-store.js';
import { RedisPrequeue } from './redis-prequeue.js';

/**
 * One pre-queue per line (a store hands out the same access each time, and a wrapping store
 * hands out its inner one's): the in-process pre-queue holds state, so it must never be doubled.
 */
const made = new WeakMap<object, PrequeueStore>();

/**
 * The pre-queue that goes with a queue store: in process beside the in-process line, else in
 * Redis. Call it before the store's connection is busy (at start): see ScheduledQueueStore.
 */
export function prequeueOf(store: QueueStore): PrequeueStore {
  const access = store.prequeueLine();
  let prequeue = made.get(access.line);
  if (!prequeue) {
    prequeue = access.kind === 'memory' ? new MemoryPrequeue(access.line) : new RedisPrequeue(access.line);
    made.set(access.line, prequeue);
  }
  return prequeue;
}

import { describe } from 'vitest';
import { queueStoreContract } from './queue-store.contract.js';
import { redisTarget, shouldSkipRedis } from './redis-target.js';
import { memoryHarness, redisHarness } from './store-harness.js';

/** The shared queue-store contract on the in-process store and on one Redis. */
const target = await redisTarget();
const harnesses = [memoryHarness(), redisHarness(target, shouldSkipRedis(target, 'queue-store contract'))];

describe.each(harnesses.map((h) => [h.name, h] as const))('%s queue store', (_name, harness) => {
  queueStoreContract(harness);
});

/**
 * `node --expose-gc --import tsx bench/scenarios/line-heap.ts N`: the in-process store's heap
 * per waiting user at N waiting (user id strings included), printed as JSON. A process of its
 * own, so nothing else the bench holds or drops moves the figure.
 */
import { randomUUID } from 'node:crypto';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';

const count = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const settings = { maxActive: 100, admitPerSecond: 20, paused: true };
const store = new MemoryQueueStore({ activeTtlMs: 600_000, idleTimeoutMs: 60_000 }, settings);
const concert = randomUUID();
await store.restoreSettings(concert, settings);
const now = Date.now();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < count; i++) await store.join(concert, randomUUID(), now);
gc();
const after = process.memoryUsage().heapUsed;
const { waiting } = await store.counts(concert, now);
if (waiting !== count) throw new Error(`in-process line holds ${waiting} of ${count}`);
console.log(JSON.stringify({ count, heapBytesPerWaiter: (after - before) / count }));

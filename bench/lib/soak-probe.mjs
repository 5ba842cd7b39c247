// Loaded into each instance of the soak (node --import): what only the process itself can see,
// its V8 heap and its event-loop lag, written every SOAK_PROBE_EVERY_MS to
// $SOAK_PROBE_DIR/<pid>.json for the scenario to sample (bench/scenarios/soak.ts). Nothing of
// the service changes; the timers are unref'd so the probe never keeps the process alive.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

const dir = process.env.SOAK_PROBE_DIR;
if (dir) {
  const every = Number(process.env.SOAK_PROBE_EVERY_MS ?? 1000);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // The heap's floor between two writes: its smallest size seen (every 200 ms), i.e. after the
  // collections. A point value lands anywhere on the collector's sawtooth (50 to 160 MB here),
  // which hides a slow leak; the floor rises only with what survives collection.
  let floor = Number.POSITIVE_INFINITY;
  setInterval(() => {
    floor = Math.min(floor, getHeapStatistics().used_heap_size);
  }, 200).unref();
  setInterval(() => {
    const memory = process.memoryUsage();
    const sample = {
      at: Date.now(),
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      heapFloor: Math.min(floor, memory.heapUsed),
      external: memory.external,
      // Since the last write: the 99th percentile and the worst, in ms.
      lagP99Ms: lag.percentile(99) / 1e6,
      lagMaxMs: lag.max / 1e6,
    };
    lag.reset();
    floor = Number.POSITIVE_INFINITY;
    try {
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(sample));
    } catch {
      // The scenario removed the directory as it stopped.
    }
  }, every).unref();
}

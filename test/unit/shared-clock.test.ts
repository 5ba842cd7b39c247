import { describe, expect, it } from 'vitest';
import { sleep } from '../../harness/wait.js';
import { type ClockSample, SharedClock, sampleClock } from '../../src/shared/clock.js';

/**
 * The production clock against a reference whose time is known: a "server" 60 s ahead of this
 * process, answering after chosen delays. The clock must read the reference's time (not this
 * host's) within half the round trip, never run backwards, and keep running when the
 * reference cannot be read.
 */

const AHEAD_MS = 60_000;

/** A reference 60 s ahead; `delays` are [before reading, after reading] per call, in ms. */
function reference(delays: () => [number, number], fail: () => boolean = () => false) {
  return () =>
    sampleClock(async () => {
      if (fail()) throw new Error('ECONNREFUSED');
      const [before, after] = delays();
      await sleep(before);
      const at = Date.now() + AHEAD_MS;
      await sleep(after);
      return at;
    });
}

describe('SharedClock', () => {
  it('when the reference is 60 s ahead, then now() reads its time, within half the round trip', async () => {
    const clock = await SharedClock.start({ sample: reference(() => [5, 5]), refreshMs: 60_000 });
    try {
      const error = clock.now() - (Date.now() + AHEAD_MS);
      expect(Math.abs(error)).toBeLessThanOrEqual(clock.uncertaintyMs() + 2);
      // Half of a 10 ms round trip, with room for timers late on a loaded machine.
      expect(clock.uncertaintyMs()).toBeLessThan(50);
    } finally {
      clock.stop();
    }
  });

  it('when a later sample has a slow, lopsided round trip, then it is ignored', async () => {
    let calls = 0;
    // The first measurement is quick; later ones wait 200 ms after reading (a busy event loop).
    const sample = reference(() => (calls++ < 3 ? [1, 1] : [0, 200]));
    const clock = await SharedClock.start({ sample, refreshMs: 60_000 });
    try {
      await clock.refresh();
      // Taken, the lopsided sample would put the clock 100 ms off; the quick one is within its
      // half round trip (a few ms, more when timers run late on a loaded machine).
      const error = clock.now() - (Date.now() + AHEAD_MS);
      expect(Math.abs(error)).toBeLessThanOrEqual(clock.uncertaintyMs() + 2);
      expect(Math.abs(error)).toBeLessThan(50);
    } finally {
      clock.stop();
    }
  });

  it('when the reference steps back, then now() still never runs backwards', async () => {
    let back = 0;
    const sample = (): Promise<ClockSample> => sampleClock(async () => Date.now() + AHEAD_MS - back);
    const clock = await SharedClock.start({ sample, refreshMs: 60_000 });
    try {
      const before = clock.now();
      back = 5_000;
      await sleep(20); // the drift allowance grows, so the new (good) sample is taken
      await clock.refresh();
      const after = clock.now();
      expect(after).toBeGreaterThanOrEqual(before);
    } finally {
      clock.stop();
    }
  });

  it('when the reference cannot be read, then the clock keeps running on the last offset', async () => {
    let down = false;
    const errors: unknown[] = [];
    const clock = await SharedClock.start({
      sample: reference(
        () => [1, 1],
        () => down,
      ),
      refreshMs: 20,
      onError: (error) => errors.push(error),
    });
    try {
      down = true;
      await sleep(100);
      expect(errors.length).toBeGreaterThan(0);
      const error = clock.now() - (Date.now() + AHEAD_MS);
      expect(Math.abs(error)).toBeLessThan(20);
    } finally {
      clock.stop();
    }
  });

  it('when the reference is unreachable at start, then start() fails (the server retries it)', async () => {
    await expect(
      SharedClock.start({
        sample: reference(
          () => [0, 0],
          () => true,
        ),
      }),
    ).rejects.toThrow('ECONNREFUSED');
  });
});

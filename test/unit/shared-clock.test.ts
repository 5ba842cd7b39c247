import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClockSample, SharedClock, sampleClock } from '../../src/shared/clock.js';

/**
 * The production clock against a reference whose time is known, with this process's monotonic
 * clock in the test's hands: the reference reads `REFERENCE_AT_ZERO + monotonic` (a server
 * whose clock runs exactly with ours, far from this host's wall clock), and a round trip takes
 * exactly the milliseconds the test says. The clock must read the reference's time (not this
 * host's) within half the round trip, ignore a worse sample, never run backwards, and keep
 * running when the reference cannot be read.
 */

const REFERENCE_AT_ZERO = Date.parse('2030-01-01T00:00:00.000Z');

/** A monotonic clock that moves only when told to. */
function manualMonotonic(start = 1000) {
  let at = start;
  return {
    read: () => at,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

type Mono = ReturnType<typeof manualMonotonic>;

/**
 * The reference, read through `sampleClock`; `delays` are [before reading, after reading] per
 * call, in ms of the monotonic clock; `behind` is how far the reference has stepped back.
 */
function reference(
  mono: Mono,
  delays: () => [number, number],
  options: { fail?: () => boolean; behind?: () => number } = {},
) {
  return (): Promise<ClockSample> =>
    sampleClock(async () => {
      if (options.fail?.()) throw new Error('ECONNREFUSED');
      const [before, after] = delays();
      mono.advance(before);
      const at = REFERENCE_AT_ZERO + mono.read() - (options.behind?.() ?? 0);
      mono.advance(after);
      return at;
    }, mono.read);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedClock', () => {
  it('when the reference is far from this host, then now() reads its time, within half the round trip', async () => {
    const mono = manualMonotonic();
    const clock = await SharedClock.start({
      sample: reference(mono, () => [5, 5]),
      monotonic: mono.read,
      refreshMs: 60_000,
    });
    try {
      // Three 10 ms samples, the first kept: its reading is placed mid-round-trip, which is exact
      // for a symmetric one.
      expect(clock.now()).toBe(REFERENCE_AT_ZERO + mono.read());
      mono.advance(1234);
      expect(clock.now()).toBe(REFERENCE_AT_ZERO + mono.read());
      // Half the 10 ms round trip, plus 100 ppm of the time since the kept sample's middle.
      expect(clock.uncertaintyMs()).toBeCloseTo(5 + (25 + 1234) * 1e-4, 9);
    } finally {
      clock.stop();
    }
  });

  it('when a later sample has a slow, lopsided round trip, then it is ignored', async () => {
    const mono = manualMonotonic();
    let calls = 0;
    // The first measurement is quick; later ones wait 200 ms after reading (a busy event loop).
    const sample = reference(mono, () => (calls++ < 3 ? [1, 1] : [0, 200]));
    const clock = await SharedClock.start({ sample, monotonic: mono.read, refreshMs: 60_000 });
    try {
      await clock.refresh();
      expect(calls).toBe(6);
      // Taken, the lopsided sample would put the clock 100 ms behind; the quick one is exact.
      expect(clock.now()).toBe(REFERENCE_AT_ZERO + mono.read());
      expect(clock.uncertaintyMs()).toBeLessThan(2);
    } finally {
      clock.stop();
    }
  });

  it('when the reference steps back, then now() still never runs backwards, and moves on from the new offset once past it', async () => {
    const mono = manualMonotonic();
    let behind = 0;
    const sample = reference(mono, () => [1, 1], { behind: () => behind });
    const clock = await SharedClock.start({ sample, monotonic: mono.read, refreshMs: 60_000 });
    try {
      const before = clock.now();
      expect(before).toBe(REFERENCE_AT_ZERO + mono.read());
      behind = 5_000;
      mono.advance(20); // the drift allowance grows past 1 ms, so the new (equally good) sample is taken
      await clock.refresh();
      expect(clock.uncertaintyMs()).toBeCloseTo(1 + 5 * 1e-4, 9); // the new sample was taken (its middle 5 ms ago)
      expect(clock.now()).toBe(before);
      mono.advance(4_000);
      expect(clock.now()).toBe(before);
      mono.advance(2_000);
      expect(clock.now()).toBe(REFERENCE_AT_ZERO + mono.read() - 5_000);
    } finally {
      clock.stop();
    }
  });

  it('when the reference cannot be read, then each refresh reports it and the clock keeps running on the last offset', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const mono = manualMonotonic();
    let down = false;
    const errors: unknown[] = [];
    let reported: () => void = () => {};
    const clock = await SharedClock.start({
      sample: reference(mono, () => [1, 1], { fail: () => down }),
      monotonic: mono.read,
      refreshMs: 20,
      onError: (error) => {
        errors.push(error);
        reported();
      },
    });
    try {
      down = true;
      const firstError = new Promise<void>((resolve) => {
        reported = resolve;
      });
      await vi.advanceTimersByTimeAsync(20);
      await firstError;
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('ECONNREFUSED');
      mono.advance(500);
      expect(clock.now()).toBe(REFERENCE_AT_ZERO + mono.read());
    } finally {
      clock.stop();
    }
  });

  it('when the reference is unreachable at start, then start() fails (the server retries it)', async () => {
    const mono = manualMonotonic();
    await expect(
      SharedClock.start({
        sample: reference(mono, () => [0, 0], { fail: () => true }),
        monotonic: mono.read,
      }),
    ).rejects.toThrow('ECONNREFUSED');
  });
});

/**
 * The one source of time. Every rule that depends on "now" (hold expiry, active windows,
 * idle waiters, admission rate) reads it from here, so tests can move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-11-21T10:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/**
 * Milliseconds from an arbitrary origin that only ever move forward at the rate of real time
 * (`performance.now()`): what round trips and time since a measurement are timed with. A
 * parameter wherever such timing is the subject, so tests move it by hand instead of sleeping.
 */
export type Monotonic = () => number;

export const monotonic: Monotonic = () => performance.now();

/**
 * One reading of a reference clock: what it said, and when (this process's monotonic clock,
 * `performance.now()`) the question left and the answer came back.
 */
export interface ClockSample {
  referenceMs: number;
  sentAt: number;
  receivedAt: number;
}

/** Reads a reference clock once, timing the round trip with the monotonic clock. */
export async function sampleClock(
  read: () => Promise<number>,
  elapsed: Monotonic = monotonic,
): Promise<ClockSample> {
  const sentAt = elapsed();
  const referenceMs = await read();
  return { referenceMs, sentAt, receivedAt: elapsed() };
}

export interface SharedClockOptions {
  /** Reads the reference once (e.g. the PostgreSQL server's clock, on a connection already open). */
  sample: () => Promise<ClockSample>;
  /** How often the offset is measured again (default 10 s). */
  refreshMs?: number;
  /** Samples per measurement; the one with the shortest round trip is kept (default 3). */
  samplesPerRefresh?: number;
  /** Told when a refresh fails (the store is down): the clock keeps running on the last offset. */
  onError?: (error: unknown) => void;
  /** The monotonic clock the samples were timed with (default `performance.now()`). */
  monotonic?: Monotonic;
}

/**
 * Drift allowed for the monotonic clock between measurements when judging whether a new
 * sample is better than the running estimate (100 ppm: far above any real oscillator).
 */
const DRIFT_PER_MS = 1e-4;

/**
 * The clock every shared decision reads in production: the reference store's time, carried
 * forward by this process's monotonic clock. Instances behind one load balancer share one
 * PostgreSQL (or one Redis), so they agree on "now" to within a few milliseconds whatever
 * their own wall clocks say: a wall clock that is off, or that steps (NTP, a VM resumed), is
 * never read at all.
 *
 * The offset is measured as NTP does: the reference's reading is taken to be the time at the
 * middle of the round trip, so the error is at most half of it. A new measurement replaces the
 * running one only when its error bound is no worse (a sample slowed by a busy event loop or
 * a queued connection is ignored), and `now()` never runs backwards.
 */
export class SharedClock implements Clock {
  private baseReference = 0;
  private baseMonotonic = 0;
  private errorBoundMs = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly elapsed: Monotonic;

  private constructor(private readonly options: SharedClockOptions) {
    this.elapsed = options.monotonic ?? monotonic;
  }

  /** Measures the offset (throws if the reference cannot be read), then refreshes it periodically. */
  static async start(options: SharedClockOptions): Promise<SharedClock> {
    const clock = new SharedClock(options);
    await clock.refresh();
    clock.timer = setInterval(() => {
      clock.refresh().catch((error) => options.onError?.(error));
    }, options.refreshMs ?? 10_000);
    clock.timer.unref();
    return clock;
  }

  now(): number {
    const estimate = this.baseReference + (this.elapsed() - this.baseMonotonic);
    this.last = Math.max(this.last, Math.round(estimate));
    return this.last;
  }

  /** How far from the reference `now()` may be, at most (half the kept round trip, plus drift). */
  uncertaintyMs(): number {
    return this.errorBoundMs + (this.elapsed() - this.baseMonotonic) * DRIFT_PER_MS;
  }

  /** Measures again; keeps the new offset only when it is at least as trustworthy. */
  async refresh(): Promise<void> {
    let best: ClockSample | undefined;
    for (let i = 0; i < (this.options.samplesPerRefresh ?? 3); i++) {
      const sample = await this.options.sample();
      if (!best || sample.receivedAt - sample.sentAt < best.receivedAt - best.sentAt) best = sample;
    }
    if (!best) return;
    const bound = (best.receivedAt - best.sentAt) / 2;
    if (bound > this.uncertaintyMs()) return;
    this.baseMonotonic = (best.sentAt + best.receivedAt) / 2;
    this.baseReference = best.referenceMs;
    this.errorBoundMs = bound;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

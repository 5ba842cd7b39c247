import { describe, expect, it } from 'vitest';
import {
  admissionBudget,
  estimateWaitSeconds,
  measuredRate,
  priorWaitSeconds,
  sustainableRate,
} from '../../src/queue/queue-rules.js';
import type { QueueSettings, QueueTimings } from '../../src/queue/queue-store.js';

// 100 slots held 600 s each turn over at 1/6 per second, well under the rate limit of 20.
const SETTINGS: QueueSettings = { maxActive: 100, admitPerSecond: 20, paused: false };
const TIMINGS: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 60_000 };
const NOTHING_MEASURED = { count: 0, spanMs: 0 };

describe('measuredRate', () => {
  it('when fewer than two admissions were sampled, then there is no rate to trust', () => {
    expect(measuredRate(NOTHING_MEASURED)).toBeNull();
    expect(measuredRate({ count: 1, spanMs: 30_000 })).toBeNull();
  });

  it('when the sample spans no time, then there is no rate', () => {
    expect(measuredRate({ count: 5, spanMs: 0 })).toBeNull();
  });

  it('when admissions span some seconds, then the rate is admissions per second', () => {
    expect(measuredRate({ count: 10, spanMs: 5_000 })).toBe(2);
    expect(measuredRate({ count: 3, spanMs: 60_000 })).toBe(0.05);
  });

  it('when admissions span less than a second, then they count as one second, so a burst does not inflate the rate', () => {
    expect(measuredRate({ count: 4, spanMs: 10 })).toBe(4);
  });
});

describe('sustainableRate', () => {
  it('when slots turn over slower than the rate limit, then it is maxActive per active window', () => {
    expect(sustainableRate(SETTINGS, TIMINGS)).toBeCloseTo(1 / 6, 12);
  });

  it('when the rate limit is the tighter bound, then it is admitPerSecond', () => {
    expect(sustainableRate({ ...SETTINGS, maxActive: 6_000, admitPerSecond: 2 }, TIMINGS)).toBe(2);
  });

  it('when the active window is under a second, then slots turn over several times a second', () => {
    expect(sustainableRate({ ...SETTINGS, maxActive: 3 }, { ...TIMINGS, activeTtlMs: 200 })).toBeCloseTo(
      15,
      12,
    );
  });

  it('when nothing can be admitted, then the rate stays positive so a wait can be divided by it', () => {
    expect(sustainableRate({ ...SETTINGS, maxActive: 0 }, TIMINGS)).toBe(0.001);
    expect(sustainableRate(SETTINGS, { ...TIMINGS, activeTtlMs: 0 })).toBe(20);
  });
});

describe('priorWaitSeconds', () => {
  it('when the position is within the first maxActive, then only the rate limit paces it', () => {
    expect(priorWaitSeconds(10, SETTINGS, TIMINGS)).toBe(0.5);
    expect(priorWaitSeconds(100, SETTINGS, TIMINGS)).toBe(5);
  });

  it('when the position is past the first maxActive, then the rest wait for slots to turn over', () => {
    // 100 at 20/s, then 50 more at 1/6 per second.
    expect(priorWaitSeconds(150, SETTINGS, TIMINGS)).toBeCloseTo(5 + 300, 9);
  });
});

describe('estimateWaitSeconds', () => {
  it('when a rate was measured, then the wait is the position divided by it, rounded up', () => {
    expect(estimateWaitSeconds(7, { count: 10, spanMs: 5_000 }, SETTINGS, TIMINGS)).toBe(4);
    expect(estimateWaitSeconds(8, { count: 10, spanMs: 5_000 }, SETTINGS, TIMINGS)).toBe(4);
  });

  it('when nothing was measured yet, then the wait comes from the settings alone', () => {
    expect(estimateWaitSeconds(150, NOTHING_MEASURED, SETTINGS, TIMINGS)).toBe(305);
    expect(estimateWaitSeconds(150, { count: 1, spanMs: 10_000 }, SETTINGS, TIMINGS)).toBe(305);
  });

  it('when the wait would round to nothing, then it is at least one second', () => {
    expect(estimateWaitSeconds(1, { count: 100, spanMs: 1_000 }, SETTINGS, TIMINGS)).toBe(1);
    expect(estimateWaitSeconds(10, NOTHING_MEASURED, SETTINGS, TIMINGS)).toBe(1);
  });
});

describe('admissionBudget', () => {
  it('when paused, then nobody may be admitted', () => {
    expect(admissionBudget({ ...SETTINGS, paused: true }, 0, 0)).toBe(0);
  });

  it('when slots are free and the second is fresh, then the tighter of the two limits applies', () => {
    expect(admissionBudget(SETTINGS, 0, 0)).toBe(20);
    expect(admissionBudget(SETTINGS, 95, 0)).toBe(5);
    expect(admissionBudget(SETTINGS, 0, 18)).toBe(2);
  });

  it('when either limit is used up, then the budget is 0', () => {
    expect(admissionBudget(SETTINGS, 100, 0)).toBe(0);
    expect(admissionBudget(SETTINGS, 0, 20)).toBe(0);
  });

  it('when a limit was lowered below what is already in use, then the budget is 0, never negative', () => {
    expect(admissionBudget({ ...SETTINGS, maxActive: 10 }, 50, 0)).toBe(0);
    expect(admissionBudget({ ...SETTINGS, admitPerSecond: 5 }, 0, 12)).toBe(0);
  });
});

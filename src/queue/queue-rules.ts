import type { AdmissionSample, QueueSettings, QueueTimings } from './queue-store.js';

/**
 * The wait estimate: position divided by the admission rate actually measured. Until there is
 * a measurement (a line that has not moved yet), the rate the line can sustain stands in: no
 * faster than admitPerSecond, and no faster than active slots turn over when every slot is
 * held for its whole window.
 */
export function estimateWaitSeconds(
  position: number,
  sample: AdmissionSample,
  settings: QueueSettings,
  timings: QueueTimings,
): number {
  const rate = measuredRate(sample) ?? sustainableRate(settings, timings);
  return Math.max(1, Math.ceil(position / rate));
}

/** Admissions per second over the sample, or null when there are too few to trust. */
export function measuredRate(sample: AdmissionSample): number | null {
  if (sample.count < 2 || sample.spanMs <= 0) return null;
  return sample.count / Math.max(1, sample.spanMs / 1000);
}

export function sustainableRate(settings: QueueSettings, timings: QueueTimings): number {
  const turnover = settings.maxActive / Math.max(1, timings.activeTtlMs / 1000);
  return Math.max(0.001, Math.min(settings.admitPerSecond, turnover));
}

/**
 * How many tickets one admission step may admit: free active slots, bounded by what the
 * rate limit leaves of the last second.
 */
export function admissionBudget(settings: QueueSettings, active: number, admittedLastSecond: number): number {
  if (settings.paused) return 0;
  return Math.max(0, Math.min(settings.maxActive - active, settings.admitPerSecond - admittedLastSecond));
}

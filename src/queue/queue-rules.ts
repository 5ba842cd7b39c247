import type { AdmissionSample, QueueSettings, QueueTimings } from './queue-store.js';

/**
 * The wait estimate: position divided by the admission rate actually measured. Until there is
 * a measurement (a line that has not moved in the sample window), the settings stand in: the
 * first maxActive go in at admitPerSecond, everyone after them as fast as active slots turn
 * over when each is held for its whole window.
 */
export function estimateWaitSeconds(
  position: number,
  sample: AdmissionSample,
  settings: QueueSettings,
  timings: QueueTimings,
): number {
  const rate = measuredRate(sample);
  const seconds = rate !== null ? position / rate : priorWaitSeconds(position, settings, timings);
  return Math.max(1, Math.ceil(seconds));
}

/** Admissions per second over the sample, or null when there are too few to trust. */
export function measuredRate(sample: AdmissionSample): number | null {
  if (sample.count < 2 || sample.spanMs <= 0) return null;
  return sample.count / Math.max(1, sample.spanMs / 1000);
}

/** The wait before any admission was measured, from the settings alone. */
export function priorWaitSeconds(position: number, settings: QueueSettings, timings: QueueTimings): number {
  const firstWave = Math.min(position, settings.maxActive);
  const later = position - firstWave;
  return firstWave / settings.admitPerSecond + (later > 0 ? later / sustainableRate(settings, timings) : 0);
}

/** The steady admission rate when every slot is held for its whole active window. */
export function sustainableRate(settings: QueueSettings, timings: QueueTimings): number {
  const turnover = settings.maxActive / Math.max(0.001, timings.activeTtlMs / 1000);
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

import type { Config } from '../config.js';
import type { QueueSettings, QueueTimings } from './queue-store.js';

/**
 * The queue's timings and every line's default settings, as the configuration gives them: the one
 * place server, app, tests and tools derive them, so no caller assembles them by hand.
 */
export function queueOptions(config: Readonly<Config>): { timings: QueueTimings; defaults: QueueSettings } {
  return {
    timings: { activeTtlMs: config.queueActiveTtlMs, idleTimeoutMs: config.queueIdleTimeoutMs },
    defaults: { maxActive: config.queueMaxActive, admitPerSecond: config.queueAdmitPerSecond, paused: false },
  };
}

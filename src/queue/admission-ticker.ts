import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import type { QueueStore } from './queue-store.js';

/** How often each instance advances every line. */
export const ADMISSION_TICK_MS = 100;

/**
 * Moves every line forward on a short period. Liveness only: correctness never depends on it
 * firing on time (a lapsed ticket reads EXPIRED by itself, admission limits live in the
 * store's atomic step), and any number of instances may tick at once, so losing one instance
 * never stops admission.
 */
export class AdmissionTicker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: QueueStore,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    private readonly onAdmitted: (concertId: string, count: number) => void = () => {},
  ) {}

  start(periodMs = ADMISSION_TICK_MS): void {
    this.timer = setInterval(() => void this.tick(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.running) return; // a slow store must not pile up overlapping ticks
    this.running = true;
    try {
      for (const concertId of await this.store.concertIds()) {
        const admitted = await this.store.advance(concertId, this.clock.now());
        if (admitted > 0) this.onAdmitted(concertId, admitted);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'admission tick failed; retrying on the next tick');
    } finally {
      this.running = false;
    }
  }
}

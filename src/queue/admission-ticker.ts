import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import type { QueueStore, RegisteredLine, SettingsSource } from './queue-store.js';

/** How often each instance advances the live lines. */
export const ADMISSION_TICK_MS = 100;
/** How long a line stays registered once nobody waits in it or holds a slot. */
export const PRUNE_EMPTY_LINE_MS = 60_000;

export interface AdmissionTickerHooks {
  onAdmitted?: (concertId: string, count: number) => void;
  /** The store lost its data (noticed by its marker, or a registered line without counters). */
  onLoss?: () => void;
}

interface LineSeen {
  lastJoin: number;
  live: boolean;
  /** Since when this instance has seen the line empty, or null while it is live. */
  emptySince: number | null;
}

/**
 * Moves the live lines forward on a short period. Liveness only: correctness never depends on
 * it firing on time (a lapsed ticket reads EXPIRED by itself, admission limits live in the
 * store's atomic step), and any number of instances may tick at once, so losing one instance
 * never stops admission.
 *
 * Work follows live work: a step runs for a line that had waiters or active buyers at its last
 * step here, or was joined since; lines are stepped side by side, not one after another; and a
 * line found empty for PRUNE_EMPTY_LINE_MS is taken off the registry (a later join puts it
 * back), so finished concerts cost nothing.
 *
 * A line whose settings are missing (new, or lost with the store's data) gets them back from
 * `settingsSource` — never from defaults, which would resume a paused sale.
 */
export class AdmissionTicker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly lines = new Map<string, LineSeen>();

  constructor(
    private readonly store: QueueStore,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    private readonly settingsSource: SettingsSource,
    private readonly hooks: AdmissionTickerHooks = {},
    private readonly pruneAfterMs = PRUNE_EMPTY_LINE_MS,
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
      const now = this.clock.now();
      if (await this.store.checkForLoss(now)) this.lossNoticed('the queue store came back empty');
      const registered = await this.store.registeredLines();
      const listed = new Set(registered.map((line) => line.concertId));
      for (const concertId of this.lines.keys()) if (!listed.has(concertId)) this.lines.delete(concertId);
      await Promise.all(registered.map((line) => this.step(line, now)));
    } catch (error) {
      this.log.warn({ err: error }, 'admission tick failed; retrying on the next tick');
    } finally {
      this.running = false;
    }
  }

  private async step(line: RegisteredLine, now: number): Promise<void> {
    const { concertId, lastJoin } = line;
    const seen = this.lines.get(concertId);
    const due = !seen || seen.live || seen.lastJoin !== lastJoin;
    try {
      if (!due) {
        if (seen.emptySince !== null && now - seen.emptySince >= this.pruneAfterMs) {
          await this.store.unregister(concertId, lastJoin);
          this.lines.delete(concertId);
        }
        return;
      }
      let result = await this.store.advance(concertId, now);
      if (result.lost) {
        this.store.recordLoss(now);
        this.lossNoticed('a line lost its data', concertId);
        await this.store.unregister(concertId, lastJoin);
        this.lines.delete(concertId);
        return;
      }
      if (result.settingsMissing) {
        await this.store.restoreSettings(concertId, await this.settingsSource(concertId));
        result = await this.store.advance(concertId, now);
      }
      if (result.admitted > 0) this.hooks.onAdmitted?.(concertId, result.admitted);
      this.lines.set(concertId, {
        lastJoin,
        live: result.live,
        emptySince: result.live ? null : (seen?.emptySince ?? now),
      });
    } catch (error) {
      this.log.warn({ err: error, concertId }, 'admission step failed; retrying on the next tick');
    }
  }

  private lossNoticed(what: string, concertId?: string): void {
    // Loud on purpose: waiting users were told to rejoin and the line restarts its numbering.
    this.log.error(
      { concertId, losses: this.store.losses() },
      `${what}: waiting users read EXPIRED and must rejoin; settings are restored from their source`,
    );
    this.hooks.onLoss?.();
  }
}

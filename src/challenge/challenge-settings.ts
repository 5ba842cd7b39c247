import type { SaleSchedule } from '../sale/sale-schedule.js';

/**
 * How long an instance answers joins from its copy of a concert's `challenge` setting before it
 * reads PostgreSQL again (in the background). An operator's change reaches the other instances
 * within this; the instance that made it knows at once.
 */
export const CHALLENGE_SETTING_REFRESH_MS = 2000;

/**
 * The per-concert `challenge` setting as joins read it. PostgreSQL holds it (so a Redis loss
 * never turns it off); a join must not wait for PostgreSQL each time (a frozen database must
 * not stall what only needs Redis), so once known a concert's setting is answered from memory
 * and refreshed behind the answer. A failed refresh keeps the last value: never "off" by error.
 */
export class ChallengeSettings {
  private readonly known = new Map<string, { on: boolean; at: number; refreshing: boolean }>();

  constructor(private readonly schedule: SaleSchedule) {}

  async isOn(concertId: string): Promise<boolean> {
    const entry = this.known.get(concertId);
    if (!entry) return this.load(concertId);
    if (performance.now() - entry.at > CHALLENGE_SETTING_REFRESH_MS && !entry.refreshing) {
      entry.refreshing = true;
      this.load(concertId).catch(() => {
        entry.refreshing = false;
      });
    }
    return entry.on;
  }

  async set(concertId: string, on: boolean): Promise<void> {
    await this.schedule.saveChallenge(concertId, on);
    this.known.set(concertId, { on, at: performance.now(), refreshing: false });
  }

  private async load(concertId: string): Promise<boolean> {
    const on = await this.schedule.challengeOf(concertId);
    this.known.set(concertId, { on, at: performance.now(), refreshing: false });
    return on;
  }
}

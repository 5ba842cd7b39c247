import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `work` every `periodMs` while started. A run never overlaps the previous one (a slow run
 * delays the next instead of piling up), and a failed run is logged and simply tried again on the
 * next period: jobs record their progress only when a step succeeds.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly periodMs: number,
    private readonly work: () => Promise<void>,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.periodMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress to end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = this.work()
      .catch((error) => this.log.warn({ err: error }, `${this.name} failed; retrying on the next period`))
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
  }
}

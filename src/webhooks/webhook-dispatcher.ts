import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { PeriodicJob } from '../shared/periodic-job.js';
import { SIGNATURE_HEADER, signatureOf } from './signature.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { ClaimedEvent, WebhookStore } from './webhook-store.js';

export interface WebhookDispatcherSettings {
  /** WEBHOOK_URL and WEBHOOK_SECRET. */
  url: string;
  secret: string;
  /** How often an instance looks for due events (one indexed probe when there are none). */
  periodMs: number;
  /** Events claimed per statement, all sent at once: the bound on requests in flight per instance. */
  concurrency: number;
  /** Claims per period at most (each waits for its sends): a backlog is worked off over periods. */
  maxRoundsPerPeriod: number;
  /** API.md: a 2xx within 10 s counts as delivered. */
  timeoutMs: number;
  /**
   * How long a claim keeps other instances off an event. Longer than a send can take (the
   * timeout) plus writing its outcome, so a live claimer never loses its event; an instance
   * killed mid-send gives its events back when the lease ends.
   */
  leaseMs: number;
  /** Retried for this long after the effect (API.md: 24 h), then failed. */
  giveUpAfterMs: number;
  /** Back-off after the n-th failed attempt: firstRetryMs × factor^(n-1), at most maxRetryMs, ±25 % jitter. */
  firstRetryMs: number;
  retryFactor: number;
  maxRetryMs: number;
  /**
   * The timeout of one send, as a signal (default: `timeoutMs` of real time). Tests pass their
   * own, so that "no answer in time" is decided by the test, not raced against a busy machine.
   */
  timeoutSignal?: (event: ClaimedEvent) => AbortSignal;
}

export const WEBHOOK_DISPATCHER_DEFAULTS: Omit<WebhookDispatcherSettings, 'url' | 'secret'> = {
  periodMs: 1000,
  concurrency: 16,
  maxRoundsPerPeriod: 10,
  timeoutMs: 10_000,
  leaseMs: 30_000,
  giveUpAfterMs: 24 * 60 * 60 * 1000,
  // 5 s, 15 s, 45 s, 2¼ min, 6¾ min, 20 min, 1 h, then hourly: about 30 attempts in 24 h.
  firstRetryMs: 5000,
  retryFactor: 3,
  maxRetryMs: 60 * 60 * 1000,
};

/**
 * Milliseconds to wait after the `attempts`-th failed attempt. The jitter (a factor in
 * [0.75, 1.25)) spreads the retries of events that failed together (a receiver that was down
 * for a minute) so they do not all come back in the same second; with a factor of 3 between
 * steps the delay still grows at every step up to the cap.
 */
export function backoffMs(
  attempts: number,
  settings: Pick<WebhookDispatcherSettings, 'firstRetryMs' | 'retryFactor' | 'maxRetryMs'>,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    settings.maxRetryMs,
    settings.firstRetryMs * settings.retryFactor ** Math.max(0, attempts - 1),
  );
  return Math.round(base * (0.75 + 0.5 * random()));
}

/** The JSON body of API.md: `{"id", "type", "createdAt", "data"}`, the same bytes for every attempt. */
export function eventBody(event: Pick<ClaimedEvent, 'id' | 'type' | 'createdAt' | 'data'>): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: new Date(event.createdAt).toISOString(),
    data: event.data,
  });
}

/**
 * Delivers the outbox (webhook_events) to WEBHOOK_URL, on every instance at once: each period
 * it claims due events (WebhookStore.claim: one statement, SKIP LOCKED, a lease), POSTs them
 * signed, and writes each outcome — delivered; or the next attempt after a growing, jittered
 * back-off; or failed once 24 h have passed since the effect. At least once: an event is marked
 * delivered only after its 2xx, so a crash between the two sends it again (same id); a receiver
 * that keeps the ids it has seen sees each event once.
 *
 * Every time written to the database is the service's clock (the shared one in production), so
 * instances agree on what is due however their own clocks stand, and tests move time by hand.
 */
/** Delivered events are kept this long for the admin list, then purged. */
export const DELIVERED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 5_000;

export class WebhookDispatcher {
  private readonly job: PeriodicJob;
  private readonly settings: WebhookDispatcherSettings;
  /** Aborts the sends in flight when the instance stops. */
  private stopping = new AbortController();
  /** When delivered events were last purged (the service's clock). */
  private purgedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: WebhookStore,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    settings: Pick<WebhookDispatcherSettings, 'url' | 'secret'> & Partial<WebhookDispatcherSettings>,
    private readonly metrics?: WebhookMetrics,
    /** The jitter's source; tests fix it. */
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { ...WEBHOOK_DISPATCHER_DEFAULTS, ...settings };
    this.job = new PeriodicJob(
      'webhook delivery',
      this.settings.periodMs,
      async () => void (await this.dispatch()),
      log,
    );
  }

  start(): void {
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.job.start();
  }

  /** Stops claiming; sends in flight are cut short and their events handed back at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.job.stop();
  }

  /** One period's work: claim, send, record, until nothing more is due or the bound is reached. Returns events attempted. */
  async dispatch(): Promise<number> {
    const { concurrency, leaseMs, maxRoundsPerPeriod } = this.settings;
    let attempted = 0;
    for (let round = 0; round < maxRoundsPerPeriod && !this.stopping.signal.aborted; round++) {
      const claimed = await this.store.claim(this.clock.now(), leaseMs, concurrency);
      await Promise.all(claimed.map((event) => this.deliver(event)));
      attempted += claimed.length;
      if (claimed.length < concurrency) break;
    }
    await this.purge();
    return attempted;
  }

  /**
   * At most once a minute, delivered events older than DELIVERED_RETENTION_MS go (a bounded
   * batch; a backlog goes over the following minutes), so the outbox does not grow with every
   * sale ever made. Pending and failed events stay until they are delivered or retried.
   */
  private async purge(): Promise<void> {
    const now = this.clock.now();
    if (now - this.purgedAt < PURGE_EVERY_MS) return;
    this.purgedAt = now;
    await this.store.purgeDelivered(now - DELIVERED_RETENTION_MS, PURGE_BATCH);
  }

  private async deliver(event: ClaimedEvent): Promise<void> {
    const failure = await this.send(event);
    const now = this.clock.now();
    try {
      if (failure === null) {
        this.metrics?.attempts.inc({ outcome: 'delivered' });
        // Latency once per event: a duplicate send (a lease that ran out) finds it delivered already.
        if (await this.store.delivered(event.id, now)) {
          this.metrics?.latency.observe(Math.max(0, now - event.createdAt) / 1000);
        }
      } else if (this.stopping.signal.aborted) {
        // Not the receiver's fault: due again at once, for whichever instance is still running.
        await this.store.attemptFailed(event, 'instance stopping', { giveUp: false, nextAt: now });
      } else {
        const deadline = event.createdAt + this.settings.giveUpAfterMs;
        const giveUp = now >= deadline;
        // The last retry falls at the deadline itself rather than past it.
        const nextAt = Math.min(now + backoffMs(event.attempts, this.settings, this.random), deadline);
        await this.store.attemptFailed(event, failure, giveUp ? { giveUp } : { giveUp, nextAt });
        this.metrics?.attempts.inc({ outcome: giveUp ? 'failed' : 'retry' });
        if (giveUp)
          this.log.warn({ eventId: event.id, type: event.type, failure }, 'webhook event failed for good');
      }
    } catch (error) {
      // The outcome is not written: the lease runs out and the event is sent again (at least once).
      this.log.warn(
        { err: error, eventId: event.id },
        'webhook outcome not recorded; the event will be sent again',
      );
    }
  }

  /** POSTs one event; null on a 2xx within the timeout, else why not. */
  private async send(event: ClaimedEvent): Promise<string | null> {
    const body = eventBody(event);
    const t = Math.floor(this.clock.now() / 1000);
    try {
      const res = await fetch(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'boxoffice-webhooks',
          [SIGNATURE_HEADER]: signatureOf(this.settings.secret, t, body),
        },
        body,
        // A redirect is not a delivery: only the configured URL's own 2xx counts.
        redirect: 'manual',
        signal: AbortSignal.any([
          this.settings.timeoutSignal?.(event) ?? AbortSignal.timeout(this.settings.timeoutMs),
          this.stopping.signal,
        ]),
      });
      // The answer's body is not needed; release the connection.
      await res.body?.cancel().catch(() => {});
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
    } catch (error) {
      return describe(error, this.settings.timeoutMs);
    }
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  if (e.name === 'AbortError') return 'instance stopping';
  const cause = e.cause?.code ?? e.cause?.message;
  return (cause ? `${e.message}: ${cause}` : (e.message ?? String(error))).slice(0, 500);
}

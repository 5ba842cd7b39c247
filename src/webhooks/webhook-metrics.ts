import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WebhookCounts } from './webhook-store.js';

/**
 * The outbox in Prometheus: the backlog (pending, failed, age of the oldest pending event),
 * read from the shared table at scrape time, so every instance reports the same numbers
 * (alert rules combine them with max(), never sum()); and this instance's attempts and
 * delivery latency (created → delivered: the time another system waited to hear of it).
 */
export class WebhookMetrics {
  readonly attempts: Counter<'outcome'>;
  readonly latency: Histogram;

  /**
   * `counts` is read once per scrape for the three gauges; `now` is the service's clock, the one
   * created_at was written with.
   */
  constructor(registry: Registry, counts: () => Promise<WebhookCounts>, now: () => number) {
    // The three gauges are collected one after the other in one scrape: they share one read.
    let inFlight: Promise<WebhookCounts | undefined> | undefined;
    const read = () => {
      inFlight ??= counts()
        .catch(() => undefined)
        .finally(() => {
          setImmediate(() => {
            inFlight = undefined;
          });
        });
      return inFlight;
    };
    const gauge = (name: string, help: string, value: (c: WebhookCounts) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const c = await read();
          // The database does not answer: no value rather than a false 0 (boxoffice_backend_up says why).
          if (c) this.set(value(c));
          else this.reset();
        },
      });
    gauge(
      'boxoffice_webhook_events_pending',
      'Webhook events not yet delivered (outbox backlog)',
      (c) => c.pending,
    );
    gauge(
      'boxoffice_webhook_events_failed',
      'Webhook events given up after 24 h of retries (until an operator retries them)',
      (c) => c.failed,
    );
    gauge(
      'boxoffice_webhook_oldest_pending_age_seconds',
      'Age of the oldest undelivered webhook event',
      (c) => (c.oldestPendingAt === null ? 0 : Math.max(0, (now() - c.oldestPendingAt) / 1000)),
    );
    this.attempts = new Counter({
      name: 'boxoffice_webhook_attempts_total',
      help: 'Webhook delivery attempts by this instance, by outcome (delivered, retry later, failed for good)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'boxoffice_webhook_delivery_latency_seconds',
      help: 'From an event’s effect to its delivery (retries included)',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers: [registry],
    });
  }
}

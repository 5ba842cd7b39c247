import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConcertSnapshot } from './sale-snapshot.js';

export interface MetricsSources {
  /** Queue sizes and seat counts per concert, read when Prometheus scrapes. */
  snapshot(): Promise<ConcertSnapshot[]>;
  /** Whether each backing store answers now, read when Prometheus scrapes. */
  backends(): Promise<Record<'database' | 'queue', boolean>>;
}

/**
 * Prometheus metrics of one instance; queue and seat gauges are read fresh at each scrape.
 * Names follow Prometheus' conventions: base units in the name (`_seconds`, `_won`), `_total`
 * on counters only. deploy/grafana and deploy/prometheus use them; test/ops checks a real
 * Prometheus can query every one the dashboard uses.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'boxoffice_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'boxoffice_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly holds = new Counter({
    name: 'boxoffice_holds_total',
    help: 'Seat holds granted by this instance',
    registers: [this.registry],
  });
  private readonly sales = new Counter({
    name: 'boxoffice_sales_total',
    help: 'Seats sold by this instance',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });
  private readonly revenue = new Counter({
    name: 'boxoffice_revenue_won_total',
    help: 'Won taken in payments by this instance',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });
  readonly admitted = new Counter({
    name: 'boxoffice_queue_admitted_total',
    help: 'Queue tokens admitted by this instance’s admission steps',
    labelNames: ['concert_id'] as const,
    registers: [this.registry],
  });

  readonly queueDataLosses = new Counter({
    name: 'boxoffice_queue_data_losses_total',
    help: 'Times this instance found the queue store (Redis) had lost its data',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    // A scrape gathers every metric at once: the gauges share one read of the stores.
    let inFlight: ReturnType<MetricsSources['snapshot']> | undefined;
    const snapshot = () => {
      inFlight ??= sources.snapshot().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    };
    const perConcert = (name: string, help: string, value: (row: ConcertSnapshot) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['concert_id'] as const,
        registers: [this.registry],
        async collect() {
          const rows = await snapshot().catch(() => []);
          this.reset();
          for (const row of rows) this.set({ concert_id: row.concertId }, value(row));
        },
      });
    perConcert('boxoffice_queue_waiting', 'Tokens waiting in line, the pre-queue included', (r) => r.waiting);
    perConcert(
      'boxoffice_queue_prequeued',
      'Tokens in a scheduled sale’s pre-queue, waiting for the draw',
      (r) => r.prequeued,
    );
    perConcert('boxoffice_queue_active', 'Tokens admitted and active', (r) => r.active);
    perConcert('boxoffice_queue_paused', '1 while the operator has paused the line', (r) =>
      r.paused ? 1 : 0,
    );
    perConcert('boxoffice_seats_held', 'Seats held and not lapsed', (r) => r.held);
    perConcert('boxoffice_seats_sold', 'Seats sold', (r) => r.sold);
    new Gauge({
      name: 'boxoffice_backend_up',
      help: '1 when the backing store answers (database: PostgreSQL; queue: Redis or in-process)',
      labelNames: ['backend'] as const,
      registers: [this.registry],
      async collect() {
        const up = await sources.backends();
        for (const [backend, ok] of Object.entries(up)) this.set({ backend }, ok ? 1 : 0);
      },
    });
  }

  observe(request: FastifyRequest, reply: FastifyReply): void {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    this.requests.inc(labels);
    this.latency.observe(labels, reply.elapsedTime / 1000);
  }

  /** A payment: its seats counted as sold, its total as revenue. */
  recordSale(payment: { concertId: string; amount: number; seats: readonly unknown[] }): void {
    this.sales.inc({ concert_id: payment.concertId }, payment.seats.length);
    this.revenue.inc({ concert_id: payment.concertId }, payment.amount);
  }
}

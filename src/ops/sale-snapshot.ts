import type { ConcertsService } from '../concerts/concerts.service.js';
import type { SaleSchedule } from '../concerts/sale-schedule.js';
import type { QueueStore } from '../queue/queue-store.js';

export interface ConcertSnapshot {
  concertId: string;
  /** In line, the pre-queue included. */
  waiting: number;
  prequeued: number;
  active: number;
  held: number;
  sold: number;
  paused: boolean;
}

/**
 * Each concert's line and seats right now: what the metrics gauges report at a scrape and what
 * the sale sampler records for the operator's charts.
 */
export async function saleSnapshot(
  store: QueueStore,
  concerts: ConcertsService,
  schedule: SaleSchedule,
  now: number,
): Promise<ConcertSnapshot[]> {
  const lines = await store.concertIds();
  const [counts, seats, paused] = await Promise.all([
    Promise.all(
      lines.map(async (id) => {
        const [line, prequeued] = await Promise.all([
          store.counts(id, now),
          store.prequeue.prequeueCount(id),
        ]);
        return [id, { ...line, prequeued }] as const;
      }),
    ),
    concerts.seatStats(now),
    schedule.pausedConcerts(),
  ]);
  const queueOf = new Map(counts);
  const seatsOf = new Map(seats.map((s) => [s.concertId, s]));
  return [...new Set([...lines, ...seatsOf.keys()])].map((concertId) => {
    const q = queueOf.get(concertId) ?? { waiting: 0, active: 0, prequeued: 0 };
    const s = seatsOf.get(concertId) ?? { held: 0, sold: 0 };
    return {
      concertId,
      waiting: q.waiting + q.prequeued,
      prequeued: q.prequeued,
      active: q.active,
      held: s.held,
      sold: s.sold,
      paused: paused.has(concertId),
    };
  });
}

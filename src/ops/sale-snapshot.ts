import type { ConcertsService } from '../concerts/concerts.service.js';
import type { QueueStore } from '../queue/queue-store.js';
import { prequeueOf } from '../sale/prequeue-of.js';
import type { SaleSchedule } from '../sale/sale-schedule.js';

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

export interface SaleReadings {
  concerts: ConcertSnapshot[];
  /** Whether each backing store answered this read (for `boxoffice_backend_up`). */
  up: Record<'database' | 'queue', boolean>;
}

/**
 * Each concert's line and seats right now, and whether each store answered: what the metrics
 * gauges report at a scrape. Never throws: a store that fails leaves its numbers out and reads
 * as down, so one read of the stores serves both the gauges and the health of the stores.
 */
export async function saleReadings(
  store: QueueStore,
  concerts: ConcertsService,
  schedule: SaleSchedule,
  now: number,
): Promise<SaleReadings> {
  const [lineRead, seatRead, pausedRead] = await Promise.allSettled([
    store.concertIds().then((lines) =>
      Promise.all(
        lines.map(async (id) => {
          const [line, prequeued] = await Promise.all([
            store.counts(id, now),
            prequeueOf(store).prequeueCount(id),
          ]);
          return [id, { ...line, prequeued }] as const;
        }),
      ),
    ),
    concerts.seatStats(now),
    schedule.pausedConcerts(),
  ]);
  const counts = lineRead.status === 'fulfilled' ? lineRead.value : [];
  const seats = seatRead.status === 'fulfilled' ? seatRead.value : [];
  const paused = pausedRead.status === 'fulfilled' ? pausedRead.value : new Set<string>();
  const queueOf = new Map(counts);
  const seatsOf = new Map(seats.map((s) => [s.concertId, s]));
  const rows = [...new Set([...queueOf.keys(), ...seatsOf.keys()])].map((concertId) => {
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
  return {
    concerts: rows,
    up: {
      queue: lineRead.status === 'fulfilled',
      database: seatRead.status === 'fulfilled' && pausedRead.status === 'fulfilled',
    },
  };
}

/** The same, for the sale sampler, which records nothing when a store did not answer. */
export async function saleSnapshot(
  store: QueueStore,
  concerts: ConcertsService,
  schedule: SaleSchedule,
  now: number,
): Promise<ConcertSnapshot[]> {
  const readings = await saleReadings(store, concerts, schedule, now);
  if (!readings.up.database || !readings.up.queue)
    throw new Error('a store did not answer the sale snapshot');
  return readings.concerts;
}

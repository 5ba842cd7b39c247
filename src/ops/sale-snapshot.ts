import type { ConcertsService } from '../concerts/concerts.service.js';
import type { QueueStore } from '../queue/queue-store.js';

export interface ConcertSnapshot {
  concertId: string;
  waiting: number;
  active: number;
  held: number;
  sold: number;
}

/** Each concert's line and seats right now: what the metrics gauges report at a scrape. */
export async function saleSnapshot(
  store: QueueStore,
  concerts: ConcertsService,
  now: number,
): Promise<ConcertSnapshot[]> {
  const lines = await store.concertIds();
  const [counts, seats] = await Promise.all([
    Promise.all(lines.map(async (id) => [id, await store.counts(id, now)] as const)),
    concerts.seatStats(now),
  ]);
  const queueOf = new Map(counts);
  const seatsOf = new Map(seats.map((s) => [s.concertId, s]));
  return [...new Set([...lines, ...seatsOf.keys()])].map((concertId) => {
    const q = queueOf.get(concertId) ?? { waiting: 0, active: 0 };
    const s = seatsOf.get(concertId) ?? { held: 0, sold: 0 };
    return { concertId, waiting: q.waiting, active: q.active, held: s.held, sold: s.sold };
  });
}

import type { Clock } from '../shared/clock.js';
import type { QueueStore, TicketRef, TicketView } from './queue-store.js';
import { VIEW_BATCH } from './stream-hub.js';

interface Batch {
  refs: TicketRef[];
  waiters: { resolve: (view: TicketView) => void; reject: (error: unknown) => void }[];
}

/**
 * Status reads and gate checks, batched: every read of one concert's tickets asked for during
 * one turn of the event loop goes to the store in one call (`viewMany`), sent once the turn's
 * requests have all arrived. Under a rush, one Redis script per concert per turn instead of one
 * per request: encoding, sending and decoding a script call is most of what a poll costs.
 *
 * As exact as one read per request: each ticket is read after its request arrived (the call
 * leaves at the end of the turn, never earlier), with the store's clock reading taken then,
 * and the store judges every ticket of the call atomically, exactly as a single view does
 * (view-many-9.lua). A read is a sign of life, as a status poll is. A failed call fails each
 * of its reads, as their own calls would have.
 */
export class ViewBatcher {
  private pending = new Map<string, Batch>();
  private scheduled = false;

  constructor(
    private readonly store: QueueStore,
    private readonly clock: Clock,
    private readonly maxBatch = VIEW_BATCH,
  ) {}

  read(concertId: string, ticket: number, owner: string): Promise<TicketView> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(concertId);
      if (!batch) {
        batch = { refs: [], waiters: [] };
        this.pending.set(concertId, batch);
      }
      batch.refs.push({ ticket, owner });
      batch.waiters.push({ resolve, reject });
      if (batch.refs.length >= this.maxBatch) {
        this.pending.delete(concertId);
        this.send(concertId, batch);
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [concertId, batch] of batches) this.send(concertId, batch);
  }

  private send(concertId: string, { refs, waiters }: Batch): void {
    this.store.viewMany(concertId, refs, this.clock.now(), true).then(
      (views) => {
        waiters.forEach((waiter, i) => {
          const view = views[i];
          if (view) waiter.resolve(view);
          else waiter.reject(new Error(`viewMany answered ${views.length} of ${refs.length} tickets`));
        });
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}

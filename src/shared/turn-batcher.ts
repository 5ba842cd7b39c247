/**
 * Runs `flush` once the current turn of the event loop is over. Batching per turn is this
 * class's subject, so the turn is a parameter: production defers with `setImmediate` (after the
 * turn's I/O callbacks and microtasks); a test passes a scheduler it releases by hand, so
 * "these calls share a batch" is decided by the test, not by how busy the machine is.
 */
export type TurnScheduler = (flush: () => void) => void;

/** The end of the current turn: after every callback and microtask the turn has queued. */
export const endOfTurn: TurnScheduler = (flush) => {
  setImmediate(flush);
};

interface Batch<Item, Result> {
  items: Item[];
  waiters: { resolve: (result: Result) => void; reject: (error: unknown) => void }[];
}

/**
 * Calls for one key gathered over one turn of the event loop and sent as one (the queue's
 * status reads and joins, batched per concert): under a rush, one store call per concert per
 * turn instead of one per request, since encoding, sending and decoding a call is most of what
 * a poll or a join costs.
 *
 * As exact as one call per request: a batch leaves at the end of the turn in which its items
 * arrived (or once it holds `maxBatch`), never earlier, so each item is handled after its
 * request arrived; `send` must handle the items atomically and in order, as the stores' batch
 * calls do. A failed batch fails each of its items, as their own calls would have.
 */
export class TurnBatcher<Item, Result> {
  private pending = new Map<string, Batch<Item, Result>>();
  private scheduled = false;

  constructor(
    private readonly send: (key: string, items: Item[]) => Promise<Result[]>,
    private readonly maxBatch: number,
    private readonly schedule: TurnScheduler = endOfTurn,
  ) {}

  add(key: string, item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { items: [], waiters: [] };
        this.pending.set(key, batch);
      }
      batch.items.push(item);
      batch.waiters.push({ resolve, reject });
      if (batch.items.length >= this.maxBatch) {
        this.pending.delete(key);
        this.dispatch(key, batch);
      }
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, batch] of batches) this.dispatch(key, batch);
  }

  private dispatch(key: string, { items, waiters }: Batch<Item, Result>): void {
    this.send(key, items).then(
      (results) => {
        waiters.forEach((waiter, i) => {
          if (i < results.length) waiter.resolve(results[i]!);
          else waiter.reject(new Error(`a batch of ${items.length} got ${results.length} results`));
        });
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}

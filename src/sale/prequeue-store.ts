/**
 * The pre-queue of a scheduled sale, as the queue stores keep it (issue 13). Before the opening,
 * joins take tickets from the line's own sequence but wait in a separate set with no position.
 * At the opening the set is closed once (frozen, idle tickets dropped, line tickets base+1 … base+n
 * reserved for it), the order is drawn outside the store (src/sale/draw.ts), and applied
 * once: the r-th drawn user gets line ticket base + r. Every step is atomic and idempotent, so
 * any number of instances may race through it and all end with the same line.
 */
export interface PrequeueClosed {
  /** 'OPEN' when the draw was already applied (then `tickets` is empty). */
  state: 'CLOSED' | 'OPEN';
  base: number;
  /** The frozen pre-queue tickets, ascending. */
  tickets: number[];
}

export interface PrequeueStore {
  /** A ticket in the pre-queue (or the user's current one), or null when it is closed already. */
  prequeueJoin(
    concertId: string,
    userId: string,
    now: number,
  ): Promise<{ ticket: number; created: boolean } | null>;
  /** PREQUEUED, EXPIRED (not there, idle, another user's), or CLOSED: look in the line. */
  prequeueView(
    concertId: string,
    ticket: number,
    now: number,
    touch: boolean,
    owner?: string,
  ): Promise<'PREQUEUED' | 'EXPIRED' | 'CLOSED'>;
  /** LEFT (or was never there), or CLOSED: leave the line instead. */
  prequeueLeave(concertId: string, ticket: number, owner?: string): Promise<'LEFT' | 'CLOSED'>;
  /** How many wait in the pre-queue now (0 once closed). */
  prequeueCount(concertId: string): Promise<number>;
  closePrequeue(concertId: string, now: number): Promise<PrequeueClosed>;
  /** Applies the drawn order (a permutation of the frozen tickets); false if already applied. */
  applyDraw(concertId: string, order: readonly number[], now: number): Promise<boolean>;
}

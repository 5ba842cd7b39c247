/**
 * Tells readers of seat state that a concert's seats changed: a hold, a cancellation or a
 * payment has committed. Called after the commit and before the response is sent, so the buyer
 * who acted sees the change on their very next read, whichever instance serves it.
 */
export interface SeatChanges {
  changed(concertId: string): Promise<void>;
}

/** Nothing caches seat state yet: nobody needs telling. */
export const noSeatChanges: SeatChanges = { changed: async () => {} };

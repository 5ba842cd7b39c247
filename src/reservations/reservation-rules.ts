export type StoredStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';

/**
 * What a reservation is at `now`. A HELD row whose hold has lapsed is EXPIRED from that
 * instant, whether or not the sweeper has rewritten the row yet: the sweeper only tidies.
 */
export function effectiveStatus(stored: StoredStatus, holdExpiresAt: Date, now: number): StoredStatus {
  return stored === 'HELD' && holdExpiresAt.getTime() <= now ? 'EXPIRED' : stored;
}

export function holdExpiry(now: number, holdTtlMs: number): Date {
  return new Date(now + holdTtlMs);
}

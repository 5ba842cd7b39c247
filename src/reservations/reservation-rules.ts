/**
 * The hold rules in TypeScript, written once (their SQL twins are in hold-rules.sql): a hold is
 * live while its reservation is HELD and its expiry is ahead; a lapsed hold is free and reads
 * EXPIRED from that instant, whether or not the sweeper has rewritten the row yet.
 */
export type StoredStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';

export function isLiveHold(stored: StoredStatus, holdExpiresAt: Date, now: number): boolean {
  return stored === 'HELD' && holdExpiresAt.getTime() > now;
}

/** What a reservation is at `now`. */
export function effectiveStatus(stored: StoredStatus, holdExpiresAt: Date, now: number): StoredStatus {
  return stored === 'HELD' && !isLiveHold(stored, holdExpiresAt, now) ? 'EXPIRED' : stored;
}

export function holdExpiry(now: number, holdTtlMs: number): Date {
  return new Date(now + holdTtlMs);
}

/**
 * What a reservation is, and when a hold ends. Whether a hold is live, what status a stored
 * reservation reads as, and whether a seat is free are decided in the database only
 * (hold-rules.sql: hold_is_live, reservation_status, seat_is_free); the process keeps just the
 * arithmetic of the expiry it asks the database to write.
 */
export type ReservationStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

export function holdExpiry(now: number, holdTtlMs: number): Date {
  return new Date(now + holdTtlMs);
}

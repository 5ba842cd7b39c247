import type { PrequeueStore } from './prequeue-store.js';

/**
 * The waiting room's state, per concert. Two implementations keep it: in process
 * (`MemoryQueueStore`, one instance) and in Redis (`RedisQueueStore`, any number of
 * instances). Each method is one atomic step of the queue, so callers never read-then-write.
 *
 * A ticket is a concert's arrival number (1, 2, 3, …): arrival order is ticket order.
 * Tokens carry (concert, user, ticket) under a signature; the store only answers which state
 * a ticket is in.
 */
export interface QueueSettings {
  maxActive: number;
  admitPerSecond: number;
  paused: boolean;
}

export interface QueueTimings {
  /** How long an admitted ticket stays ACTIVE. */
  activeTtlMs: number;
  /** A WAITING ticket not seen for this long is dropped. */
  idleTimeoutMs: number;
}

/** Admissions measured over the recent window, for the wait estimate. */
export interface AdmissionSample {
  /** Tickets admitted within the window. */
  count: number;
  /** Milliseconds the window actually covers (from its oldest admission to now). */
  spanMs: number;
}

export type TicketView =
  | { state: 'WAITING'; position: number; admissions: AdmissionSample; settings: QueueSettings }
  | { state: 'ACTIVE'; activeUntil: number }
  | { state: 'EXPIRED'; lost?: true }
  /** In a scheduled sale's pre-queue: no place until the draw at `opensAt`. */
  | { state: 'PREQUEUED'; opensAt: number };

/** A ticket and the user it must belong to (see `view`'s owner). */
export interface TicketRef {
  ticket: number;
  owner?: string;
}

export interface JoinResult {
  ticket: number;
  /** false when the user already held a WAITING or ACTIVE ticket, which is returned. */
  created: boolean;
  view: TicketView;
}

export interface QueueCounts {
  waiting: number;
  active: number;
}

/**
 * Callers pass `now` from one clock that does not run backwards (instances are expected to
 * keep their clocks in step, as with NTP): expiry and rate windows are measured with it.
 */
export interface QueueStore {
  /**
   * Takes a ticket at the back of the line, or returns the user's WAITING or ACTIVE one.
   * A user whose last ticket is EXPIRED (or gone) gets a new ticket.
   */
  join(concertId: string, userId: string, now: number): Promise<JoinResult>;

  /**
   * The state of a ticket. `touch` records a sign of life for a WAITING ticket, which keeps it
   * from being dropped as idle. Unknown tickets are EXPIRED. A lapsed ACTIVE ticket is
   * EXPIRED at once, whether or not `advance` has run.
   *
   * `owner`, when given, must be the ticket's user, else the ticket reads EXPIRED: signed
   * tokens outlive a store that lost its data (a restart of the in-process store, a Redis
   * without persistence), whose ticket numbers start again at 1 for other users.
   */
  view(concertId: string, ticket: number, now: number, touch: boolean, owner?: string): Promise<TicketView>;

  /**
   * `view` for many tickets of one line in one call (the event streams of an instance read
   * their line this way once per period). Each ticket is judged exactly as `view` would;
   * the views come back in the order of `tickets`.
   */
  viewMany(
    concertId: string,
    tickets: readonly TicketRef[],
    now: number,
    touch: boolean,
  ): Promise<TicketView[]>;

  /**
   * The ticket leaves the line or gives back its active slot; it is EXPIRED from now on.
   * With `owner`, only that user's ticket is let go.
   */
  leave(concertId: string, ticket: number, now: number, owner?: string): Promise<void>;

  /**
   * One atomic admission step: expires lapsed ACTIVE tickets, drops idle WAITING ones, then
   * admits from the front of the line while fewer than maxActive are ACTIVE and fewer than
   * admitPerSecond were admitted in the last second (a sliding window). Safe to call from
   * any instance at any moment; returns how many were admitted.
   */
  advance(concertId: string, now: number): Promise<number>;

  counts(concertId: string, now: number): Promise<QueueCounts>;

  getSettings(concertId: string): Promise<QueueSettings>;
  updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings>;

  /** Concerts whose line has been joined (or configured), for the admission ticker to advance. */
  concertIds(): Promise<string[]>;

  ping(): Promise<void>;
  close(): Promise<void>;

  /** The pre-queue of a scheduled sale (see prequeue-store.ts). */
  readonly prequeue: PrequeueStore;
}

/** The window over which admissions are measured for the wait estimate. */
export const ADMISSION_SAMPLE_WINDOW_MS = 60_000;
/** The window the admission rate limit applies to. */
export const ADMISSION_RATE_WINDOW_MS = 1_000;

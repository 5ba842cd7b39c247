import type { LinePicture } from './line-picture.js';
import type { PrequeueLine } from './prequeue-line.js';

/**
 * The waiting room's state, per concert. Two implementations keep it: in process
 * (`MemoryQueueStore`, one instance) and in Redis (`RedisQueueStore`, any number of
 * instances). Each method is one atomic step of the queue, so callers never read-then-write.
 *
 * A ticket is a concert's arrival number: arrival order is ticket order. A line starts its
 * numbering at the clock in ms × 1000 whenever it has no counter (it is new, or its store lost
 * its data), so numbers are never reused: a token signed before a loss can never name a ticket
 * issued after it, and reads EXPIRED with `lost: true`.
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
  /**
   * `lost`: the ticket was issued before the store lost its data (a Redis that came back
   * empty, a restarted process). Its holder is told to rejoin, but a buyer who already holds a
   * seat may still pay for it (see QueueService.admit).
   */
  | { state: 'EXPIRED'; lost?: true }
  /** In a scheduled sale's pre-queue: no place until the draw at `opensAt`. */
  | { state: 'PREQUEUED'; opensAt: number };

/** Where a line's settings come from when the store has none (a new line, or after a loss). */
export type SettingsSource = (concertId: string) => Promise<QueueSettings>;

/** A ticket and the user it must belong to (see `view`'s owner). */
export interface TicketRef {
  ticket: number;
  owner?: string;
}

export interface JoinResult {
  ticket: number;
  /** false when the user already held a WAITING or ACTIVE ticket, which is returned. */
  created: boolean;
  /**
   * This join started the line's numbering: the line is new, or its data was lost. Its
   * settings are then restored from their source (the line admits nobody until they are).
   */
  started: boolean;
  view: TicketView;
}

export interface AdvanceResult {
  admitted: number;
  /**
   * The line's settings are not (all) stored, so nobody was admitted: they were never set, or
   * were lost with the store's data. Never fall back to defaults (a lost pause would resume a
   * sale): restore them from their source with `restoreSettings`.
   */
  settingsMissing: boolean;
  /** Someone waits or holds an active slot (lapsed ones not yet swept included). */
  live: boolean;
  /** The line has no counters: nobody ever joined it, or its data was lost. */
  lost: boolean;
}

/** A line in the registry of lines to advance, with the time (ms) of its latest join. */
export interface RegisteredLine {
  concertId: string;
  lastJoin: number;
}

/** Losses of the store's data this instance noticed. */
export interface DataLosses {
  count: number;
  /** When the latest was noticed (ms since epoch), or null. */
  lastAt: number | null;
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
   * `join` for many users of one line at once, atomically and in the order given (the joins of
   * one turn of the event loop); the results come back in that order.
   */
  joinMany(concertId: string, userIds: readonly string[], now: number): Promise<JoinResult[]>;

  /**
   * The state of a ticket. `touch` records a sign of life for a WAITING ticket, which keeps it
   * from being dropped as idle. Unknown tickets are EXPIRED. A lapsed ACTIVE ticket is
   * EXPIRED at once, whether or not `advance` has run.
   *
   * `owner`, when given, must be the ticket's user, else the ticket reads EXPIRED.
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
   * The line's picture (line-picture.ts): enough to compute every WAITING ticket's exact
   * position in process, in one call whatever the number of waiters. With `known`, the copy
   * this instance holds, only what changed since is fetched. Undefined when the line has no
   * counters (never joined, or its data was lost). Read-only: touches nobody.
   */
  picture(concertId: string, now: number, known?: LinePicture): Promise<LinePicture | undefined>;

  /**
   * The ticket leaves the line or gives back its active slot; it is EXPIRED from now on.
   * With `owner`, only that user's ticket is let go.
   */
  leave(concertId: string, ticket: number, now: number, owner?: string): Promise<void>;

  /**
   * One atomic admission step: expires lapsed ACTIVE tickets, drops idle WAITING ones, then
   * admits from the front of the line while fewer than maxActive are ACTIVE and fewer than
   * admitPerSecond were admitted in the last second (a sliding window). Safe to call from
   * any instance at any moment. A line whose settings are not stored admits nobody.
   */
  advance(concertId: string, now: number): Promise<AdvanceResult>;

  counts(concertId: string, now: number): Promise<QueueCounts>;

  /** The stored settings; a field not stored reads as this instance's default. */
  getSettings(concertId: string): Promise<QueueSettings>;
  updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings>;
  /**
   * Stores the settings fields that are not stored yet (after a loss, from their source); an
   * operator's change made meanwhile is kept.
   */
  restoreSettings(concertId: string, settings: QueueSettings): Promise<void>;

  /**
   * The registry of lines the admission ticker advances: every join registers its line with
   * its `now`, and lines are taken off once empty for a while (`unregister`).
   */
  registeredLines(): Promise<RegisteredLine[]>;
  /** Takes a line off the registry, unless it was joined after `lastJoin`. */
  unregister(concertId: string, lastJoin: number): Promise<void>;
  /** The concert ids of `registeredLines`. */
  concertIds(): Promise<string[]>;

  /**
   * Checks that the store has not lost its data since this instance last looked (a marker it
   * keeps vanished: a Redis FLUSHALL, a failover to an empty replica); counts each loss seen.
   */
  checkForLoss(now: number): Promise<boolean>;
  /** Counts a loss noticed elsewhere (a registered line found without its counters). */
  recordLoss(now: number): void;
  losses(): DataLosses;

  ping(): Promise<void>;
  close(): Promise<void>;

  /** What the pre-queue of a scheduled sale uses of the line (sale/prequeue-of.ts builds it). */
  prequeueLine(): PrequeueLine;
}

/** The window over which admissions are measured for the wait estimate. */
export const ADMISSION_SAMPLE_WINDOW_MS = 60_000;
/** The window the admission rate limit applies to. */
export const ADMISSION_RATE_WINDOW_MS = 1_000;

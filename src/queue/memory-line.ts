import {
  ADMISSION_SAMPLE_WINDOW_MS,
  type QueueSettings,
  type QueueTimings,
  type TicketView,
} from './queue-store.js';
import { WaitingSlots } from './waiting-slots.js';

interface ActiveTicket {
  userId: string;
  activeUntil: number;
}

/**
 * One concert's line. Every method runs to completion without awaiting, so each is atomic.
 * Tickets are `base + 1 + slot`; a line starts at the clock in ms × 1000 (see QueueStore), so
 * a token from before a restart never names a ticket of this process.
 */
export class Line {
  /** Tickets at or below base were issued before this line existed (a previous process). */
  readonly base: number;
  /** The last slot issued. */
  lastSlot = -1;
  readonly waiting = new WaitingSlots();
  /** ACTIVE tickets by slot, in admission order. */
  readonly active = new Map<number, ActiveTicket>();
  /** Each user's WAITING or ACTIVE slot. */
  readonly byUser = new Map<string, number>();
  /** Admission times within the sample window, ascending. */
  admissions: number[] = [];
  /** The idle sweep's cursor: the last slot it looked at. */
  sweptTo = -1;
  lastJoin = 0;

  /**
   * Registers the line and moves its latest join, always (as lua/register-1.lua does), so a
   * ticker that last saw it empty notices even a join at the same clock reading.
   */
  markJoined(now: number): void {
    this.lastJoin = this.lastJoin >= now ? this.lastJoin + 1 : now;
    this.registered = true;
  }
  /** On the registry of lines to advance: since its latest join, until found empty a while. */
  registered = false;
  /** What is stored; the line admits nobody until all three are (see QueueStore.advance). */
  settings: Partial<QueueSettings> = {};

  constructor(now: number) {
    this.base = now * 1000;
  }

  slotOf(ticket: number): number {
    return ticket - this.base - 1;
  }

  ticketOf(slot: number): number {
    return this.base + 1 + slot;
  }

  removeWaiting(slot: number): void {
    const userId = this.waiting.userAt(slot);
    this.waiting.remove(slot);
    if (userId !== undefined && this.byUser.get(userId) === slot) this.byUser.delete(userId);
  }

  removeActive(slot: number): void {
    const t = this.active.get(slot);
    if (!t) return;
    this.active.delete(slot);
    if (this.byUser.get(t.userId) === slot) this.byUser.delete(t.userId);
  }

  /** Where the slot is, without judging time. With `owner`, another user's slot is absent. */
  find(slot: number, owner?: string): 'WAITING' | 'ACTIVE' | undefined {
    const active = this.active.get(slot);
    if (active) return owner === undefined || active.userId === owner ? 'ACTIVE' : undefined;
    if (!this.waiting.has(slot)) return undefined;
    return owner === undefined || this.waiting.userAt(slot) === owner ? 'WAITING' : undefined;
  }

  /** The slot's state at `now`, removing it first if it has lapsed or gone idle. */
  current(
    slot: number,
    now: number,
    timings: QueueTimings,
    owner?: string,
  ): 'WAITING' | 'ACTIVE' | undefined {
    const state = this.find(slot, owner);
    if (state === 'ACTIVE') {
      if (this.active.get(slot)!.activeUntil > now) return state;
      this.removeActive(slot);
    } else if (state === 'WAITING') {
      if (this.waiting.seenAt(slot) > now - timings.idleTimeoutMs) return state;
      this.removeWaiting(slot);
    }
    return undefined;
  }

  viewOf(
    slot: number,
    state: 'WAITING' | 'ACTIVE' | undefined,
    now: number,
    defaults: QueueSettings,
  ): TicketView {
    if (state === undefined) return { state: 'EXPIRED' };
    if (state === 'ACTIVE') return { state: 'ACTIVE', activeUntil: this.active.get(slot)!.activeUntil };
    this.trimAdmissions(now);
    const oldest = this.admissions[0];
    return {
      state: 'WAITING',
      position: this.waiting.rank(slot),
      admissions: { count: this.admissions.length, spanMs: oldest === undefined ? 0 : now - oldest },
      settings: { ...defaults, ...this.settings },
    };
  }

  trimAdmissions(now: number): void {
    const cutoff = now - ADMISSION_SAMPLE_WINDOW_MS;
    let drop = 0;
    while (drop < this.admissions.length && this.admissions[drop]! <= cutoff) drop++;
    if (drop > 0) this.admissions = this.admissions.slice(drop);
  }

  admittedSince(since: number): number {
    let n = 0;
    for (let i = this.admissions.length - 1; i >= 0 && this.admissions[i]! > since; i--) n++;
    return n;
  }
}

/**
 * A fresh flat copy of a string. Ids built by concatenation (a UUID from a token's bytes) are
 * trees of string pieces in V8 — several hundred bytes each where the flat string is 56 —
 * and the store keeps one per waiter.
 */
export function flat(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

export function complete(settings: Partial<QueueSettings>): QueueSettings | undefined {
  const { maxActive, admitPerSecond, paused } = settings;
  if (maxActive === undefined || admitPerSecond === undefined || paused === undefined) return undefined;
  return { maxActive, admitPerSecond, paused };
}

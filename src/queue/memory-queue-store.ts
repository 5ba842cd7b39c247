import { FenwickTree } from './fenwick.js';
import { MemoryPrequeue } from './memory-prequeue.js';
import { admissionBudget } from './queue-rules.js';
import {
  ADMISSION_RATE_WINDOW_MS,
  ADMISSION_SAMPLE_WINDOW_MS,
  type JoinResult,
  type QueueCounts,
  type QueueSettings,
  type QueueStore,
  type QueueTimings,
  type TicketRef,
  type TicketView,
} from './queue-store.js';

interface Ticket {
  userId: string;
  state: 'WAITING' | 'ACTIVE';
  activeUntil: number;
}

/** One concert's line. Every method runs to completion without awaiting, so each is atomic. */
class Line {
  lastTicket = 0;
  /** No WAITING ticket is below this number. */
  head = 1;
  readonly waitingMarks = new FenwickTree();
  waitingCount = 0;
  readonly tickets = new Map<number, Ticket>();
  /** WAITING tickets by last sign of life, oldest first (a Map keeps insertion order). */
  readonly lastSeen = new Map<number, number>();
  /** ACTIVE tickets → activeUntil, in admission order. */
  readonly active = new Map<number, number>();
  readonly byUser = new Map<string, number>();
  /** Admission times within the sample window, ascending. */
  admissions: number[] = [];

  constructor(public settings: QueueSettings) {}

  remove(ticket: number): void {
    const t = this.tickets.get(ticket);
    if (!t) return;
    this.tickets.delete(ticket);
    if (t.state === 'WAITING') {
      this.waitingMarks.add(ticket, -1);
      this.waitingCount--;
      this.lastSeen.delete(ticket);
    } else {
      this.active.delete(ticket);
    }
    if (this.byUser.get(t.userId) === ticket) this.byUser.delete(t.userId);
  }

  isIdle(ticket: number, now: number, idleTimeoutMs: number): boolean {
    const seen = this.lastSeen.get(ticket);
    return seen !== undefined && seen <= now - idleTimeoutMs;
  }

  /** The ticket's state at `now`, removing it first if it has lapsed or gone idle. */
  current(ticket: number, now: number, timings: QueueTimings): Ticket | undefined {
    const t = this.tickets.get(ticket);
    if (!t) return undefined;
    const lapsed =
      t.state === 'ACTIVE' ? t.activeUntil <= now : this.isIdle(ticket, now, timings.idleTimeoutMs);
    if (lapsed) {
      this.remove(ticket);
      return undefined;
    }
    return t;
  }

  viewOf(ticket: number, t: Ticket | undefined, now: number): TicketView {
    if (!t) return { state: 'EXPIRED' };
    if (t.state === 'ACTIVE') return { state: 'ACTIVE', activeUntil: t.activeUntil };
    this.trimAdmissions(now);
    const oldest = this.admissions[0];
    return {
      state: 'WAITING',
      position: this.waitingMarks.prefix(ticket),
      admissions: { count: this.admissions.length, spanMs: oldest === undefined ? 0 : now - oldest },
      settings: { ...this.settings },
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

export class MemoryQueueStore implements QueueStore {
  private readonly lines = new Map<string, Line>();
  readonly prequeue = new MemoryPrequeue({
    nextTicket: (concertId) => ++this.line(concertId).lastTicket,
    reserveTickets: (concertId, n) => {
      const line = this.line(concertId);
      line.lastTicket += n;
      return line.lastTicket - n;
    },
    insertWaiting: (concertId, ticket, userId, now) =>
      this.insertWaiting(this.line(concertId), ticket, userId, now),
    idleTimeoutMs: () => this.timings.idleTimeoutMs,
  });

  constructor(
    private readonly timings: QueueTimings,
    private readonly defaults: QueueSettings,
  ) {}

  private line(concertId: string): Line {
    let line = this.lines.get(concertId);
    if (!line) {
      line = new Line({ ...this.defaults });
      this.lines.set(concertId, line);
    }
    return line;
  }

  async join(concertId: string, userId: string, now: number): Promise<JoinResult> {
    const line = this.line(concertId);
    const existing = line.byUser.get(userId);
    if (existing !== undefined) {
      const t = line.current(existing, now, this.timings);
      if (t) {
        if (t.state === 'WAITING') this.touch(line, existing, now);
        return { ticket: existing, created: false, view: line.viewOf(existing, t, now) };
      }
    }
    const ticket = ++line.lastTicket;
    const t = this.insertWaiting(line, ticket, userId, now);
    return { ticket, created: true, view: line.viewOf(ticket, t, now) };
  }

  private insertWaiting(line: Line, ticket: number, userId: string, now: number): Ticket {
    const t: Ticket = { userId, state: 'WAITING', activeUntil: 0 };
    line.tickets.set(ticket, t);
    line.byUser.set(userId, ticket);
    line.waitingMarks.add(ticket, 1);
    line.waitingCount++;
    line.lastSeen.set(ticket, now);
    return t;
  }

  async view(
    concertId: string,
    ticket: number,
    now: number,
    touch: boolean,
    owner?: string,
  ): Promise<TicketView> {
    const line = this.lines.get(concertId);
    if (!line) return { state: 'EXPIRED' };
    if (owner !== undefined && line.tickets.get(ticket)?.userId !== owner) return { state: 'EXPIRED' };
    const t = line.current(ticket, now, this.timings);
    if (t?.state === 'WAITING' && touch) this.touch(line, ticket, now);
    return line.viewOf(ticket, t, now);
  }

  async viewMany(
    concertId: string,
    tickets: readonly TicketRef[],
    now: number,
    touch: boolean,
  ): Promise<TicketView[]> {
    const views: TicketView[] = [];
    for (const { ticket, owner } of tickets)
      views.push(await this.view(concertId, ticket, now, touch, owner));
    return views;
  }

  private touch(line: Line, ticket: number, now: number): void {
    // Re-inserting moves the ticket to the end, keeping lastSeen ordered oldest first.
    line.lastSeen.delete(ticket);
    line.lastSeen.set(ticket, now);
  }

  async leave(concertId: string, ticket: number, _now: number, owner?: string): Promise<void> {
    const line = this.lines.get(concertId);
    if (owner !== undefined && line?.tickets.get(ticket)?.userId !== owner) return;
    line?.remove(ticket);
  }

  async advance(concertId: string, now: number): Promise<number> {
    const line = this.lines.get(concertId);
    if (!line) return 0;
    for (const [ticket, until] of line.active) {
      if (until > now) break;
      line.remove(ticket);
    }
    const idleCutoff = now - this.timings.idleTimeoutMs;
    for (const [ticket, seen] of line.lastSeen) {
      if (seen > idleCutoff) break;
      line.remove(ticket);
    }
    line.trimAdmissions(now);
    let budget = admissionBudget(
      line.settings,
      line.active.size,
      line.admittedSince(now - ADMISSION_RATE_WINDOW_MS),
    );
    let admitted = 0;
    while (budget > 0 && line.waitingCount > 0) {
      const t = line.tickets.get(line.head);
      if (t?.state !== 'WAITING') {
        line.head++;
        continue;
      }
      const ticket = line.head;
      line.waitingMarks.add(ticket, -1);
      line.waitingCount--;
      line.lastSeen.delete(ticket);
      t.state = 'ACTIVE';
      t.activeUntil = now + this.timings.activeTtlMs;
      line.active.set(ticket, t.activeUntil);
      line.admissions.push(now);
      line.head++;
      admitted++;
      budget--;
    }
    return admitted;
  }

  async counts(concertId: string, now: number): Promise<QueueCounts> {
    const line = this.lines.get(concertId);
    if (!line) return { waiting: 0, active: 0 };
    let active = 0;
    for (const until of line.active.values()) if (until > now) active++;
    return { waiting: line.waitingCount, active };
  }

  async getSettings(concertId: string): Promise<QueueSettings> {
    return { ...(this.lines.get(concertId)?.settings ?? this.defaults) };
  }

  async updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    const line = this.line(concertId);
    // Only the fields given: an explicit undefined must not wipe a setting.
    for (const [key, value] of Object.entries(patch) as [keyof QueueSettings, never][]) {
      if (value !== undefined) line.settings[key] = value;
    }
    return { ...line.settings };
  }

  async concertIds(): Promise<string[]> {
    return [...this.lines.keys()];
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

import { LinePicture } from './line-picture.js';
import { complete, flat, Line } from './memory-line.js';
import type { MemoryLineAccess, PrequeueLine } from './prequeue-line.js';
import { admissionBudget } from './queue-rules.js';
import {
  ADMISSION_RATE_WINDOW_MS,
  type AdvanceResult,
  type DataLosses,
  type JoinResult,
  type QueueCounts,
  type QueueSettings,
  type QueueStore,
  type QueueTimings,
  type RegisteredLine,
  type TicketRef,
  type TicketView,
} from './queue-store.js';

/** Most tickets one advance touches per phase, as in the Redis store. */
export const DEFAULT_MEMORY_MAX_BATCH = 1_000;

/**
 * The waiting room in process, for one instance. A waiter costs one slot in a block (its user,
 * its last-seen time and a bit, ~17 bytes) and one `byUser` entry: about 100 bytes of heap
 * beside the user id string itself (bench: `line`).
 */
export class MemoryQueueStore implements QueueStore {
  private readonly lines = new Map<string, Line>();
  /** Settings of concerts whose line was never joined. */
  private readonly settingsOnly = new Map<string, Partial<QueueSettings>>();
  private readonly lossLog: DataLosses = { count: 0, lastAt: null };
  private readonly maxBatch: number;
  /** The pre-queue draws its tickets from the line's slots and inserts drawn waiters as join does. */
  private readonly lineAccess: MemoryLineAccess = {
    nextTicket: (concertId, now) => {
      const line = this.lineFor(concertId, now).line;
      // A pre-queue join registers the line as a line join does (the Redis store too).
      line.markJoined(now);
      return line.ticketOf(++line.lastSlot);
    },
    reserveTickets: (concertId, n, now) => {
      const line = this.lineFor(concertId, now).line;
      const before = line.ticketOf(line.lastSlot);
      line.lastSlot += n;
      return before;
    },
    insertWaiting: (concertId, ticket, userId, now) => {
      const line = this.lineFor(concertId, now).line;
      line.markJoined(now);
      const kept = flat(userId);
      const slot = line.slotOf(ticket);
      line.waiting.add(slot, kept, now);
      line.byUser.set(kept, slot);
    },
    idleTimeoutMs: () => this.timings.idleTimeoutMs,
  };

  constructor(
    private readonly timings: QueueTimings,
    private readonly defaults: QueueSettings,
    options: { maxBatch?: number } = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MEMORY_MAX_BATCH;
  }

  prequeueLine(): PrequeueLine {
    return { kind: 'memory', line: this.lineAccess };
  }

  /** The concert's line, made as a first join makes it (its base from `now`). */
  private lineFor(concertId: string, now: number): { line: Line; started: boolean } {
    let line = this.lines.get(concertId);
    if (line) return { line, started: false };
    line = new Line(now);
    line.settings = this.settingsOnly.get(concertId) ?? {};
    this.settingsOnly.delete(concertId);
    this.lines.set(concertId, line);
    return { line, started: true };
  }

  async joinMany(concertId: string, userIds: readonly string[], now: number): Promise<JoinResult[]> {
    const joined: JoinResult[] = [];
    for (const userId of userIds) joined.push(await this.join(concertId, userId, now));
    return joined;
  }

  async join(concertId: string, userId: string, now: number): Promise<JoinResult> {
    const { line, started } = this.lineFor(concertId, now);
    line.markJoined(now);
    const existing = line.byUser.get(userId);
    if (existing !== undefined) {
      const state = line.current(existing, now, this.timings);
      if (state) {
        if (state === 'WAITING') line.waiting.touch(existing, now);
        return {
          ticket: line.ticketOf(existing),
          created: false,
          started,
          view: line.viewOf(existing, state, now, this.defaults),
        };
      }
    }
    const slot = ++line.lastSlot;
    const kept = flat(userId);
    line.waiting.add(slot, kept, now);
    line.byUser.set(kept, slot);
    return {
      ticket: line.ticketOf(slot),
      created: true,
      started,
      view: line.viewOf(slot, 'WAITING', now, this.defaults),
    };
  }

  async view(
    concertId: string,
    ticket: number,
    now: number,
    touch: boolean,
    owner?: string,
  ): Promise<TicketView> {
    const line = this.lines.get(concertId);
    if (!line || ticket <= line.base) return { state: 'EXPIRED', lost: true };
    const slot = line.slotOf(ticket);
    const state = line.current(slot, now, this.timings, owner);
    if (state === 'WAITING' && touch) line.waiting.touch(slot, now);
    return line.viewOf(slot, state, now, this.defaults);
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

  /** Built whole from the line each time: in process there is no round trip to spare. */
  async picture(concertId: string, now: number): Promise<LinePicture | undefined> {
    const line = this.lines.get(concertId);
    if (!line) return undefined;
    const headSlot = line.waiting.first() ?? line.lastSlot + 1;
    const fromByte = headSlot >> 3;
    const bytes = new Uint8Array(Math.max(0, (line.lastSlot >> 3) - fromByte + 1));
    for (let slot = line.waiting.first(); slot !== undefined; slot = line.waiting.next(slot)) {
      const rel = slot - fromByte * 8;
      bytes[rel >> 3]! |= 0x80 >> (rel & 7);
    }
    line.trimAdmissions(now);
    return new LinePicture(
      {
        seq: line.ticketOf(line.lastSlot),
        base: line.base,
        firstTicket: line.ticketOf(0),
        cut: 0,
        head: line.ticketOf(headSlot),
        fromByte,
        bytes,
        admissionsCount: line.admissions.length,
        oldestAdmission: line.admissions[0] ?? null,
        settings: { ...this.defaults, ...line.settings },
      },
      now,
    );
  }

  async leave(concertId: string, ticket: number, _now: number, owner?: string): Promise<void> {
    const line = this.lines.get(concertId);
    if (!line || ticket <= line.base) return;
    const slot = line.slotOf(ticket);
    const state = line.find(slot, owner);
    if (state === 'ACTIVE') line.removeActive(slot);
    else if (state === 'WAITING') line.removeWaiting(slot);
  }

  async advance(concertId: string, now: number): Promise<AdvanceResult> {
    const line = this.lines.get(concertId);
    if (!line) return { admitted: 0, settingsMissing: false, live: false, lost: true };
    let lapsed = 0;
    for (const [slot, t] of line.active) {
      if (t.activeUntil > now || lapsed === this.maxBatch) break;
      line.removeActive(slot);
      lapsed++;
    }
    this.sweepIdle(line, now);
    line.trimAdmissions(now);
    const settings = complete(line.settings);
    const result = (admitted: number) => ({
      admitted,
      settingsMissing: settings === undefined,
      live: line.waiting.size + line.active.size > 0,
      lost: false,
    });
    if (!settings) return result(0);
    let budget = Math.min(
      this.maxBatch,
      admissionBudget(settings, line.active.size, line.admittedSince(now - ADMISSION_RATE_WINDOW_MS)),
    );
    let admitted = 0;
    const idleCutoff = now - this.timings.idleTimeoutMs;
    let visited = 0;
    while (budget > 0 && visited < this.maxBatch) {
      const slot = line.waiting.first();
      if (slot === undefined) break;
      visited++;
      const userId = line.waiting.userAt(slot)!;
      const seen = line.waiting.seenAt(slot);
      line.removeWaiting(slot);
      if (seen <= idleCutoff) continue;
      line.active.set(slot, { userId, activeUntil: now + this.timings.activeTtlMs });
      line.byUser.set(userId, slot);
      line.admissions.push(now);
      admitted++;
      budget--;
    }
    return result(admitted);
  }

  /** Walks the line from its cursor, a batch per step, as the Redis store does. */
  private sweepIdle(line: Line, now: number): void {
    const idleCutoff = now - this.timings.idleTimeoutMs;
    let slot = line.sweptTo;
    for (let i = 0; i < this.maxBatch; i++) {
      const next = line.waiting.next(slot);
      if (next === undefined) {
        line.sweptTo = -1;
        return;
      }
      slot = next;
      if (line.waiting.seenAt(slot) <= idleCutoff) line.removeWaiting(slot);
    }
    line.sweptTo = slot;
  }

  async counts(concertId: string, now: number): Promise<QueueCounts> {
    const line = this.lines.get(concertId);
    if (!line) return { waiting: 0, active: 0 };
    let active = 0;
    for (const t of line.active.values()) if (t.activeUntil > now) active++;
    return { waiting: line.waiting.size, active };
  }

  private storedSettings(concertId: string): Partial<QueueSettings> {
    const line = this.lines.get(concertId);
    if (line) return line.settings;
    let settings = this.settingsOnly.get(concertId);
    if (!settings) {
      settings = {};
      this.settingsOnly.set(concertId, settings);
    }
    return settings;
  }

  async getSettings(concertId: string): Promise<QueueSettings> {
    const stored = this.lines.get(concertId)?.settings ?? this.settingsOnly.get(concertId) ?? {};
    return { ...this.defaults, ...stored };
  }

  async updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    const stored = this.storedSettings(concertId);
    // Only the fields given: an explicit undefined must not wipe a setting.
    for (const [key, value] of Object.entries(patch) as [keyof QueueSettings, never][]) {
      if (value !== undefined) stored[key] = value;
    }
    return this.getSettings(concertId);
  }

  async restoreSettings(concertId: string, settings: QueueSettings): Promise<void> {
    const stored = this.storedSettings(concertId);
    for (const [key, value] of Object.entries(settings) as [keyof QueueSettings, never][]) {
      if (stored[key] === undefined) stored[key] = value;
    }
  }

  async registeredLines(): Promise<RegisteredLine[]> {
    const lines: RegisteredLine[] = [];
    for (const [concertId, line] of this.lines) {
      if (line.registered) lines.push({ concertId, lastJoin: line.lastJoin });
    }
    return lines;
  }

  /** An unregistered line stays (a few empty structures) so its old tickets read EXPIRED, not lost. */
  async unregister(concertId: string, lastJoin: number): Promise<void> {
    const line = this.lines.get(concertId);
    if (line && line.lastJoin === lastJoin) line.registered = false;
  }

  async concertIds(): Promise<string[]> {
    return (await this.registeredLines()).map((line) => line.concertId);
  }

  /** Nothing to lose while the process lives; a restarted process starts numbering anew. */
  async checkForLoss(): Promise<boolean> {
    return false;
  }

  recordLoss(now: number): void {
    this.lossLog.count++;
    this.lossLog.lastAt = now;
  }

  losses(): DataLosses {
    return { ...this.lossLog };
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

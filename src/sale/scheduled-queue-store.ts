import type { FastifyBaseLogger } from 'fastify';
import type { PrequeueLine } from '../queue/prequeue-line.js';
import type {
  AdvanceResult,
  DataLosses,
  JoinResult,
  QueueSettings,
  QueueStore,
  RegisteredLine,
  TicketRef,
  TicketView,
} from '../queue/queue-store.js';
import { AppError } from '../shared/errors.js';
import { drawOrder } from './draw.js';
import { prequeueOf } from './prequeue-of.js';
import type { PrequeueStore } from './prequeue-store.js';
import type { Sale, SaleSchedule } from './sale-schedule.js';

/** How long an instance trusts its copy of a concert's schedule before reading it again. */
export const SCHEDULE_CACHE_MS = 1_000;
/**
 * With an older copy at hand, a re-read that takes longer than this (a database frozen or
 * overloaded) is not waited for: joins and polls need only Redis, and the copy serves until the
 * read completes.
 */
const STALE_READ_WAIT_MS = 100;

type Phase = { kind: 'OPEN' } | { kind: 'EARLY' | 'PRE'; opensAt: number };

/**
 * Where the drawn pre-queue landed in the line: the r-th drawn ticket holds line ticket base + r.
 * Tokens keep their pre-queue ticket; every store call translates it.
 */
export class DrawnLine {
  private readonly rank = new Map<number, number>();

  constructor(
    readonly base: number,
    readonly order: readonly number[],
  ) {
    for (let i = 0; i < order.length; i++) this.rank.set(order[i]!, i + 1);
  }

  lineTicket(ticket: number): number {
    const r = this.rank.get(ticket);
    return r === undefined ? ticket : this.base + r;
  }

  tokenTicket(lineTicket: number): number {
    const r = lineTicket - this.base;
    return r >= 1 && r <= this.order.length ? this.order[r - 1]! : lineTicket;
  }
}

/**
 * The queue store as a scheduled sale sees it (issue 13). Joins before the pre-queue opens are
 * refused with SALE_NOT_OPEN; inside the pre-queue window they wait without a place; at the
 * opening the pre-queue is drawn and put ahead of everyone who joins later. Every step is
 * atomic in the store and idempotent, so whichever instance's admission step, join or status
 * read comes first after the opening does the draw, and the others find it done: every
 * instance ends up with the same line. Concerts without a schedule pass straight through.
 */
export class ScheduledQueueStore implements QueueStore {
  private readonly sales = new Map<string, { sale: Sale | null; readAt: number }>();
  private readonly drawn = new Map<string, DrawnLine>();
  private readonly opening = new Map<string, Promise<DrawnLine | null>>();
  private readonly reading = new Map<string, Promise<Sale | null>>();
  /**
   * Told of every admission this instance's steps make, whichever path stepped (the ticker, or
   * a slot given back): the metrics and the operator's charts count them here.
   */
  onAdmitted: (concertId: string, count: number) => void = () => {};

  constructor(
    private readonly inner: QueueStore,
    private readonly schedule: SaleSchedule,
    private readonly prequeueMs: number,
    private readonly log?: FastifyBaseLogger,
  ) {
    // Made now, not on first use: ioredis gives a command defined later to no auto-pipeline
    // already open in that turn ("pipeline[name] is not a function").
    this.prequeue = prequeueOf(inner);
  }

  /** The pre-queue of this store's lines (see prequeue-store.ts). */
  readonly prequeue: PrequeueStore;

  prequeueLine(): PrequeueLine {
    return this.inner.prequeueLine();
  }

  /** Drops this instance's copy of a concert's schedule (after the operator changed it here). */
  forget(concertId: string): void {
    this.sales.delete(concertId);
  }

  private async sale(concertId: string, now: number): Promise<Sale | null> {
    const cached = this.sales.get(concertId);
    if (cached && Math.abs(now - cached.readAt) < SCHEDULE_CACHE_MS) return cached.sale;
    // One read at a time per concert: at an opening thousands of requests arrive together, and
    // one query each would empty the connection pool.
    let reading = this.reading.get(concertId);
    if (!reading) {
      reading = this.schedule
        .find(concertId)
        .then((sale) => {
          this.sales.set(concertId, { sale, readAt: now });
          return sale;
        })
        .finally(() => this.reading.delete(concertId));
      this.reading.set(concertId, reading);
    }
    if (!cached) return reading;
    let timer: NodeJS.Timeout | undefined;
    const stale = new Promise<Sale | null>((resolve) => {
      timer = setTimeout(() => resolve(cached.sale), STALE_READ_WAIT_MS);
    });
    // A failed re-read is logged by nobody here: the copy answers, the next request reads again.
    return Promise.race([reading.catch(() => cached.sale), stale]).finally(() => clearTimeout(timer));
  }

  private async phase(concertId: string, now: number): Promise<Phase> {
    if (this.drawn.has(concertId)) return { kind: 'OPEN' };
    const sale = await this.sale(concertId, now);
    const opensAt = sale?.saleOpensAt?.getTime();
    if (opensAt === undefined || sale?.drawnAt || now >= opensAt) return { kind: 'OPEN' };
    return { kind: now < opensAt - this.prequeueMs ? 'EARLY' : 'PRE', opensAt };
  }

  /**
   * The drawn line of a concert whose sale has opened, drawing it first if nobody has; null
   * for a concert that never had a pre-queue. Callers come here once the opening has come (by
   * their clock, or because the store says another instance closed the pre-queue). One draw at
   * a time per instance.
   */
  async opened(concertId: string, now: number): Promise<DrawnLine | null> {
    const done = this.drawn.get(concertId);
    if (done) return done;
    let pending = this.opening.get(concertId);
    if (!pending) {
      pending = this.draw(concertId, now).finally(() => this.opening.delete(concertId));
      this.opening.set(concertId, pending);
    }
    return pending;
  }

  private async draw(concertId: string, now: number): Promise<DrawnLine | null> {
    let sale = await this.sale(concertId, now);
    if (!sale?.saleOpensAt || !sale.drawSeed) return null;
    // Always through the store first: a draw recorded in PostgreSQL by an instance that died
    // before applying it is applied here.
    const closed = await this.prequeue.closePrequeue(concertId, now);
    if (!sale.drawnAt) {
      sale =
        closed.state === 'CLOSED'
          ? await this.schedule.recordDraw(
              concertId,
              closed.base,
              drawOrder(sale.drawSeed, closed.tickets),
              now,
            )
          : await this.schedule.find(concertId);
      if (!sale?.drawnAt) throw new Error(`concert ${concertId}: the line is open but no draw is recorded`);
    }
    const line = new DrawnLine(sale.drawBase ?? 0, sale.drawTickets ?? []);
    if (closed.state === 'CLOSED') {
      const applied = await this.prequeue.applyDraw(concertId, line.order, now);
      if (applied) this.log?.info({ concertId, drawn: line.order.length }, 'pre-queue drawn and put in line');
      // The pre-queue started the line's numbering, so no join did: its settings come from
      // PostgreSQL here (only fields not stored yet), or the line would admit nobody until the
      // ticker restored them.
      await this.inner.restoreSettings(concertId, await this.schedule.queueSettings(concertId));
    }
    this.sales.set(concertId, { sale, readAt: now });
    this.drawn.set(concertId, line);
    return line;
  }

  async join(concertId: string, userId: string, now: number): Promise<JoinResult> {
    const phase = await this.phase(concertId, now);
    if (phase.kind === 'EARLY') {
      const saleOpensAt = new Date(phase.opensAt).toISOString();
      throw new AppError(
        'SALE_NOT_OPEN',
        `The line opens ${this.prequeueMs / 60_000} min before the sale at ${saleOpensAt}`,
        {
          saleOpensAt,
        },
      );
    }
    if (phase.kind === 'PRE') {
      const pre = await this.prequeue.prequeueJoin(concertId, userId, now);
      if (pre) return { ...pre, started: false, view: { state: 'PREQUEUED', opensAt: phase.opensAt } };
    }
    const line = await this.opened(concertId, now);
    const joined = await this.inner.join(concertId, userId, now);
    return line ? { ...joined, ticket: line.tokenTicket(joined.ticket) } : joined;
  }

  /** The batched join: one store call once the sale is open, one join at a time before. */
  async joinMany(concertId: string, userIds: readonly string[], now: number): Promise<JoinResult[]> {
    const phase = await this.phase(concertId, now);
    if (phase.kind !== 'OPEN') {
      const joined: JoinResult[] = [];
      for (const userId of userIds) joined.push(await this.join(concertId, userId, now));
      return joined;
    }
    const line = await this.opened(concertId, now);
    const joined = await this.inner.joinMany(concertId, userIds, now);
    return line ? joined.map((j) => ({ ...j, ticket: line.tokenTicket(j.ticket) })) : joined;
  }

  async view(
    concertId: string,
    ticket: number,
    now: number,
    touch: boolean,
    owner?: string,
  ): Promise<TicketView> {
    const phase = await this.phase(concertId, now);
    if (phase.kind !== 'OPEN') {
      const pre = await this.prequeue.prequeueView(concertId, ticket, now, touch, owner);
      if (pre === 'PREQUEUED') return { state: 'PREQUEUED', opensAt: phase.opensAt };
      // Not pre-queued: it may still be a line ticket from before the sale was scheduled.
      if (pre === 'EXPIRED') return this.inner.view(concertId, ticket, now, touch, owner);
      // CLOSED: an instance whose clock is ahead has opened the sale already.
    }
    const line = await this.opened(concertId, now);
    return this.inner.view(concertId, line ? line.lineTicket(ticket) : ticket, now, touch, owner);
  }

  /** The event streams' batched read: the same translation as `view`, one store call once drawn. */
  /**
   * The line's picture as the line keeps it: it speaks line tickets, so a pre-queued token's
   * ticket must be mapped through the draw (as `view` does) before it is looked up in it.
   */
  picture(concertId: string, now: number, known?: Parameters<QueueStore['picture']>[2]) {
    return this.inner.picture(concertId, now, known);
  }

  async viewMany(concertId: string, tickets: readonly TicketRef[], now: number, touch: boolean) {
    const phase = await this.phase(concertId, now);
    if (phase.kind !== 'OPEN') {
      return Promise.all(tickets.map((t) => this.view(concertId, t.ticket, now, touch, t.owner)));
    }
    const line = await this.opened(concertId, now);
    const inLine = line ? tickets.map((t) => ({ ...t, ticket: line.lineTicket(t.ticket) })) : tickets;
    return this.inner.viewMany(concertId, inLine, now, touch);
  }

  async leave(concertId: string, ticket: number, now: number, owner?: string): Promise<void> {
    const phase = await this.phase(concertId, now);
    if (phase.kind !== 'OPEN' && (await this.prequeue.prequeueLeave(concertId, ticket, owner)) === 'LEFT') {
      return this.inner.leave(concertId, ticket, now, owner);
    }
    const line = await this.opened(concertId, now);
    return this.inner.leave(concertId, line ? line.lineTicket(ticket) : ticket, now, owner);
  }

  /** The admission step; the first one after a scheduled opening draws the pre-queue. */
  async advance(concertId: string, now: number): Promise<AdvanceResult> {
    const sale = this.drawn.has(concertId) ? null : await this.sale(concertId, now);
    const opensAt = sale?.drawnAt ? undefined : sale?.saleOpensAt?.getTime();
    if (opensAt !== undefined && now >= opensAt) await this.opened(concertId, now);
    const result = await this.inner.advance(concertId, now);
    if (result.admitted > 0) this.onAdmitted(concertId, result.admitted);
    // Before the opening the pre-queue is not in the line, yet the line is live while anyone is
    // pre-queued: read as empty, the ticker would take it off the registry of live lines after a
    // minute, and the gauges and the operator's charts with it, until the draw.
    if (opensAt !== undefined && now < opensAt && !result.live) {
      return { ...result, live: (await this.prequeue.prequeueCount(concertId)) > 0 };
    }
    return result;
  }

  counts(concertId: string, now: number) {
    return this.inner.counts(concertId, now);
  }

  getSettings(concertId: string): Promise<QueueSettings> {
    return this.inner.getSettings(concertId);
  }

  updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    return this.inner.updateSettings(concertId, patch);
  }

  restoreSettings(concertId: string, settings: QueueSettings): Promise<void> {
    return this.inner.restoreSettings(concertId, settings);
  }

  registeredLines(): Promise<RegisteredLine[]> {
    return this.inner.registeredLines();
  }

  unregister(concertId: string, lastJoin: number): Promise<void> {
    return this.inner.unregister(concertId, lastJoin);
  }

  concertIds(): Promise<string[]> {
    return this.inner.concertIds();
  }

  checkForLoss(now: number): Promise<boolean> {
    return this.inner.checkForLoss(now);
  }

  recordLoss(now: number): void {
    this.inner.recordLoss(now);
  }

  losses(): DataLosses {
    return this.inner.losses();
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

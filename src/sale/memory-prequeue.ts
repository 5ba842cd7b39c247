import type { MemoryLineAccess } from '../queue/prequeue-line.js';
import type { PrequeueClosed, PrequeueStore } from './prequeue-store.js';

interface Prequeue {
  state: 'PRE' | 'CLOSED' | 'OPEN';
  base: number;
  byUser: Map<string, number>;
  /** ticket → user and last seen */
  tickets: Map<number, { userId: string; seen: number }>;
}

/**
 * The pre-queue in process. No method awaits before it is done, so each is atomic, as the
 * Redis scripts are.
 */
export class MemoryPrequeue implements PrequeueStore {
  private readonly queues = new Map<string, Prequeue>();

  constructor(private readonly line: MemoryLineAccess) {}

  private of(concertId: string): Prequeue {
    let q = this.queues.get(concertId);
    if (!q) {
      q = { state: 'PRE', base: 0, byUser: new Map(), tickets: new Map() };
      this.queues.set(concertId, q);
    }
    return q;
  }

  private idle(seen: number, now: number): boolean {
    return seen <= now - this.line.idleTimeoutMs();
  }

  private drop(q: Prequeue, ticket: number): void {
    const t = q.tickets.get(ticket);
    if (!t) return;
    q.tickets.delete(ticket);
    if (q.byUser.get(t.userId) === ticket) q.byUser.delete(t.userId);
  }

  async prequeueJoin(concertId: string, userId: string, now: number) {
    const q = this.of(concertId);
    if (q.state !== 'PRE') return null;
    const existing = q.byUser.get(userId);
    if (existing !== undefined) {
      const t = q.tickets.get(existing)!;
      if (!this.idle(t.seen, now)) {
        t.seen = now;
        return { ticket: existing, created: false };
      }
      this.drop(q, existing);
    }
    const ticket = this.line.nextTicket(concertId, now);
    q.tickets.set(ticket, { userId, seen: now });
    q.byUser.set(userId, ticket);
    return { ticket, created: true };
  }

  async prequeueView(concertId: string, ticket: number, now: number, touch: boolean, owner?: string) {
    const q = this.queues.get(concertId);
    if (!q) return 'EXPIRED' as const;
    if (q.state !== 'PRE') return 'CLOSED' as const;
    const t = q.tickets.get(ticket);
    if (!t || (owner !== undefined && t.userId !== owner)) return 'EXPIRED' as const;
    if (this.idle(t.seen, now)) {
      this.drop(q, ticket);
      return 'EXPIRED' as const;
    }
    if (touch) t.seen = now;
    return 'PREQUEUED' as const;
  }

  async prequeueLeave(concertId: string, ticket: number, owner?: string) {
    const q = this.queues.get(concertId);
    if (q && q.state !== 'PRE') return 'CLOSED' as const;
    const t = q?.tickets.get(ticket);
    if (q && t && (owner === undefined || t.userId === owner)) this.drop(q, ticket);
    return 'LEFT' as const;
  }

  async prequeueCount(concertId: string): Promise<number> {
    const q = this.queues.get(concertId);
    return q?.state === 'PRE' ? q.tickets.size : 0;
  }

  async closePrequeue(concertId: string, now: number): Promise<PrequeueClosed> {
    const q = this.of(concertId);
    if (q.state === 'OPEN') return { state: 'OPEN', base: q.base, tickets: [] };
    if (q.state === 'PRE') {
      for (const [ticket, t] of q.tickets) if (this.idle(t.seen, now)) this.drop(q, ticket);
      q.base = this.line.reserveTickets(concertId, q.tickets.size, now);
      q.state = 'CLOSED';
    }
    return { state: 'CLOSED', base: q.base, tickets: [...q.tickets.keys()].sort((a, b) => a - b) };
  }

  async applyDraw(concertId: string, order: readonly number[], now: number): Promise<boolean> {
    const q = this.queues.get(concertId);
    if (q?.state !== 'CLOSED') return false;
    if (order.length !== q.tickets.size || order.some((t) => !q.tickets.has(t))) {
      throw new Error('draw does not match the frozen pre-queue');
    }
    order.forEach((ticket, i) => {
      this.line.insertWaiting(concertId, q.base + i + 1, q.tickets.get(ticket)!.userId, now);
    });
    q.state = 'OPEN';
    q.tickets.clear();
    q.byUser.clear();
    return true;
  }
}

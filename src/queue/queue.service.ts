import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { endOfTurn, TurnBatcher, type TurnScheduler } from '../shared/turn-batcher.js';
import { estimateWaitSeconds } from './queue-rules.js';
import type {
  JoinResult,
  QueueStore,
  QueueTimings,
  SettingsSource,
  TicketRef,
  TicketView,
} from './queue-store.js';
import type { QueueTokenClaims, QueueTokens } from './queue-token.js';

export interface QueueStatus {
  token: string;
  concertId: string;
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
  position: number | null;
  estimatedWaitSeconds: number | null;
  activeUntil: string | null;
  /** The token's ticket number (a pre-queued buyer finds it in the published draw). */
  ticket: number;
  /** Set while the token waits in a scheduled sale's pre-queue: when its place is drawn. */
  saleOpensAt?: string;
}

/** Most tickets or users in one batched store call, so that no single call holds Redis for long. */
const STORE_BATCH = 500;

/**
 * The waiting room as buyers and the gate see it: tokens in, statuses out. Order, limits and
 * expiry are decided atomically by the store; this class signs, checks and presents.
 */
export class QueueService {
  /** Status reads and gate checks, one store call per concert per turn (see TurnBatcher). */
  private readonly views: TurnBatcher<TicketRef, TicketView>;
  /** Joins, likewise. */
  private readonly joins: TurnBatcher<string, JoinResult>;

  constructor(
    private readonly store: QueueStore,
    private readonly tokens: QueueTokens,
    /** Refuses (404 NOT_FOUND) a concert that does not exist; given by app.ts (the concerts service). */
    private readonly assertConcertExists: (concertId: string) => Promise<void>,
    private readonly clock: Clock,
    private readonly timings: QueueTimings,
    private readonly settingsSource: SettingsSource,
    /** When a turn's batches leave (tests hold them to make "one turn" exact). */
    endTurn: TurnScheduler = endOfTurn,
  ) {
    this.views = new TurnBatcher(
      (concertId, tickets) => store.viewMany(concertId, tickets, clock.now(), true),
      STORE_BATCH,
      endTurn,
    );
    this.joins = new TurnBatcher(
      (concertId, userIds) => store.joinMany(concertId, userIds, clock.now()),
      STORE_BATCH,
      endTurn,
    );
  }

  async join(userId: string, concertId: string): Promise<{ created: boolean; status: QueueStatus }> {
    await this.assertConcertExists(concertId);
    const { ticket, created, started, view } = await this.joins.add(concertId, userId);
    // A line that starts (new, or after its store lost its data) admits nobody until its
    // settings are back from their source; the admission ticker would restore them too.
    if (started) await this.store.restoreSettings(concertId, await this.settingsSource(concertId));
    const token = this.tokens.issue({ concertId, userId, ticket });
    return { created, status: this.present(token, concertId, ticket, view) };
  }

  /**
   * Whether this user's ticket is still WAITING (pre-queued included) or ACTIVE, so that a join
   * would hand it back rather than take a new place (challenge/challenged-join.ts asks).
   */
  async holdsLive(concertId: string, userId: string, ticket: number): Promise<boolean> {
    return (await this.read({ concertId, userId, ticket })).state !== 'EXPIRED';
  }

  /** A status read; it also counts as the waiting user's sign of life. */
  async status(token: string | undefined): Promise<QueueStatus> {
    const claims = this.verify(token);
    const view = await this.read(claims);
    return this.present(token!, claims.concertId, claims.ticket, view);
  }

  async leave(token: string | undefined): Promise<void> {
    const claims = this.verify(token);
    await this.release(claims);
  }

  /** Gives the ticket's slot (or place in line) back and lets the next in line in at once. */
  async release(claims: QueueTokenClaims): Promise<void> {
    const now = this.clock.now();
    await this.store.leave(claims.concertId, claims.ticket, now, claims.userId);
    await this.store.advance(claims.concertId, now);
  }

  /** Checks a queue token's signature; 401 QUEUE_TOKEN_INVALID for anything not issued here. */
  verify(token: string | undefined): QueueTokenClaims {
    const claims = token ? this.tokens.verify(token) : null;
    if (!claims)
      throw new AppError('QUEUE_TOKEN_INVALID', 'Send the Queue-Token you got when joining the line');
    return claims;
  }

  /** The token's claims when it is genuine and this user's, else null (never a refusal). */
  claimsOf(token: string | undefined, userId: string): QueueTokenClaims | null {
    const claims = token ? this.tokens.verify(token) : null;
    return claims?.userId === userId ? claims : null;
  }

  /**
   * The gate: a token of this user, for this concert, that is ACTIVE now. Checked in the order
   * API.md lists: signature, owner and concert, then state.
   */
  async admit(
    token: string | undefined,
    userId: string,
    concertId: string | undefined,
    options: { acceptLost?: boolean } = {},
  ): Promise<QueueTokenClaims & { lost?: true }> {
    const claims = this.verify(token);
    if (claims.userId !== userId)
      throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'This queue token belongs to another user');
    if (concertId !== undefined && claims.concertId !== concertId) {
      throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'This queue token is for another concert');
    }
    const view = await this.read(claims);
    if (view.state === 'EXPIRED') {
      // A ticket lost with the store's data, for a caller that checks what it may do by other means.
      if (view.lost && options.acceptLost) return { ...claims, lost: true };
      throw new AppError('QUEUE_TOKEN_EXPIRED', 'Your turn has ended or you left the line; join again');
    }
    if (view.state !== 'ACTIVE') {
      const waiting = view.state === 'WAITING';
      throw new AppError('QUEUE_NOT_ACTIVE', 'You are still waiting in line', {
        position: waiting ? view.position : null,
        estimatedWaitSeconds: waiting ? this.estimate(view) : null,
      });
    }
    return claims;
  }

  /**
   * The ticket's state now, as its own user sees it; reading it is a sign of life. Batched with
   * the other reads of the same turn of the event loop.
   */
  private read(claims: QueueTokenClaims): Promise<TicketView> {
    return this.views.add(claims.concertId, { ticket: claims.ticket, owner: claims.userId });
  }

  private estimate(view: Extract<TicketView, { state: 'WAITING' }>): number {
    return estimateWaitSeconds(view.position, view.admissions, view.settings, this.timings);
  }

  /** The status a client sees for a token, its ticket and the ticket's view. */
  present(token: string, concertId: string, ticket: number, view: TicketView): QueueStatus {
    switch (view.state) {
      case 'WAITING':
        return {
          token,
          concertId,
          status: 'WAITING',
          position: view.position,
          estimatedWaitSeconds: this.estimate(view),
          activeUntil: null,
          ticket,
        };
      case 'PREQUEUED':
        return {
          token,
          concertId,
          status: 'WAITING',
          position: null,
          estimatedWaitSeconds: null,
          activeUntil: null,
          ticket,
          saleOpensAt: new Date(view.opensAt).toISOString(),
        };
      case 'ACTIVE':
        return {
          token,
          concertId,
          status: 'ACTIVE',
          position: null,
          estimatedWaitSeconds: null,
          activeUntil: new Date(view.activeUntil).toISOString(),
          ticket,
        };
      default:
        return {
          token,
          concertId,
          status: 'EXPIRED',
          position: null,
          estimatedWaitSeconds: null,
          activeUntil: null,
          ticket,
        };
    }
  }
}

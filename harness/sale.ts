import { randomBytes } from 'node:crypto';
import { Signer } from '../src/auth/signer.js';
import { addDays, todayUtc } from '../src/concerts/dates.js';
import { QueueTokens } from '../src/queue/queue-token.js';
import type {
  CreatedConcert,
  NewUser,
  Payment,
  QueueSettings,
  QueueStatus,
  Reservation,
  ReservationListItem,
  Seat,
  SeatMap,
  ShowDate,
} from './api-types.js';
import { AmbiguousRequestError, type ClusterClient, type HttpResponse, type TallySnapshot } from './http.js';
import { sleep } from './wait.js';

/**
 * The sale driver: a whole on-sale through the public API, as buyers would run it, across
 * every instance the client knows (each request to a random one).
 *
 * An admin creates one concert; then every user, all at once: signs up, charges exactly the
 * price of a seat (with an Idempotency-Key), joins the line, polls its status until ACTIVE
 * (rejoining at the back if the token lapsed), then races for seats: reads the seat map,
 * picks an AVAILABLE seat at random so that every seat is contended, holds it (on 409
 * SEAT_UNAVAILABLE picks another) and pays for it (with an Idempotency-Key). A user who finds
 * nothing left (no AVAILABLE seat and no HELD one that could still lapse) leaves the line.
 *
 * Concurrency is bounded by the client (requests in flight), time by `timeLimitMs`: every
 * loop here is bounded in count or checks the deadline. Each user's steps are recorded, with
 * what the invariants need: queue tickets with the admission time each one was seen to get,
 * the positions seen while waiting, payments, and anything that contradicts API.md.
 *
 * It scales from the cluster test (500 users, 1 date × 50 seats) to the benchmark's rush
 * (10,000 users, 3 dates × 50 seats): users are promises, not workers, and the polling slows
 * down with the distance to the front of the line.
 */

export interface SaleOptions {
  client: ClusterClient;
  adminKey: string;
  /** The servers' AUTH_SECRET: queue tokens are read (and their signature checked) as the servers do. */
  authSecret: string;
  users: number;
  /** Dates of the concert (default 1), each with `seatsPerDate` seats (default 50). */
  dates?: number;
  seatsPerDate?: number;
  /** Price of every seat (default 100,000 won); each user charges exactly this. */
  price?: number;
  /** The servers' QUEUE_ACTIVE_TTL_SECONDS in ms: the admission time is activeUntil minus it. */
  activeTtlMs: number;
  /** The whole sale must be over by then (default 120 s); users still at it end TIMED_OUT. */
  timeLimitMs?: number;
  /** Users start spread evenly over this many ms (default 0: all at once). */
  arrivalSpreadMs?: number;
  /** How often the admin queue view is sampled (default 100 ms). */
  monitorEveryMs?: number;
  /** Times a user whose token lapsed joins again at the back (default 3). */
  maxRejoins?: number;
  /**
   * Waiting users leave as soon as any user found the sale sold out (word of mouth), instead
   * of each waiting for its own turn to see it (default false: every user finds out itself).
   */
  leaveWhenSoldOut?: boolean;
  /** Slowest and fastest status polling of a waiting user (default 200..2000 ms). */
  pollMs?: { min: number; max: number };
  /** Called after each confirmed purchase with the number sold so far (e.g. to kill an instance). */
  onSale?: (sold: number) => void;
  /** Tags idempotency keys and names (default random). */
  runId?: string;
}

export interface TicketRecord {
  ticket: number;
  token: string;
  /** When the join answered (this process's clock). */
  joinedAt: number;
  /** Positions seen while WAITING: first, last, and every time one grew (API.md: never). */
  firstPosition: number | null;
  lastPosition: number | null;
  positionIncreases: [number, number][];
  /** `activeUntil − activeTtl` from the first ACTIVE status seen: the server's admission time. */
  admittedAt: number | null;
  activeUntil: number | null;
  /** How the ticket ended for this user. */
  end: 'OPEN' | 'BOUGHT' | 'LEFT' | 'EXPIRED' | 'TIMED_OUT';
}

export interface PaymentRecord {
  paymentId: string;
  reservationId: string;
  date: string;
  seatNumber: number;
  amount: number;
  balance: number;
}

export type UserOutcome = 'BOUGHT' | 'SOLD_OUT' | 'GAVE_UP' | 'TIMED_OUT' | 'FAILED';

export interface UserRecord {
  index: number;
  userId: string;
  accessToken: string;
  /** Total the user charged (one charge, retried with one key). */
  charged: number;
  tickets: TicketRecord[];
  payments: PaymentRecord[];
  holdsWon: number;
  seatConflicts: number;
  /** Holds whose answer was lost with the connection, and how many of those had happened. */
  ambiguousHolds: number;
  adoptedHolds: number;
  outcome: UserOutcome | 'RUNNING';
  error?: string;
  /** Answers that contradict API.md, seen along the way. */
  anomalies: Anomaly[];
}

/**
 * What a buyer saw that API.md rules out. A token still ACTIVE after a purchase is one even
 * when the payment was answered only on a retry (a dying instance, a 503): the retry must
 * finish giving the slot back that the first attempt committed to.
 */
export type AnomalyKind = 'TOKEN_ACTIVE_AFTER_PURCHASE' | 'FOREIGN_TOKEN' | 'UNKNOWN_HOLDS';

export interface Anomaly {
  kind: AnomalyKind;
  detail: string;
}

export interface QueueSample {
  at: number;
  active: number;
  waiting: number;
}

export interface SaleResult {
  runId: string;
  concertId: string;
  dates: string[];
  seatsPerDate: number;
  price: number;
  users: UserRecord[];
  startedAt: number;
  /** When the last seat was paid for, null if not all were. */
  soldOutAt: number | null;
  endedAt: number;
  durationMs: number;
  sold: number;
  outcomes: Record<string, number>;
  samples: QueueSample[];
  sampleErrors: number;
  requests: TallySnapshot;
}

/** A response the journey has no rule for: the user stops (FAILED) and the run reports it. */
export class UnexpectedResponse extends Error {
  override name = 'UnexpectedResponse';
  constructor(route: string, res: HttpResponse) {
    super(`${route}: ${res.status} ${res.code ?? ''} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

class TimedOut extends Error {
  override name = 'TimedOut';
}

const randomOf = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Consecutive seat conflicts after which a buyer reads the seat map again instead of guessing. */
const CONFLICTS_BEFORE_REFRESH = 3;
/** A buyer stops trying this long before the ACTIVE window closes (the gate would refuse anyway). */
const WINDOW_MARGIN_MS = 300;
/** Pause before looking again when every seat left is held by someone else. */
const HELD_RETRY_MS = 200;
/**
 * How long a buyer's token may stay ACTIVE after a purchase while the server retries giving
 * the slot back (the queue store was away): its retries span about 6 s.
 */
const SLOT_RELEASE_GRACE_MS = 8_000;
/** Longest list of per-user anomalies kept. */
const MAX_ANOMALIES = 20;

type QueueStatusBody = QueueStatus;
/** A hold this user knows of: what paying for it and adopting it need. */
type Hold = Pick<Reservation, 'reservationId' | 'date' | 'seatNumber'>;

export async function runSale(options: SaleOptions): Promise<SaleResult> {
  const sale = new Sale(options);
  return sale.run();
}

class Sale {
  readonly runId: string;
  readonly client: ClusterClient;
  readonly price: number;
  readonly seatsPerDate: number;
  readonly dateCount: number;
  readonly deadline: number;
  readonly pollMs: { min: number; max: number };
  readonly queueTokens: QueueTokens;
  concertId = '';
  dates: string[] = [];
  sold = 0;
  soldOutAt: number | null = null;
  /** Someone saw nothing left to buy: only read with `leaveWhenSoldOut`. */
  soldOutSeen = false;
  samples: QueueSample[] = [];
  sampleErrors = 0;
  private monitoring = false;

  constructor(readonly options: SaleOptions) {
    this.runId = options.runId ?? randomBytes(4).toString('hex');
    this.client = options.client;
    this.price = options.price ?? 100_000;
    this.seatsPerDate = options.seatsPerDate ?? 50;
    this.dateCount = options.dates ?? 1;
    this.deadline = Date.now() + (options.timeLimitMs ?? 120_000);
    this.pollMs = options.pollMs ?? { min: 200, max: 2_000 };
    this.queueTokens = new QueueTokens(new Signer(Buffer.from(options.authSecret, 'utf8')));
  }

  get totalSeats(): number {
    return this.seatsPerDate * this.dateCount;
  }

  overdue(): boolean {
    return Date.now() >= this.deadline;
  }

  /** Sleeps, but never past the deadline (then throws TimedOut). */
  async pause(ms: number): Promise<void> {
    const left = this.deadline - Date.now();
    if (left <= 0) throw new TimedOut();
    await sleep(Math.min(ms, left));
    if (this.overdue()) throw new TimedOut();
  }

  async run(): Promise<SaleResult> {
    await this.createConcert();
    const startedAt = Date.now();
    this.monitoring = true;
    const monitor = this.monitor();
    const spread = this.options.arrivalSpreadMs ?? 0;
    let users: UserRecord[];
    try {
      users = await Promise.all(
        Array.from({ length: this.options.users }, async (_, index) => {
          if (spread > 0) await sleep((spread * index) / this.options.users);
          return new Buyer(this, index).run();
        }),
      );
    } finally {
      this.monitoring = false;
      await monitor;
    }
    const endedAt = Date.now();
    const outcomes: Record<string, number> = {};
    for (const u of users) outcomes[u.outcome] = (outcomes[u.outcome] ?? 0) + 1;
    return {
      runId: this.runId,
      concertId: this.concertId,
      dates: this.dates,
      seatsPerDate: this.seatsPerDate,
      price: this.price,
      users,
      startedAt,
      soldOutAt: this.soldOutAt,
      endedAt,
      durationMs: endedAt - startedAt,
      sold: this.sold,
      outcomes,
      samples: this.samples,
      sampleErrors: this.sampleErrors,
      requests: this.client.tally.snapshot(),
    };
  }

  adminHeaders(): Record<string, string> {
    return { 'admin-key': this.options.adminKey };
  }

  private async createConcert(): Promise<void> {
    // A month ahead: far from "today" whatever the time zone of the machine.
    const first = addDays(todayUtc(Date.now()), 30);
    const route = 'POST /api/v1/admin/concerts';
    const res = await this.client.call<CreatedConcert>('POST', '/api/v1/admin/concerts', {
      route,
      headers: this.adminHeaders(),
      body: {
        title: `Cluster sale ${this.runId}`,
        venue: 'Loopback Hall',
        dates: Array.from({ length: this.dateCount }, (_, i) => ({
          date: addDays(first, i),
          seats: this.seatsPerDate,
          price: this.price,
        })),
      },
    });
    if (res.status !== 201) throw new UnexpectedResponse(route, res);
    this.concertId = res.body.concertId;
    this.dates = res.body.dates;
  }

  /** Samples the admin view of the line every `monitorEveryMs` while the sale runs. */
  private async monitor(): Promise<void> {
    const every = this.options.monitorEveryMs ?? 100;
    const route = 'GET /api/v1/admin/concerts/{id}/queue';
    while (this.monitoring && !this.overdue()) {
      const started = Date.now();
      try {
        const res = await this.client.call<QueueSettings>(
          'GET',
          `/api/v1/admin/concerts/${this.concertId}/queue`,
          {
            route,
            headers: this.adminHeaders(),
            priority: true,
          },
        );
        if (res.status === 200) {
          this.samples.push({ at: started, active: res.body.active, waiting: res.body.waiting });
        } else this.sampleErrors++;
      } catch {
        this.sampleErrors++;
      }
      await sleep(Math.max(0, every - (Date.now() - started)));
    }
  }

  recordSale(): void {
    this.sold++;
    if (this.sold === this.totalSeats) this.soldOutAt = Date.now();
    this.options.onSale?.(this.sold);
  }
}

/** One user's journey; its record is returned whatever happens. */
class Buyer {
  private readonly record: UserRecord;
  private accessToken = '';
  private ticket: TicketRecord | undefined;
  /** A hold not yet paid for, kept across a lapsed window (the hold may outlive it). */
  private pending: Hold | undefined;

  constructor(
    private readonly sale: Sale,
    index: number,
  ) {
    this.record = {
      index,
      userId: '',
      accessToken: '',
      charged: 0,
      tickets: [],
      payments: [],
      holdsWon: 0,
      seatConflicts: 0,
      ambiguousHolds: 0,
      adoptedHolds: 0,
      outcome: 'RUNNING',
      anomalies: [],
    };
  }

  private anomaly(kind: AnomalyKind, detail: string): void {
    if (this.record.anomalies.length < MAX_ANOMALIES) this.record.anomalies.push({ kind, detail });
  }

  async run(): Promise<UserRecord> {
    try {
      await this.signUp();
      await this.charge();
      this.record.outcome = await this.buy();
    } catch (error) {
      if (error instanceof TimedOut) {
        this.record.outcome = 'TIMED_OUT';
        if (this.ticket?.end === 'OPEN') this.ticket.end = 'TIMED_OUT';
      } else {
        this.record.outcome = 'FAILED';
        this.record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
    return this.record;
  }

  // biome-ignore lint/suspicious/noExplicitAny: as HttpResponse; callers name their route's answer
  private call<T = any>(
    method: string,
    path: string,
    route: string,
    extra: { body?: unknown; key?: string } = {},
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    if (this.ticket) headers['queue-token'] = this.ticket.token;
    if (extra.key) headers['idempotency-key'] = extra.key;
    return this.sale.client.call<T>(method, path, {
      route,
      headers,
      ...(extra.body !== undefined ? { body: extra.body } : {}),
      // Joining again returns the same token, and a sign-up retried after a lost answer
      // only leaves an unused user behind: both are safe to resend. Holds are not (see hold()).
      ...(route === 'POST /api/v1/queue/tokens' || route === 'POST /api/v1/users' ? { retryable: true } : {}),
    });
  }

  private async signUp(): Promise<void> {
    const route = 'POST /api/v1/users';
    const res = await this.call<NewUser>('POST', '/api/v1/users', route, {
      body: { name: `buyer ${this.record.index}` },
    });
    if (res.status !== 201) throw new UnexpectedResponse(route, res);
    this.accessToken = res.body.accessToken;
    this.record.userId = res.body.userId;
    this.record.accessToken = res.body.accessToken;
  }

  private async charge(): Promise<void> {
    const route = 'POST /api/v1/balance/charges';
    const res = await this.call('POST', '/api/v1/balance/charges', route, {
      body: { amount: this.sale.price },
      key: `${this.sale.runId}-charge-${this.record.index}`,
    });
    if (res.status !== 200) throw new UnexpectedResponse(route, res);
    this.record.charged += this.sale.price;
  }

  /** Join, wait, shop; join again after a lapsed window, a bounded number of times. */
  private async buy(): Promise<UserOutcome> {
    const rounds = (this.sale.options.maxRejoins ?? 3) + 1;
    for (let round = 0; round < rounds; round++) {
      // A window given up just before it closed is still ACTIVE for a moment, and joining
      // would hand that same token back: wait until it has lapsed.
      const lapse = this.ticket?.activeUntil;
      if (lapse && Date.now() <= lapse) await this.sale.pause(lapse - Date.now() + 50);
      await this.join();
      const admitted = await this.waitUntilActive();
      if (admitted === 'SOLD_OUT') return 'SOLD_OUT';
      if (admitted === 'EXPIRED') continue;
      const result = await this.shop();
      if (result === 'BOUGHT') return 'BOUGHT';
      if (result === 'SOLD_OUT') {
        await this.leave();
        return 'SOLD_OUT';
      }
      if (this.ticket!.end === 'OPEN') this.ticket!.end = 'EXPIRED';
    }
    return 'GAVE_UP';
  }

  private async join(): Promise<void> {
    const route = 'POST /api/v1/queue/tokens';
    this.ticket = undefined; // joining needs no queue token
    const res = await this.call('POST', '/api/v1/queue/tokens', route, {
      body: { concertId: this.sale.concertId },
    });
    if (res.status !== 201 && res.status !== 200) throw new UnexpectedResponse(route, res);
    const body = res.body as QueueStatusBody;
    const claims = this.sale.queueTokens.verify(body.token);
    if (!claims) throw new Error(`${route}: a token that does not verify: ${body.token}`);
    if (claims.userId !== this.record.userId || claims.concertId !== this.sale.concertId) {
      this.anomaly(
        'FOREIGN_TOKEN',
        `token of ${claims.userId}/${claims.concertId} issued to ${this.record.userId}`,
      );
    }
    const known = this.record.tickets.find((t) => t.ticket === claims.ticket);
    if (known) {
      // 200 with the same token: the user already held it (a retried join).
      this.ticket = known;
    } else {
      this.ticket = {
        ticket: claims.ticket,
        token: body.token,
        joinedAt: Date.now(),
        firstPosition: null,
        lastPosition: null,
        positionIncreases: [],
        admittedAt: null,
        activeUntil: null,
        end: 'OPEN',
      };
      this.record.tickets.push(this.ticket);
    }
    this.observe(body);
  }

  /** Notes what a status says about the current ticket. */
  private observe(status: QueueStatusBody): void {
    const t = this.ticket!;
    if (status.status === 'WAITING' && status.position !== null) {
      if (t.lastPosition !== null && status.position > t.lastPosition) {
        t.positionIncreases.push([t.lastPosition, status.position]);
      }
      t.firstPosition ??= status.position;
      t.lastPosition = status.position;
    } else if (status.status === 'ACTIVE' && status.activeUntil && t.admittedAt === null) {
      t.activeUntil = Date.parse(status.activeUntil);
      t.admittedAt = t.activeUntil - this.sale.options.activeTtlMs;
    }
  }

  private async waitUntilActive(): Promise<'ACTIVE' | 'EXPIRED' | 'SOLD_OUT'> {
    const route = 'GET /api/v1/queue/status';
    const t = this.ticket!;
    for (;;) {
      if (t.activeUntil !== null) return 'ACTIVE';
      if (this.sale.options.leaveWhenSoldOut && this.sale.soldOutSeen) {
        await this.leave();
        return 'SOLD_OUT';
      }
      const res = await this.call('GET', '/api/v1/queue/status', route);
      if (res.status !== 200) throw new UnexpectedResponse(route, res);
      const status = res.body as QueueStatusBody;
      this.observe(status);
      if (status.status === 'ACTIVE') return 'ACTIVE';
      if (status.status === 'EXPIRED') {
        t.end = 'EXPIRED';
        return 'EXPIRED';
      }
      // Poll less often the farther from the front: a quarter of the estimated wait, bounded.
      const { min, max } = this.sale.pollMs;
      const estimate = (status.estimatedWaitSeconds ?? 0) * 1000;
      await this.sale.pause(Math.min(max, Math.max(min, estimate / 4)) * (0.8 + Math.random() * 0.4));
    }
  }

  /** Races for a seat while the ACTIVE window lasts. */
  private async shop(): Promise<'BOUGHT' | 'SOLD_OUT' | 'EXPIRED'> {
    const t = this.ticket!;
    const open = () => Date.now() < t.activeUntil! - WINDOW_MARGIN_MS;
    let choices: { date: string; seats: number[] } | undefined;
    let conflicts = 0;
    while (open()) {
      if (this.sale.overdue()) throw new TimedOut();
      if (this.pending) {
        const paid = await this.pay(this.pending);
        if (paid !== 'RETRY') return paid;
        continue;
      }
      if (!choices || choices.seats.length === 0 || conflicts >= CONFLICTS_BEFORE_REFRESH) {
        const found = await this.findSeats();
        if (found === 'EXPIRED' || found === 'SOLD_OUT') return found;
        if (found === 'WAIT') {
          await this.sale.pause(HELD_RETRY_MS);
          continue;
        }
        choices = found;
        conflicts = 0;
      }
      const seatNumber = randomOf(choices.seats);
      choices.seats = choices.seats.filter((s) => s !== seatNumber);
      const held = await this.hold(choices.date, seatNumber);
      if (held === 'EXPIRED') return 'EXPIRED';
      if (held === 'TAKEN') {
        conflicts++;
        this.record.seatConflicts++;
        continue;
      }
      this.pending = held;
    }
    return 'EXPIRED';
  }

  /**
   * The seats to choose from: AVAILABLE ones of a random date that has some. With none
   * available, 'WAIT' while some are HELD (a hold may lapse or be released), else 'SOLD_OUT'.
   */
  private async findSeats(): Promise<{ date: string; seats: number[] } | 'WAIT' | 'SOLD_OUT' | 'EXPIRED'> {
    const id = this.sale.concertId;
    const datesRoute = 'GET /api/v1/concerts/{id}/dates';
    const res = await this.call('GET', `/api/v1/concerts/${id}/dates`, datesRoute);
    if (res.code === 'QUEUE_TOKEN_EXPIRED') return 'EXPIRED';
    if (res.status !== 200) throw new UnexpectedResponse(datesRoute, res);
    const open = (res.body as ShowDate[]).filter((d) => d.availableSeats > 0);
    // The dates list leaves out shows with nothing available, so an empty one may still hide
    // held seats: look at every show of the concert before calling it sold out.
    const candidates = open.length > 0 ? [randomOf(open).date] : this.sale.dates;
    let anyHeld = false;
    for (const date of candidates) {
      const seats = await this.seatMap(date);
      if (seats === 'EXPIRED') return 'EXPIRED';
      const available = seats.filter((s) => s.status === 'AVAILABLE').map((s) => s.seatNumber);
      if (available.length > 0) return { date, seats: available };
      anyHeld ||= seats.some((s) => s.status === 'HELD');
    }
    if (open.length > 0 || anyHeld) return 'WAIT';
    this.sale.soldOutSeen = true;
    return 'SOLD_OUT';
  }

  private async seatMap(date: string): Promise<Seat[] | 'EXPIRED'> {
    const route = 'GET /api/v1/concerts/{id}/dates/{date}/seats';
    const res = await this.call('GET', `/api/v1/concerts/${this.sale.concertId}/dates/${date}/seats`, route);
    if (res.code === 'QUEUE_TOKEN_EXPIRED') return 'EXPIRED';
    if (res.status !== 200) throw new UnexpectedResponse(route, res);
    return (res.body as SeatMap).seats;
  }

  /**
   * Holds a seat. A hold is not idempotent, so when the connection broke after the request
   * was sent (the instance died), or the answer was 503, the user asks for its reservations
   * and adopts a HELD one it did not know of: the hold happened. None: it did not, and the
   * seat is tried again.
   */
  private async hold(date: string, seatNumber: number): Promise<Hold | 'TAKEN' | 'EXPIRED'> {
    const route = 'POST /api/v1/reservations';
    for (let attempt = 0; attempt < 3; attempt++) {
      // One seat asked for: the answer is that one reservation.
      let res: HttpResponse<Reservation>;
      try {
        res = await this.call<Reservation>('POST', '/api/v1/reservations', route, {
          body: { concertId: this.sale.concertId, date, seatNumber },
        });
        if (res.status === 503) throw new AmbiguousRequestError('503', res.instance);
      } catch (error) {
        if (!(error instanceof AmbiguousRequestError)) throw error;
        this.record.ambiguousHolds++;
        const adopted = await this.findUnknownHold();
        if (adopted) {
          this.record.holdsWon++;
          this.record.adoptedHolds++;
          return adopted;
        }
        continue;
      }
      if (res.status === 201) {
        this.record.holdsWon++;
        return { reservationId: res.body.reservationId, date, seatNumber };
      }
      if (res.code === 'SEAT_UNAVAILABLE') return 'TAKEN';
      if (res.code === 'QUEUE_TOKEN_EXPIRED') return 'EXPIRED';
      if (res.code === 'HOLD_LIMIT_REACHED') {
        // Only possible if holds this user does not know of exist: take one and pay it.
        this.anomaly('UNKNOWN_HOLDS', `HOLD_LIMIT_REACHED with ${this.pending ? 1 : 0} known hold`);
        const adopted = await this.findUnknownHold();
        if (adopted) return adopted;
      }
      throw new UnexpectedResponse(route, res);
    }
    return 'TAKEN';
  }

  /** A HELD reservation of this user for the concert (newest first), or undefined. */
  private async findUnknownHold(): Promise<Hold | undefined> {
    const held = await this.heldReservations();
    const r = held[0];
    return r ? { reservationId: r.reservationId, date: r.date, seatNumber: r.seatNumber } : undefined;
  }

  private async heldReservations(): Promise<ReservationListItem[]> {
    const route = 'GET /api/v1/reservations';
    const res = await this.call('GET', '/api/v1/reservations', route);
    if (res.status !== 200) throw new UnexpectedResponse(route, res);
    return (res.body as ReservationListItem[]).filter(
      (r) => r.concertId === this.sale.concertId && r.status === 'HELD',
    );
  }

  /**
   * Pays for a hold with one Idempotency-Key per reservation: a payment whose answer was
   * lost is sent again, to another instance, with the same key, and happens once.
   */
  private async pay(hold: Hold): Promise<'BOUGHT' | 'EXPIRED' | 'RETRY'> {
    const route = 'POST /api/v1/payments';
    const res = await this.call<Payment>('POST', '/api/v1/payments', route, {
      body: { reservationId: hold.reservationId },
      key: `${this.sale.runId}-pay-${hold.reservationId}`,
    });
    if (res.status === 201) {
      this.pending = undefined;
      this.record.payments.push({
        paymentId: res.body.paymentId,
        reservationId: hold.reservationId,
        date: res.body.date,
        // One reservation paid: its seat is also listed under `seats`, as for a payment of several.
        seatNumber: res.body.seatNumber ?? res.body.seats[0]!.seatNumber,
        amount: res.body.amount,
        balance: res.body.balance,
      });
      this.ticket!.end = 'BOUGHT';
      this.sale.recordSale();
      await this.checkTokenExpiredAfterPurchase(res.failures);
      return 'BOUGHT';
    }
    if (res.code === 'HOLD_EXPIRED' || res.code === 'RESERVATION_NOT_HELD') {
      // The hold lapsed (and perhaps went to someone else): shop again.
      this.pending = undefined;
      return 'RETRY';
    }
    // The window closed between hold and payment: keep the hold for the next window.
    if (res.code === 'QUEUE_TOKEN_EXPIRED') return 'EXPIRED';
    throw new UnexpectedResponse(route, res);
  }

  /**
   * API.md: a completed purchase expires the buyer's token (when nothing else is held). At
   * once normally; when the queue store was away at that moment, the server keeps giving the
   * slot back for a few seconds (pay-for-reservation.ts), so the token is watched that long.
   * A token still ACTIVE then with no other hold to explain it is an anomaly; a stray hold
   * (an ambiguous request that did happen) explains it, and is cancelled and the line left.
   */
  private async checkTokenExpiredAfterPurchase(paymentFailures: string[]): Promise<void> {
    const status = () => this.call('GET', '/api/v1/queue/status', 'GET /api/v1/queue/status');
    const until = Date.now() + SLOT_RELEASE_GRACE_MS;
    let res = await status();
    let stray: Awaited<ReturnType<Buyer['heldReservations']>> = [];
    while (res.status === 200 && res.body.status !== 'EXPIRED') {
      stray = await this.heldReservations();
      if (stray.length > 0 || Date.now() >= until) break;
      await this.sale.pause(250);
      res = await status();
    }
    if (res.status !== 200 || res.body.status === 'EXPIRED') return;
    if (stray.length === 0) {
      const retried = paymentFailures.length > 0;
      this.anomaly(
        'TOKEN_ACTIVE_AFTER_PURCHASE',
        `queue token still ${res.body.status} after a completed purchase with nothing else held${
          retried ? ` (the payment was answered after ${paymentFailures.join(', ')})` : ''
        }`,
      );
    }
    for (const r of stray) {
      await this.call(
        'DELETE',
        `/api/v1/reservations/${r.reservationId}`,
        'DELETE /api/v1/reservations/{id}',
      );
    }
    await this.leave();
  }

  private async leave(): Promise<void> {
    if (!this.ticket || this.ticket.end === 'EXPIRED') return;
    const route = 'DELETE /api/v1/queue/tokens/current';
    const res = await this.call('DELETE', '/api/v1/queue/tokens/current', route);
    if (res.status !== 204) throw new UnexpectedResponse(route, res);
    if (this.ticket.end === 'OPEN') this.ticket.end = 'LEFT';
  }
}

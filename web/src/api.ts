// The one way the app talks to the service: the public API of API.md, same origin.
// Every failure becomes an ApiError carrying the problem+json `code`, so screens switch on codes,
// never on status numbers or English titles. Every type of a body comes from api-types.gen.ts,
// generated from the server's own OpenAPI document (`npm run generate:web-types`), so the app
// cannot drift from what the routes declare.
import type { RequestBody as Body, components, SuccessBody as Ok, ServerErrorCode } from './api-types.gen';

export type Concert = Ok<'/api/v1/concerts', 'get'>[number];
export type QueueStatus = Ok<'/api/v1/queue/tokens', 'post'>;
export type ShowDate = Ok<'/api/v1/concerts/{concertId}/dates', 'get'>[number];
export type SeatMap = Ok<'/api/v1/concerts/{concertId}/dates/{date}/seats', 'get'>;
export type Seat = SeatMap['seats'][number];
export type Reservation = Ok<'/api/v1/reservations/{reservationId}', 'get'>;
export type Balance = Ok<'/api/v1/balance', 'get'>;
export type Charge = Ok<'/api/v1/balance/charges', 'post'>;
export type Payment = Ok<'/api/v1/payments', 'post'>;
export type QueueSettings = Ok<'/api/v1/admin/concerts/{concertId}/queue', 'get'>;
export type QueueSettingsPatch = Body<'/api/v1/admin/concerts/{concertId}/queue', 'patch'>;
export type ConcertStats = Ok<'/api/v1/admin/concerts/{concertId}/stats', 'get'>;
export type SaleSamples = Ok<'/api/v1/admin/concerts/{concertId}/samples', 'get'>;
export type SalePoint = SaleSamples['samples'][number];
export type NewConcert = Body<'/api/v1/admin/concerts', 'post'>;
export type NewConcertAnswer = Ok<'/api/v1/admin/concerts', 'post'>;
export type NewUser = Ok<'/api/v1/users', 'post'>;
/** A paid seat's e-ticket with its signed code (GET /tickets). */
export type Ticket = Ok<'/api/v1/tickets', 'get'>[number];
export type Refund = Ok<'/api/v1/payments/{paymentId}/refund', 'post'>;
/** REFUND_FEE_PERCENT and REFUND_CUTOFF_HOURS, as the server publishes them. */
export type RefundPolicy = Ok<'/api/v1/refund-policy', 'get'>;
export type CheckIn = Ok<'/api/v1/gate/checkins', 'post'>;
export type Cancellation = Ok<'/api/v1/admin/concerts/{concertId}/dates/{date}/cancel', 'get'>;
export type WebhookEvent = Ok<'/api/v1/admin/webhooks', 'get'>['events'][number];

/** A section of a show at a glance (GET …/dates/{date}/sections). */
export type Section = Ok<'/api/v1/concerts/{concertId}/dates/{date}/sections', 'get'>[number];
/** One section of a seating plan: its grade and price, seats in each row front first. */
export type PlanSection = NonNullable<NewConcert['seating']>[number];
/** Seats sold, held and left per section, for one date (the operator's view). */
export type DateSeating = Ok<'/api/v1/admin/concerts/{concertId}/seating', 'get'>[number];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** The two forms of a hold of several seats: these seat numbers, or the best `quantity`. */
export type HoldRequest = DistributiveOmit<
  Exclude<Body<'/api/v1/reservations', 'post'>, { seatNumber: number }>,
  'concertId' | 'date'
>;

/** Every code the service sends, plus two of the client's own: NETWORK (no answer) and UNKNOWN. */
export type ErrorCode = ServerErrorCode | 'NETWORK' | 'UNKNOWN';

/**
 * A problem+json body as the server declares it. Partial: a proxy or a crashed upstream may send
 * a body with members missing, or none at all.
 */
export type Problem = Partial<components['schemas']['Problem']>;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly problem: Problem;
  /** Seconds to wait before trying again, from a `Retry-After` header. */
  readonly retryAfter: number | null;

  /** `code` names a failure of the client's own (NETWORK) or one it infers without a body. */
  constructor(status: number, problem: Problem, retryAfter: number | null = null, code?: ErrorCode) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.code = code ?? problem.code ?? (status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN');
    this.retryAfter = retryAfter;
  }
}

/** Credentials a call carries; each endpoint names the ones it needs. */
export interface Credentials {
  accessToken?: string | null;
  queueToken?: string | null;
  adminKey?: string | null;
  gateKey?: string | null;
}

interface RequestOptions extends Credentials {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/**
 * An instance that sheds load or has lost a store answers 503 with Retry-After: every call of
 * this tab then holds back until that time (plus up to half again, so that tabs do not all come
 * back at once), and a call that is safe to repeat (a read, or one with an idempotency key) is
 * sent again, at most MAX_UNAVAILABLE_RETRIES times, instead of failing at once.
 */
let backOffUntil = 0;
const MAX_UNAVAILABLE_RETRIES = 2;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

async function request<T>(path: string, options: RequestOptions = {}, attempt = 0): Promise<T> {
  const wait = backOffUntil - Date.now();
  if (wait > 0) await pause(wait, options.signal);
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`;
  if (options.queueToken) headers['Queue-Token'] = options.queueToken;
  if (options.adminKey) headers['Admin-Key'] = options.adminKey;
  if (options.gateKey) headers['Gate-Key'] = options.gateKey;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;

  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, { title: 'Network error' }, null, 'NETWORK');
  }

  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const problem = json && typeof json === 'object' ? (json as Problem) : { title: text };
    const retryAfter = Number(response.headers.get('Retry-After'));
    if (response.status === 503 && Number.isFinite(retryAfter) && retryAfter > 0) {
      backOffUntil = Math.max(backOffUntil, Date.now() + retryAfter * 1000 * (1 + Math.random() / 2));
      const repeatable = (options.method ?? 'GET') === 'GET' || options.idempotencyKey !== undefined;
      if (repeatable && attempt < MAX_UNAVAILABLE_RETRIES) return request<T>(path, options, attempt + 1);
    }
    throw new ApiError(
      response.status,
      problem,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    );
  }
  return json as T;
}

/** A fresh key per deliberate action (one click), so a retried request is not applied twice. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; plain-http deployments still have getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const enc = encodeURIComponent;

export const api = {
  listConcerts: (signal?: AbortSignal) => request<Concert[]>('/api/v1/concerts', { signal }),

  /** `proof`: a solved challenge (proof-of-work.ts), sent when one is ready. */
  createUser: (name?: string, proof?: string) =>
    request<NewUser>('/api/v1/users', {
      method: 'POST',
      body: { ...(name ? { name } : {}), ...(proof ? { proof } : {}) },
    }),

  joinQueue: (accessToken: string, concertId: string, proof?: string) =>
    request<QueueStatus>('/api/v1/queue/tokens', {
      method: 'POST',
      accessToken,
      body: { concertId, ...(proof ? { proof } : {}) },
    }),

  queueStatus: (queueToken: string, signal?: AbortSignal) =>
    request<QueueStatus>('/api/v1/queue/status', { queueToken, signal }),

  queueEventsUrl: (queueToken: string) => `/api/v1/queue/events?token=${enc(queueToken)}`,

  leaveQueue: (queueToken: string) =>
    request<void>('/api/v1/queue/tokens/current', { method: 'DELETE', queueToken }),

  listDates: (c: Credentials, concertId: string) =>
    request<ShowDate[]>(`/api/v1/concerts/${enc(concertId)}/dates`, c),

  /** The venue at a glance: every section of a show in plan order. */
  sections: (c: Credentials, concertId: string, date: string, signal?: AbortSignal) =>
    request<Section[]>(`/api/v1/concerts/${enc(concertId)}/dates/${enc(date)}/sections`, { ...c, signal }),

  /** One section's seats (a show of any size), or every seat of a small show without `section`. */
  seatMap: (c: Credentials, concertId: string, date: string, section?: string, signal?: AbortSignal) =>
    request<SeatMap>(
      `/api/v1/concerts/${enc(concertId)}/dates/${enc(date)}/seats${
        section === undefined ? '' : `?section=${enc(section)}`
      }`,
      { ...c, signal },
    ),

  holdSeat: (c: Credentials, concertId: string, date: string, seatNumber: number) =>
    request<Reservation>('/api/v1/reservations', {
      ...c,
      method: 'POST',
      body: { concertId, date, seatNumber },
    }),

  /**
   * Several seats in one request, all or none: these seat numbers, or the best `quantity` side
   * by side (in a section or grade). A 409 SEAT_UNAVAILABLE names the seats in `unavailableSeats`.
   */
  holdSeats: async (c: Credentials, concertId: string, date: string, what: HoldRequest) =>
    (
      await request<{ reservations: Reservation[] }>('/api/v1/reservations', {
        ...c,
        method: 'POST',
        body: { concertId, date, ...what },
      })
    ).reservations,

  listReservations: (accessToken: string) =>
    request<Ok<'/api/v1/reservations', 'get'>>('/api/v1/reservations', { accessToken }),

  getReservation: (accessToken: string, reservationId: string) =>
    request<Reservation>(`/api/v1/reservations/${enc(reservationId)}`, { accessToken }),

  cancelReservation: (accessToken: string, reservationId: string) =>
    request<void>(`/api/v1/reservations/${enc(reservationId)}`, { method: 'DELETE', accessToken }),

  balance: (accessToken: string) => request<Balance>('/api/v1/balance', { accessToken }),

  charge: (accessToken: string, amount: number, idempotencyKey: string) =>
    request<Charge>('/api/v1/balance/charges', {
      method: 'POST',
      accessToken,
      idempotencyKey,
      body: { amount },
    }),

  /** One payment for every given hold of one show. */
  pay: (c: Credentials, reservationIds: string[], idempotencyKey: string) =>
    request<Payment>('/api/v1/payments', {
      ...c,
      method: 'POST',
      idempotencyKey,
      // One hold is paid in the form every server version knows.
      body: reservationIds.length === 1 ? { reservationId: reservationIds[0] } : { reservationIds },
    }),

  listPayments: (accessToken: string) =>
    request<Ok<'/api/v1/payments', 'get'>>('/api/v1/payments', { accessToken }),

  /** Return a whole payment: its seats are freed, the balance credited less the fee. */
  refund: (accessToken: string, paymentId: string, idempotencyKey: string) =>
    request<Refund>(`/api/v1/payments/${enc(paymentId)}/refund`, {
      method: 'POST',
      accessToken,
      idempotencyKey,
    }),

  refundPolicy: () => request<RefundPolicy>('/api/v1/refund-policy'),

  tickets: (accessToken: string, signal?: AbortSignal) =>
    request<Ticket[]>('/api/v1/tickets', { accessToken, signal }),

  checkIn: (gateKey: string, code: string) =>
    request<CheckIn>('/api/v1/gate/checkins', { method: 'POST', gateKey, body: { code } }),

  admin: {
    createConcert: (adminKey: string, concert: NewConcert) =>
      request<NewConcertAnswer>('/api/v1/admin/concerts', { method: 'POST', adminKey, body: concert }),

    /** Seats sold, held and left per section, for every date of a concert. */
    seating: (adminKey: string, concertId: string, signal?: AbortSignal) =>
      request<DateSeating[]>(`/api/v1/admin/concerts/${enc(concertId)}/seating`, { adminKey, signal }),

    queue: (adminKey: string, concertId: string) =>
      request<QueueSettings>(`/api/v1/admin/concerts/${enc(concertId)}/queue`, { adminKey }),

    stats: (adminKey: string, concertId: string) =>
      request<ConcertStats>(`/api/v1/admin/concerts/${enc(concertId)}/stats`, { adminKey }),

    updateQueue: (adminKey: string, concertId: string, patch: QueueSettingsPatch) =>
      request<QueueSettings>(`/api/v1/admin/concerts/${enc(concertId)}/queue`, {
        method: 'PATCH',
        adminKey,
        body: patch,
      }),

    samples: (adminKey: string, concertId: string, signal?: AbortSignal) =>
      request<SaleSamples>(`/api/v1/admin/concerts/${enc(concertId)}/samples`, { adminKey, signal }),

    /** Cancel a show: closed at once, every payment refunded in full by the server's job. */
    cancelDate: (adminKey: string, concertId: string, date: string) =>
      request<Cancellation>(`/api/v1/admin/concerts/${enc(concertId)}/dates/${enc(date)}/cancel`, {
        method: 'POST',
        adminKey,
      }),

    cancellation: (adminKey: string, concertId: string, date: string, signal?: AbortSignal) =>
      request<Cancellation>(`/api/v1/admin/concerts/${enc(concertId)}/dates/${enc(date)}/cancel`, {
        adminKey,
        signal,
      }),

    webhooks: (adminKey: string, status: WebhookEvent['status'], signal?: AbortSignal) =>
      request<Ok<'/api/v1/admin/webhooks', 'get'>>(`/api/v1/admin/webhooks?status=${status}`, {
        adminKey,
        signal,
      }),

    retryWebhook: (adminKey: string, id: string) =>
      request<WebhookEvent>(`/api/v1/admin/webhooks/${enc(id)}/retry`, { method: 'POST', adminKey }),
  },
};

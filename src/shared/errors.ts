/**
 * Every error a client can see, declared once. `code` is the stable discriminator of API.md;
 * the HTTP status and title travel with it so no route picks its own.
 */
export const errorCatalog = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  QUEUE_TOKEN_INVALID: { status: 401, title: 'The queue token is missing or invalid' },
  QUEUE_TOKEN_EXPIRED: { status: 401, title: 'The queue token has expired' },
  QUEUE_TOKEN_FORBIDDEN: { status: 403, title: 'The queue token is not for this user or concert' },
  QUEUE_NOT_ACTIVE: { status: 403, title: 'Still waiting in line' },
  CHALLENGE_FAILED: { status: 403, title: 'No valid proof of work: solve a new challenge' },
  MALFORMED_REQUEST: { status: 400, title: 'The request is not well-formed HTTP' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The path does not take this method' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive' },
  CONCERT_NOT_FOUND: { status: 404, title: 'Concert not found' },
  DATE_NOT_FOUND: { status: 404, title: 'No show on that date' },
  SECTION_NOT_FOUND: { status: 404, title: 'No section of that name in this show' },
  RESERVATION_NOT_FOUND: { status: 404, title: 'Reservation not found' },
  PAYMENT_NOT_FOUND: { status: 404, title: 'Payment not found' },
  SEAT_UNAVAILABLE: { status: 409, title: 'The seat is held or sold' },
  HOLD_LIMIT_REACHED: { status: 409, title: 'Too many seats held' },
  RESERVATION_NOT_HELD: { status: 409, title: 'The reservation is not held' },
  INSUFFICIENT_BALANCE: { status: 409, title: 'The balance is too low' },
  BALANCE_LIMIT_EXCEEDED: { status: 409, title: 'The balance would exceed its limit' },
  SALE_NOT_OPEN: { status: 409, title: 'The sale has not opened yet' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, title: 'The idempotency key was used with another request' },
  REFUND_CLOSED: { status: 409, title: 'Refunds for this show have closed' },
  ALREADY_REFUNDED: { status: 409, title: 'The payment was already refunded' },
  DATE_CANCELLED: { status: 409, title: 'The show on this date is cancelled' },
  TICKET_ALREADY_USED: { status: 409, title: 'The ticket was already checked in' },
  TICKET_VOID: { status: 409, title: 'The ticket is void (refunded or cancelled)' },
  TICKET_CODE_INVALID: { status: 400, title: 'The ticket code is not one this service signed' },
  HOLD_EXPIRED: { status: 410, title: 'The hold has lapsed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'The path or a path parameter is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The body is not application/json' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL: { status: 500, title: 'Internal error' },
  UNAVAILABLE: { status: 503, title: 'A backing store is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  [extra: string]: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string = errorCatalog[code].title,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code}: ${detail}`);
    this.status = errorCatalog[code].status;
  }

  toProblem(): Problem {
    return problem(this.code, this.detail, this.extra);
  }
}

export function problem(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Problem {
  const { status, title } = errorCatalog[code];
  return {
    type: `urn:boxoffice:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    code,
    detail: detail ?? title,
    ...extra,
  };
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

import { ApiError, type ErrorCode } from './api';

// The gate's answers that mean this browser's pass for the line is over: it lapsed or was given
// back (EXPIRED), it is not a pass the server signed (INVALID), or it is another concert's
// (FORBIDDEN). Asking again with it cannot help; the buyer goes back to the line. A pass that is
// still WAITING (QUEUE_NOT_ACTIVE) is not gone: the buyer's place is kept.
const PASS_GONE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'QUEUE_TOKEN_EXPIRED',
  'QUEUE_TOKEN_INVALID',
  'QUEUE_TOKEN_FORBIDDEN',
]);

/** The one place that decides "the pass is gone: back to the line". */
export function isPassGone(error: unknown): boolean {
  return error instanceof ApiError && PASS_GONE.has(error.code);
}

import { useEffect } from 'preact/hooks';
import { ApiError, type Credentials, type ErrorCode } from '../api';
import { markQueueExpired } from '../queue';
import { queueStore, userStore } from '../session';
import { useStore } from '../store';

const PASS_GONE: ErrorCode[] = ['QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_FORBIDDEN'];

/** Errors after which asking again cannot help until the buyer acts (joins again, picks again). */
export const FINAL_GATE_ERRORS: ErrorCode[] = [...PASS_GONE, 'QUEUE_NOT_ACTIVE', 'UNAUTHENTICATED'];

export const isFinal =
  (extra: ErrorCode[] = []) =>
  (error: unknown) =>
    error instanceof ApiError && [...FINAL_GATE_ERRORS, ...extra].includes(error.code);

/** The two credentials a gated endpoint needs, for this browser and concert. */
export function useGate(concertId: string): Credentials & { accessToken: string | null } {
  const user = useStore(userStore);
  const pass = useStore(queueStore(concertId));
  return { accessToken: user?.accessToken ?? null, queueToken: pass?.token ?? null };
}

/** When the server says the pass is over, the waiting room must show "join again". */
export function useExpireOnGateError(concertId: string, ...errors: unknown[]): void {
  const gone = errors.some((e) => e instanceof ApiError && PASS_GONE.includes(e.code));
  useEffect(() => {
    if (gone) markQueueExpired(concertId);
  }, [gone, concertId]);
}

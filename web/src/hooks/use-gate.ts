import { useEffect } from 'preact/hooks';
import { ApiError, type Credentials, type ErrorCode } from '../api';
import { isPassGone } from '../pass';
import { markQueueExpired } from '../queue';
import { queueStore, userStore } from '../session';
import { useStore } from '../store';

/** Besides a pass that is gone, errors after which asking again cannot help until the buyer acts. */
const FINAL_GATE_ERRORS: ErrorCode[] = ['QUEUE_NOT_ACTIVE', 'UNAUTHENTICATED'];

/** Errors after which asking again cannot help until the buyer acts (joins again, picks again). */
export const isFinal =
  (extra: ErrorCode[] = []) =>
  (error: unknown) =>
    isPassGone(error) || (error instanceof ApiError && [...FINAL_GATE_ERRORS, ...extra].includes(error.code));

/** The two credentials a gated endpoint needs, for this browser and concert. */
export function useGate(concertId: string): Credentials & { accessToken: string | null } {
  const user = useStore(userStore);
  const pass = useStore(queueStore(concertId));
  return { accessToken: user?.accessToken ?? null, queueToken: pass?.token ?? null };
}

/** When the server says the pass is over, the waiting room must show "join again". */
export function useExpireOnGateError(concertId: string, ...errors: unknown[]): void {
  const gone = errors.some(isPassGone);
  useEffect(() => {
    if (gone) markQueueExpired(concertId);
  }, [gone, concertId]);
}

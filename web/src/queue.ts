import { ApiError, api, type QueueStatus } from './api';
import { isPassGone } from './pass';
import { withProof } from './proof-of-work';
import { navigate, paths } from './router';
import { queueStore, userStore } from './session';

/** Take a (new) place in a concert's line and remember its token. */
export async function joinQueue(concertId: string): Promise<QueueStatus> {
  const user = userStore.get();
  if (!user) throw new ApiError(401, { code: 'UNAUTHENTICATED' });
  const status = await withProof((proof) => api.joinQueue(user.accessToken, concertId, proof));
  queueStore(concertId).set(status);
  return status;
}

/** "Join again": a new place at the back of the line, then the waiting room. */
export async function rejoinQueue(concertId: string): Promise<void> {
  await joinQueue(concertId);
  navigate(paths.concert(concertId));
}

export async function leaveQueue(concertId: string): Promise<void> {
  const store = queueStore(concertId);
  const token = store.get()?.token;
  if (token) {
    try {
      await api.leaveQueue(token);
    } catch (e) {
      // A token the server already expired is gone anyway.
      if (!isPassGone(e)) throw e;
    }
  }
  store.set(null);
}

/** Mark the stored pass expired after the server said so (gate errors). */
export function markQueueExpired(concertId: string): void {
  const store = queueStore(concertId);
  const status = store.get();
  if (status && status.status !== 'EXPIRED') {
    store.set({ ...status, status: 'EXPIRED', position: null, estimatedWaitSeconds: null });
  }
}

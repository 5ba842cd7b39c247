import type { QueueStatus } from './api';
import { type Store, storedValue } from './store';

/** The buyer this browser acts as (POST /api/v1/users), kept across reloads. */
export interface User {
  userId: string;
  accessToken: string;
  name?: string;
}

export const userStore = storedValue<User | null>('boxoffice.user', null);

const queueStores = new Map<string, Store<QueueStatus | null>>();

/** The last queue status seen for a concert, with its token; one per concert. */
export function queueStore(concertId: string): Store<QueueStatus | null> {
  let store = queueStores.get(concertId);
  if (!store) {
    store = storedValue<QueueStatus | null>(`boxoffice.queue.${concertId}`, null);
    queueStores.set(concertId, store);
  }
  return store;
}

/** The admin key lives only as long as the tab: an operator console left open elsewhere forgets it. */
export const adminKeyStore = storedValue<string | null>('boxoffice.adminKey', null, () => sessionStorage);

/** The gate's key, asked once per tab (a gate device left unattended forgets it when closed). */
export const gateKeyStore = storedValue<string | null>('boxoffice.gateKey', null, () => sessionStorage);

/** Forget the buyer and every queue token (a fresh start, or a server that no longer knows us). */
export function forgetUser(): void {
  userStore.set(null);
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith('boxoffice.queue.')) localStorage.removeItem(key);
  }
  for (const store of queueStores.values()) store.set(null);
}

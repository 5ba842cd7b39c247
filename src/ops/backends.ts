/** How long a scrape waits for a store's answer before counting it as down. */
export const BACKEND_PROBE_MS = 1_000;

/** Whether each backing store answers within BACKEND_PROBE_MS (for `boxoffice_backend_up`). */
export async function probeBackends(
  database: { ping(): Promise<void> },
  queue: { ping(): Promise<void> },
): Promise<Record<'database' | 'queue', boolean>> {
  const answers = (ping: () => Promise<void>) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BACKEND_PROBE_MS);
      ping().then(
        () => resolve(true),
        () => resolve(false),
      );
      timer.unref();
    });
  const [db, q] = await Promise.all([answers(() => database.ping()), answers(() => queue.ping())]);
  return { database: db, queue: q };
}

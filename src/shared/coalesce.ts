/**
 * Wraps an expensive read so that callers share it: concurrent calls share one run, and a
 * result is reused for `maxAgeMs` after it arrives (a failure is never reused). A scrape or a
 * probe storm then costs one read per period per instance, whatever the request rate.
 * Age is measured on the monotonic clock: it is a cache period, not a business time.
 */
export function coalesce<T>(read: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let last: { value: T; at: number } | undefined;
  return () => {
    if (last && performance.now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    inFlight ??= read()
      .then((value) => {
        last = { value, at: performance.now() };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * The one way tests, the harness and the benchmark wait: `sleep` for a pause that is the point
 * (pacing a poll), `eventually` for a condition that must come true within a bound.
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface EventuallyOptions {
  /** Longest wait before giving up (default 10 s). */
  timeoutMs?: number;
  /** Pause between tries (default 100 ms). */
  everyMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

/**
 * Calls `check` until it returns something other than null/undefined/false and returns that; a
 * thrown error counts as "not yet". After `timeoutMs` it throws, naming `what` and the last
 * error seen, so a failure says what never happened.
 */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(
        `${options.what ?? 'condition'} not reached in ${options.timeoutMs ?? 10_000} ms${why}`,
      );
    }
    await sleep(options.everyMs ?? 100);
  }
}

import { useEffect, useState } from 'preact/hooks';

/** The current time, re-rendering every `intervalMs` (for countdowns). */
export function useNow(intervalMs = 250): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

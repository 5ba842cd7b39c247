import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Load again; keeps showing the old data meanwhile. */
  reload(): Promise<void>;
  setData(data: T): void;
}

export interface Refresh {
  everyMs: number;
  /** Stop refreshing after an error no retry will fix (a lapsed pass, a missing show). */
  stopOn?: (error: unknown) => boolean;
}

/**
 * Runs `load` when `deps` change and, with `refresh`, again every so often while mounted.
 * A newer load wins over an older one still in flight.
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
  refresh?: Refresh,
): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const controller = useRef<AbortController | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  const errorRef = useRef<unknown>(null);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    setLoading(true);
    try {
      const result = await loadRef.current(abort.signal);
      if (mine !== generation.current) return;
      setData(result);
      errorRef.current = null;
      setError(null);
    } catch (e) {
      if (mine !== generation.current || abort.signal.aborted) return;
      errorRef.current = e;
      setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setData(undefined);
    errorRef.current = null;
    void reload();
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      const every = refreshRef.current?.everyMs;
      if (!every) return;
      timer = setTimeout(async () => {
        const stopOn = refreshRef.current?.stopOn;
        // Paused, not ended: a manual reload that succeeds lets the refresh carry on.
        if (!(errorRef.current && stopOn?.(errorRef.current))) await reload();
        if (!stopped) tick();
      }, every);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      generation.current++;
      controller.current?.abort();
    };
  }, deps);

  return { data, error, loading, reload, setData };
}

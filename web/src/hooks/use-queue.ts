import { useEffect, useState } from 'preact/hooks';
import { api, type QueueStatus } from '../api';
import { isPassGone } from '../pass';
import { markQueueExpired } from '../queue';
import { queueStore } from '../session';
import { useStore } from '../store';

/** How often to ask when the event stream is not available. */
export const POLL_INTERVAL_MS = 1500;
/** The server sends at least a heartbeat every 15 s; a silent stream longer than this is dead. */
const STREAM_SILENCE_MS = 20_000;

export type LiveMode = 'stream' | 'polling' | null;

export interface QueueView {
  status: QueueStatus | null;
  /** How the waiting room hears about its position right now. */
  mode: LiveMode;
  /** The last transient failure (the line keeps being watched). */
  error: unknown;
}

/**
 * Watches this browser's place in a concert's line: Server-Sent Events while waiting, falling back
 * to polling `GET /queue/status` if the stream fails; the ACTIVE window is checked when it closes.
 */
export function useQueue(concertId: string): QueueView {
  const store = queueStore(concertId);
  const status = useStore(store);
  const [mode, setMode] = useState<LiveMode>(null);
  const [error, setError] = useState<unknown>(null);
  const token = status?.token ?? null;
  const state = status?.status ?? null;
  const activeUntil = status?.activeUntil ?? null;

  useEffect(() => {
    if (!token || state !== 'WAITING') {
      setMode(null);
      return;
    }
    let stopped = false;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;
    let silenceTimer: ReturnType<typeof setTimeout> | undefined;
    let stream: EventSource | null = null;
    let polling = false;

    const accept = (next: QueueStatus) => {
      if (stopped || next.token !== token) return;
      setError(null);
      store.set(next);
    };
    const fail = (e: unknown) => {
      if (stopped) return;
      if (isPassGone(e)) markQueueExpired(concertId);
      else setError(e);
    };

    const poll = async () => {
      try {
        accept(await api.queueStatus(token));
      } catch (e) {
        fail(e);
      }
      if (!stopped) pollTimer = setTimeout(poll, POLL_INTERVAL_MS);
    };
    const startPolling = () => {
      if (stopped || polling) return;
      polling = true;
      stream?.close();
      clearTimeout(silenceTimer);
      setMode('polling');
      void poll();
    };

    if (typeof EventSource === 'function') {
      stream = new EventSource(api.queueEventsUrl(token));
      setMode('stream');
      const listen = () => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(startPolling, STREAM_SILENCE_MS);
      };
      const onStatus = (event: MessageEvent<string>) => {
        listen();
        try {
          accept(JSON.parse(event.data) as QueueStatus);
        } catch {
          // A malformed event is skipped; the next one (or the heartbeat) brings the state.
        }
      };
      stream.addEventListener('message', onStatus);
      stream.addEventListener('status', onStatus);
      // Any stream failure (refused, dropped, proxy buffering) falls back to polling for good.
      stream.addEventListener('error', startPolling);
      listen();
    } else {
      startPolling();
    }

    return () => {
      stopped = true;
      stream?.close();
      clearTimeout(pollTimer);
      clearTimeout(silenceTimer);
    };
  }, [token, state, concertId, store]);

  // An ACTIVE pass: confirm it once (it may have lapsed while the tab was closed), then again when
  // its window closes, so the screen turns to "join again" by itself.
  useEffect(() => {
    if (!token || state !== 'ACTIVE') return;
    let stopped = false;
    const check = async () => {
      try {
        const next = await api.queueStatus(token);
        if (!stopped) store.set(next);
      } catch (e) {
        if (!stopped && isPassGone(e)) markQueueExpired(concertId);
      }
    };
    void check();
    const left = activeUntil ? Date.parse(activeUntil) - Date.now() : Number.NaN;
    const timer = Number.isFinite(left) ? setTimeout(check, Math.max(0, left) + 250) : undefined;
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [token, state, activeUntil, concertId, store]);

  return { status, mode, error };
}

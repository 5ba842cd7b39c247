import { useEffect, useState } from 'preact/hooks';

/**
 * A value kept in Web Storage that components can subscribe to. Small enough to need no library;
 * other tabs' changes arrive through the `storage` event.
 */
export interface Store<T> {
  get(): T;
  set(value: T): void;
  subscribe(listener: () => void): () => void;
}

export function storedValue<T>(
  key: string,
  fallback: T,
  storage: () => Storage = () => localStorage,
): Store<T> {
  const listeners = new Set<() => void>();
  let cache: { raw: string | null; value: T } | null = null;
  // Set when storage refuses writes (full, or blocked in private mode): the page keeps working.
  let memory: { value: T } | null = null;

  const read = (): T => {
    if (memory) return memory.value;
    let raw: string | null = null;
    try {
      raw = storage().getItem(key);
    } catch {
      return fallback;
    }
    if (cache && cache.raw === raw) return cache.value;
    let value = fallback;
    if (raw !== null) {
      try {
        value = JSON.parse(raw) as T;
      } catch {
        value = fallback;
      }
    }
    cache = { raw, value };
    return value;
  };

  const notify = () => {
    for (const listener of listeners) listener();
  };

  window.addEventListener('storage', (event) => {
    if (event.key === key || event.key === null) notify();
  });

  return {
    get: read,
    set(value) {
      try {
        if (value === null || value === undefined) storage().removeItem(key);
        else storage().setItem(key, JSON.stringify(value));
      } catch {
        memory = { value };
      }
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get);
  useEffect(() => {
    setValue(store.get());
    return store.subscribe(() => setValue(store.get()));
  }, [store]);
  return value;
}

import { api, type Concert } from '../api';
import { type AsyncState, useAsync } from './use-async';

// The concert list is public and changes rarely: fetched once per page load and shared.
let cached: Promise<Concert[]> | null = null;

export function loadConcerts(fresh = false): Promise<Concert[]> {
  if (!cached || fresh) {
    cached = api.listConcerts();
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}

export function useConcerts(fresh = false): AsyncState<Concert[]> {
  return useAsync(() => loadConcerts(fresh), [fresh]);
}

export function findConcert(concerts: Concert[] | undefined, concertId: string): Concert | undefined {
  return concerts?.find((concert) => concert.concertId === concertId);
}

import { useEffect, useState } from 'preact/hooks';

// Hash routes (#/concerts/...) need no server fallback and survive a reload.
export type Route =
  | { name: 'concerts' }
  | { name: 'concert'; concertId: string }
  | { name: 'seats'; concertId: string; date: string }
  | { name: 'section'; concertId: string; date: string; section: string }
  | { name: 'checkout'; concertId: string; reservationId: string }
  | { name: 'receipt'; paymentId: string }
  | { name: 'me' }
  | { name: 'admin' }
  | { name: 'gate' }
  | { name: 'notFound' };

const patterns: [RegExp, (m: string[]) => Route][] = [
  [/^\/?$/, () => ({ name: 'concerts' })],
  [/^\/concerts\/([^/]+)$/, ([, concertId]) => ({ name: 'concert', concertId: concertId! })],
  [
    /^\/concerts\/([^/]+)\/dates\/([^/]+)$/,
    ([, concertId, date]) => ({ name: 'seats', concertId: concertId!, date: date! }),
  ],
  [
    /^\/concerts\/([^/]+)\/dates\/([^/]+)\/sections\/([^/]+)$/,
    ([, concertId, date, section]) => ({
      name: 'section',
      concertId: concertId!,
      date: date!,
      section: section!,
    }),
  ],
  [
    /^\/concerts\/([^/]+)\/holds\/([^/]+)$/,
    ([, concertId, reservationId]) => ({
      name: 'checkout',
      concertId: concertId!,
      reservationId: reservationId!,
    }),
  ],
  [/^\/receipts\/([^/]+)$/, ([, paymentId]) => ({ name: 'receipt', paymentId: paymentId! })],
  [/^\/me$/, () => ({ name: 'me' })],
  [/^\/admin$/, () => ({ name: 'admin' })],
  [/^\/gate$/, () => ({ name: 'gate' })],
];

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] ?? '';
  for (const [pattern, build] of patterns) {
    const match = pattern.exec(path);
    if (match) return build(match.map((part) => decodeURIComponent(part ?? '')));
  }
  return { name: 'notFound' };
}

export const paths = {
  concerts: () => '/',
  concert: (concertId: string) => `/concerts/${encodeURIComponent(concertId)}`,
  seats: (concertId: string, date: string) => `/concerts/${encodeURIComponent(concertId)}/dates/${date}`,
  section: (concertId: string, date: string, section: string) =>
    `/concerts/${encodeURIComponent(concertId)}/dates/${date}/sections/${encodeURIComponent(section)}`,
  checkout: (concertId: string, reservationId: string) =>
    `/concerts/${encodeURIComponent(concertId)}/holds/${encodeURIComponent(reservationId)}`,
  receipt: (paymentId: string) => `/receipts/${encodeURIComponent(paymentId)}`,
  me: () => '/me',
  admin: () => '/admin',
  gate: () => '/gate',
};

export const href = (path: string) => `#${path}`;

export function navigate(path: string): void {
  location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

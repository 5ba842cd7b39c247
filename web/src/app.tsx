import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { Layout } from './components/layout';
import { useI18n } from './i18n/i18n';
import { AdminPage } from './pages/admin-page';
import { CheckoutPage } from './pages/checkout-page';
import { ConcertsPage } from './pages/concerts-page';
import { GatePage } from './pages/gate-page';
import { MyTicketsPage } from './pages/my-tickets-page';
import { NotFoundPage } from './pages/not-found-page';
import { ReceiptPage } from './pages/receipt-page';
import { SeatsPage } from './pages/seats-page';
import { WaitingRoomPage } from './pages/waiting-room-page';
import { type Route, useRoute } from './router';

export function App() {
  const route = useRoute();
  const { lang, t } = useI18n();

  // Set before paint, in the same commit as the translated text, so a screen reader never reads
  // English words under lang="ko" (and a test that sees the new words sees the new lang).
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  // After a route change, move focus to the new page's heading so screen readers announce it.
  // The first page keeps the browser's own focus.
  const routeKey = JSON.stringify(route);
  const firstRoute = useRef(routeKey);
  useEffect(() => {
    const heading = document.querySelector<HTMLElement>('main h1');
    document.title = heading?.textContent ? `${heading.textContent} · ${t('app.name')}` : t('app.name');
    if (routeKey !== firstRoute.current) {
      firstRoute.current = '';
      heading?.focus();
    }
  }, [routeKey]);

  return (
    <Layout route={route}>
      <Page route={route} />
    </Layout>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'concerts':
      return <ConcertsPage />;
    case 'concert':
      return <WaitingRoomPage key={route.concertId} concertId={route.concertId} />;
    case 'seats':
      return (
        <SeatsPage key={`${route.concertId}/${route.date}`} concertId={route.concertId} date={route.date} />
      );
    case 'section':
      return (
        <SeatsPage
          key={`${route.concertId}/${route.date}/${route.section}`}
          concertId={route.concertId}
          date={route.date}
          section={route.section}
        />
      );
    case 'checkout':
      return (
        <CheckoutPage
          key={route.reservationId}
          concertId={route.concertId}
          reservationId={route.reservationId}
        />
      );
    case 'receipt':
      return <ReceiptPage key={route.paymentId} paymentId={route.paymentId} />;
    case 'me':
      return <MyTicketsPage />;
    case 'admin':
      return <AdminPage />;
    case 'gate':
      return <GatePage />;
    default:
      return <NotFoundPage />;
  }
}

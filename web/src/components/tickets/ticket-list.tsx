import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { ApiError, api, type Ticket } from '../../api';
import { recoveryActions } from '../../errors';
import { useI18n } from '../../i18n/i18n';
import type { User } from '../../session';
import { type Store, storedValue, useStore } from '../../store';
import { ErrorNotice } from '../error-notice';

/** The last ticket list this browser saw, with when: what the page shows with no connection. */
export interface SavedTickets {
  at: string;
  tickets: Ticket[];
}

const saved = new Map<string, Store<SavedTickets | null>>();

/** One saved list per buyer, so a shared device never shows one buyer another's tickets. */
function savedTickets(userId: string): Store<SavedTickets | null> {
  let store = saved.get(userId);
  if (!store) {
    store = storedValue<SavedTickets | null>(`boxoffice.tickets.${userId}`, null);
    saved.set(userId, store);
  }
  return store;
}

/** The tickets last loaded for this buyer (what "my tickets" shows), or null before the first load. */
export function useSavedTickets(user: User): SavedTickets | null {
  return useStore(savedTickets(user.userId));
}

/**
 * "My tickets": one QR code per paid seat (GET /tickets), drawn in the browser. Every answer is
 * kept in localStorage, so at a door with no signal the codes loaded earlier still show.
 */
export function TicketList({ user, version }: { user: User; version: number }) {
  const i18n = useI18n();
  const { t, dateTime } = i18n;
  const store = savedTickets(user.userId);
  const last = useStore(store);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  const load = async (signal?: AbortSignal) => {
    setLoading(true);
    try {
      const tickets = await api.tickets(user.accessToken, signal);
      store.set({ at: new Date().toISOString(), tickets });
      setError(null);
    } catch (e) {
      if (signal?.aborted) return;
      setError(e);
    } finally {
      if (!signal?.aborted) setLoading(false);
    }
  };

  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [user.accessToken, version]);

  const offline = error instanceof ApiError && (error.code === 'NETWORK' || error.code === 'UNAVAILABLE');

  return (
    <section class="card" aria-labelledby="tickets-title">
      <h2 id="tickets-title">{t('tickets.title')}</h2>
      {offline && last ? (
        <p class="notice notice-warn" role="status" data-testid="tickets-offline">
          {t('tickets.offline', { time: dateTime(last.at) })}
        </p>
      ) : (
        <ErrorNotice error={error} actions={recoveryActions(i18n, error, { retry: () => load() })} />
      )}
      {loading && !last && <p>{t('common.loading')}</p>}
      {last?.tickets.length === 0 && <p>{t('tickets.none')}</p>}
      {last && last.tickets.length > 0 && (
        <>
          <p class="muted small">{t('tickets.help')}</p>
          <ul class="ticket-list" data-testid="tickets">
            {last.tickets.map((ticket) => (
              <TicketCard key={ticket.ticketId} ticket={ticket} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function TicketCard({ ticket }: { ticket: Ticket }) {
  const i18n = useI18n();
  const { t, showDate, dateTime } = i18n;
  const status = ticket.status;
  return (
    <li
      class={`ticket ticket-${status.toLowerCase()}`}
      data-ticket-id={ticket.ticketId}
      data-status={status}
      data-payment-id={ticket.paymentId}
    >
      <div class="ticket-qr">
        <QrCode text={ticket.code} label={t('tickets.qrLabel', { seat: i18n.seat(ticket) })} />
        {status !== 'VALID' && (
          <span class="ticket-stamp" aria-hidden="true">
            {t(`tickets.status.${status}`)}
          </span>
        )}
      </div>
      <div class="ticket-facts">
        <p>
          <span class={`badge ticket-badge-${status.toLowerCase()}`}>{t(`tickets.status.${status}`)}</span>
        </p>
        <p class="ticket-title">{ticket.title}</p>
        <p class="muted">
          {ticket.venue} · {showDate(ticket.date)}
        </p>
        <p class="ticket-seat">
          {i18n.seat(ticket)} · {t('venue.grade', { grade: ticket.grade })}
        </p>
        {status === 'USED' && ticket.checkedInAt && (
          <p class="small">{t('tickets.usedAt', { time: dateTime(ticket.checkedInAt) })}</p>
        )}
        {status === 'VOID' && <p class="small">{t('tickets.voidHelp')}</p>}
      </div>
    </li>
  );
}

/** A QR code drawn as SVG in the browser (the `qrcode` package): no image is fetched, so it works offline. */
function QrCode({ text, label }: { text: string; label: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    // Medium error correction: a phone screen with a crack or glare still scans.
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }).then(
      (drawn) => live && setSvg(drawn),
      () => live && setSvg(null),
    );
    return () => {
      live = false;
    };
  }, [text]);
  return (
    <div
      class="qr"
      role="img"
      aria-label={label}
      data-code={text}
      // The SVG is qrcode's own output for our code string: no user HTML reaches it.
      dangerouslySetInnerHTML={svg ? { __html: svg } : undefined}
    />
  );
}

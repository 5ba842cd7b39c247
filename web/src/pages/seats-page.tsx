import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, type Reservation } from '../api';
import { ErrorNotice } from '../components/error-notice';
import { PassBar } from '../components/pass-bar';
import { SeatMap } from '../components/seat-map';
import { recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { isFinal, useExpireOnGateError, useGate } from '../hooks/use-gate';
import { useNow } from '../hooks/use-now';
import { useI18n } from '../i18n/i18n';
import { href, navigate, paths } from '../router';

/** While the map is open it is refreshed this often, so holds and sales by others show up. */
export const SEAT_REFRESH_MS = 3000;

/** Step 5: the seat map of one show; pick a seat and hold it. */
export function SeatsPage({ concertId, date }: { concertId: string; date: string }) {
  const i18n = useI18n();
  const { t, money, showDate } = i18n;
  const gate = useGate(concertId);
  const concert = findConcert(useConcerts().data, concertId);
  const map = useAsync(
    (signal) => api.seatMap(gate, concertId, date, signal),
    [concertId, date, gate.queueToken],
    {
      everyMs: SEAT_REFRESH_MS,
      stopOn: isFinal(['DATE_NOT_FOUND', 'CONCERT_NOT_FOUND']),
    },
  );
  const holds = useMyHolds(gate.accessToken, concertId, date);
  const [selected, setSelected] = useState<number | null>(null);
  const [holding, setHolding] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useExpireOnGateError(concertId, map.error, error);

  const mine = useMemo(() => new Set(holds.map((r) => r.seatNumber)), [holds]);
  const seats = map.data?.seats ?? [];
  const selectedSeat = seats.find((seat) => seat.seatNumber === selected);

  // A seat someone else took since it was picked is no longer a choice.
  useEffect(() => {
    if (selectedSeat && selectedSeat.status !== 'AVAILABLE') setSelected(null);
  }, [selectedSeat]);

  const hold = async () => {
    if (selected === null) return;
    setHolding(true);
    setError(null);
    try {
      const reservation = await api.holdSeat(gate, concertId, date, selected);
      navigate(paths.checkout(concertId, reservation.reservationId));
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'SEAT_UNAVAILABLE') {
        setSelected(null);
        void map.reload();
      }
    } finally {
      setHolding(false);
    }
  };

  const actions =
    error instanceof ApiError && error.code === 'SEAT_UNAVAILABLE'
      ? [{ label: t('action.refreshSeats'), run: map.reload }]
      : recoveryActions(i18n, error, { concertId, retry: hold });

  return (
    <>
      <h1 tabIndex={-1}>{t('seats.title')}</h1>
      <p class="muted">
        {concert ? `${concert.title} · ` : ''}
        {showDate(date)}
        {map.data && ` · ${t('seats.left', { count: map.data.availableSeats })}`}
      </p>
      <PassBar concertId={concertId} />
      <ErrorNotice error={error} actions={actions} onDismiss={() => setError(null)} />
      <ErrorNotice
        error={map.error}
        actions={recoveryActions(i18n, map.error, { concertId, retry: map.reload })}
      />
      {!map.data && !map.error && <p>{t('common.loading')}</p>}
      {map.data && (
        <div class="seats-layout">
          <SeatMap seats={seats} mine={mine} selected={selected} onSelect={setSelected} />
          <aside class="card selection" aria-labelledby="selection-title">
            <h2 id="selection-title" class="visually-hidden">
              {t('seats.hold')}
            </h2>
            <p aria-live="polite" data-testid="selection">
              {selectedSeat
                ? t('seats.selected', { n: selectedSeat.seatNumber, price: money(selectedSeat.price) })
                : t('seats.pickOne')}
            </p>
            <button type="button" class="primary" disabled={!selectedSeat || holding} onClick={hold}>
              {holding ? t('seats.holding') : t('seats.hold')}
            </button>
            {holds.length > 0 && (
              <>
                <h3>{t('seats.myHolds')}</h3>
                <ul class="plain-list">
                  {holds.map((r) => (
                    <li key={r.reservationId}>
                      {t('seats.myHold', { n: r.seatNumber, price: money(r.price) })}{' '}
                      <a href={href(paths.checkout(concertId, r.reservationId))}>{t('seats.payNow')}</a>
                    </li>
                  ))}
                </ul>
              </>
            )}
            <a class="other-dates" href={href(paths.concert(concertId))}>
              {t('seats.otherDates')}
            </a>
          </aside>
        </div>
      )}
    </>
  );
}

/** This buyer's live holds on this show, to mark them on the map and link to payment. */
function useMyHolds(accessToken: string | null, concertId: string, date: string): Reservation[] {
  const now = useNow(1000);
  const reservations = useAsync(
    async () => (accessToken ? api.listReservations(accessToken) : []),
    [accessToken, concertId, date],
    { everyMs: SEAT_REFRESH_MS * 2, stopOn: isFinal() },
  );
  return (reservations.data ?? []).filter(
    (r) =>
      r.concertId === concertId &&
      r.date === date &&
      r.status === 'HELD' &&
      Date.parse(r.holdExpiresAt) > now,
  );
}

import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, type Credentials, type Reservation, type Seat } from '../api';
import { BestAvailable } from '../components/best-available';
import { ErrorNotice } from '../components/error-notice';
import { PassBar } from '../components/pass-bar';
import { SeatMap } from '../components/seat-map';
import { VenueOverview } from '../components/venue-overview';
import { errorMessage, recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { isFinal, useExpireOnGateError, useGate } from '../hooks/use-gate';
import { useNow } from '../hooks/use-now';
import { useI18n } from '../i18n/i18n';
import { href, navigate, paths } from '../router';

/** While the map is open it is refreshed this often, so holds and sales by others show up. */
export const SEAT_REFRESH_MS = 3000;
/** The venue at a glance changes more slowly for a buyer deciding where to look. */
const SECTIONS_REFRESH_MS = 5000;

/**
 * Seats one buyer may hold unpaid per concert: the contract's default of MAX_HOLDS_PER_USER. The
 * service publishes no settings, so a server set otherwise is learned from its answer
 * (HOLD_LIMIT_REACHED, shown in words with the way to pay or let go).
 */
export const MAX_HOLDS_PER_USER = 4;

interface Props {
  concertId: string;
  date: string;
  /** A section chosen on the venue overview; none: the overview (or the only section's map). */
  section?: string;
}

/**
 * Step 5: where to sit. A show of several sections opens on the venue at a glance (and "best
 * seats in grade X"); a section opens its seat map. A show of one section, like the simple form's
 * 50 seats, goes straight to its map.
 */
export function SeatsPage({ concertId, date, section }: Props) {
  const i18n = useI18n();
  const { t, showDate } = i18n;
  const gate = useGate(concertId);
  const concert = findConcert(useConcerts().data, concertId);
  const sections = useAsync(
    (signal) => api.sections(gate, concertId, date, signal),
    [concertId, date, gate.queueToken],
    {
      everyMs: SECTIONS_REFRESH_MS,
      stopOn: isFinal(['DATE_NOT_FOUND', 'CONCERT_NOT_FOUND']),
    },
  );
  useExpireOnGateError(concertId, sections.error);
  const holds = useMyHolds(gate.accessToken, concertId);
  const left = Math.max(0, MAX_HOLDS_PER_USER - holds.length);

  const list = sections.data;
  const only = list?.length === 1 ? list[0] : undefined;
  const chosen = section ?? only?.section;
  const shown = chosen === undefined ? undefined : list?.find((s) => s.section === chosen);

  return (
    <>
      <h1 tabIndex={-1}>{chosen === undefined ? t('venue.title') : t('seats.title')}</h1>
      <p class="muted">
        {concert ? `${concert.title} · ` : ''}
        {showDate(date)}
        {shown &&
          ` · ${t('seats.sectionTitle', { section: shown.section, grade: shown.grade, price: i18n.money(shown.price) })}`}
      </p>
      <PassBar concertId={concertId} />
      <ErrorNotice
        error={sections.error}
        actions={recoveryActions(i18n, sections.error, { concertId, retry: sections.reload })}
      />
      {!list && !sections.error && <p>{t('common.loading')}</p>}
      {list && chosen === undefined && (
        <div class="seats-layout">
          <VenueOverview concertId={concertId} date={date} sections={list} />
          <aside class="card selection">
            <BestAvailable
              gate={gate}
              concertId={concertId}
              date={date}
              grades={[...new Set(list.map((s) => s.grade))]}
              left={left}
            />
            <MyHolds concertId={concertId} holds={holds} />
            <a class="other-dates" href={href(paths.concert(concertId))}>
              {t('seats.otherDates')}
            </a>
          </aside>
        </div>
      )}
      {list && chosen !== undefined && (
        <SectionMap
          gate={gate}
          concertId={concertId}
          date={date}
          section={chosen}
          holds={holds}
          left={left}
          several={list.length > 1}
        />
      )}
    </>
  );
}

interface SectionProps {
  gate: Credentials;
  concertId: string;
  date: string;
  section: string;
  holds: Reservation[];
  left: number;
  /** The show has other sections to go back to. */
  several: boolean;
}

/** One section's seat map: tap up to the limit, hold them in one request. */
function SectionMap({ gate, concertId, date, section, holds, left, several }: SectionProps) {
  const i18n = useI18n();
  const { t, money } = i18n;
  const map = useAsync(
    (signal) => api.seatMap(gate, concertId, date, section, signal),
    [concertId, date, section, gate.queueToken],
    {
      everyMs: SEAT_REFRESH_MS,
      stopOn: isFinal(['DATE_NOT_FOUND', 'CONCERT_NOT_FOUND', 'SECTION_NOT_FOUND']),
    },
  );
  const [selected, setSelected] = useState<number[]>([]);
  const [holding, setHolding] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [taken, setTaken] = useState<Seat[]>([]);
  const [atLimit, setAtLimit] = useState(false);
  useExpireOnGateError(concertId, map.error, error);

  const seats = map.data?.seats ?? [];
  const bySeat = useMemo(() => new Map(seats.map((seat) => [seat.seatNumber, seat])), [seats]);
  const mine = useMemo(
    () => new Set(holds.filter((r) => r.date === date).map((r) => r.seatNumber)),
    [holds, date],
  );
  const chosen = useMemo(() => new Set(selected), [selected]);
  const picked = selected.map((n) => bySeat.get(n)).filter((seat): seat is Seat => seat !== undefined);

  // A seat someone else took since it was picked is no longer a choice.
  useEffect(() => {
    const still = selected.filter((n) => bySeat.get(n)?.status === 'AVAILABLE');
    if (map.data && still.length !== selected.length) setSelected(still);
  }, [bySeat]);

  const toggle = (seatNumber: number) => {
    setAtLimit(false);
    if (chosen.has(seatNumber)) {
      setSelected(selected.filter((n) => n !== seatNumber));
    } else if (selected.length >= left) {
      setAtLimit(true);
    } else {
      setSelected([...selected, seatNumber]);
    }
  };

  const hold = async () => {
    if (selected.length === 0) return;
    setHolding(true);
    setError(null);
    setTaken([]);
    try {
      const reservations =
        selected.length === 1
          ? [await api.holdSeat(gate, concertId, date, selected[0]!)]
          : await api.holdSeats(gate, concertId, date, { seatNumbers: selected });
      navigate(paths.checkout(concertId, reservations[0]!.reservationId));
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'SEAT_UNAVAILABLE') {
        // All or none: nothing was held. Drop the seats that are gone, keep the others chosen.
        const gone = unavailableSeats(e, selected);
        setTaken(gone.map((n) => bySeat.get(n)).filter((seat): seat is Seat => seat !== undefined));
        setSelected(selected.filter((n) => !gone.includes(n)));
        void map.reload();
      }
    } finally {
      setHolding(false);
    }
  };

  const unavailable = error instanceof ApiError && error.code === 'SEAT_UNAVAILABLE';
  const actions = unavailable
    ? [{ label: t('action.refreshSeats'), run: map.reload }]
    : recoveryActions(i18n, error, { concertId, retry: hold });
  const message =
    unavailable && taken.length > 0
      ? `${errorMessage(i18n, error)} ${t('seats.taken', { seats: taken.map((seat) => i18n.seat(seat)).join(', ') })}`
      : undefined;
  const total = picked.reduce((sum, seat) => sum + seat.price, 0);
  const prompt =
    left === 0
      ? t('seats.noneLeftToPick', { max: MAX_HOLDS_PER_USER })
      : left === 1
        ? t('seats.pickOne')
        : t('seats.pickUpTo', { max: left });
  // One button, shown in the side panel on a wide screen and in the bar under the map on a phone.
  const holdButton = () => (
    <button type="button" class="primary" disabled={picked.length === 0 || holding} onClick={hold}>
      {holding
        ? t('seats.holding')
        : picked.length > 1
          ? t('seats.holdMany', { count: picked.length })
          : t('seats.hold')}
    </button>
  );

  return (
    <>
      <ErrorNotice
        error={error}
        message={message}
        actions={actions}
        onDismiss={() => {
          setError(null);
          setTaken([]);
        }}
      />
      <ErrorNotice
        error={map.error}
        actions={recoveryActions(i18n, map.error, { concertId, retry: map.reload })}
      />
      {!map.data && !map.error && <p>{t('common.loading')}</p>}
      {map.data && (
        <div class="seats-layout">
          <div>
            <SeatMap
              seats={seats}
              mine={mine}
              selected={chosen}
              onToggle={toggle}
              caption={t('seats.left', { count: map.data.availableSeats })}
            />
            <div class="hold-bar">
              <p>
                {picked.length === 0
                  ? prompt
                  : picked.length === 1
                    ? t('seats.selected', { seat: i18n.seat(picked[0]!), price: money(total) })
                    : t('seats.selectedCount', { count: picked.length, total: money(total) })}
              </p>
              {holdButton()}
            </div>
          </div>
          <aside class="card selection" aria-labelledby="selection-title">
            <h2 id="selection-title" class="visually-hidden">
              {t('seats.hold')}
            </h2>
            <div aria-live="polite" data-testid="selection">
              {picked.length === 0 && <p>{prompt}</p>}
              {picked.length === 1 && (
                <p>{t('seats.selected', { seat: i18n.seat(picked[0]!), price: money(picked[0]!.price) })}</p>
              )}
              {picked.length > 1 && (
                <>
                  <ul class="plain-list picked">
                    {picked.map((seat) => (
                      <li key={seat.seatNumber}>
                        {t('seats.selected', { seat: i18n.seat(seat), price: money(seat.price) })}
                      </li>
                    ))}
                  </ul>
                  <p>
                    <strong>{t('seats.selectedCount', { count: picked.length, total: money(total) })}</strong>
                  </p>
                </>
              )}
              {atLimit && (
                <p class="notice notice-warn" data-testid="limit">
                  {t('seats.limitReached', { max: left })}
                </p>
              )}
            </div>
            <div class="actions">
              <span class="hold-actions">{holdButton()}</span>
              {picked.length > 1 && (
                <button type="button" class="quiet" onClick={() => setSelected([])}>
                  {t('seats.clear')}
                </button>
              )}
            </div>
            {several && (
              <BestAvailable gate={gate} concertId={concertId} date={date} section={section} left={left} />
            )}
            <MyHolds concertId={concertId} holds={holds} />
            {several && (
              <a class="other-dates" href={href(paths.seats(concertId, date))}>
                {t('seats.otherSections')}
              </a>
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

/** The seats a 409 SEAT_UNAVAILABLE names; a one-seat refusal names its seat by being one. */
function unavailableSeats(error: ApiError, asked: number[]): number[] {
  const named = error.problem.unavailableSeats;
  if (Array.isArray(named) && named.every((n) => typeof n === 'number')) return named as number[];
  return asked.length === 1 ? asked : [];
}

function MyHolds({ concertId, holds }: { concertId: string; holds: Reservation[] }) {
  const i18n = useI18n();
  const { t, money, showDate } = i18n;
  if (holds.length === 0) return null;
  return (
    <>
      <h3>{t('seats.myHolds')}</h3>
      <ul class="plain-list" data-testid="my-holds">
        {holds.map((r) => (
          <li key={r.reservationId}>
            <span class="muted small">{showDate(r.date)}</span>
            <br />
            {t('seats.myHold', { seat: i18n.seat(r), price: money(r.price) })}{' '}
            <a href={href(paths.checkout(concertId, r.reservationId))}>{t('seats.payNow')}</a>
          </li>
        ))}
      </ul>
    </>
  );
}

/** This buyer's live holds on this concert (any date): the limit counts them all. */
function useMyHolds(accessToken: string | null, concertId: string): Reservation[] {
  const now = useNow(1000);
  const reservations = useAsync(
    async () => (accessToken ? api.listReservations(accessToken) : []),
    [accessToken, concertId],
    { everyMs: SEAT_REFRESH_MS * 2, stopOn: isFinal() },
  );
  return (reservations.data ?? []).filter(
    (r) => r.concertId === concertId && r.status === 'HELD' && Date.parse(r.holdExpiresAt) > now,
  );
}

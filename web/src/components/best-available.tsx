import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Credentials } from '../api';
import { recoveryActions } from '../errors';
import { useI18n } from '../i18n/i18n';
import { navigate, paths } from '../router';
import { ErrorNotice } from './error-notice';

interface Props {
  gate: Credentials;
  concertId: string;
  date: string;
  /** Offer a choice of these grades (on the venue overview)… */
  grades?: string[];
  /** …or look only in this section (on its map). */
  section?: string;
  /** Seats this buyer may still hold. */
  left: number;
}

/** How many seats a party wants when nothing says otherwise: two, as most buyers buy. */
const USUAL_PARTY = 2;

/**
 * "The best N seats": the server picks the first run of N free seats side by side (in the grade
 * or section) and holds them in the same step, so a busy sale does not fail on hand-picked seats.
 */
export function BestAvailable({ gate, concertId, date, grades, section, left }: Props) {
  const i18n = useI18n();
  const { t } = i18n;
  const [quantity, setQuantity] = useState(Math.min(USUAL_PARTY, Math.max(1, left)));
  const [grade, setGrade] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (quantity > left && left > 0) setQuantity(left);
  }, [left]);

  const hold = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const reservations = await api.holdSeats(gate, concertId, date, {
        quantity,
        ...(section !== undefined ? { section } : {}),
        ...(grade ? { grade } : {}),
      });
      navigate(paths.checkout(concertId, reservations[0]!.reservationId));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const none = error instanceof ApiError && error.code === 'SEAT_UNAVAILABLE';
  const id = `best-${section ?? 'venue'}`;
  return (
    <form class="best" onSubmit={hold} aria-labelledby={id} data-testid="best-available">
      <h2 id={id}>{t('best.title')}</h2>
      <p class="muted small">{section === undefined ? t('best.help') : t('best.helpSection')}</p>
      <div class="best-fields">
        <label>
          {t('best.quantity')}
          <select
            value={String(quantity)}
            onChange={(e) => setQuantity(Number(e.currentTarget.value))}
            disabled={left === 0}
          >
            {Array.from({ length: Math.max(1, left) }, (_, i) => i + 1).map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
        {grades && grades.length > 1 && (
          <label>
            {t('best.grade')}
            <select value={grade} onChange={(e) => setGrade(e.currentTarget.value)}>
              <option value="">{t('best.anyGrade')}</option>
              {grades.map((g) => (
                <option key={g} value={g}>
                  {t('venue.grade', { grade: g })}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <ErrorNotice
        error={error}
        message={none ? t('best.none', { count: quantity }) : undefined}
        actions={none ? [] : recoveryActions(i18n, error, { concertId })}
        onDismiss={() => setError(null)}
      />
      <button type="submit" class="primary" disabled={busy || left === 0}>
        {busy ? t('best.holding') : t('best.submit', { count: quantity })}
      </button>
    </form>
  );
}

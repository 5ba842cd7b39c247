import type { Seat } from '../api';
import { useI18n } from '../i18n/i18n';

export const SEAT_COLUMNS = 10;

type SeatLook = Seat['status'] | 'MINE';

interface Props {
  seats: Seat[];
  /** Seats this buyer holds (the API shows them as HELD to everyone). */
  mine: ReadonlySet<number>;
  selected: number | null;
  onSelect(seatNumber: number): void;
}

/**
 * The seats as real buttons in rows of ten: Tab and Enter work, arrow keys move around the grid,
 * and each button says its number, price and status to a screen reader.
 */
export function SeatMap({ seats, mine, selected, onSelect }: Props) {
  const { t, money } = useI18n();

  const onKeyDown = (event: KeyboardEvent) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -SEAT_COLUMNS, ArrowDown: SEAT_COLUMNS }[event.key];
    const current = event.target as HTMLElement | null;
    if (!step || !current?.dataset.index) return;
    const buttons = (event.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>('button.seat');
    const next = buttons[Number(current.dataset.index) + step];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  };

  return (
    <div class="seat-map">
      <div class="stage" aria-hidden="true">
        {t('seats.stage')}
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a group of buttons; fieldset would need a form */}
      <div
        class="seat-grid"
        role="group"
        aria-label={t('seats.gridLabel', { count: seats.length })}
        onKeyDown={onKeyDown}
        style={{ '--columns': String(SEAT_COLUMNS) }}
      >
        {seats.map((seat, index) => {
          const look: SeatLook = seat.status === 'HELD' && mine.has(seat.seatNumber) ? 'MINE' : seat.status;
          const available = seat.status === 'AVAILABLE';
          const isSelected = selected === seat.seatNumber;
          const label =
            t('seats.seatLabel', {
              n: seat.seatNumber,
              price: money(seat.price),
              status: t(`seats.status.${look}`),
            }) + (isSelected ? t('seats.selectedSuffix') : '');
          return (
            <button
              key={seat.seatNumber}
              type="button"
              class={`seat seat-${look.toLowerCase()}${isSelected ? ' seat-selected' : ''}`}
              data-index={index}
              data-seat={seat.seatNumber}
              data-status={seat.status}
              aria-label={label}
              aria-pressed={available ? isSelected : undefined}
              aria-disabled={available ? undefined : 'true'}
              title={label}
              onClick={() => available && onSelect(seat.seatNumber)}
            >
              {seat.seatNumber}
            </button>
          );
        })}
      </div>
      <SeatLegend />
    </div>
  );
}

function SeatLegend() {
  const { t } = useI18n();
  const looks: SeatLook[] = ['AVAILABLE', 'HELD', 'SOLD', 'MINE'];
  return (
    <ul class="seat-legend" aria-label={t('seats.legend')}>
      {looks.map((look) => (
        <li key={look}>
          <span class={`seat seat-swatch seat-${look.toLowerCase()}`} aria-hidden="true" />
          {t(`seats.status.${look}`)}
        </li>
      ))}
    </ul>
  );
}

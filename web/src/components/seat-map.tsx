import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Seat } from '../api';
import { useI18n } from '../i18n/i18n';

/** A section of one row (the simple form's 1..50) is wrapped into rows of this many seats. */
export const WRAP_COLUMNS = 10;
/** Seat pitch in SVG units; a seat is drawn a little smaller so neighbours stay apart. */
const CELL = 10;
/** Room left of the seats for row numbers, in SVG units. */
const GUTTER = 12;
/** Below this many pixels a seat is too small to tap, so the map opens zoomed in and scrolls. */
const MIN_FIT_PX = 14;
/** The size a map opens at when the whole section would be too small to tap. */
const TAP_PX = 26;
const MAX_PX = 48;
const ZOOM_STEP = 1.4;
/** Seat numbers are drawn inside the seats only when they are big enough to read. */
const NUMBERS_FROM_PX = 20;

type SeatLook = Seat['status'] | 'MINE';

interface Props {
  /** One section's seats, ascending by seat number. */
  seats: Seat[];
  /** Seats this buyer holds (the API shows them as HELD to everyone). */
  mine: ReadonlySet<number>;
  selected: ReadonlySet<number>;
  /** Tap or Enter on an available seat: select it, or unselect it. */
  onToggle(seatNumber: number): void;
  /** A line shown beside the zoom buttons (seats left). */
  caption?: string;
}

interface Placed {
  seat: Seat;
  /** Row and column on the drawing (0-based). */
  r: number;
  c: number;
}

/**
 * Lays a section out as its rows × seats, front row at the top: the row a seat reports and its
 * number in the row; rows shorter than the longest are centred, as in a hall. A section of a
 * single row (the simple form) is wrapped into rows of ten instead of one long line.
 */
export function layOut(seats: Seat[]): {
  placed: Placed[];
  rows: number;
  columns: number;
  rowLabels: boolean;
} {
  const rowOf = (seat: Seat) => seat.row;
  const rowNumbers = [...new Set(seats.map(rowOf))].sort((a, b) => a - b);
  if (rowNumbers.length <= 1) {
    return {
      placed: seats.map((seat, i) => ({ seat, r: Math.floor(i / WRAP_COLUMNS), c: i % WRAP_COLUMNS })),
      rows: Math.ceil(seats.length / WRAP_COLUMNS),
      columns: Math.min(WRAP_COLUMNS, seats.length),
      rowLabels: false,
    };
  }
  const byRow = new Map<number, Seat[]>();
  for (const seat of seats) {
    const row = byRow.get(rowOf(seat));
    if (row) row.push(seat);
    else byRow.set(rowOf(seat), [seat]);
  }
  const columns = Math.max(...[...byRow.values()].map((row) => row.length));
  const placed: Placed[] = [];
  rowNumbers.forEach((rowNumber, r) => {
    const row = byRow.get(rowNumber)!;
    const offset = Math.floor((columns - row.length) / 2);
    for (const [i, seat] of row.entries()) placed.push({ seat, r, c: offset + i });
  });
  return { placed, rows: rowNumbers.length, columns, rowLabels: true };
}

/**
 * One section's seats drawn as an SVG grid of rows × seats. A 2,000-seat section on a phone opens
 * at a size a finger can tap and scrolls both ways; zoom buttons go from the whole section to big
 * seats. Every seat is a focusable button for assistive technology (its row, number, price and
 * status), with one tab stop for the whole map and arrow keys to move, Enter or Space to select.
 */
export function SeatMap({ seats, mine, selected, onToggle, caption }: Props) {
  const { t, money } = useI18n();
  const layout = useMemo(() => layOut(seats), [seats]);
  const gutter = layout.rowLabels ? GUTTER : 0;
  const widthUnits = gutter + layout.columns * CELL;
  const heightUnits = layout.rows * CELL;

  // The width the map has on this screen decides whether the whole section fits tappably.
  const scroller = useRef<HTMLDivElement>(null);
  const [available, setAvailable] = useState(0);
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = () => setAvailable(element.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const fitPx = available > 0 ? Math.min(MAX_PX * 1.5, available / (widthUnits / CELL)) : 0;
  // null: the whole section fits the width.
  const [zoomPx, setZoomPx] = useState<number | null>(null);
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || fitPx === 0) return;
    opened.current = true;
    if (fitPx < MIN_FIT_PX) setZoomPx(TAP_PX);
  }, [fitPx]);
  const cellPx = zoomPx ?? fitPx;
  const zoomIn = () => setZoomPx(Math.min(MAX_PX, Math.max(cellPx * ZOOM_STEP, MIN_FIT_PX)));
  const zoomOut = () => {
    const next = cellPx / ZOOM_STEP;
    setZoomPx(next <= fitPx ? null : next);
  };

  // One tab stop: the selected seat, else the first free one, else the first.
  const [focusIndex, setFocusIndex] = useState<number | null>(null);
  const home = useMemo(() => {
    const index = layout.placed.findIndex((p) => selected.has(p.seat.seatNumber));
    if (index >= 0) return index;
    return Math.max(
      0,
      layout.placed.findIndex((p) => p.seat.status === 'AVAILABLE'),
    );
  }, [layout, selected]);
  const tabStop = focusIndex !== null && focusIndex < layout.placed.length ? focusIndex : home;

  const svg = useRef<SVGSVGElement>(null);
  const indexOf = (target: EventTarget | null): number | null => {
    const element = (target as Element | null)?.closest?.('[data-index]') as SVGElement | null;
    return element ? Number(element.dataset.index) : null;
  };
  const toggle = (index: number | null) => {
    if (index === null) return;
    const { seat } = layout.placed[index]!;
    setFocusIndex(index);
    if (seat.status === 'AVAILABLE') onToggle(seat.seatNumber);
  };

  // A tap on a map drawn too small for a finger (the whole section on a phone) zooms in around
  // the seat instead of guessing which one was meant; the next tap selects.
  const centreOn = useRef<number | null>(null);
  const tap = (index: number | null) => {
    if (index === null) return;
    if (cellPx >= MIN_FIT_PX) {
      toggle(index);
      return;
    }
    centreOn.current = index;
    setFocusIndex(index);
    setZoomPx(TAP_PX);
  };
  useLayoutEffect(() => {
    const index = centreOn.current;
    if (index === null) return;
    centreOn.current = null;
    svg.current
      ?.querySelector<SVGElement>(`[data-index="${index}"]`)
      ?.scrollIntoView({ block: 'center', inline: 'center' });
  }, [zoomPx]);

  const onKeyDown = (event: KeyboardEvent) => {
    const index = indexOf(event.target);
    if (index === null) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      toggle(index);
      return;
    }
    const next = neighbour(layout.placed, index, event.key);
    if (next === null) return;
    event.preventDefault();
    setFocusIndex(next);
    svg.current?.querySelector<SVGElement>(`[data-index="${next}"]`)?.focus();
  };

  const showNumbers = cellPx >= NUMBERS_FROM_PX;
  // Drawn once per change of seats, selection or language, not on every zoom step or hover.
  const drawn = useMemo(
    () =>
      layout.placed.map(({ seat, r, c }, index) => {
        const look: SeatLook = seat.status === 'HELD' && mine.has(seat.seatNumber) ? 'MINE' : seat.status;
        const isAvailable = seat.status === 'AVAILABLE';
        const isSelected = selected.has(seat.seatNumber);
        const status = t(`seats.status.${look}`);
        const price = money(seat.price);
        const { number } = seat;
        const label =
          (layout.rowLabels
            ? t('seats.seatLabelRow', { row: seat.row, n: number, price, status })
            : t('seats.seatLabel', { n: number, price, status })) +
          (isSelected ? t('seats.selectedSuffix') : '');
        return (
          // biome-ignore lint/a11y/useSemanticElements: an SVG seat cannot be a <button>
          <g
            key={seat.seatNumber}
            class={`seat seat-${look.toLowerCase()}${isSelected ? ' seat-selected' : ''}`}
            transform={`translate(${gutter + c * CELL} ${r * CELL})`}
            role="button"
            // Lowercase: on an SVG element, `tabIndex` would be set as an attribute of that exact name, which no browser reads.
            tabindex={index === tabStop ? 0 : -1}
            data-index={index}
            data-seat={seat.seatNumber}
            data-status={seat.status}
            aria-label={label}
            aria-pressed={isAvailable ? isSelected : undefined}
            aria-disabled={isAvailable ? undefined : 'true'}
          >
            <rect x={0.8} y={0.8} width={CELL - 1.6} height={CELL - 1.6} rx={1.8} />
            {showNumbers && (
              <text x={CELL / 2} y={CELL / 2}>
                {number}
              </text>
            )}
          </g>
        );
      }),
    [layout, mine, selected, tabStop, t, money, showNumbers, gutter],
  );

  const rowLabels = layout.rowLabels
    ? [...new Map(layout.placed.map((p) => [p.r, p.seat.row])).entries()].map(([r, row]) => (
        <text key={r} class="row-label" x={gutter - 2} y={r * CELL + CELL / 2}>
          {row}
        </text>
      ))
    : null;

  return (
    <div class="seat-map">
      <div class="seat-map-tools">
        <p class="muted small" aria-live="polite">
          {caption}
        </p>
        {/* biome-ignore lint/a11y/useSemanticElements: a toolbar of two buttons */}
        <div class="zoom" role="group" aria-label={t('seats.zoom')}>
          <button
            type="button"
            class="quiet"
            onClick={zoomOut}
            disabled={zoomPx === null}
            aria-label={t('seats.zoomOut')}
          >
            −
          </button>
          <button type="button" class="quiet" onClick={() => setZoomPx(null)} disabled={zoomPx === null}>
            {t('seats.zoomFit')}
          </button>
          <button
            type="button"
            class="quiet"
            onClick={zoomIn}
            disabled={cellPx >= MAX_PX}
            aria-label={t('seats.zoomIn')}
          >
            +
          </button>
        </div>
      </div>
      <div class="seat-scroll" ref={scroller}>
        <div
          class="stage"
          aria-hidden="true"
          style={zoomPx === null ? undefined : { width: `${widthUnits * (cellPx / CELL)}px` }}
        >
          {t('seats.stage')}
        </div>
        {/* biome-ignore lint/a11y/useSemanticElements: an SVG drawing of seats; fieldset cannot hold it */}
        <svg
          ref={svg}
          class={`seat-svg${showNumbers ? ' with-numbers' : ''}`}
          viewBox={`0 0 ${widthUnits} ${heightUnits}`}
          width={zoomPx === null ? '100%' : widthUnits * (cellPx / CELL)}
          style={{
            aspectRatio: `${widthUnits} / ${heightUnits}`,
            maxWidth: zoomPx === null ? `${widthUnits * 4.4}px` : 'none',
          }}
          role="group"
          aria-label={t('seats.gridLabel', { count: seats.length })}
          onClick={(event) => tap(indexOf(event.target))}
          onKeyDown={onKeyDown}
        >
          {/* Each seat's label names its row; the numbers at the side are for the eye. */}
          {/* biome-ignore lint/a11y/noAriaHiddenOnFocusable: an SVG <g> of text is not focusable */}
          <g aria-hidden="true">{rowLabels}</g>
          {drawn}
        </svg>
      </div>
      <SeatLegend />
    </div>
  );
}

/** The seat an arrow key moves to: along the drawing's rows and columns. */
function neighbour(placed: Placed[], index: number, key: string): number | null {
  const here = placed[index]!;
  if (key === 'ArrowLeft') return index > 0 ? index - 1 : null;
  if (key === 'ArrowRight') return index < placed.length - 1 ? index + 1 : null;
  const dr = key === 'ArrowUp' ? -1 : key === 'ArrowDown' ? 1 : 0;
  if (dr === 0) return null;
  let best: number | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let i = 0; i < placed.length; i++) {
    const p = placed[i]!;
    if (p.r !== here.r + dr) continue;
    const distance = Math.abs(p.c - here.c);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}

function SeatLegend() {
  const { t } = useI18n();
  const looks: SeatLook[] = ['AVAILABLE', 'HELD', 'SOLD', 'MINE'];
  return (
    <ul class="seat-legend" aria-label={t('seats.legend')}>
      {looks.map((look) => (
        <li key={look}>
          <span class={`seat-swatch seat-${look.toLowerCase()}`} aria-hidden="true" />
          {t(`seats.status.${look}`)}
        </li>
      ))}
    </ul>
  );
}

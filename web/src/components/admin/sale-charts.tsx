import { ApiError, api, type SalePoint } from '../../api';
import { useAsync } from '../../hooks/use-async';
import { type MessageKey, useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

/** The server keeps one sample every 5 s for 30 min; the charts ask again as often. */
export const CHARTS_REFRESH_MS = 5000;
const WINDOW_MS = 30 * 60_000;

const SERIES: { key: keyof Omit<SalePoint, 'at'>; label: MessageKey }[] = [
  { key: 'waiting', label: 'chart.waiting' },
  { key: 'active', label: 'chart.active' },
  { key: 'admittedPerSecond', label: 'chart.admitted' },
  { key: 'held', label: 'chart.held' },
  { key: 'sold', label: 'chart.sold' },
  { key: 'revenue', label: 'chart.revenue' },
];

/**
 * A concert's last 30 minutes (GET …/samples): the samples live in the database, so every
 * instance behind the balancer draws the same charts.
 */
export function SaleCharts({ adminKey, concertId }: { adminKey: string; concertId: string }) {
  const { t } = useI18n();
  const samples = useAsync(
    (signal) => api.admin.samples(adminKey, concertId, signal),
    [adminKey, concertId],
    { everyMs: CHARTS_REFRESH_MS, stopOn: (e) => e instanceof ApiError && e.code === 'UNAUTHENTICATED' },
  );
  const points = samples.data?.samples ?? [];
  return (
    <section class="sale-charts" aria-label={t('admin.charts')} data-samples={points.length}>
      <h3>{t('admin.charts')}</h3>
      <AdminErrorNotice error={samples.error} />
      {samples.data && points.length === 0 && <p class="muted small">{t('admin.chartsEmpty')}</p>}
      {points.length > 0 && (
        <div class="chart-grid">
          {SERIES.map(({ key, label }) => (
            <Chart key={key} name={key} label={t(label)} points={points} value={(p) => p[key]} />
          ))}
        </div>
      )}
    </section>
  );
}

const W = 240;
const H = 64;

function Chart({
  name,
  label,
  points,
  value,
}: {
  name: string;
  label: string;
  points: SalePoint[];
  value: (p: SalePoint) => number;
}) {
  const last = points[points.length - 1]!;
  const end = Date.parse(last.at);
  // The last 30 minutes, or since the first sample when the sale is younger than that.
  const start = Math.max(end - WINDOW_MS, Date.parse(points[0]!.at));
  const span = Math.max(1, end - start);
  const max = Math.max(1, ...points.map(value));
  const xy = points.map((p) => {
    const x = ((Date.parse(p.at) - start) / span) * W;
    const y = H - (value(p) / max) * (H - 4) - 2;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const current = value(last);
  const shown = Number.isInteger(current) ? current.toLocaleString() : current.toFixed(1);
  return (
    <figure class="chart" data-chart={name} data-last={current}>
      <figcaption>
        <span>{label}</span> <strong>{shown}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${shown}`} preserveAspectRatio="none">
        <line x1="0" y1={H - 1} x2={W} y2={H - 1} class="chart-axis" />
        <polyline points={xy.join(' ')} class="chart-line" />
        {xy.length > 0 && (
          <polygon
            points={`${xy[0]!.split(',')[0]},${H} ${xy.join(' ')} ${xy[xy.length - 1]!.split(',')[0]},${H}`}
            class="chart-fill"
          />
        )}
      </svg>
    </figure>
  );
}

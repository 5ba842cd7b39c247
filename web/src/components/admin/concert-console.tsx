import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type Concert, type ConcertStats, type QueueSettings } from '../../api';
import { useAsync } from '../../hooks/use-async';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';
import { CancelDate } from './cancel-date';
import { OpeningControl } from './opening-control';
import { QueueControls } from './queue-controls';
import { SaleCharts } from './sale-charts';
import { SeatingSales } from './seating-sales';

export const STATS_REFRESH_MS = 1000;
/** The admission rate is averaged over this many recent samples to smooth ticker bursts. */
const RATE_WINDOW = 5;

type Sample = QueueSettings & Partial<ConcertStats>;

/** One concert's live numbers (GET …/stats, or …/queue if stats are missing) and controls. */
export function ConcertConsole({ adminKey, concert }: { adminKey: string; concert: Concert }) {
  const { t } = useI18n();
  const statsMissing = useRef(false);
  const history = useRef<{ at: number; admitted: number }[]>([]);
  const [rate, setRate] = useState<number | null>(null);

  const stats = useAsync<Sample>(
    async () => {
      if (!statsMissing.current) {
        try {
          return await api.admin.stats(adminKey, concert.concertId);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 'NOT_FOUND')) throw e;
          statsMissing.current = true;
        }
      }
      return api.admin.queue(adminKey, concert.concertId);
    },
    [adminKey, concert.concertId],
    { everyMs: STATS_REFRESH_MS, stopOn: (e) => e instanceof ApiError && e.code === 'UNAUTHENTICATED' },
  );

  // Admissions per second from successive admittedTotal samples.
  const admitted = stats.data?.admittedTotal;
  useEffect(() => {
    if (admitted === undefined) return;
    const samples = [...history.current, { at: Date.now(), admitted }].slice(-RATE_WINDOW);
    history.current = samples;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    setRate(seconds > 0 ? Math.max(0, (last.admitted - first.admitted) / seconds) : null);
  }, [stats.data, admitted]);

  const s = stats.data;

  return (
    <section
      class="card console"
      aria-labelledby={`console-${concert.concertId}`}
      data-concert-id={concert.concertId}
    >
      <h2 id={`console-${concert.concertId}`}>{concert.title}</h2>
      <p class="muted">
        {concert.venue}
        {s && (
          <>
            {' · '}
            <span class={`badge ${s.paused ? 'badge-expired' : 'badge-confirmed'}`} data-testid="line-state">
              {s.paused ? t('admin.paused') : t('admin.running')}
            </span>
          </>
        )}
      </p>
      <AdminErrorNotice error={stats.error} />
      {s && (
        <>
          <dl class="stats">
            <Stat name="waiting" label={t('admin.waiting')} value={String(s.waiting)} />
            {s.prequeued > 0 && (
              <Stat name="prequeued" label={t('admin.prequeued')} value={String(s.prequeued)} />
            )}
            <Stat
              name="active"
              label={t('admin.active')}
              value={t('admin.of', { value: s.active, max: s.maxActive })}
            />
            <Stat
              name="admit-rate"
              label={t('admin.admitRate')}
              value={`${rate === null ? '–' : t('admin.perSecond', { rate: rate.toFixed(1) })} (≤ ${s.admitPerSecond})`}
            />
            {s.admittedTotal !== undefined && (
              <Stat name="admitted" label={t('admin.admitted')} value={String(s.admittedTotal)} />
            )}
            {s.seatsHeld !== undefined && (
              <Stat name="held" label={t('admin.held')} value={String(s.seatsHeld)} />
            )}
            {s.seatsSold !== undefined && (
              <Stat
                name="sold"
                label={t('admin.sold')}
                value={
                  s.seatsTotal === undefined
                    ? String(s.seatsSold)
                    : t('admin.of', { value: s.seatsSold, max: s.seatsTotal })
                }
              />
            )}
          </dl>
          {statsMissing.current && <p class="muted small">{t('admin.statsFallback')}</p>}
          <QueueControls
            adminKey={adminKey}
            concertId={concert.concertId}
            settings={s}
            onChange={(next) => stats.setData({ ...s, ...next })}
          />
          <OpeningControl
            adminKey={adminKey}
            concertId={concert.concertId}
            settings={s}
            onChange={(next) => stats.setData({ ...s, ...next })}
          />
          <SaleCharts adminKey={adminKey} concertId={concert.concertId} />
          <SeatingSales adminKey={adminKey} concertId={concert.concertId} />
          <CancelDate adminKey={adminKey} concert={concert} />
        </>
      )}
    </section>
  );
}

function Stat({ name, label, value }: { name: string; label: string; value: string }) {
  return (
    <div class="stat" data-stat={name}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

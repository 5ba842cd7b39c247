import { ApiError, api } from '../../api';
import { useAsync } from '../../hooks/use-async';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

export const SEATING_REFRESH_MS = 5000;

/** GET …/admin/concerts/{id}/seating: per date, seats sold, held and left in each section. */
export function SeatingSales({ adminKey, concertId }: { adminKey: string; concertId: string }) {
  const { t, showDate, money } = useI18n();
  const seating = useAsync(
    (signal) => api.admin.seating(adminKey, concertId, signal),
    [adminKey, concertId],
    {
      everyMs: SEATING_REFRESH_MS,
      stopOn: (e) => e instanceof ApiError && (e.code === 'UNAUTHENTICATED' || e.code === 'NOT_FOUND'),
    },
  );
  // A server without the endpoint yet: the console simply has no such table.
  if (seating.error instanceof ApiError && seating.error.code === 'NOT_FOUND') return null;

  return (
    <section class="seating-sales" aria-label={t('admin.seating')} data-testid="seating-sales">
      <h3>{t('admin.seating')}</h3>
      <AdminErrorNotice error={seating.error} />
      {seating.data?.map((show) => (
        <div key={show.date} class="table-scroll" data-date={show.date}>
          <table class="seating-table">
            <caption>{showDate(show.date)}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.colSection')}</th>
                <th scope="col">{t('admin.colGrade')}</th>
                <th scope="col" class="num">
                  {t('admin.colSold')}
                </th>
                <th scope="col" class="num">
                  {t('admin.colHeld')}
                </th>
                <th scope="col" class="num">
                  {t('admin.colLeft')}
                </th>
              </tr>
            </thead>
            <tbody>
              {show.sections.map((s) => (
                <tr key={s.section} data-section={s.section} data-sold={s.soldSeats}>
                  <th scope="row">{s.section}</th>
                  <td title={money(s.price)}>{s.grade}</td>
                  <td class="num">
                    {t('admin.soldOf', { sold: s.soldSeats, total: s.totalSeats })}
                    <span class="sold-bar" aria-hidden="true">
                      <span
                        style={{
                          width: `${s.totalSeats ? Math.round((100 * s.soldSeats) / s.totalSeats) : 0}%`,
                        }}
                      />
                    </span>
                  </td>
                  <td class="num">{s.heldSeats}</td>
                  <td class="num">{s.availableSeats}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';
import { queueStore } from '../session';
import { useStore } from '../store';
import { Countdown } from './countdown';

/** On gated screens: how long this buyer's turn lasts, or the way back to the line. */
export function PassBar({ concertId }: { concertId: string }) {
  const { t } = useI18n();
  const status = useStore(queueStore(concertId));

  if (status?.status === 'ACTIVE' && status.activeUntil) {
    return (
      <div class="pass-bar">
        <Countdown until={status.activeUntil} label={t('queue.timeLeft')} />
      </div>
    );
  }
  return (
    <div class="pass-bar">
      <a href={href(paths.concert(concertId))}>{t('action.waitingRoom')}</a>
    </div>
  );
}

import { useState } from 'preact/hooks';
import { ConcertConsole } from '../components/admin/concert-console';
import { CreateConcertForm } from '../components/admin/create-concert-form';
import { FailedWebhooks } from '../components/admin/failed-webhooks';
import { ErrorNotice } from '../components/error-notice';
import { recoveryActions } from '../errors';
import { useConcerts } from '../hooks/use-concerts';
import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';
import { adminKeyStore } from '../session';
import { useStore } from '../store';

/** The operator console: every concert's line live, with its controls. */
export function AdminPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const adminKey = useStore(adminKeyStore);
  const concerts = useConcerts(true);

  if (!adminKey) return <AdminKeyForm />;

  return (
    <>
      <div class="title-row">
        <h1 tabIndex={-1}>{t('admin.title')}</h1>
        <p class="actions">
          <a class="button quiet" href={href(paths.gate())}>
            {t('gate.open')}
          </a>
          <button type="button" class="quiet" onClick={() => adminKeyStore.set(null)}>
            {t('admin.signOut')}
          </button>
        </p>
      </div>
      <ErrorNotice
        error={concerts.error}
        actions={recoveryActions(i18n, concerts.error, { retry: concerts.reload })}
      />
      <div class="console-grid">
        {concerts.data?.map((concert) => (
          <ConcertConsole key={concert.concertId} adminKey={adminKey} concert={concert} />
        ))}
      </div>
      <CreateConcertForm adminKey={adminKey} onCreated={() => void concerts.reload()} />
      <FailedWebhooks adminKey={adminKey} />
    </>
  );
}

function AdminKeyForm() {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  return (
    <>
      <h1 tabIndex={-1}>{t('admin.title')}</h1>
      <form
        class="card inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (key.trim()) adminKeyStore.set(key.trim());
        }}
      >
        <p class="muted">{t('admin.keyHelp')}</p>
        <label>
          {t('admin.key')}
          <input
            name="adminKey"
            type="password"
            autoComplete="current-password"
            required
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          {t('admin.signIn')}
        </button>
      </form>
    </>
  );
}

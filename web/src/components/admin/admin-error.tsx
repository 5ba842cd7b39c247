import { ApiError } from '../../api';
import { recoveryActions } from '../../errors';
import { useI18n } from '../../i18n/i18n';
import { adminKeyStore } from '../../session';
import { ErrorNotice } from '../error-notice';

/** On the console, 401 means a wrong admin key, not a lost buyer identity. */
export function AdminErrorNotice({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const i18n = useI18n();
  if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
    return (
      <ErrorNotice
        error={error}
        message={i18n.t('admin.badKey')}
        actions={[{ label: i18n.t('admin.signOut'), run: () => adminKeyStore.set(null) }]}
      />
    );
  }
  return <ErrorNotice error={error} actions={recoveryActions(i18n, error)} onDismiss={onDismiss} />;
}

import { useState } from 'preact/hooks';
import { api, type QueueSettings } from '../../api';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

interface Props {
  adminKey: string;
  concertId: string;
  settings: QueueSettings;
  onChange(settings: QueueSettings): void;
}

/** Pause/resume the line, and set how many are in at once and how fast they are let in. */
export function QueueControls({ adminKey, concertId, settings, onChange }: Props) {
  const { t } = useI18n();
  // The form starts from the live values and is then the operator's until saved.
  const [maxActive, setMaxActive] = useState(String(settings.maxActive));
  const [admitPerSecond, setAdmitPerSecond] = useState(String(settings.admitPerSecond));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  const update = async (patch: Partial<Pick<QueueSettings, 'maxActive' | 'admitPerSecond' | 'paused'>>) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onChange(await api.admin.updateQueue(adminKey, concertId, patch));
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="queue-controls">
      <button
        type="button"
        class={settings.paused ? 'primary' : 'danger'}
        disabled={busy}
        onClick={() => update({ paused: !settings.paused })}
      >
        {settings.paused ? t('admin.resume') : t('admin.pause')}
      </button>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void update({ maxActive: Number(maxActive), admitPerSecond: Number(admitPerSecond) });
        }}
      >
        <label>
          {t('admin.maxActive')}
          <input
            name="maxActive"
            type="number"
            min={1}
            step={1}
            required
            value={maxActive}
            onInput={(e) => setMaxActive(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('admin.admitPerSecond')}
          <input
            name="admitPerSecond"
            type="number"
            min={0}
            step="any"
            required
            value={admitPerSecond}
            onInput={(e) => setAdmitPerSecond(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {t('admin.save')}
        </button>
      </form>
      {saved && (
        <p class="notice notice-ok small" role="status">
          {t('admin.saved')}
        </p>
      )}
      <AdminErrorNotice error={error} onDismiss={() => setError(null)} />
    </div>
  );
}

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

/** `2026-12-24T19:00` (UTC) for a datetime-local input, and back. */
const toInput = (iso: string | null) => (iso ? iso.slice(0, 16) : '');
const fromInput = (value: string) => new Date(`${value}:00.000Z`).toISOString();

/** Set, move or clear (open now) a concert's scheduled opening. */
export function OpeningControl({ adminKey, concertId, settings, onChange }: Props) {
  const { t, dateTime } = useI18n();
  const [value, setValue] = useState(toInput(settings.saleOpensAt));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const save = async (saleOpensAt: string | null) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.admin.updateQueue(adminKey, concertId, { saleOpensAt }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="opening-control" data-testid="opening-control">
      <p class="small">
        {settings.saleOpensAt
          ? t('sale.opensAt', { time: dateTime(settings.saleOpensAt) })
          : t('admin.openingNone')}
      </p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (value) void save(fromInput(value));
        }}
      >
        <label>
          {t('admin.opening')}
          <input
            name="saleOpensAt"
            type="datetime-local"
            required
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {t('admin.setOpening')}
        </button>
        {settings.saleOpensAt && Date.parse(settings.saleOpensAt) > Date.now() && (
          <button type="button" class="quiet" disabled={busy} onClick={() => save(null)}>
            {t('admin.openNow')}
          </button>
        )}
      </form>
      <AdminErrorNotice error={error} onDismiss={() => setError(null)} />
    </div>
  );
}

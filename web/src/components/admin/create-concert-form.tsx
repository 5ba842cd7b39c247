import { useState } from 'preact/hooks';
import { api } from '../../api';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

interface DateRow {
  id: number;
  date: string;
  seats: string;
  price: string;
}

const DEFAULT_SEATS = '50';
const DEFAULT_PRICE = '165000';

function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

let nextRowId = 1;
const newRow = (days: number): DateRow => ({
  id: nextRowId++,
  date: daysFromNow(days),
  seats: DEFAULT_SEATS,
  price: DEFAULT_PRICE,
});

/** POST /api/v1/admin/concerts: a title, a venue and one or more dates with seats and a price. */
export function CreateConcertForm({ adminKey, onCreated }: { adminKey: string; onCreated(): void }) {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [venue, setVenue] = useState('');
  const [rows, setRows] = useState<DateRow[]>(() => [newRow(30)]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);

  const edit = (id: number, patch: Partial<DateRow>) =>
    setRows((all) => all.map((row) => (row.id === id ? { ...row, ...patch } : row)));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const concert = await api.admin.createConcert(adminKey, {
        title: title.trim(),
        venue: venue.trim(),
        dates: rows.map((row) => ({ date: row.date, seats: Number(row.seats), price: Number(row.price) })),
      });
      setCreated(t('admin.created', { title: concert.title }));
      setTitle('');
      setVenue('');
      setRows([newRow(30)]);
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="create-concert-title">
      <h2 id="create-concert-title">{t('admin.create')}</h2>
      <form class="stack-form" onSubmit={submit}>
        <RequiredText label={t('admin.concertTitle')} name="title" value={title} onInput={setTitle} />
        <RequiredText label={t('admin.venue')} name="venue" value={venue} onInput={setVenue} />
        {rows.map((row, index) => (
          <fieldset key={row.id} class="date-row">
            <legend>
              {t('admin.date')} {index + 1}
            </legend>
            <label>
              {t('admin.date')}
              <input
                type="date"
                required
                value={row.date}
                onInput={(e) => edit(row.id, { date: e.currentTarget.value })}
              />
            </label>
            <WholeNumber
              label={t('admin.seats')}
              max={200}
              value={row.seats}
              onInput={(seats) => edit(row.id, { seats })}
            />
            <WholeNumber
              label={t('admin.price')}
              max={10_000_000}
              value={row.price}
              onInput={(price) => edit(row.id, { price })}
            />
            {rows.length > 1 && (
              <button
                type="button"
                class="quiet"
                onClick={() => setRows((all) => all.filter((other) => other.id !== row.id))}
              >
                {t('admin.removeDate')}
              </button>
            )}
          </fieldset>
        ))}
        <div class="actions">
          <button type="button" onClick={() => setRows((all) => [...all, newRow(30 + all.length)])}>
            {t('admin.addDate')}
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('admin.creating') : t('admin.create')}
          </button>
        </div>
      </form>
      {created && (
        <p class="notice notice-ok" role="status">
          {created}
        </p>
      )}
      <AdminErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

/** A required line of text of at most 200 characters, as the admin API accepts a title or venue. */
function RequiredText(props: {
  label: string;
  name: string;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        required
        maxLength={200}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}

/** A required whole number from 1 to `max`, as the admin API accepts it. */
function WholeNumber(props: { label: string; max: number; value: string; onInput: (value: string) => void }) {
  return (
    <label>
      {props.label}
      <input
        type="number"
        min={1}
        max={props.max}
        step={1}
        required
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}

import { useState } from 'preact/hooks';
import { api } from '../../api';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';
import { formatRows, PLAN_LIMITS, parseRows, readPlanFile } from './seating-plan';

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

/** A section of the plan as the form edits it: rows as the operator writes them (`40×50`). */
interface SectionRow {
  id: number;
  section: string;
  grade: string;
  price: string;
  rows: string;
}

const newSection = (index: number): SectionRow => ({
  id: nextRowId++,
  section: String.fromCharCode(65 + (index % 26)) + (index >= 26 ? String(Math.floor(index / 26)) : ''),
  grade: 'R',
  price: DEFAULT_PRICE,
  rows: '10×20',
});

type Layout = 'simple' | 'plan';

/**
 * POST /api/v1/admin/concerts: a title, a venue and one or more dates; either one price and up to
 * 200 seats per date (the simple form), or a seating plan of sections, grades, prices and rows
 * that every date uses, typed in or loaded from a JSON file.
 */
export function CreateConcertForm({ adminKey, onCreated }: { adminKey: string; onCreated(): void }) {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [venue, setVenue] = useState('');
  const [rows, setRows] = useState<DateRow[]>(() => [newRow(30)]);
  const [layout, setLayout] = useState<Layout>('simple');
  const [sections, setSections] = useState<SectionRow[]>(() => [newSection(0)]);
  const [uploadNote, setUploadNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);

  const edit = (id: number, patch: Partial<DateRow>) =>
    setRows((all) => all.map((row) => (row.id === id ? { ...row, ...patch } : row)));
  const editSection = (id: number, patch: Partial<SectionRow>) =>
    setSections((all) => all.map((row) => (row.id === id ? { ...row, ...patch } : row)));

  const parsed = sections.map((s) => parseRows(s.rows));
  const planSeats = parsed.reduce((sum, rows) => sum + (rows ?? []).reduce((a, b) => a + b, 0), 0);
  const planValid = parsed.every((rows) => rows !== null) && planSeats <= PLAN_LIMITS.seatsPerShow;

  const upload = async (file: File | undefined) => {
    setUploadNote(null);
    if (!file) return;
    try {
      const plan = readPlanFile(await file.text());
      setSections(
        plan.map((s) => ({
          id: nextRowId++,
          section: s.section,
          grade: s.grade,
          price: String(s.price),
          rows: formatRows(s.rows),
        })),
      );
      setLayout('plan');
      setUploadNote({ ok: true, text: t('admin.uploaded', { count: plan.length }) });
    } catch (e) {
      setUploadNote({ ok: false, text: t('admin.uploadInvalid', { reason: (e as Error).message }) });
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const concert = await api.admin.createConcert(
        adminKey,
        layout === 'simple'
          ? {
              title: title.trim(),
              venue: venue.trim(),
              dates: rows.map((row) => ({
                date: row.date,
                seats: Number(row.seats),
                price: Number(row.price),
              })),
            }
          : {
              title: title.trim(),
              venue: venue.trim(),
              seating: sections.map((s, i) => ({
                section: s.section.trim(),
                grade: s.grade.trim(),
                price: Number(s.price),
                rows: parsed[i]!,
              })),
              dates: rows.map((row) => ({ date: row.date })),
            },
      );
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
        <fieldset class="layout-choice">
          <legend>{t('admin.layout')}</legend>
          <label>
            <input
              type="radio"
              name="layout"
              checked={layout === 'simple'}
              onChange={() => setLayout('simple')}
            />{' '}
            {t('admin.layoutSimple')}
          </label>
          <label>
            <input
              type="radio"
              name="layout"
              checked={layout === 'plan'}
              onChange={() => setLayout('plan')}
            />{' '}
            {t('admin.layoutPlan')}
          </label>
        </fieldset>
        {layout === 'plan' && (
          <fieldset class="plan" data-testid="seating-plan">
            <legend>{t('admin.sections')}</legend>
            <p class="muted small">{t('admin.rowsHelp')}</p>
            {sections.map((s, index) => (
              <fieldset key={s.id} class="plan-section">
                <legend>{t('admin.section', { index: index + 1 })}</legend>
                <label>
                  {t('admin.sectionName')}
                  <input
                    required
                    maxLength={20}
                    value={s.section}
                    onInput={(e) => editSection(s.id, { section: e.currentTarget.value })}
                  />
                </label>
                <label>
                  {t('admin.grade')}
                  <input
                    required
                    maxLength={20}
                    value={s.grade}
                    onInput={(e) => editSection(s.id, { grade: e.currentTarget.value })}
                  />
                </label>
                <WholeNumber
                  label={t('admin.price')}
                  max={10_000_000}
                  value={s.price}
                  onInput={(price) => editSection(s.id, { price })}
                />
                <label>
                  {t('admin.rows')}
                  <input
                    required
                    value={s.rows}
                    aria-invalid={parsed[index] === null ? 'true' : undefined}
                    onInput={(e) => editSection(s.id, { rows: e.currentTarget.value })}
                  />
                </label>
                {parsed[index] === null && (
                  <p class="notice notice-error small">{t('admin.rowsInvalid', { value: s.rows })}</p>
                )}
                {sections.length > 1 && (
                  <button
                    type="button"
                    class="quiet"
                    onClick={() => setSections((all) => all.filter((other) => other.id !== s.id))}
                  >
                    {t('admin.removeSection')}
                  </button>
                )}
              </fieldset>
            ))}
            <p data-testid="plan-total" role="status">
              {t('admin.planTotal', { count: planSeats.toLocaleString(), sections: sections.length })}
              {planSeats > PLAN_LIMITS.seatsPerShow && <strong> {t('admin.planTooBig')}</strong>}
            </p>
            <div class="actions">
              <button
                type="button"
                disabled={sections.length >= PLAN_LIMITS.sections}
                onClick={() => setSections((all) => [...all, newSection(all.length)])}
              >
                {t('admin.addSection')}
              </button>
            </div>
          </fieldset>
        )}
        <label>
          {t('admin.upload')}
          <input
            type="file"
            accept="application/json,.json"
            onChange={(e) => void upload(e.currentTarget.files?.[0])}
          />
        </label>
        {uploadNote && (
          <p class={`notice ${uploadNote.ok ? 'notice-ok' : 'notice-error'}`} role="status">
            {uploadNote.text}
          </p>
        )}
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
            {layout === 'simple' && (
              <>
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
              </>
            )}
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
          <button type="submit" class="primary" disabled={busy || (layout === 'plan' && !planValid)}>
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

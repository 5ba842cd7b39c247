import { useMemo } from 'preact/hooks';
import { formatClock, formatDateTime, formatDuration, formatMoney, formatShowDate } from '../format';
import { storedValue, useStore } from '../store';
import { type Lang, languages, type MessageKey, messages } from './messages';

export type { Lang, MessageKey };

/** Korean unless the visitor chose English. */
export const langStore = storedValue<Lang>('boxoffice.lang', 'ko');

export type Params = Record<string, string | number>;

/** Where a seat is, as seats, reservations and paid seats report it. */
export interface Place {
  section: string;
  row: number;
  number: number;
}

/** "Section A · Row 3 · Seat 12". */
export function placeLabel(lang: Lang, place: Place): string {
  return translate(lang, 'seat.place', { section: place.section, row: place.row, number: place.number });
}

export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const template = messages[lang][key] ?? messages.ko[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export interface I18n {
  lang: Lang;
  t(key: MessageKey, params?: Params): string;
  money(amount: number): string;
  showDate(date: string): string;
  dateTime(iso: string): string;
  duration(seconds: number): string;
  clock(seconds: number): string;
  /** A seat's place in words: "Section A · Row 3 · Seat 12". */
  seat(place: Place): string;
}

export function useI18n(): I18n {
  const stored = useStore(langStore);
  const lang: Lang = languages.includes(stored) ? stored : 'ko';
  return useMemo(
    () => ({
      lang,
      t: (key, params) => translate(lang, key, params),
      money: (amount) => formatMoney(lang, amount),
      showDate: (date) => formatShowDate(lang, date),
      dateTime: (iso) => formatDateTime(lang, iso),
      duration: (seconds) => formatDuration(lang, seconds),
      clock: formatClock,
      seat: (place) => placeLabel(lang, place),
    }),
    [lang],
  );
}

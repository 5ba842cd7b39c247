import type { Lang } from './i18n/messages';

const locales: Record<Lang, string> = { ko: 'ko-KR', en: 'en-US' };
const numbers = new Intl.NumberFormat('ko-KR');

/** Won have no minor unit: `165,000원` in Korean, `₩165,000` in English. */
export function formatMoney(lang: Lang, amount: number): string {
  const digits = numbers.format(amount);
  return lang === 'ko' ? `${digits}원` : `₩${digits}`;
}

/** A show date `YYYY-MM-DD` is a calendar day, so it is formatted in UTC to never shift a day. */
export function formatShowDate(lang: Lang, date: string): string {
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) return date;
  return new Intl.DateTimeFormat(locales[lang], {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    weekday: 'short',
  }).format(day);
}

export function formatDateTime(lang: Lang, iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return new Intl.DateTimeFormat(locales[lang], { dateStyle: 'medium', timeStyle: 'medium' }).format(at);
}

/** `4:05` for a countdown; hours only when there are some. */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A wait in words: `약 2분 5초` / `about 2 min 5 s`. */
export function formatDuration(lang: Lang, totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const minutes = Math.floor(s / 60);
  const seconds = s % 60;
  if (lang === 'ko') {
    if (minutes === 0) return `${seconds}초`;
    return seconds === 0 ? `${minutes}분` : `${minutes}분 ${seconds}초`;
  }
  if (minutes === 0) return `${seconds} s`;
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

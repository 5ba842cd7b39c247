import { ApiError, type ErrorCode } from './api';
import type { I18n, MessageKey } from './i18n/i18n';
import { messages } from './i18n/messages';
import { isPassGone } from './pass';
import { rejoinQueue } from './queue';
import { navigate, paths } from './router';
import { forgetUser } from './session';

/** A way forward offered next to an error. */
export interface Action {
  label: string;
  run(): void | Promise<void>;
}

export function errorCode(error: unknown): ErrorCode {
  return error instanceof ApiError ? error.code : 'UNKNOWN';
}

/** Any failure as one plain sentence in the current language. */
export function errorMessage(i18n: I18n, error: unknown): string {
  // Typed, not cast: a code the server declares without a message here fails the type check.
  const key: MessageKey = `error.${errorCode(error)}`;
  // A newer server may still send a code this build has never heard of.
  const sentence = key in messages.ko ? i18n.t(key) : i18n.t('error.UNKNOWN');
  if (error instanceof ApiError && error.code === 'RATE_LIMITED' && error.retryAfter) {
    return `${sentence} ${i18n.t('error.retryIn', { seconds: error.retryAfter })}`;
  }
  return sentence;
}

export interface RecoveryContext {
  concertId?: string;
  /** Repeat what failed, for errors that may pass (network, overload, rate limit). */
  retry?: () => void | Promise<void>;
}

/** The ways forward every screen offers for the errors that are not its own business. */
export function recoveryActions(i18n: I18n, error: unknown, context: RecoveryContext = {}): Action[] {
  const { concertId, retry } = context;
  const { t } = i18n;
  if (isPassGone(error)) {
    return concertId ? [{ label: t('queue.joinAgain'), run: () => rejoinQueue(concertId) }] : [];
  }
  switch (errorCode(error)) {
    case 'QUEUE_NOT_ACTIVE':
      return concertId
        ? [{ label: t('action.waitingRoom'), run: () => navigate(paths.concert(concertId)) }]
        : [];
    case 'UNAUTHENTICATED':
      return [
        {
          label: t('action.createMe'),
          run: () => {
            forgetUser();
            navigate(concertId ? paths.concert(concertId) : paths.concerts());
          },
        },
      ];
    case 'CONCERT_NOT_FOUND':
    case 'NOT_FOUND':
      return [{ label: t('action.concerts'), run: () => navigate(paths.concerts()) }];
    case 'RESERVATION_NOT_FOUND':
    case 'RESERVATION_NOT_HELD':
    case 'HOLD_LIMIT_REACHED':
      return [{ label: t('action.myTickets'), run: () => navigate(paths.me()) }];
    case 'DATE_NOT_FOUND':
      return concertId
        ? [{ label: t('seats.otherDates'), run: () => navigate(paths.concert(concertId)) }]
        : [];
    default:
      return retry ? [{ label: t('action.retry'), run: retry }] : [];
  }
}

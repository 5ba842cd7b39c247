import { useEffect, useState } from 'preact/hooks';
import { api, type Balance, newIdempotencyKey } from '../api';
import { recoveryActions } from '../errors';
import { useI18n } from '../i18n/i18n';
import { ErrorNotice } from './error-notice';

export const TOP_UP_INPUT_ID = 'top-up-amount';
const MAX_CHARGE = 10_000_000;

interface Props {
  accessToken: string;
  balance: Balance | undefined;
  /** Prefills the amount, e.g. the shortfall for a payment. */
  suggestedAmount?: number;
  onCharged(balance: Balance): void;
}

/** The balance and a top-up form (POST /balance/charges, a new Idempotency-Key per click). */
export function BalancePanel({ accessToken, balance, suggestedAmount, onCharged }: Props) {
  const i18n = useI18n();
  const { t, money } = i18n;
  const [amount, setAmount] = useState(String(suggestedAmount ?? 100_000));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    if (suggestedAmount && suggestedAmount > 0) setAmount(String(Math.min(suggestedAmount, MAX_CHARGE)));
  }, [suggestedAmount]);

  const charge = async (event: Event) => {
    event.preventDefault();
    const value = Number(amount);
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const result = await api.charge(accessToken, value, newIdempotencyKey());
      onCharged({ userId: result.userId, balance: result.balance });
      setDone(t('balance.charged', { amount: money(result.charged) }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card balance" aria-labelledby="balance-title">
      <h2 id="balance-title">{t('balance.title')}</h2>
      <p class="balance-amount" data-testid="balance" aria-live="polite">
        {balance ? money(balance.balance) : t('common.loading')}
      </p>
      <form class="inline-form" onSubmit={charge}>
        <label>
          {t('balance.amount')}
          <input
            id={TOP_UP_INPUT_ID}
            name="amount"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_CHARGE}
            step={1}
            required
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? t('balance.charging') : t('balance.topUp')}
        </button>
      </form>
      {done && (
        <p class="notice notice-ok" role="status">
          {done}
        </p>
      )}
      <ErrorNotice error={error} actions={recoveryActions(i18n, error)} onDismiss={() => setError(null)} />
    </section>
  );
}

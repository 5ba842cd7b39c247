import { useEffect, useState } from 'preact/hooks';
import { api, newIdempotencyKey, type Refund, type RefundPolicy } from '../../api';
import { useI18n } from '../../i18n/i18n';
import { ErrorNotice } from '../error-notice';

// The policy is the server's two settings; it changes only with a restart, so one fetch per page load.
let policy: Promise<RefundPolicy> | null = null;

function loadPolicy(): Promise<RefundPolicy> {
  if (!policy) {
    policy = api.refundPolicy();
    policy.catch(() => {
      policy = null;
    });
  }
  return policy;
}

/** What a return would cost and bring back, by API.md's formula: fee = ⌊amount × fee% / 100⌋. */
export function refundTerms(amount: number, date: string, rules: RefundPolicy) {
  const fee = Math.floor((amount * rules.feePercent) / 100);
  // Returns close cutoffHours before 00:00 UTC of the show's date.
  const closesAt = Date.parse(`${date}T00:00:00Z`) - rules.cutoffHours * 3_600_000;
  return { fee, back: amount - fee, closesAt };
}

interface Props {
  accessToken: string;
  payment: { paymentId: string; amount: number; date: string; status: 'PAID' | 'REFUNDED' };
  /** A ticket of this payment was scanned at the gate: the server refuses its return. */
  used?: boolean;
  onRefunded(refund: Refund): void;
}

/**
 * "Return ticket": the fee, what comes back and the cut-off are shown before the buyer confirms;
 * after the cut-off (or once a ticket was used) the button stays, disabled, with the reason.
 */
export function ReturnTicket({ accessToken, payment, used = false, onRefunded }: Props) {
  const i18n = useI18n();
  const { t, money } = i18n;
  const [rules, setRules] = useState<RefundPolicy | null>(null);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // One key per confirmation: a repeated click or a retried request refunds once.
  const [key, setKey] = useState(newIdempotencyKey);

  // Known before the first click, so a closed return shows as such (disabled, with the reason).
  useEffect(() => {
    let live = true;
    loadPolicy().then(
      (loaded) => live && setRules(loaded),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, []);

  if (payment.status === 'REFUNDED') return null;

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      onRefunded(await api.refund(accessToken, payment.paymentId, key));
      setAsking(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const terms = rules ? refundTerms(payment.amount, payment.date, rules) : null;
  const closed = terms !== null && Date.now() >= terms.closesAt;
  const reason = used
    ? t('refund.closedUsed')
    : closed && terms
      ? t('refund.closedAt', { time: i18n.dateTime(new Date(terms.closesAt).toISOString()) })
      : null;
  const whyId = `refund-why-${payment.paymentId}`;

  return (
    <div class="return-ticket" data-testid="return-ticket">
      {!asking && (
        <p class="actions">
          <button
            type="button"
            disabled={!terms || reason !== null}
            aria-describedby={reason ? whyId : undefined}
            onClick={() => {
              setError(null);
              setKey(newIdempotencyKey());
              setAsking(true);
            }}
          >
            {t('refund.open')}
          </button>
        </p>
      )}
      {!asking && reason && (
        <p class="muted small" id={whyId} data-testid="refund-closed">
          {reason}
        </p>
      )}
      {asking && terms && (
        <section class="card refund-terms" aria-label={t('refund.open')} data-testid="refund-terms">
          <dl class="facts">
            <dt>{t('refund.amount')}</dt>
            <dd>{money(payment.amount)}</dd>
            <dt>{t('refund.fee', { percent: rules!.feePercent })}</dt>
            <dd data-testid="refund-fee">{money(terms.fee)}</dd>
            <dt>{t('refund.back')}</dt>
            <dd data-testid="refund-back">{money(terms.back)}</dd>
            <dt>{t('refund.cutoff')}</dt>
            <dd>{i18n.dateTime(new Date(terms.closesAt).toISOString())}</dd>
          </dl>
          <p class="muted small">{t('refund.help')}</p>
          <p class="actions">
            <button type="button" class="danger" disabled={busy || reason !== null} onClick={confirm}>
              {busy ? t('refund.returning') : t('refund.confirm', { amount: money(terms.back) })}
            </button>
            <button type="button" class="quiet" disabled={busy} onClick={() => setAsking(false)}>
              {t('refund.keep')}
            </button>
          </p>
        </section>
      )}
      <ErrorNotice error={error} />
    </div>
  );
}

/** After a return: what came back, the fee kept and the balance now. */
export function RefundDone({ refund }: { refund: Refund }) {
  const { t, money } = useI18n();
  return (
    <p class="notice notice-ok" role="status" data-testid="refund-done">
      {t('refund.done', {
        back: money(refund.refunded),
        fee: money(refund.fee),
        balance: money(refund.balance),
      })}
    </p>
  );
}

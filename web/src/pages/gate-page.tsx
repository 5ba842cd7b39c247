import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type CheckIn } from '../api';
import { errorMessage } from '../errors';
import { useI18n } from '../i18n/i18n';
import { gateKeyStore } from '../session';
import { useStore } from '../store';

/** How long an answer stays up before the screen is neutral again for the next ticket. */
const VERDICT_SHOWN_MS = 6000;

/** What the last scan said: admitted, or refused with the reason. */
type Verdict =
  | { ok: true; checkIn: CheckIn; at: number }
  | { ok: false; code: string; message: string; at: number };

/**
 * The gate: no camera. A steward pastes or types a ticket's code, or a keyboard-wedge scanner
 * types it and presses Enter (the same thing). The answer shows in large type, green or red,
 * and the field is empty and focused again for the next ticket at once.
 */
export function GatePage() {
  const { t } = useI18n();
  const gateKey = useStore(gateKeyStore);
  const [badKey, setBadKey] = useState(false);
  return (
    <>
      <div class="title-row">
        <h1 tabIndex={-1}>{t('gate.title')}</h1>
        {gateKey && (
          <button type="button" class="quiet" onClick={() => gateKeyStore.set(null)}>
            {t('gate.signOut')}
          </button>
        )}
      </div>
      {gateKey ? (
        <Scanner
          gateKey={gateKey}
          onBadKey={() => {
            setBadKey(true);
            gateKeyStore.set(null);
          }}
        />
      ) : (
        <GateKeyForm badKey={badKey} />
      )}
    </>
  );
}

function Scanner({ gateKey, onBadKey }: { gateKey: string; onBadKey(): void }) {
  const i18n = useI18n();
  const { t, dateTime } = i18n;
  const [code, setCode] = useState('');
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [count, setCount] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  // Scans are sent one after another: a fast scanner's second code waits for the first answer.
  const queue = useRef<Promise<void>>(Promise.resolve());

  useEffect(() => input.current?.focus(), []);
  // The answer clears by itself, so the next holder never sees the previous one's green.
  useEffect(() => {
    if (!verdict) return;
    const timer = setTimeout(() => setVerdict(null), VERDICT_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [verdict]);

  const check = async (scanned: string) => {
    try {
      const checkIn = await api.checkIn(gateKey, scanned);
      setVerdict({ ok: true, checkIn, at: Date.now() });
      setCount((n) => n + 1);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') {
        onBadKey();
        return;
      }
      const code = e instanceof ApiError ? e.code : 'UNKNOWN';
      let message = errorMessage(i18n, e);
      const first = e instanceof ApiError ? (e.problem as { checkedInAt?: unknown }).checkedInAt : undefined;
      if (code === 'TICKET_ALREADY_USED' && typeof first === 'string') {
        message = t('gate.usedAt', { time: dateTime(first) });
      }
      setVerdict({ ok: false, code, message, at: Date.now() });
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    // Scanners and copy-paste bring spaces and line breaks along; a code never contains any.
    const scanned = code.replace(/\s+/g, '');
    setCode('');
    input.current?.focus();
    if (!scanned) return;
    queue.current = queue.current.then(() => check(scanned));
  };

  return (
    <>
      <form class="card gate-form" onSubmit={submit}>
        <label for="gate-code">{t('gate.code')}</label>
        <p class="muted small" id="gate-help">
          {t('gate.help')}
        </p>
        <div class="gate-input">
          <input
            id="gate-code"
            ref={input}
            name="code"
            autoComplete="off"
            autoCapitalize="off"
            spellcheck={false}
            aria-describedby="gate-help"
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <button type="submit" class="primary">
            {t('gate.check')}
          </button>
        </div>
      </form>
      <div aria-live="assertive" aria-atomic="true" data-testid="gate-verdict">
        {verdict?.ok === true && (
          <div class="gate-verdict gate-ok" data-verdict="OK" key={verdict.at}>
            <p class="gate-big">{t('gate.ok', { seat: i18n.seat(verdict.checkIn) })}</p>
            <p>{i18n.showDate(verdict.checkIn.date)}</p>
          </div>
        )}
        {verdict === null && (
          <div class="gate-verdict gate-ready" data-verdict="READY">
            <p>{t('gate.ready')}</p>
          </div>
        )}
        {verdict?.ok === false && (
          <div class="gate-verdict gate-no" data-verdict={verdict.code} key={verdict.at}>
            <p class="gate-big">{t('gate.no')}</p>
            <p>{verdict.message}</p>
          </div>
        )}
      </div>
      <p class="muted small">{t('gate.admitted', { count })}</p>
    </>
  );
}

function GateKeyForm({ badKey }: { badKey: boolean }) {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  return (
    <form
      class="card inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (key.trim()) gateKeyStore.set(key.trim());
      }}
    >
      {badKey && (
        <p class="notice notice-error" role="alert" data-code="UNAUTHENTICATED">
          {t('gate.badKey')}
        </p>
      )}
      <p class="muted">{t('gate.keyHelp')}</p>
      <label>
        {t('gate.key')}
        <input
          name="gateKey"
          type="password"
          autoComplete="current-password"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary">
        {t('gate.signIn')}
      </button>
    </form>
  );
}

import { useState } from 'preact/hooks';
import { type Action, errorMessage } from '../errors';
import { useI18n } from '../i18n/i18n';

interface Props {
  error: unknown;
  actions?: Action[];
  onDismiss?: () => void;
  /** Replaces the sentence for the error's code, when a screen knows better. */
  message?: string;
}

/** An error in words with its ways forward; announced by screen readers as it appears. */
export function ErrorNotice({ error, actions = [], onDismiss, message }: Props) {
  const i18n = useI18n();
  const [busy, setBusy] = useState(false);
  if (!error) return null;

  const run = async (action: Action) => {
    setBusy(true);
    try {
      await action.run();
    } catch {
      // The action's own screen reports what went wrong next.
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="notice notice-error" role="alert" data-code={(error as { code?: string }).code ?? 'UNKNOWN'}>
      <p>{message ?? errorMessage(i18n, error)}</p>
      {(actions.length > 0 || onDismiss) && (
        <div class="actions">
          {actions.map((action) => (
            <button key={action.label} type="button" disabled={busy} onClick={() => run(action)}>
              {action.label}
            </button>
          ))}
          {onDismiss && (
            <button type="button" class="quiet" onClick={onDismiss}>
              {i18n.t('common.dismiss')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

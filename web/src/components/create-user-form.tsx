import { useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n } from '../i18n/i18n';
import { prepareProof, proofState, withProof } from '../proof-of-work';
import { userStore } from '../session';
import { useStore } from '../store';
import { ErrorNotice } from './error-notice';

/** "Create me": a buyer identity for this browser (POST /api/v1/users). */
export function CreateUserForm() {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const checking = useStore(proofState);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const trimmed = name.trim().slice(0, 100);
    try {
      const created = await withProof((proof) => api.createUser(trimmed || undefined, proof));
      userStore.set({ ...created, ...(trimmed ? { name: trimmed } : {}) });
      // The line the buyer is about to join may ask for one too: solve it while they look.
      prepareProof();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="create-user-title">
      <h2 id="create-user-title">{t('user.createTitle')}</h2>
      <p class="muted">{t('user.createHelp')}</p>
      <form class="inline-form" onSubmit={submit}>
        <label>
          {t('user.name')}
          <input
            name="name"
            autoComplete="nickname"
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? (checking ? t('pow.checking') : t('user.creating')) : t('user.create')}
        </button>
      </form>
      <ErrorNotice error={error} />
    </section>
  );
}

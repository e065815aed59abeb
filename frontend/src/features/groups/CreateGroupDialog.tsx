import { useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { Modal } from '../../app/Modal';
import type { Visibility } from '../../api/types';
import { messageOf } from '../../state/chat';
import styles from './Groups.module.scss';

export function CreateGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (id: number) => void }) {
  const chat = useChat();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [error, setError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (n === '' || n.length > 64) {
      setNameError(n === '' ? 'Give the group a name.' : 'Use at most 64 characters.');
      document.getElementById('group-name')?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const g = await chat.createGroup(n, description, visibility);
      onCreated(g.id);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="New group" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {error !== null && (
          <div class="form-error" role="alert">
            {error}
          </div>
        )}
        <div class="field">
          <label for="group-name">Name</label>
          <input
            id="group-name"
            value={name}
            maxLength={64}
            aria-invalid={nameError ? 'true' : 'false'}
            aria-describedby={nameError ? 'group-name-error' : undefined}
            onInput={(e) => {
              setName(e.currentTarget.value);
              setNameError(null);
            }}
          />
          {nameError && (
            <span id="group-name-error" class="field-error">
              {nameError}
            </span>
          )}
        </div>
        <div class="field">
          <label for="group-description">
            Description <span class="field-hint">(optional)</span>
          </label>
          <textarea
            id="group-description"
            rows={3}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </div>
        <fieldset class={styles.fieldset}>
          <legend>Who can find and join it?</legend>
          <label class={styles.radio}>
            <input
              type="radio"
              name="visibility"
              value="public"
              checked={visibility === 'public'}
              onChange={() => setVisibility('public')}
            />
            <span>
              <strong>Public</strong> — anyone can find and join
            </span>
          </label>
          <label class={styles.radio}>
            <input
              type="radio"
              name="visibility"
              value="private"
              checked={visibility === 'private'}
              onChange={() => setVisibility('private')}
            />
            <span>
              <strong>Private</strong> — only people you add
            </span>
          </label>
        </fieldset>
        <div class={styles.actions}>
          <button class="btn btn-secondary" type="button" onClick={onClose}>
            Cancel
          </button>
          <button class="btn" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

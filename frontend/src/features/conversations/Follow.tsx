import { useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import type { MyGroup } from '../../api/types';
import { messageOf } from '../../state/chat';
import styles from './Follow.module.scss';

/** Mute or unmute a conversation: muted ones raise no notification except for mentions. */
export function MuteButton({ group }: { group: MyGroup }) {
  const chat = useChat();
  const muted = group.muted;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await chat.setMuted(group.id, !muted);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        class={`btn btn-secondary btn-small ${styles.mute}`}
        aria-pressed={muted ? 'true' : 'false'}
        title={muted ? 'Muted: only mentions notify you' : 'Notifications on'}
        disabled={busy}
        onClick={() => void toggle()}
      >
        Mute
      </button>
      {error !== null && (
        <span class={`field-error ${styles.error}`} role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/**
 * The badges of a conversation row: unread messages (quieter when muted, and
 * said so to screen readers) and, apart, the mentions of the user.
 */
export function UnreadBadges({ group, active }: { group: MyGroup; active: boolean }) {
  const unread = active ? 0 : group.unread_count;
  const mentions = active ? 0 : group.mention_count;
  const muted = group.muted;
  return (
    <>
      {mentions > 0 && (
        <span class={`${styles.badge} ${styles.mention}`} data-testid="mention-badge">
          <span aria-hidden="true">@</span>
          {mentions > 99 ? '99+' : mentions}
          <span class="visually-hidden">{mentions === 1 ? ' mention' : ' mentions'}</span>
        </span>
      )}
      {unread > 0 && (
        <span class={`${styles.badge} ${muted ? styles.muted : ''}`} data-testid="unread-badge">
          {unread > 99 ? '99+' : unread}
          <span class="visually-hidden">{muted ? ' unread, muted' : ' unread'}</span>
        </span>
      )}
      {muted && unread === 0 && <span class="visually-hidden">, muted</span>}
      {muted && (
        <span class={styles.mutedMark} aria-hidden="true" title="Muted">
          muted
        </span>
      )}
    </>
  );
}

import { useState } from 'preact/hooks';
import { useChat, useServices } from '../../app/context';
import { messageOf } from '../../state/chat';
import styles from './FollowSettings.module.scss';

const PERMISSION_NOTE: Record<string, string> = {
  denied: 'Your browser blocks notifications from this site: allow them in its site settings, then turn this on.',
  default: 'Notifications stay off until you allow them in the browser’s prompt.',
  unsupported: 'This browser cannot show notifications.',
};

/** The profile's switches for being followed and following: browser notifications, read receipts. */
export function FollowSettings() {
  const chat = useChat();
  const { session } = useServices();
  const notifier = chat.notifier;
  const me = session.user.value ?? chat.me;
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const toggleNotifications = async (on: boolean) => {
    setNote(null);
    if (!on) {
      notifier.disable();
      return;
    }
    const p = await notifier.enable();
    if (p !== 'granted') setNote(PERMISSION_NOTE[p] ?? null);
  };

  const toggleReceipts = async (on: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const u = await chat.api.updateMe({ share_read_receipts: on });
      session.setUser(u);
      chat.applyMe(u);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <fieldset class={styles.settings}>
      <legend>Notifications and privacy</legend>
      <label class={styles.switch}>
        <input
          type="checkbox"
          role="switch"
          checked={notifier.enabled.value}
          disabled={notifier.permission.value === 'unsupported'}
          aria-describedby="follow-notify-hint"
          onChange={(e) => void toggleNotifications(e.currentTarget.checked)}
        />
        <span>Browser notifications</span>
      </label>
      <p class={styles.hint} id="follow-notify-hint">
        {note ??
          (notifier.permission.value === 'unsupported'
            ? PERMISSION_NOTE.unsupported
            : 'New messages while this tab is in the background or another conversation is open; mentions even in muted conversations.')}
      </p>
      <label class={styles.switch}>
        <input
          type="checkbox"
          role="switch"
          checked={(me.share_read_receipts ?? true)}
          disabled={busy}
          aria-describedby="follow-receipts-hint"
          onChange={(e) => void toggleReceipts(e.currentTarget.checked)}
        />
        <span>Share read receipts</span>
      </label>
      <p class={styles.hint} id="follow-receipts-hint">
        Others see how far you have read. Off: nobody sees it.
      </p>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { formatFull } from '../../app/format';
import { Modal } from '../../app/Modal';
import type { Edit, Message } from '../../api/types';
import { messageOf } from '../../state/chat';
import styles from './Find.module.scss';

/** The "edited" marker of a message: a button that opens its earlier versions. */
export function EditedMarker({ message }: { message: Message }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        class={styles.edited}
        aria-haspopup="dialog"
        aria-label="Edited, show earlier versions"
        onClick={() => setOpen(true)}
      >
        edited
      </button>
      {' · '}
      {open && <EditHistory message={message} onClose={() => setOpen(false)} />}
    </>
  );
}

/** The earlier versions of a message, oldest first, then the current one. */
export function EditHistory({ message: m, onClose }: { message: Message; onClose: () => void }) {
  const chat = useChat();
  const [edits, setEdits] = useState<Edit[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    chat.api.messageEdits(m.id).then(
      (r) => live && setEdits(r.items),
      (err: unknown) => live && setError(messageOf(err)),
    );
    return () => {
      live = false;
    };
  }, [chat, m.id]);

  return (
    <Modal title="Edit history" onClose={onClose}>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {edits === null && error === null && <p role="status">Loading…</p>}
      {edits !== null && (
        <ol class={styles.versions} aria-label="Versions, oldest first">
          {edits.map((e, i) => (
            <li key={i} class={styles.version}>
              <span class={styles.versionWhen}>
                {i === 0 ? 'Sent' : 'Edited'}{' '}
                <time dateTime={i === 0 ? m.created_at : (edits[i - 1]?.edited_at ?? '')}>
                  {formatFull(i === 0 ? m.created_at : (edits[i - 1]?.edited_at ?? ''))}
                </time>
              </span>
              <span class={styles.versionBody}>{e.body}</span>
            </li>
          ))}
          <li class={`${styles.version} ${styles.current}`}>
            <span class={styles.versionWhen}>
              Current, edited{' '}
              <time dateTime={m.edited_at ?? ''}>{formatFull(m.edited_at ?? '')}</time>
            </span>
            <span class={styles.versionBody}>{m.body}</span>
          </li>
        </ol>
      )}
    </Modal>
  );
}

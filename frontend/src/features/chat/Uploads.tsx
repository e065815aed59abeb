import { useChat } from '../../app/context';
import type { OutboxItem } from '../../api/socket';
import { humanSize } from '../../lib/format';
import type { Upload } from '../../state/uploads';
import styles from './Rich.module.scss';

/** One file being uploaded: name, size, a progress bar, and cancel (or remove, once done or failed). */
export function UploadRow({ u }: { u: Upload }) {
  const chat = useChat();
  const pct = u.size > 0 ? Math.min(100, Math.round((u.loaded / u.size) * 100)) : 100;
  return (
    <li class={`${styles.upload} ${u.status === 'failed' ? styles.uploadFailed : ''}`}>
      <span class={styles.uploadName}>{u.name}</span>
      <span class={styles.fileSize}>{humanSize(u.size)}</span>
      {u.status === 'uploading' && (
        <progress class={styles.progress} max={100} value={pct} aria-label={`Uploading ${u.name}`} aria-valuetext={`${pct}%`} />
      )}
      {u.status === 'done' && <span class={styles.fileSize}>Ready</span>}
      {u.status === 'failed' && (
        <span class="field-error" role="alert">
          {u.error}
        </span>
      )}
      <button type="button" class="btn btn-small btn-secondary" onClick={() => chat.uploads.cancel(u.id)}>
        {u.status === 'uploading' ? 'Cancel' : 'Remove'}
        <span class="visually-hidden"> {u.name}</span>
      </button>
    </li>
  );
}

/** The files in a conversation's composer, above the text field. */
export function UploadList({ groupId }: { groupId: number }) {
  const chat = useChat();
  const list = chat.uploads.draft(groupId).value;
  if (list.length === 0) return null;
  return (
    <ul class={styles.uploads} aria-label="Files to send">
      {list.map((u) => (
        <UploadRow key={u.id} u={u} />
      ))}
    </ul>
  );
}

/** The files of a message still in the outbox: those uploading (it waits for them) and those ready. */
export function PendingFiles({ item }: { item: OutboxItem }) {
  const chat = useChat();
  const waiting = (item.uploads ?? []).flatMap((id) => {
    const u = chat.uploads.get(id);
    return u ? [u] : [];
  });
  const ready = item.attachment_ids?.length ?? 0;
  if (waiting.length === 0 && ready === 0) return null;
  return (
    <>
      {waiting.length > 0 && (
        <ul class={styles.uploads} aria-label="Files uploading">
          {waiting.map((u) => (
            <UploadRow key={u.id} u={u} />
          ))}
        </ul>
      )}
      {ready > 0 && (
        <span class={styles.fileSize}>
          {ready} {ready === 1 ? 'file' : 'files'}
        </span>
      )}
    </>
  );
}

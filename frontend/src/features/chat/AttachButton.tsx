import { useRef, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { MAX_ATTACHMENTS } from '../../state/uploads';
import styles from './Rich.module.scss';

/** The files of a paste or a drop (none when it carries only text). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  return [...data.files];
}

/** Adds files to the composer of a conversation, and says when some were refused. */
export function useAddFiles(groupId: number): { add: (files: File[]) => void; notice: string | null } {
  const chat = useChat();
  const [notice, setNotice] = useState<string | null>(null);
  return {
    notice,
    add: (files) => {
      const refused = chat.uploads.add(groupId, files);
      setNotice(refused > 0 ? `At most ${MAX_ATTACHMENTS} files go with one message: ${refused} left out.` : null);
    },
  };
}

/** The paperclip: a hidden file input behind a labelled button. */
export function AttachButton({ groupId }: { groupId: number }) {
  const input = useRef<HTMLInputElement>(null);
  const { add, notice } = useAddFiles(groupId);
  return (
    <>
      <button type="button" class={`icon-btn ${styles.attach}`} aria-label="Attach files" onClick={() => input.current?.click()}>
        <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
          <path d="M21 11.5l-8.5 8.5a5 5 0 01-7-7L14 4.5a3.5 3.5 0 015 5L10.5 18a2 2 0 01-3-3L15 7.5" />
        </svg>
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Files to attach"
        onChange={(e) => {
          add([...(e.currentTarget.files ?? [])]);
          e.currentTarget.value = '';
        }}
      />
      {notice !== null && (
        <span class="field-error" role="alert">
          {notice}
        </span>
      )}
    </>
  );
}

import { CloseIcon } from '../../app/Icons';
import { userLabel } from '../../app/names';
import type { ReplyPreview } from '../../api/rich';
import { useConversationUi } from './conversationUi';
import styles from './Rich.module.scss';

/** The first lines of a quoted message, as plain text. */
export function quoteText(p: ReplyPreview): string {
  if (p.deleted) return 'This message was deleted';
  const lines = p.body.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, 2).join(' ');
}

/** The message a reply answers, above the reply: clicking it goes to the original. */
export function ReplyQuote({ preview, interactive = true }: { preview: ReplyPreview; interactive?: boolean }) {
  const ui = useConversationUi();
  const who = userLabel(preview.sender);
  // The name read out contains the visible text (and says what a click does).
  const content = (
    <>
      <span class={styles.replySender}>
        <span class="visually-hidden">In reply to </span>
        {who}
        <span class="visually-hidden">: </span>
      </span>
      <span class={`${styles.replyText} ${preview.deleted ? styles.replyDeleted : ''}`}>{quoteText(preview)}</span>
      {interactive && <span class="visually-hidden">. Go to the original message</span>}
    </>
  );
  if (!interactive) return <div class={styles.replyQuote}>{content}</div>;
  return (
    <button type="button" class={styles.replyQuote} onClick={() => ui.jumpTo({ id: preview.id, seq: preview.seq })}>
      {content}
    </button>
  );
}

/** Above the composer while answering a message: what is answered, and how to stop. */
export function ReplyBar({ preview, onCancel }: { preview: ReplyPreview; onCancel: () => void }) {
  const who = userLabel(preview.sender);
  return (
    <div class={styles.replyBar} role="status" aria-label={`Replying to ${who}`}>
      <div class={styles.replyBarText}>
        <span class={styles.replySender}>Replying to {who}</span>
        <span class={styles.replyText}>{quoteText(preview)}</span>
      </div>
      <button type="button" class="icon-btn" aria-label="Cancel reply" onClick={onCancel}>
        <CloseIcon size={16} />
      </button>
    </div>
  );
}

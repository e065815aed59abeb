import { useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { formatFull, formatTime } from '../../app/format';
import { UserName, userLabel } from '../../app/names';
import type { OutboxItem } from '../../api/socket';
import type { Message } from '../../api/types';
import { messageOf } from '../../state/chat';
import { checkBody } from '../../state/text';
import styles from './Chat.module.scss';
import { attachmentsOf, previewOf, replyOf } from '../../api/rich';
import { Attachments } from './Attachments';
import { useConversationUi } from './conversationUi';
import { MessageBody } from './MessageBody';
import { Reactions } from './Reactions';
import { ReplyQuote } from './ReplyQuote';
import { PendingFiles } from './Uploads';
import rich from './Rich.module.scss';
import { EditedMarker } from './EditHistory';
import findStyles from './Find.module.scss';

interface Props {
  message: Message;
  mine: boolean;
  showSender: boolean;
  canDelete: boolean;
  /** The message opened from a search result: set apart. */
  found?: boolean;
}

/** One message. The body is built as DOM nodes (MessageBody): markup in it shows as typed, never runs. */
export function MessageItem({ message: m, mine, showSender, canDelete, found = false }: Props) {
  const chat = useChat();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.body);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const ui = useConversationUi();
  const reply = replyOf(m);

  const save = async () => {
    const { body, empty, tooLong } = checkBody(draft);
    if (empty || tooLong) return;
    if (body === m.body) {
      setEditing(false);
      return;
    }
    try {
      await chat.edit(m.id, body);
      setEditing(false);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const del = async () => {
    try {
      await chat.remove(m.id);
      setConfirming(false);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <div
      class={`${styles.row} ${mine ? styles.mine : styles.theirs} ${showSender ? styles.runStart : ''} ${ui.highlighted.value === m.id ? rich.highlight : ''} ${found ? findStyles.found : ''}`}
      data-seq={m.seq}
      data-found={found ? 'true' : undefined}
      data-message-id={m.id}
    >
      {showSender && !mine && (
        <div class={styles.sender}>
          <UserName user={m.sender} />
        </div>
      )}
      <div class={`${styles.bubble} ${m.deleted ? styles.deleted : ''}`}>
        <span class="visually-hidden">{mine ? 'You' : userLabel(m.sender)}: </span>
        {reply && !m.deleted && <ReplyQuote preview={reply} />}
        {m.deleted ? (
          <span class={styles.body}>This message was deleted</span>
        ) : editing ? (
          <div class={styles.edit}>
            <label for={`edit-${m.id}`} class="visually-hidden">
              Edit message
            </label>
            <textarea
              id={`edit-${m.id}`}
              value={draft}
              rows={Math.min(6, draft.split('\n').length + 1)}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  void save();
                } else if (e.key === 'Escape') {
                  setEditing(false);
                  setDraft(m.body);
                }
              }}
              ref={(el) => el?.focus()}
            />
            <div class={styles.editActions}>
              <button type="button" class="btn btn-small btn-secondary" onClick={() => setEditing(false)}>
                Cancel
              </button>
              <button type="button" class="btn btn-small" onClick={() => void save()}>
                Save
              </button>
            </div>
          </div>
        ) : (
          <>
            {m.body !== '' && (
              <MessageBody
                body={m.body}
                class={`${styles.body} ${rich.body}`}
                mention={m.mentions.includes(chat.me.id) ? chat.me.username : null}
              />
            )}
            <Attachments items={attachmentsOf(m)} />
          </>
        )}
        <span class={styles.meta}>
          {m.edited_at && !m.deleted && <EditedMarker message={m} />}
          <time dateTime={m.created_at} title={formatFull(m.created_at)}>
            {formatTime(m.created_at)}
          </time>
        </span>
      </div>
      {error !== null && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
      {!m.deleted && <Reactions message={m} picking={picking} onPicked={() => setPicking(false)} />}
      {!m.deleted && !editing && (
        <div class={styles.actions}>
          {confirming ? (
            <>
              <span class={styles.confirmText}>Delete this message?</span>
              <button type="button" class="btn btn-small btn-secondary" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button type="button" class="btn btn-small btn-danger" onClick={() => void del()}>
                Delete
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                class={styles.action}
                onClick={() => {
                  ui.replyTo.value = previewOf(m);
                  document.getElementById('composer-input')?.focus();
                }}
              >
                Reply<span class="visually-hidden"> to this message</span>
              </button>
              <button
                type="button"
                class={styles.action}
                aria-haspopup="dialog"
                aria-expanded={picking}
                // While the picker is open, a click here closes it: focus must not leave it first (that closes it too).
                onMouseDown={(e) => {
                  if (picking) e.preventDefault();
                }}
                onClick={() => setPicking(!picking)}
              >
                React<span class="visually-hidden"> to this message</span>
              </button>
              {mine && (
                <button
                  type="button"
                  class={styles.action}
                  onClick={() => {
                    setDraft(m.body);
                    setEditing(true);
                  }}
                >
                  Edit<span class="visually-hidden"> message</span>
                </button>
              )}
              {canDelete && (
                <button type="button" class={styles.action} onClick={() => setConfirming(true)}>
                  Delete<span class="visually-hidden"> message</span>
                </button>
              )}
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** A message still in the outbox: sending, waiting for the connection, or refused. */
export function PendingItem({ item, online }: { item: OutboxItem; online: boolean }) {
  const chat = useChat();
  const failed = item.error !== undefined;
  return (
    <div class={`${styles.row} ${styles.mine} ${styles.pending}`} data-pending={item.client_id}>
      <div class={styles.bubble}>
        <span class="visually-hidden">You: </span>
        {item.reply_to && <ReplyQuote preview={item.reply_to} interactive={false} />}
        {item.body !== '' && <span class={styles.body}>{item.body}</span>}
        <PendingFiles item={item} />
        <span class={styles.meta}>
          {failed ? 'Not sent' : online ? 'Sending…' : 'Waiting for connection…'}
        </span>
      </div>
      {failed && (
        <div class={styles.actions} style={{ opacity: 1 }}>
          <span class="field-error">{item.error}</span>
          <button type="button" class={styles.action} onClick={() => chat.retry(item.client_id)}>
            Retry
          </button>
          <button type="button" class={styles.action} onClick={() => chat.discard(item.client_id)}>
            Discard
          </button>
        </div>
      )}
    </div>
  );
}

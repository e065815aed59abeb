import { useEffect, useRef, useState } from 'preact/hooks';
import { SendIcon } from '../../app/Icons';
import { useChat } from '../../app/context';
import { draftKey } from '../../state/keys';
import { checkBody, MAX_BODY } from '../../state/text';
import styles from './Chat.module.scss';
import { AttachButton, filesOf } from './AttachButton';
import { useConversationUi } from './conversationUi';
import { ReplyBar } from './ReplyQuote';
import { UploadList } from './Uploads';
import { useMentionPicker } from './MentionPicker';

/** Enter sends, Shift+Enter adds a line; drafts survive switching conversations. */
export function Composer({ groupId }: { groupId: number }) {
  const chat = useChat();
  const key = draftKey(chat.me.id, groupId);
  const [text, setText] = useState(() => sessionStorage.getItem(key) ?? '');
  const area = useRef<HTMLTextAreaElement>(null);
  const { empty, length, tooLong } = checkBody(text);
  const ui = useConversationUi();
  const replyTo = ui.replyTo.value;
  const files = chat.uploads.draft(groupId).value.filter((u) => u.status !== 'failed').length;
  const mention = useMentionPicker({ groupId, text, setText, area });

  useEffect(() => {
    if (window.matchMedia?.('(pointer: fine)').matches) area.current?.focus();
  }, [groupId]);

  useEffect(() => {
    if (text === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, text);
    const el = area.current;
    if (el) {
      el.style.height = 'auto';
      el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
    }
  }, [text, key]);

  const send = () => {
    if ((empty && files === 0) || tooLong) return;
    if (chat.send(groupId, text, { replyTo, withFiles: true })) {
      setText('');
      ui.replyTo.value = null;
    }
  };

  return (
    <>
      {replyTo && <ReplyBar preview={replyTo} onCancel={() => (ui.replyTo.value = null)} />}
      <UploadList groupId={groupId} />
      <form
        class={styles.composer}
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <AttachButton groupId={groupId} />
        <label for="composer-input" class="visually-hidden">
          Message
        </label>
        <textarea
          ref={area}
          id="composer-input"
          class={styles.input}
          rows={1}
          placeholder="Write a message…"
          value={text}
          aria-describedby={tooLong ? 'composer-error' : undefined}
          aria-invalid={tooLong ? 'true' : 'false'}
          {...mention.inputProps}
          onInput={(e) => {
            setText(e.currentTarget.value);
            mention.track(e.currentTarget);
            if (e.currentTarget.value.trim() !== '') chat.notifyTyping(groupId);
          }}
          onKeyUp={(e) => mention.track(e.currentTarget)}
          onClick={(e) => mention.track(e.currentTarget)}
          onKeyDown={(e) => {
            if (mention.onKeyDown(e)) return;
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            } else if (e.key === 'Escape' && ui.replyTo.value !== null) {
              e.preventDefault();
              ui.replyTo.value = null;
            }
          }}
          onPaste={(e) => {
            const pasted = filesOf(e.clipboardData);
            if (pasted.length === 0) return;
            e.preventDefault();
            chat.uploads.add(groupId, pasted);
          }}
        />
        {mention.listbox}
        {length > MAX_BODY - 400 && (
          <span id="composer-error" class={tooLong ? styles.countOver : styles.count} aria-live="polite">
            {length}/{MAX_BODY}
          </span>
        )}
        <button class={`btn ${styles.send}`} type="submit" disabled={(empty && files === 0) || tooLong} aria-label="Send">
          <SendIcon />
        </button>
      </form>
    </>
  );
}

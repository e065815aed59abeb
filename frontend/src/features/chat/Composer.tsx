import { useEffect, useRef, useState } from 'preact/hooks';
import { SendIcon } from '../../app/Icons';
import { useChat } from '../../app/context';
import { draftKey } from '../../state/keys';
import { checkBody, MAX_BODY } from '../../state/text';
import styles from './Chat.module.scss';
import { useMentionPicker } from './MentionPicker';

/** Enter sends, Shift+Enter adds a line; drafts survive switching conversations. */
export function Composer({ groupId }: { groupId: number }) {
  const chat = useChat();
  const key = draftKey(chat.me.id, groupId);
  const [text, setText] = useState(() => sessionStorage.getItem(key) ?? '');
  const area = useRef<HTMLTextAreaElement>(null);
  const { empty, length, tooLong } = checkBody(text);
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
    if (empty || tooLong) return;
    if (chat.send(groupId, text)) setText('');
  };

  return (
    <form
      class={styles.composer}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
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
          }
        }}
      />
      {mention.listbox}
      {length > MAX_BODY - 400 && (
        <span id="composer-error" class={tooLong ? styles.countOver : styles.count} aria-live="polite">
          {length}/{MAX_BODY}
        </span>
      )}
      <button class={`btn ${styles.send}`} type="submit" disabled={empty || tooLong} aria-label="Send">
        <SendIcon />
      </button>
    </form>
  );
}

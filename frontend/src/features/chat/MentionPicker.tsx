import type { RefObject } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { displayName } from '../../app/names';
import type { Member, Message } from '../../api/types';
import { insertMention, matchMembers, mentionParts, mentionQuery } from '../../state/mentions';
import styles from './Find.module.scss';

/** A body as text, with the @username of the user set apart when the server says the message mentions them. */
export function MentionText({ message: m }: { message: Message }) {
  const chat = useChat();
  if (!m.mentions.includes(chat.me.id)) return <>{m.body}</>;
  return (
    <>
      {mentionParts(m.body, chat.me.username).map((p, i) =>
        p.mention ? (
          <mark key={i} class={styles.mention} data-mention="me">
            {p.text}
          </mark>
        ) : (
          p.text
        ),
      )}
    </>
  );
}

interface PickerOptions {
  groupId: number;
  text: string;
  setText: (t: string) => void;
  area: RefObject<HTMLTextAreaElement>;
}

/**
 * Completion of member names after "@" in the composer: a listbox under the
 * caret's word, ArrowUp/ArrowDown to choose, Enter or Tab to take, Escape to
 * close. The textarea keeps the focus (aria-activedescendant).
 */
export function useMentionPicker({ groupId, text, setText, area }: PickerOptions) {
  const chat = useChat();
  const id = useId();
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const nextCaret = useRef<number | null>(null);
  const members = chat.members.of(groupId);

  const found = caret === null ? null : mentionQuery(text, caret);
  const open = found !== null && found.start !== dismissedAt;
  const options: Member[] = open && members ? matchMembers(members, found.query, chat.me.id) : [];
  const shown = open && options.length > 0;

  useEffect(() => {
    if (open && members === undefined) chat.members.load(groupId).catch(() => undefined);
  }, [open, members, chat, groupId]);

  useEffect(() => {
    setActive(0);
  }, [found?.start, found?.query]);

  useEffect(() => {
    const el = area.current;
    if (el && nextCaret.current !== null) {
      el.setSelectionRange(nextCaret.current, nextCaret.current);
      nextCaret.current = null;
    }
  }, [text, area]);

  const pick = (m: Member) => {
    if (!found || caret === null) return;
    const next = insertMention(text, found.start, caret, m.username);
    nextCaret.current = next.caret;
    setCaret(next.caret);
    setText(next.text);
  };

  const track = (el: HTMLTextAreaElement) => {
    setCaret(el.selectionStart === el.selectionEnd ? el.selectionStart : null);
    if (dismissedAt !== null && mentionQuery(el.value, el.selectionStart)?.start !== dismissedAt) setDismissedAt(null);
  };

  /** Handles the picker's keys; true when the key was the picker's (the composer must not act on it). */
  const onKeyDown = (e: KeyboardEvent): boolean => {
    if (!shown || e.isComposing) return false;
    const chosen = options[Math.min(active, options.length - 1)];
    switch (e.key) {
      case 'ArrowDown':
        setActive((a) => (a + 1) % options.length);
        break;
      case 'ArrowUp':
        setActive((a) => (a - 1 + options.length) % options.length);
        break;
      case 'Enter':
      case 'Tab':
        if (e.shiftKey || !chosen) return false;
        pick(chosen);
        break;
      case 'Escape':
        setDismissedAt(found.start);
        break;
      default:
        return false;
    }
    e.preventDefault();
    return true;
  };

  const optionId = (i: number) => `${id}-opt-${i}`;
  const inputProps = {
    'aria-autocomplete': 'list' as const,
    'aria-controls': shown ? `${id}-list` : undefined,
    'aria-activedescendant': shown ? optionId(Math.min(active, options.length - 1)) : undefined,
  };

  const listbox = shown ? (
    <ul id={`${id}-list`} role="listbox" aria-label="Mention suggestions" class={styles.picker}>
      {options.map((m, i) => (
        <li
          key={m.id}
          id={optionId(i)}
          role="option"
          aria-selected={i === active ? 'true' : 'false'}
          class={`${styles.option} ${i === active ? styles.optionActive : ''}`}
          // Keeps the focus in the textarea.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => pick(m)}
        >
          <span class={styles.optionName}>{displayName(m)}</span> <span class={styles.optionHandle}>@{m.username}</span>
        </li>
      ))}
    </ul>
  ) : null;

  return { onKeyDown, track, inputProps, listbox };
}

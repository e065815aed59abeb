import { useChat } from '../../app/context';
import { userLabel } from '../../app/names';
import styles from './Chat.module.scss';

export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

export function TypingIndicator({ groupId }: { groupId: number }) {
  const chat = useChat();
  // Each typist by display name and, where it differs, @username: a display name alone could be anyone's.
  const names = chat.presence.typingIn(groupId).flatMap((id) => {
    const u = chat.users.get(id);
    return u ? [userLabel(u)] : [];
  });
  const text = typingText(names);
  return (
    <div class={styles.typing} aria-live="polite">
      {text !== '' && (
        <>
          <span class={styles.dots} aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {text}
        </>
      )}
    </div>
  );
}

import { useChat } from '../../app/context';
import styles from './Chat.module.scss';

export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

export function TypingIndicator({ groupId }: { groupId: number }) {
  const chat = useChat();
  // Reading the signals here subscribes this component to them.
  void chat.typing.value;
  void chat.users.value;
  const text = typingText(chat.typingNames(groupId));
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

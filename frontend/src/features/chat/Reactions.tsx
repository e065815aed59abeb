import { useId, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { userLabel } from '../../app/names';
import { reactionsOf, type Reaction } from '../../api/rich';
import type { Message } from '../../api/types';
import { messageOf } from '../../state/chat';
import { reactedByMe } from '../../state/reactions';
import type { UsersStore } from '../../state/users';
import { EmojiPicker } from './EmojiPicker';
import styles from './Rich.module.scss';

/** "You, Alice and 3 others": who reacted, as far as the API listed them and the client knows their names. */
export function reactorsText(r: Reaction, meId: number, users: Pick<UsersStore, 'get'>): string {
  // Events list reactors in the order they reacted; the caller goes first, as REST answers list it.
  const ids = r.user_ids.includes(meId) ? [meId, ...r.user_ids.filter((id) => id !== meId)] : r.user_ids;
  const names = ids.map((id) => {
    if (id === meId) return 'You';
    const u = users.get(id);
    return u ? userLabel(u) : 'Someone';
  });
  const others = r.count - names.length;
  if (others > 0) names.push(`${others} ${others === 1 ? 'other' : 'others'}`);
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

function Chip({ r, onToggle }: { r: Reaction; onToggle: (mine: boolean) => void }) {
  const chat = useChat();
  const tip = useId();
  const mine = reactedByMe(r, chat.me.id);
  const who = reactorsText(r, chat.me.id, chat.users);
  return (
    <span class={styles.chipWrap}>
      <button
        type="button"
        class={`${styles.chip} ${mine ? styles.chipMine : ''}`}
        aria-pressed={mine}
        aria-label={`${r.emoji} ${r.count}`}
        aria-describedby={tip}
        onClick={() => onToggle(mine)}
      >
        <span aria-hidden="true">{r.emoji}</span>
        <span class={styles.chipCount} aria-hidden="true">
          {r.count}
        </span>
      </button>
      <span id={tip} role="tooltip" class={styles.tooltip}>
        {who} reacted with {r.emoji}
      </span>
    </span>
  );
}

/**
 * The reactions under a message (emoji, count, pressed when one is mine;
 * a click toggles mine) and, while `picking`, the picker to add one.
 */
export function Reactions({ message, picking, onPicked }: { message: Message; picking: boolean; onPicked: () => void }) {
  const chat = useChat();
  const [error, setError] = useState<string | null>(null);
  const list = reactionsOf(message);
  const toggle = (emoji: string, mine: boolean) => {
    setError(null);
    chat.react(message, emoji, !mine).catch((err: unknown) => setError(messageOf(err)));
  };
  if (list.length === 0 && !picking && error === null) return null;
  return (
    <div class={styles.reactions}>
      {list.length > 0 && (
        <div class={styles.reactionBar} role="group" aria-label="Reactions">
          {list.map((r) => (
            <Chip key={r.emoji} r={r} onToggle={(mine) => toggle(r.emoji, mine)} />
          ))}
        </div>
      )}
      {picking && (
        <EmojiPicker
          onClose={onPicked}
          onPick={(emoji) => {
            onPicked();
            const r = list.find((x) => x.emoji === emoji);
            if (!r || !reactedByMe(r, chat.me.id)) toggle(emoji, false);
          }}
        />
      )}
      {error !== null && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

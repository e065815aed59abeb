import { Avatar } from '../../app/Avatar';
import { useChat } from '../../app/context';
import { displayName, userLabel } from '../../app/names';
import type { MyGroup } from '../../api/types';
import styles from './Find.module.scss';

/** Avatars shown at one point of a group's history; more readers show as "+N". */
export const MAX_RECEIPT_AVATARS = 3;

/** Who has read up to this message: "Seen" in a direct conversation, small avatars in a group. */
export function ReadMarks({ group, readers }: { group: MyGroup; readers: readonly number[] | undefined }) {
  const chat = useChat();
  if (!readers || readers.length === 0) return null;
  if (group.kind === 'direct') {
    return (
      <div class={styles.receipts} data-receipt="seen">
        Seen
      </div>
    );
  }
  const users = readers.map((id) => chat.users.get(id) ?? { id, username: `user${id}`, display_name: '' });
  const names = users.map(userLabel);
  const shown = users.slice(0, MAX_RECEIPT_AVATARS);
  const more = users.length - shown.length;
  return (
    <div class={styles.receipts} data-receipt="read">
      <span class="visually-hidden">Read by {listOf(names)}</span>
      {shown.map((u) => (
        <span key={u.id} class={styles.reader} title={userLabel(u)}>
          <Avatar name={displayName(u)} seed={u.username} size="sm" />
        </span>
      ))}
      {more > 0 && (
        <span class={styles.more} aria-hidden="true">
          +{more}
        </span>
      )}
    </div>
  );
}

function listOf(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

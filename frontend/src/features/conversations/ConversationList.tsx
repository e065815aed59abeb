import { GroupAvatar } from '../../app/Avatar';
import { LockIcon } from '../../app/Icons';
import { useChat, useServices } from '../../app/context';
import { formatListTime } from '../../app/format';
import { GroupTitle, userLabel } from '../../app/names';
import { summaryOf } from '../../api/rich';
import type { MyGroup } from '../../api/types';
import styles from './ConversationList.module.scss';
import { UnreadBadges } from './Follow';

function preview(g: MyGroup, meId: number): string {
  const m = g.last_message;
  if (!m) return g.kind === 'direct' ? 'No messages yet' : g.description || 'No messages yet';
  const who = m.sender.id === meId ? 'You: ' : g.kind === 'group' ? `${userLabel(m.sender)}: ` : '';
  return who + (m.deleted ? 'Message deleted' : summaryOf(m));
}

/**
 * The sidebar list of the user's conversations, most recent first. The list
 * re-renders when the order changes; a row when its own conversation does.
 */
export function ConversationList({ activeId }: { activeId: number | null }) {
  const chat = useChat();
  const order = chat.conversations.order.value;

  if (!chat.conversations.loaded.value) {
    return (
      <p class={styles.note} role="status">
        Loading conversations…
      </p>
    );
  }
  const error = chat.conversations.error.value;
  if (error !== null && order.length === 0) {
    return (
      <div class={styles.note} role="alert">
        Could not load your conversations. {error}{' '}
        <button class="btn btn-small btn-secondary" type="button" onClick={() => void chat.loadGroups()}>
          Retry
        </button>
      </div>
    );
  }
  if (order.length === 0) {
    return <p class={styles.note}>No conversations yet. Search for someone to message, or create a group.</p>;
  }
  return (
    <ul class={styles.list} aria-label="Your conversations">
      {order.map((id) => (
        <Row key={id} id={id} active={id === activeId} />
      ))}
    </ul>
  );
}

function Row({ id, active }: { id: number; active: boolean }) {
  const chat = useChat();
  const { router } = useServices();
  const g = chat.conversations.get(id);
  if (!g) return null;
  const unread = active ? 0 : g.unread_count;
  const online = g.kind === 'direct' && g.peer ? (chat.presence.isOnline(g.peer.id) ?? g.peer.online ?? false) : undefined;
  return (
    <li>
      <a
        href={`/g/${g.id}`}
        class={`${styles.item} ${active ? styles.active : ''} ${unread > 0 && !g.muted ? styles.hasUnread : ''}`}
        aria-current={active ? 'page' : undefined}
        data-group-id={g.id}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          router.navigate(`/g/${g.id}`);
        }}
      >
        <GroupAvatar group={g} online={online} />
        <span class={styles.text}>
          <span class={styles.row}>
            <span class={styles.name}>
              <GroupTitle group={g} />
              {g.kind === 'group' && g.visibility === 'private' && (
                <span class={styles.lock} title="Private group">
                  <LockIcon />
                  <span class="visually-hidden"> (private)</span>
                </span>
              )}
            </span>
            {online !== undefined && <span class="visually-hidden">{online ? ', online' : ', offline'}</span>}
            {g.last_message && <span class={styles.time}>{formatListTime(g.last_message.created_at)}</span>}
          </span>
          <span class={styles.row}>
            <span class={styles.preview}>{preview(g, chat.me.id)}</span>
            <UnreadBadges group={g} active={active} />
          </span>
        </span>
      </a>
    </li>
  );
}

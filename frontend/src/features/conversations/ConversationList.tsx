import { Avatar } from '../../app/Avatar';
import { LockIcon } from '../../app/Icons';
import { useChat, useServices } from '../../app/context';
import { formatListTime, groupTitle } from '../../app/format';
import { displayName, type MyGroup } from '../../api/types';
import styles from './ConversationList.module.scss';

function preview(g: MyGroup, meId: number): string {
  const m = g.last_message;
  if (!m) return g.kind === 'direct' ? 'No messages yet' : g.description || 'No messages yet';
  const who = m.sender.id === meId ? 'You: ' : g.kind === 'group' ? `${displayName(m.sender)}: ` : '';
  return who + (m.deleted ? 'Message deleted' : m.body.replace(/\s+/g, ' '));
}

/** The sidebar list of the user's conversations, most recent first. */
export function ConversationList({ activeId }: { activeId: number | null }) {
  const chat = useChat();
  const { router } = useServices();
  const groups = chat.sortedGroups.value;
  const presence = chat.presence.value;

  if (!chat.groupsLoaded.value) {
    return (
      <p class={styles.note} role="status">
        Loading conversations…
      </p>
    );
  }
  if (chat.groupsError.value !== null && groups.length === 0) {
    return (
      <div class={styles.note} role="alert">
        Could not load your conversations. {chat.groupsError.value}{' '}
        <button class="btn btn-small btn-secondary" type="button" onClick={() => void chat.loadGroups()}>
          Retry
        </button>
      </div>
    );
  }
  if (groups.length === 0) {
    return <p class={styles.note}>No conversations yet. Search for someone to message, or create a group.</p>;
  }
  return (
    <ul class={styles.list} aria-label="Your conversations">
      {groups.map((g) => {
        const title = groupTitle(g);
        const unread = g.id === activeId ? 0 : g.unread_count;
        const online = g.kind === 'direct' && g.peer ? (presence[g.peer.id] ?? g.peer.online ?? false) : undefined;
        return (
          <li key={g.id}>
            <a
              href={`/g/${g.id}`}
              class={`${styles.item} ${g.id === activeId ? styles.active : ''} ${unread > 0 ? styles.hasUnread : ''}`}
              aria-current={g.id === activeId ? 'page' : undefined}
              data-group-id={g.id}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                router.navigate(`/g/${g.id}`);
              }}
            >
              <Avatar name={title} seed={g.kind === 'direct' && g.peer ? g.peer.username : `g${g.id}`} online={online} />
              <span class={styles.text}>
                <span class={styles.row}>
                  <span class={styles.name}>
                    {title}
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
                  {unread > 0 && (
                    <span class={styles.badge} data-testid="unread-badge">
                      {unread > 99 ? '99+' : unread}
                      <span class="visually-hidden"> unread</span>
                    </span>
                  )}
                </span>
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}

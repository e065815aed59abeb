import { useEffect, useMemo, useState } from 'preact/hooks';
import { BackIcon } from '../../app/Icons';
import { GroupAvatar } from '../../app/Avatar';
import { useChat, useServices } from '../../app/context';
import { GroupTitle } from '../../app/names';
import type { Group } from '../../api/types';
import { messageOf } from '../../state/chat';
import { seqParam } from '../../state/router';
import { MuteButton } from '../conversations/Follow';
import { GroupDetails } from '../groups/GroupDetails';
import { filesOf } from './AttachButton';
import { Composer } from './Composer';
import { ConversationUiContext, newConversationUi } from './conversationUi';
import { jumpTo } from './jump';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';
import styles from './ChatView.module.scss';
import rich from './Rich.module.scss';

/** One conversation: header, history, typing line and composer. */
export function ChatView({ groupId }: { groupId: number }) {
  const chat = useChat();
  const { router } = useServices();
  const group = chat.conversations.get(groupId);
  const [details, setDetails] = useState(false);
  const [dragging, setDragging] = useState(false);
  const loaded = chat.conversations.loaded.value;
  // One per open conversation: a reply started here does not follow to another one.
  const ui = useMemo(() => newConversationUi(), [groupId]);
  ui.jumpTo = (target) => void jumpTo(chat.history, groupId, target, ui);

  const present = group !== undefined;

  const peerId = group?.kind === 'direct' ? group.peer?.id : undefined;

  // A search result opens the conversation at its message.
  const focusSeq = seqParam(router.search.value);

  useEffect(() => {
    if (present) void (focusSeq !== null ? chat.history.openAt(groupId, focusSeq) : chat.history.open(groupId));
  }, [chat, groupId, present, focusSeq]);

  useEffect(() => {
    if (peerId !== undefined) void chat.refreshPresence(peerId);
  }, [chat, peerId]);

  if (!group) {
    return loaded ? <NotMember groupId={groupId} /> : <p class={styles.center}>Loading…</p>;
  }

  const online = group.kind === 'direct' && group.peer ? (chat.presence.isOnline(group.peer.id) ?? group.peer.online ?? false) : undefined;
  const subtitle =
    group.kind === 'direct'
      ? online
        ? 'online'
        : 'offline'
      : `${group.member_count} ${group.member_count === 1 ? 'member' : 'members'}`;

  return (
    <ConversationUiContext.Provider value={ui}>
      <section
        class={`${styles.view} ${dragging ? rich.dropping : ''}`}
        aria-labelledby="chat-title"
        onDragOver={(e) => {
          if (!e.dataTransfer?.types.includes('Files')) return;
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDragging(false);
        }}
        onDrop={(e) => {
          const files = filesOf(e.dataTransfer);
          setDragging(false);
          if (files.length === 0) return;
          e.preventDefault();
          chat.uploads.add(groupId, files);
        }}
      >
        <header class={styles.header}>
          <button
            type="button"
            class={`icon-btn ${styles.back}`}
            aria-label="Back to conversations"
            onClick={() => router.navigate('/')}
          >
            <BackIcon />
          </button>
          <GroupAvatar group={group} online={online} />
          <div class={styles.titles}>
            <h1 id="chat-title" class={styles.title}>
              <GroupTitle group={group} />
            </h1>
            <p class={styles.subtitle}>{subtitle}</p>
          </div>
          <MuteButton group={group} />
          <button type="button" class="btn btn-secondary btn-small" onClick={() => setDetails(true)} aria-haspopup="dialog">
            Details
          </button>
        </header>
        <MessageList group={group} focusSeq={focusSeq} />
        <TypingIndicator groupId={groupId} />
        <Composer groupId={groupId} />
        {details && <GroupDetails group={group} onClose={() => setDetails(false)} />}
      </section>
    </ConversationUiContext.Provider>
  );
}

/** A deep link to a group the user is not in: offer to join a public one. */
function NotMember({ groupId }: { groupId: number }) {
  const chat = useChat();
  const { session, router } = useServices();
  const [grp, setGrp] = useState<Group | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setError(null);
    session.api.group(groupId).then(setGrp, (err: unknown) => setError(messageOf(err)));
  }, [groupId, session]);

  return (
    <div class={styles.center}>
      <button type="button" class={`icon-btn ${styles.back}`} aria-label="Back to conversations" onClick={() => router.navigate('/')}>
        <BackIcon />
      </button>
      {error !== null && (
        <>
          <h1 class={styles.title}>Conversation not found</h1>
          <p>It does not exist, or you are not a member.</p>
        </>
      )}
      {grp && (
        <>
          <h1 class={styles.title}>{grp.name ?? 'Group'}</h1>
          {grp.description && <p>{grp.description}</p>}
          <p>
            {grp.member_count} {grp.member_count === 1 ? 'member' : 'members'}
          </p>
          <button
            type="button"
            class="btn"
            onClick={() => chat.join(groupId).catch((err: unknown) => setError(messageOf(err)))}
          >
            Join group
          </button>
        </>
      )}
      {!grp && error === null && <p>Loading…</p>}
    </div>
  );
}

import { useEffect, useState } from 'preact/hooks';
import { ChatIcon, LogoIcon, PlusIcon } from './Icons';
import { ChatView } from '../features/chat/ChatView';
import { ConversationList } from '../features/conversations/ConversationList';
import { CreateGroupDialog } from '../features/groups/CreateGroupDialog';
import { FollowSettings } from '../features/profile/FollowSettings';
import { ProfileDialog } from '../features/profile/ProfileDialog';
import { MessageSearch } from '../features/search/MessageSearch';
import { SearchPanel } from '../features/search/SearchPanel';
import { useChat, useServices } from './context';
import { ConnectionBanner } from './ConnectionBanner';
import { displayName, groupTitle } from './names';
import styles from './Shell.module.scss';

export function Shell() {
  const { session, router } = useServices();
  const chat = useChat();
  const route = router.route;
  const me = session.user.value;
  const [query, setQuery] = useState('');
  const [creating, setCreating] = useState(false);
  const [profile, setProfile] = useState(false);
  const [searching, setSearching] = useState(false);
  const activeId = route.name === 'group' ? route.id : null;
  const active = activeId !== null ? chat.conversations.get(activeId) : undefined;
  // The open conversation is being read: it does not count.
  const total = chat.conversations.unreadTotal.value - (active?.unread_count ?? 0);

  useEffect(() => {
    const base = active ? `${groupTitle(active)} · Chat` : 'Chat';
    document.title = total > 0 ? `(${total}) ${base}` : base;
  }, [total, active]);

  return (
    <div class="app-shell">
      <header class={styles.topbar}>
        <a
          class={styles.brand}
          href="/"
          onClick={(e) => {
            e.preventDefault();
            router.navigate('/');
          }}
        >
          <LogoIcon size={28} /> Chat
        </a>
        <ConnectionBanner status={chat.status.value} />
        <div class={styles.user}>
          <span class={styles.username} title={me ? `@${me.username}` : undefined}>
            {me ? displayName(me) : ''}
          </span>
          <button class="btn btn-secondary btn-small" type="button" aria-haspopup="dialog" onClick={() => setSearching(true)}>
            Search<span class="visually-hidden"> messages</span>
          </button>
          <button
            class="btn btn-secondary btn-small"
            type="button"
            aria-haspopup="dialog"
            onClick={() => setProfile(true)}
          >
            Profile
          </button>
          <button class="btn btn-secondary btn-small" type="button" onClick={() => void session.logout()}>
            Log out
          </button>
        </div>
      </header>
      <div class="app-body" data-screen={activeId !== null ? 'conversation' : 'list'}>
        <nav class="app-sidebar" aria-label="Conversations">
          <SearchPanel query={query} onQuery={setQuery} />
          {query.trim() === '' && (
            <>
              <div class={styles.listHeader}>
                <h2 class={styles.listTitle}>Conversations</h2>
                <button class="btn btn-small" type="button" onClick={() => setCreating(true)}>
                  <PlusIcon /> New group
                </button>
              </div>
              <ConversationList activeId={activeId} />
            </>
          )}
        </nav>
        <main class="app-main" id="main">
          {activeId !== null ? (
            <ChatView key={activeId} groupId={activeId} />
          ) : (
            <div class={styles.empty}>
              <div class={styles.emptyArt}>
                <ChatIcon />
              </div>
              <h2>Pick a conversation</h2>
              <p>Search for people or groups on the left, or start a new group.</p>
            </div>
          )}
        </main>
      </div>
      {profile && (
        <ProfileDialog onClose={() => setProfile(false)} onSaved={(u) => chat.applyMe(u)}>
          <FollowSettings />
        </ProfileDialog>
      )}
      {searching && (
        <MessageSearch
          activeId={activeId}
          onClose={() => setSearching(false)}
          onOpen={(m) => {
            setSearching(false);
            router.navigate(`/g/${m.group_id}?seq=${m.seq}`);
          }}
        />
      )}
      {creating && (
        <CreateGroupDialog
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            router.navigate(`/g/${id}`);
          }}
        />
      )}
    </div>
  );
}

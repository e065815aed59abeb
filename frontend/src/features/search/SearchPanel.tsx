import { useEffect, useRef, useState } from 'preact/hooks';
import { Avatar } from '../../app/Avatar';
import { useChat, useServices } from '../../app/context';
import { displayName, userLabel } from '../../app/names';
import type { Group, User } from '../../api/types';
import { messageOf } from '../../state/chat';
import styles from './SearchPanel.module.scss';

interface Results {
  q: string;
  users: User[];
  groups: Group[];
}

/** One search box for people and groups; results replace the conversation list while it has text. */
export function SearchPanel({ query, onQuery }: { query: string; onQuery: (q: string) => void }) {
  const chat = useChat();
  const { session, router } = useServices();
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const q = query.trim();

  const run = (term: string, signal?: AbortSignal) => {
    setError(null);
    Promise.all([session.api.searchUsers(term, 20, signal), session.api.searchGroups(term, 20, signal)]).then(
      ([u, g]) => setResults({ q: term, users: u.items.filter((x) => x.id !== chat.me.id), groups: g.items }),
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        setError(messageOf(err));
      },
    );
  };

  useEffect(() => {
    if (q === '') {
      setResults(null);
      setError(null);
      return;
    }
    const ctl = new AbortController();
    const id = setTimeout(() => run(q, ctl.signal), 250);
    return () => {
      clearTimeout(id);
      ctl.abort();
    };
  }, [q]);

  const open = async (key: string, action: () => Promise<{ id: number }>) => {
    setBusyId(key);
    setError(null);
    try {
      const g = await action();
      onQuery('');
      router.navigate(`/g/${g.id}`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusyId(null);
    }
  };

  return (
    <div class={styles.panel}>
      <form
        role="search"
        class={styles.form}
        onSubmit={(e) => {
          e.preventDefault();
          if (q !== '') run(q);
        }}
      >
        <label for="search-input" class="visually-hidden">
          Search people and groups
        </label>
        <input
          ref={input}
          id="search-input"
          type="search"
          class={styles.input}
          placeholder="Find people or groups"
          value={query}
          autocomplete="off"
          onInput={(e) => onQuery(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onQuery('');
          }}
        />
        <button class="btn btn-small" type="submit" disabled={q === ''}>
          Search
        </button>
      </form>
      {q !== '' && (
        <section class={styles.results} aria-label="Search results" aria-live="polite">
          {error !== null && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          {results === null && error === null && <p class={styles.note}>Searching…</p>}
          {results !== null && (
            <>
              <h2 class={styles.heading}>People</h2>
              {results.users.length === 0 ? (
                <p class={styles.note}>No people match “{results.q}”.</p>
              ) : (
                <ul class={styles.list}>
                  {results.users.map((u) => (
                    <li key={u.id} class={styles.row}>
                      <Avatar name={displayName(u)} seed={u.username} size="sm" />
                      <span class={styles.text}>
                        <span class={styles.name}>{displayName(u)}</span>
                        <span class={styles.sub}>@{u.username}</span>
                      </span>
                      <button
                        class="btn btn-small"
                        type="button"
                        disabled={busyId !== null}
                        aria-label={`Message ${userLabel(u)}`}
                        onClick={() => void open(`u${u.id}`, () => chat.openDirect(u.id))}
                      >
                        Message
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              <h2 class={styles.heading}>Groups</h2>
              {results.groups.length === 0 ? (
                <p class={styles.note}>No groups match “{results.q}”.</p>
              ) : (
                <ul class={styles.list}>
                  {results.groups.map((g) => {
                    const member = chat.conversations.get(g.id) !== undefined;
                    const name = g.name ?? 'Unnamed group';
                    return (
                      <li key={g.id} class={styles.row}>
                        <Avatar name={name} seed={`g${g.id}`} size="sm" />
                        <span class={styles.text}>
                          <span class={styles.name}>{name}</span>
                          <span class={styles.sub}>
                            {g.member_count} {g.member_count === 1 ? 'member' : 'members'}
                            {g.visibility === 'private' ? ' · private' : ''}
                          </span>
                        </span>
                        <button
                          class={`btn btn-small ${member ? 'btn-secondary' : ''}`}
                          type="button"
                          disabled={busyId !== null}
                          aria-label={`${member ? 'Open' : 'Join'} ${name}`}
                          onClick={() =>
                            void open(`g${g.id}`, member ? () => Promise.resolve({ id: g.id }) : () => chat.join(g.id))
                          }
                        >
                          {member ? 'Open' : 'Join'}
                        </button>
                      </li>
                    );
                  })}
                </ul>
              )}
            </>
          )}
        </section>
      )}
    </div>
  );
}

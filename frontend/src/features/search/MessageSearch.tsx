import { useEffect, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { formatFull, formatListTime } from '../../app/format';
import { groupTitle, userLabel } from '../../app/names';
import { Modal } from '../../app/Modal';
import type { Message } from '../../api/types';
import { messageOf } from '../../state/chat';
import { highlightParts, searchTerms, type SearchTerms } from '../../state/highlight';
import styles from './MessageSearch.module.scss';

const PAGE = 20;
const DEBOUNCE_MS = 300;

interface Results {
  q: string;
  groupId: number | undefined;
  items: Message[];
  next: string | null;
}

interface Props {
  /** The open conversation, which the search can be limited to. */
  activeId: number | null;
  onClose: () => void;
  /** A result was chosen: open its conversation at it. */
  onOpen: (m: Message) => void;
}

/** Full-text search of messages (GET /search/messages): all conversations or the open one, "more" by cursor. */
export function MessageSearch({ activeId, onClose, onOpen }: Props) {
  const chat = useChat();
  const [query, setQuery] = useState('');
  const [here, setHere] = useState(false);
  const [results, setResults] = useState<Results | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const q = query.trim();
  const groupId = here && activeId !== null ? activeId : undefined;

  const run = async (cursor: string | null, signal?: AbortSignal) => {
    setBusy(true);
    setError(null);
    try {
      const page = await chat.api.searchMessages(q, { groupId, limit: PAGE, ...(cursor !== null ? { cursor } : {}) }, signal);
      setResults((prev) => ({
        q,
        groupId,
        items: cursor !== null && prev ? [...prev.items, ...page.items] : page.items,
        next: page.next_cursor,
      }));
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return;
      setError(messageOf(err));
    } finally {
      if (!signal?.aborted) setBusy(false);
    }
  };

  useEffect(() => {
    if (q === '') {
      setResults(null);
      setError(null);
      return;
    }
    const ctl = new AbortController();
    const id = setTimeout(() => void run(null, ctl.signal), DEBOUNCE_MS);
    return () => {
      clearTimeout(id);
      ctl.abort();
    };
  }, [q, groupId]);

  const terms = results ? searchTerms(results.q) : null;

  return (
    <Modal title="Search messages" onClose={onClose} wide>
      <form
        role="search"
        class={styles.form}
        onSubmit={(e) => {
          e.preventDefault();
          if (q !== '') void run(null);
        }}
      >
        <label for="message-search-input" class="visually-hidden">
          Search messages
        </label>
        <input
          id="message-search-input"
          type="search"
          class={styles.input}
          placeholder='Words, "a phrase", -not'
          value={query}
          autocomplete="off"
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button class="btn btn-small" type="submit" disabled={q === '' || busy}>
          Search
        </button>
      </form>
      {activeId !== null && (
        <label class={styles.scope}>
          <input type="checkbox" checked={here} onChange={(e) => setHere(e.currentTarget.checked)} /> Only in{' '}
          {groupTitleOf(chat, activeId)}
        </label>
      )}
      <div class={styles.results} aria-live="polite">
        {error !== null && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {q !== '' && results === null && error === null && <p class={styles.note}>Searching…</p>}
        {results !== null && results.items.length === 0 && <p class={styles.note}>No messages match “{results.q}”.</p>}
        {results !== null && results.items.length > 0 && terms && (
          <ul class={styles.list} aria-label="Message results">
            {results.items.map((m) => (
              <li key={m.id}>
                <Result message={m} terms={terms} conversation={groupTitleOf(chat, m.group_id)} onOpen={() => onOpen(m)} />
              </li>
            ))}
          </ul>
        )}
        {results?.next && (
          <button type="button" class="btn btn-secondary btn-small" disabled={busy} onClick={() => void run(results.next)}>
            {busy ? 'Loading…' : 'More results'}
          </button>
        )}
      </div>
    </Modal>
  );
}

function groupTitleOf(chat: ReturnType<typeof useChat>, id: number): string {
  const g = chat.conversations.get(id);
  return g ? groupTitle(g) : 'a conversation';
}

function Result({ message: m, terms, conversation, onOpen }: { message: Message; terms: SearchTerms; conversation: string; onOpen: () => void }) {
  return (
    <button type="button" class={styles.result} onClick={onOpen}>
      <span class={styles.head}>
        <span class={styles.conversation}>{conversation}</span>
        <time dateTime={m.created_at} title={formatFull(m.created_at)} class={styles.time}>
          {formatListTime(m.created_at)}
        </time>
      </span>
      <span class={styles.sender}>{userLabel(m.sender)}</span>
      <span class={styles.body}>
        {highlightParts(m.body, terms).map((p, i) =>
          p.hit ? (
            <mark key={i} class={styles.hit}>
              {p.text}
            </mark>
          ) : (
            p.text
          ),
        )}
      </span>
    </button>
  );
}

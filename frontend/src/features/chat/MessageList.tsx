import { Fragment } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useChat } from '../../app/context';
import { dayKey, formatDay } from '../../app/format';
import type { Message, MyGroup } from '../../api/types';
import { firstUnreadSeq, lastSeqOf } from '../../state/messages';
import { receiptMarks } from '../../state/receipts';
import { MessageItem, PendingItem } from './MessageItem';
import { ReadMarks } from './Receipts';
import styles from './Chat.module.scss';

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 200;
/** Messages of one sender within this time form one run: the name shows once. */
const RUN_MS = 5 * 60_000;

function startsRun(prev: Message | undefined, m: Message): boolean {
  if (!prev || prev.sender.id !== m.sender.id) return true;
  if (dayKey(prev.created_at) !== dayKey(m.created_at)) return true;
  return Date.parse(m.created_at) - Date.parse(prev.created_at) > RUN_MS;
}

/**
 * The history of one conversation, oldest at the top: loads older pages when
 * scrolled to the top (keeping the view still), follows new messages when at
 * the bottom, and marks what is visible as read.
 */
export function MessageList({ group, focusSeq = null }: { group: MyGroup; focusSeq?: number | null }) {
  const chat = useChat();
  const conv = chat.history.conversation(group.id);
  const items = conv.items;
  const pending = chat.outbox.pendingIn(group.id).value;
  const status = chat.status.value;
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);
  // The read marker when the conversation was opened: the divider stays put while reading.
  const [readAtOpen] = useState(group.last_read_seq);
  const divider = useMemo(() => firstUnreadSeq(items, readAtOpen, chat.me.id), [items, readAtOpen, chat.me.id]);
  const prev = useRef({ first: 0, last: 0, height: 0, pending: 0, initial: true });
  const lastSeq = lastSeqOf(items);
  const canDeleteOthers = group.kind === 'group' && (group.role === 'owner' || group.role === 'admin');
  const reads = chat.receipts.of(group.id);
  const marks = useMemo(() => (reads ? receiptMarks(items, reads, group.kind, chat.me.id) : null), [items, reads, group.kind, chat.me.id]);

  useEffect(() => {
    chat.loadReceipts(group.id).catch(() => undefined);
  }, [chat, group.id]);

  const markSeen = useCallback(() => {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    if (atBottom.current && lastSeq > 0) chat.markRead(group.id, lastSeq);
  }, [chat, group.id, lastSeq]);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !conv.loaded) return;
    const p = prev.current;
    const first = items[0]?.seq ?? 0;
    if (p.initial) {
      const mark = el.querySelector<HTMLElement>('[data-divider]');
      if (mark) el.scrollTop = Math.max(0, mark.offsetTop - 24);
      else el.scrollTop = el.scrollHeight;
      p.initial = false;
    } else if (first !== 0 && p.first !== 0 && first < p.first) {
      // Older history was put above: keep what the reader was looking at in place.
      el.scrollTop += el.scrollHeight - p.height;
    } else if (lastSeq > p.last || pending.length > p.pending) {
      // Back-fill after a message opened from a search may end with one's own message: stay at the found one.
      const mine = (focusSeq === null && items[items.length - 1]?.sender.id === chat.me.id) || pending.length > p.pending;
      if (atBottom.current || mine) {
        el.scrollTop = el.scrollHeight;
        atBottom.current = true;
      } else {
        setShowJump(true);
      }
    }
    prev.current = { first, last: lastSeq, height: el.scrollHeight, pending: pending.length, initial: false };
  }, [conv.loaded, items, pending.length, lastSeq, chat.me.id, focusSeq]);

  // A message opened from a search: brought into view once it is held, and set apart.
  const [found, setFound] = useState<number | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || focusSeq === null || found === focusSeq || !conv.loaded) return;
    const target = el.querySelector<HTMLElement>(`[data-seq="${focusSeq}"]`);
    if (!target) return;
    el.scrollTop = Math.max(0, el.scrollTop + target.getBoundingClientRect().top - el.getBoundingClientRect().top - el.clientHeight / 3);
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    setFound(focusSeq);
  }, [focusSeq, found, conv.loaded, items]);
  // Leaving for the plain conversation (/g/7) drops the mark.
  useEffect(() => {
    if (focusSeq === null) setFound(null);
  }, [focusSeq]);

  useEffect(() => {
    markSeen();
  }, [markSeen]);

  useEffect(() => {
    const onVisible = () => markSeen();
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
    };
  }, [markSeen]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) {
      setShowJump(false);
      markSeen();
    }
    if (el.scrollTop < NEAR_TOP_PX && conv.hasMore && !conv.loadingOlder) void chat.history.loadOlder(group.id);
  };

  const jump = () => {
    const el = box.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setShowJump(false);
    markSeen();
  };

  return (
    <div class={styles.listWrap}>
      <div
        ref={box}
        class={styles.list}
        role="log"
        aria-label="Messages"
        aria-busy={!conv.loaded}
        tabIndex={0}
        onScroll={onScroll}
      >
        {conv.loaded && conv.hasMore && (
          <div class={styles.older}>
            <button
              type="button"
              class="btn btn-small btn-secondary"
              disabled={conv.loadingOlder}
              onClick={() => void chat.history.loadOlder(group.id)}
            >
              {conv.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </div>
        )}
        {conv.loaded && !conv.hasMore && (
          <p class={styles.start}>
            {items.length === 0 && pending.length === 0 ? 'No messages yet. Say hello!' : 'This is the start of the conversation.'}
          </p>
        )}
        {!conv.loaded && conv.error === null && <p class={styles.start}>Loading messages…</p>}
        {conv.error !== null && (
          <p class="form-error" role="alert">
            {conv.error}{' '}
            <button type="button" class="btn btn-small btn-secondary" onClick={() => void chat.history.open(group.id)}>
              Retry
            </button>
          </p>
        )}
        {items.map((m, i) => {
          const before = items[i - 1];
          const newDay = !before || dayKey(before.created_at) !== dayKey(m.created_at);
          return (
            <Fragment key={m.id}>
              {newDay && (
                <div class={styles.day}>
                  <span>{formatDay(m.created_at)}</span>
                </div>
              )}
              {divider === m.seq && (
                <div class={styles.divider} data-divider>
                  <span>New messages</span>
                </div>
              )}
              <MessageItem
                message={m}
                mine={m.sender.id === chat.me.id}
                showSender={group.kind === 'group' && startsRun(before, m)}
                canDelete={m.sender.id === chat.me.id || canDeleteOthers}
                found={found === m.seq}
              />
              <ReadMarks group={group} readers={marks?.get(m.seq)} />
            </Fragment>
          );
        })}
        {pending.map((o) => (
          <PendingItem key={o.client_id} item={o} online={status === 'online'} />
        ))}
      </div>
      {showJump && (
        <button type="button" class={`btn ${styles.jump}`} onClick={jump}>
          New messages ↓
        </button>
      )}
    </div>
  );
}

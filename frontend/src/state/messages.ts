import type { Message } from '../api/types';
import type { OutboxItem } from '../api/socket';

/** What the client holds of one conversation: a contiguous-or-gappy slice of history, ascending by seq. */
export interface Conversation {
  items: Message[];
  /** Older messages exist before items[0]. */
  hasMore: boolean;
  loaded: boolean;
  loadingOlder: boolean;
  error: string | null;
}

export const emptyConversation: Conversation = {
  items: [],
  hasMore: false,
  loaded: false,
  loadingOlder: false,
  error: null,
};

/** The newer of two copies of one message: deletion is final, otherwise the later edit wins. */
function newer(a: Message, b: Message): Message {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  const ea = a.edited_at ? Date.parse(a.edited_at) : 0;
  const eb = b.edited_at ? Date.parse(b.edited_at) : 0;
  return eb > ea ? b : a;
}

/**
 * Merges messages into a conversation: one entry per id (and per seq), ascending by seq.
 * The same message arrives by ack, by live event, by replay and by REST back-fill;
 * the user must see it once.
 */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of incoming) {
    const old = bySeq.get(m.seq);
    if (old === undefined) {
      bySeq.set(m.seq, m);
      changed = true;
    } else {
      const pick = old.id === m.id ? newer(old, m) : m;
      if (pick !== old) {
        bySeq.set(m.seq, pick);
        changed = true;
      }
    }
  }
  if (!changed) return existing as Message[];
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq held with no gap below it down to the first held message. */
export function contiguousEnd(items: readonly Message[]): number {
  const first = items[0];
  if (!first) return 0;
  let end = first.seq;
  for (const m of items) {
    if (m.seq === end + 1) end = m.seq;
    else if (m.seq > end + 1) break;
  }
  return end;
}

export function lastSeqOf(items: readonly Message[]): number {
  return items.length === 0 ? 0 : (items[items.length - 1]?.seq ?? 0);
}

/** Outbox items still waiting for their message (removes those whose message has arrived). */
export function pendingFor(
  outbox: readonly OutboxItem[],
  groupId: number,
  arrived: readonly Message[],
  meId: number,
): OutboxItem[] {
  const seen = new Set<string>();
  for (const m of arrived) if (m.sender.id === meId && m.client_id) seen.add(m.client_id);
  return outbox.filter((o) => o.group_id === groupId && !seen.has(o.client_id));
}

/** The seq of the first message from someone else after the read marker, where the "New messages" divider goes. */
export function firstUnreadSeq(items: readonly Message[], lastReadSeq: number, meId: number): number | null {
  for (const m of items) {
    if (m.seq > lastReadSeq && m.sender.id !== meId) return m.seq;
  }
  return null;
}

import type { Message } from '../api/types';

// The one home of the message rules: one entry per id and per seq, ascending
// by seq, and an outbox item done once its client_id arrives from its sender.

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

/**
 * The client_ids of one's own messages among msgs: an outbox item is done
 * once a message with its client_id arrives from its sender (ack, live
 * event, replay or REST page), however often it was sent.
 */
export function deliveredClientIds(msgs: readonly Message[], meId: number): Set<string> {
  const ids = new Set<string>();
  for (const m of msgs) if (m.sender.id === meId && m.client_id) ids.add(m.client_id);
  return ids;
}

/** The seq of the first message from someone else after the read marker, where the "New messages" divider goes. */
export function firstUnreadSeq(items: readonly Message[], lastReadSeq: number, meId: number): number | null {
  for (const m of items) {
    if (m.seq > lastReadSeq && m.sender.id !== meId) return m.seq;
  }
  return null;
}

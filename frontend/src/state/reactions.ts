import { reactionsOf, withReactions, type Reaction } from '../api/rich';
import type { Message } from '../api/types';

/** The API lists at most this many reactors per emoji (docs/API.md, Message.reactions). */
const LISTED = 20;

export interface ReactionChange {
  emoji: string;
  user_id: number;
  added: boolean;
}

/**
 * One user's reaction added or removed, applied to a message: idempotent per
 * user and emoji (a repeated event, or the event of one's own click already
 * shown, changes nothing), the caller listed first as the API lists it.
 * Returns m itself when nothing changes. Where the API listed only the first
 * 20 reactors of an emoji, a change by someone not listed is counted as told.
 */
export function applyReaction(m: Message, ev: ReactionChange, meId: number): Message {
  const list = reactionsOf(m);
  const i = list.findIndex((r) => r.emoji === ev.emoji);
  const r = list[i];
  if (ev.added) {
    if (r === undefined) return withReactions(m, [...list, { emoji: ev.emoji, count: 1, user_ids: [ev.user_id] }]);
    if (r.user_ids.includes(ev.user_id)) return m;
    const ids = ev.user_id === meId ? [ev.user_id, ...r.user_ids] : [...r.user_ids, ev.user_id];
    return replace(m, list, i, { emoji: r.emoji, count: r.count + 1, user_ids: ids.slice(0, LISTED) });
  }
  if (r === undefined) return m;
  const listed = r.user_ids.includes(ev.user_id);
  if (!listed && r.count <= r.user_ids.length) return m;
  const count = r.count - 1;
  if (count <= 0) return withReactions(m, list.filter((_, k) => k !== i));
  return replace(m, list, i, { emoji: r.emoji, count, user_ids: r.user_ids.filter((u) => u !== ev.user_id) });
}

function replace(m: Message, list: readonly Reaction[], i: number, r: Reaction): Message {
  const next = list.slice();
  next[i] = r;
  return withReactions(m, next);
}

export function reactedByMe(r: Reaction, meId: number): boolean {
  return r.user_ids.includes(meId);
}

// Wire types of the "find and follow" parts of docs/API.md (search, receipts,
// mentions, mute, edit history), written from the contract while
// backend/httpapi/openapi.json does not describe them yet. Once it does, each
// becomes an alias of the generated type in types.ts and this file goes.
import type { Message, MyGroup, User } from './types';

/** A Message as the contract now describes it: `mentions` lists the members named as @username. */
export type MessageWithMentions = Message & { mentions?: number[] };

/** MyGroup with the caller's mention count. */
export type FollowedGroup = MyGroup & { mention_count?: number };

/** GET /search/messages. */
export interface MessageSearchPage {
  items: Message[];
  next_cursor: string | null;
}

export function mentionsOf(m: Message): readonly number[] {
  return (m as MessageWithMentions).mentions ?? [];
}

export function mentionCount(g: MyGroup): number {
  return (g as FollowedGroup).mention_count ?? 0;
}

export function isMuted(g: MyGroup): boolean {
  return g.muted;
}

/** share_read_receipts is only on the caller's own account; default on. */
export function sharesReceipts(u: User): boolean {
  return u.share_read_receipts ?? true;
}

import { batch } from '@preact/signals';
import type { ChatApi } from '../api/api';
import type { Message, User } from '../api/types';
import { contiguousEnd, emptyConversation, lastSeqOf, mergeMessages, type Conversation } from './messages';
import { SignalMap } from './signals';
import { renamed } from './users';

/** Messages per REST page when opening a conversation or scrolling up. */
const PAGE = 50;
/** Messages loaded on each side of a message opened from a search result. */
const AROUND = 25;
/** Messages per REST page when filling a gap. */
const BACKFILL_PAGE = 200;

export interface HistoryDeps {
  api: Pick<ChatApi, 'messages'>;
  /** The conversation's last seq as the conversation list knows it: back-fill fills up to it. */
  lastSeq: (groupId: number) => number;
  /** Every message that reaches the client, however it came (users, outbox). */
  onArrived: (msgs: readonly Message[]) => void;
  describe: (err: unknown) => string;
}

/**
 * The history held of each conversation, one signal each (a message updates
 * its own conversation's list only): the first page, older pages, and the
 * back-fill of gaps, always through mergeMessages.
 */
export class HistoryStore {
  private readonly convs = new SignalMap<number, Conversation>(() => emptyConversation);
  private readonly backfilling = new Map<number, Promise<void>>();
  private readonly backfillAgain = new Set<number>();
  private stopped = false;

  constructor(private readonly deps: HistoryDeps) {}

  conversation(groupId: number): Conversation {
    return this.convs.get(groupId);
  }

  stop(): void {
    this.stopped = true;
  }

  /** The groups whose history is held (opened at least once). */
  held(): number[] {
    return this.convs.keys().filter((id) => this.convs.peek(id).loaded);
  }

  /** The highest seq held with no gap below it, or null when nothing is held. */
  heldEnd(groupId: number): number | null {
    const c = this.convs.peek(groupId);
    return c.loaded && c.items.length > 0 ? contiguousEnd(c.items) : null;
  }

  private merge(groupId: number, msgs: readonly Message[], patch: Partial<Conversation> = {}): void {
    batch(() => {
      if (msgs.length > 0) this.deps.onArrived(msgs);
      this.convs.update(groupId, (c) => {
        const items = mergeMessages(c.items, msgs);
        const changed = items !== c.items || Object.entries(patch).some(([k, v]) => c[k as keyof Conversation] !== v);
        return changed ? { ...c, ...patch, items } : c;
      });
    });
  }

  /** Loads the latest page the first time a conversation is opened; later opens only fill gaps. */
  async open(groupId: number): Promise<void> {
    if (this.convs.peek(groupId).loaded) {
      void this.backfill(groupId);
      return;
    }
    try {
      const page = await this.deps.api.messages(groupId, { limit: PAGE });
      this.merge(groupId, page.items, { hasMore: page.has_more, loaded: true, error: null });
      // Events that came in while the page was loading may have left a gap.
      void this.backfill(groupId);
    } catch (err) {
      this.convs.update(groupId, (c) => ({ ...c, error: this.deps.describe(err) }));
    }
  }

  /**
   * Opens a conversation at one message (a search result): the pages just
   * below and above its seq, merged with whatever is held; back-fill then
   * joins them to the latest messages.
   */
  async openAt(groupId: number, seq: number): Promise<void> {
    const held = this.convs.peek(groupId);
    if (held.loaded && held.items.some((m) => m.seq === seq)) {
      void this.backfill(groupId);
      return;
    }
    try {
      const [below, above] = await Promise.all([
        this.deps.api.messages(groupId, { beforeSeq: seq + 1, limit: AROUND }),
        this.deps.api.messages(groupId, { afterSeq: seq, limit: AROUND }),
      ]);
      const cur = this.convs.peek(groupId);
      const first = cur.items[0];
      const newFirst = below.items[0] ?? above.items[0];
      // has_more speaks of what lies before the first message held.
      const hasMore = !cur.loaded || !first || (newFirst !== undefined && newFirst.seq < first.seq) ? below.has_more : cur.hasMore;
      this.merge(groupId, [...below.items, ...above.items], { hasMore, loaded: true, error: null });
      void this.backfill(groupId);
    } catch (err) {
      this.convs.update(groupId, (c) => ({ ...c, error: this.deps.describe(err) }));
    }
  }

  /** Older history (infinite scroll upward, before_seq). */
  async loadOlder(groupId: number): Promise<void> {
    const c = this.convs.peek(groupId);
    const first = c.items[0];
    if (!c.loaded || !c.hasMore || c.loadingOlder || !first) return;
    this.convs.update(groupId, (cur) => ({ ...cur, loadingOlder: true }));
    try {
      const page = await this.deps.api.messages(groupId, { beforeSeq: first.seq, limit: PAGE });
      this.merge(groupId, page.items, { hasMore: page.has_more, loadingOlder: false });
    } catch (err) {
      this.convs.update(groupId, (cur) => ({ ...cur, loadingOlder: false, error: this.deps.describe(err) }));
    }
  }

  /** A new message (ack, live event, replay). A gap before it is filled from REST. */
  received(m: Message): void {
    const c = this.convs.peek(m.group_id);
    if (!c.loaded) {
      this.deps.onArrived([m]);
      return;
    }
    const gap = c.items.length > 0 && m.seq > contiguousEnd(c.items) + 1;
    this.merge(m.group_id, [m]);
    if (gap) void this.backfill(m.group_id);
  }

  /** An edited or deleted message; only a held conversation changes. */
  updated(m: Message): void {
    if (this.convs.peek(m.group_id).loaded) this.merge(m.group_id, [m]);
  }

  /** The copy of a message held anywhere, for a deletion answered by a bare 204. */
  find(messageId: number): Message | undefined {
    for (const id of this.convs.keys()) {
      const m = this.convs.peek(id).items.find((x) => x.id === messageId);
      if (m) return m;
    }
    return undefined;
  }

  /**
   * Changes one held message in place (a reaction): not through
   * mergeMessages, whose rule keeps the held copy of an unedited message.
   */
  patch(groupId: number, messageId: number, fn: (m: Message) => Message): void {
    this.convs.update(groupId, (c) => {
      const i = c.items.findIndex((m) => m.id === messageId);
      const old = c.items[i];
      if (old === undefined) return c;
      const next = fn(old);
      if (next === old) return c;
      const items = c.items.slice();
      items[i] = next;
      return { ...c, items };
    });
  }

  forget(groupId: number): void {
    this.convs.delete(groupId);
  }

  /** A new profile of u shows on its messages already held. */
  renameSender(u: User): void {
    batch(() => {
      for (const id of this.convs.keys()) {
        this.convs.update(id, (c) => {
          if (!c.items.some((m) => renamed(m.sender, u))) return c;
          const items = c.items.map((m) =>
            renamed(m.sender, u) ? { ...m, sender: { ...m.sender, display_name: u.display_name, username: u.username } } : m,
          );
          return { ...c, items };
        });
      }
    });
  }

  /**
   * Fills what is missing between the held history and the group's last_seq
   * with REST pages (after_seq), e.g. after a gap in live events or a
   * reconnect that the server could not replay. One run per group at a time.
   */
  backfill(groupId: number): Promise<void> {
    const running = this.backfilling.get(groupId);
    if (running) {
      // Something new arrived while a run was in flight: check again once it ends.
      this.backfillAgain.add(groupId);
      return running;
    }
    const run = this.fill(groupId)
      .catch(() => {
        // The next reconnect or event tries again.
      })
      .finally(() => {
        this.backfilling.delete(groupId);
        if (this.backfillAgain.delete(groupId) && !this.stopped) void this.backfill(groupId);
      });
    this.backfilling.set(groupId, run);
    return run;
  }

  private async fill(groupId: number): Promise<void> {
    for (let guard = 0; guard < 100; guard++) {
      const c = this.convs.peek(groupId);
      if (!c.loaded || c.items.length === 0) return;
      const end = contiguousEnd(c.items);
      if (end >= Math.max(this.deps.lastSeq(groupId), lastSeqOf(c.items))) return;
      const page = await this.deps.api.messages(groupId, { afterSeq: end, limit: BACKFILL_PAGE });
      this.merge(groupId, page.items);
      if (page.items.length === 0) return;
      if (!page.has_more && contiguousEnd(this.convs.peek(groupId).items) >= lastSeqOf(page.items)) return;
    }
  }
}

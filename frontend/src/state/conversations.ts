import { batch, computed, signal } from '@preact/signals';
import type { Group, Message, MyGroup, User } from '../api/types';
import { listComputed, SignalMap } from './signals';
import { renamed } from './users';

// ---- rules for one conversation (pure) ----

export function unreadCount(g: Pick<MyGroup, 'last_seq' | 'last_read_seq'>): number {
  return Math.max(0, g.last_seq - g.last_read_seq);
}

function activity(g: MyGroup): number {
  return Date.parse(g.last_message?.created_at ?? g.created_at) || 0;
}

/** Most recent activity first; ties by id so the order is stable. */
export function sortByActivity(groups: readonly MyGroup[]): MyGroup[] {
  return [...groups].sort((a, b) => activity(b) - activity(a) || b.id - a.id);
}

/** A new message moves last_seq and the preview; one's own message also moves one's read marker. */
export function withMessage(g: MyGroup, m: Message, meId: number): MyGroup {
  const lastSeq = Math.max(g.last_seq, m.seq);
  // The same message comes twice (ack and event): the second changes nothing.
  const newerPreview = !g.last_message || m.seq > g.last_message.seq;
  const readSeq = m.sender.id === meId ? Math.max(g.last_read_seq, m.seq) : g.last_read_seq;
  if (lastSeq === g.last_seq && !newerPreview && readSeq === g.last_read_seq) return g;
  const next: MyGroup = { ...g, last_seq: lastSeq, last_read_seq: readSeq, last_message: newerPreview ? m : g.last_message };
  next.unread_count = unreadCount(next);
  const mentionsMe = m.seq > g.last_seq && m.seq > readSeq && m.sender.id !== meId && m.mentions.includes(meId);
  if (mentionsMe) next.mention_count = g.mention_count + 1;
  else if (readSeq >= lastSeq && g.mention_count > 0) next.mention_count = 0;
  return next;
}

/** Edits and deletions change the preview if they hit the last message. */
export function withMessageUpdate(g: MyGroup, m: Message): MyGroup {
  return g.last_message?.id === m.id ? { ...g, last_message: m } : g;
}

/**
 * Read markers only move forward. Read to the end, no mention is left; read
 * part way, the client cannot tell which mentions remain and keeps the count
 * until the next /me/groups.
 */
export function withRead(g: MyGroup, seq: number): MyGroup {
  if (seq <= g.last_read_seq) return g;
  const next: MyGroup = { ...g, last_read_seq: seq };
  next.unread_count = unreadCount(next);
  if (seq >= g.last_seq && g.mention_count > 0) next.mention_count = 0;
  return next;
}

/** A group_updated event carries a plain Group; keep the caller's own fields (role, marker, preview). */
export function withGroupUpdate(g: MyGroup, grp: Group): MyGroup {
  const next: MyGroup = {
    ...g,
    name: grp.name,
    description: grp.description,
    visibility: grp.visibility,
    owner_id: grp.owner_id,
    member_count: grp.member_count,
    last_seq: Math.max(g.last_seq, grp.last_seq),
    peer: grp.peer ?? g.peer,
  };
  next.unread_count = unreadCount(next);
  return next;
}

/**
 * A fresh copy from /me/groups, keeping what moved forward locally while the
 * request was in flight (last_seq, the read marker, the preview).
 */
export function withReload(fresh: MyGroup, held: MyGroup | undefined): MyGroup {
  if (!held) return fresh;
  const lastSeq = Math.max(fresh.last_seq, held.last_seq);
  const read = Math.max(fresh.last_read_seq, held.last_read_seq);
  const lm =
    held.last_message && (!fresh.last_message || held.last_message.seq > fresh.last_message.seq)
      ? held.last_message
      : fresh.last_message;
  const next: MyGroup = { ...fresh, last_seq: lastSeq, last_read_seq: read, unread_count: Math.max(0, lastSeq - read), last_message: lm };
  if (read >= lastSeq && fresh.mention_count > 0) next.mention_count = 0;
  return next;
}

/** A group the caller just created, joined or opened, before /me/groups lists it. */
export function asMyGroup(grp: Group, role: MyGroup['role']): MyGroup {
  return { ...grp, role, last_read_seq: grp.last_seq, unread_count: 0, last_message: null, mention_count: 0, muted: false };
}

// ---- the store ----

/**
 * The signed-in user's conversations (MyGroup), one signal each: a message in
 * one conversation notifies the readers of that conversation only. The list
 * order and the unread total are computed views.
 */
export class ConversationsStore {
  readonly loaded = signal(false);
  readonly error = signal<string | null>(null);
  /** Which conversations there are; changes only when one is added or removed. */
  private readonly ids = signal<readonly number[]>([]);
  private readonly byId = new SignalMap<number, MyGroup | undefined>(() => undefined);

  private readonly all = computed(() => this.ids.value.map((id) => this.byId.get(id)).filter((g) => g !== undefined));
  /** Ids, most recent activity first; a new array only when the order changes. */
  readonly order = listComputed(() => sortByActivity(this.all.value).map((g) => g.id));
  readonly unreadTotal = computed(() => this.all.value.reduce((n, g) => n + g.unread_count, 0));

  constructor(private readonly meId: number) {}

  /** The conversation, or undefined when the user is not (or no longer) in it. Subscribes to that one only. */
  get(id: number): MyGroup | undefined {
    return this.ids.value.includes(id) ? this.byId.get(id) : undefined;
  }

  /** Every conversation, without subscribing (for decisions inside actions). */
  list(): readonly MyGroup[] {
    return this.all.peek();
  }

  /** The conversation without subscribing (for decisions inside actions). */
  peek(id: number): MyGroup | undefined {
    return this.byId.peek(id);
  }

  has(id: number): boolean {
    return this.peek(id) !== undefined;
  }

  /** The answer of /me/groups replaces the list. */
  replaceAll(items: readonly MyGroup[]): void {
    batch(() => {
      const keep = new Set(items.map((g) => g.id));
      for (const id of this.ids.peek()) if (!keep.has(id)) this.byId.delete(id);
      for (const g of items) this.byId.update(g.id, (held) => withReload(g, held));
      this.ids.value = items.map((g) => g.id);
      this.loaded.value = true;
      this.error.value = null;
    });
  }

  failed(message: string): void {
    batch(() => {
      this.error.value = message;
      this.loaded.value = true;
    });
  }

  /** Adds a conversation, or keeps the copy already held. Returns the one held. */
  add(g: MyGroup): MyGroup {
    const held = this.byId.peek(g.id);
    if (held) return held;
    batch(() => {
      this.byId.signal(g.id).value = g;
      this.ids.value = [...this.ids.peek(), g.id];
    });
    return g;
  }

  remove(id: number): boolean {
    if (!this.has(id)) return false;
    batch(() => {
      this.byId.delete(id);
      this.ids.value = this.ids.peek().filter((x) => x !== id);
    });
    return true;
  }

  private update(id: number, fn: (g: MyGroup) => MyGroup): void {
    this.byId.update(id, (g) => (g ? fn(g) : g));
  }

  message(m: Message): void {
    this.update(m.group_id, (g) => withMessage(g, m, this.meId));
  }

  messageUpdated(m: Message): void {
    this.update(m.group_id, (g) => withMessageUpdate(g, m));
  }

  read(id: number, seq: number): void {
    this.update(id, (g) => withRead(g, seq));
  }

  groupUpdated(grp: Group): void {
    this.update(grp.id, (g) => withGroupUpdate(g, grp));
  }

  memberCount(id: number, delta: number): void {
    this.update(id, (g) => ({ ...g, member_count: Math.max(0, g.member_count + delta) }));
  }

  /** The caller's own settings of one conversation changed (PATCH /me/groups/{id}): the answer, keeping what moved here. */
  mine(fresh: MyGroup): void {
    this.update(fresh.id, (held) => withReload(fresh, held));
  }

  /** A new profile of u shows in the previews of its last messages. */
  renameSender(u: User): void {
    batch(() => {
      for (const id of this.ids.peek()) {
        this.update(id, (g) =>
          g.last_message && renamed(g.last_message.sender, u)
            ? { ...g, last_message: { ...g.last_message, sender: { ...g.last_message.sender, display_name: u.display_name, username: u.username } } }
            : g,
        );
      }
    });
  }
}

import type { Group, Message, MyGroup } from '../api/types';

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

function mapGroup(groups: readonly MyGroup[], id: number, fn: (g: MyGroup) => MyGroup): MyGroup[] {
  let changed = false;
  const out = groups.map((g) => {
    if (g.id !== id) return g;
    const n = fn(g);
    if (n !== g) changed = true;
    return n;
  });
  return changed ? out : (groups as MyGroup[]);
}

/** A new message moves last_seq and the preview; one's own message also moves one's read marker. */
export function applyMessage(groups: readonly MyGroup[], m: Message, meId: number): MyGroup[] {
  return mapGroup(groups, m.group_id, (g) => {
    const lastSeq = Math.max(g.last_seq, m.seq);
    const newerPreview = !g.last_message || m.seq >= g.last_message.seq;
    const readSeq = m.sender.id === meId ? Math.max(g.last_read_seq, m.seq) : g.last_read_seq;
    if (lastSeq === g.last_seq && !newerPreview && readSeq === g.last_read_seq) return g;
    const next: MyGroup = {
      ...g,
      last_seq: lastSeq,
      last_read_seq: readSeq,
      last_message: newerPreview ? m : g.last_message,
    };
    next.unread_count = unreadCount(next);
    return next;
  });
}

/** Edits and deletions change the preview if they hit the last message. */
export function applyMessageUpdate(groups: readonly MyGroup[], m: Message): MyGroup[] {
  return mapGroup(groups, m.group_id, (g) => (g.last_message?.id === m.id ? { ...g, last_message: m } : g));
}

/** Read markers only move forward. */
export function applyRead(groups: readonly MyGroup[], groupId: number, seq: number): MyGroup[] {
  return mapGroup(groups, groupId, (g) => {
    if (seq <= g.last_read_seq) return g;
    const next = { ...g, last_read_seq: seq };
    next.unread_count = unreadCount(next);
    return next;
  });
}

/** A group_updated event carries a plain Group; keep the caller's own fields (role, marker, preview). */
export function applyGroupUpdated(groups: readonly MyGroup[], grp: Group): MyGroup[] {
  return mapGroup(groups, grp.id, (g) => {
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
  });
}

export function addMemberCount(groups: readonly MyGroup[], groupId: number, delta: number): MyGroup[] {
  return mapGroup(groups, groupId, (g) => ({ ...g, member_count: Math.max(0, g.member_count + delta) }));
}

export function removeGroup(groups: readonly MyGroup[], id: number): MyGroup[] {
  return groups.some((g) => g.id === id) ? groups.filter((g) => g.id !== id) : (groups as MyGroup[]);
}

/** A group the caller just created, joined or opened, before /me/groups lists it. */
export function asMyGroup(grp: Group, role: MyGroup['role']): MyGroup {
  return { ...grp, role, last_read_seq: grp.last_seq, unread_count: 0, last_message: null };
}

export function upsertGroup(groups: readonly MyGroup[], g: MyGroup): MyGroup[] {
  const i = groups.findIndex((x) => x.id === g.id);
  if (i < 0) return [...groups, g];
  const out = [...groups];
  out[i] = g;
  return out;
}

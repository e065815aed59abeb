import type { ChatApi } from '../api/api';
import type { Message, MyGroup } from '../api/types';
import { SignalMap } from './signals';

/** Who has read how far in one group: user id → last_read_seq, for the members who share receipts. */
export type Reads = ReadonlyMap<number, number>;

/**
 * Where read receipts show: the seq of a held message → the users whose read
 * marker stops there. In a group every reader (not me) sits at the last held
 * message up to their marker; in a direct conversation the peer sits at the
 * last of my messages they have read ("Seen").
 */
export function receiptMarks(items: readonly Message[], reads: Reads, kind: MyGroup['kind'], meId: number): Map<number, number[]> {
  const marks = new Map<number, number[]>();
  const candidates = kind === 'direct' ? items.filter((m) => m.sender.id === meId) : items;
  for (const [userId, seq] of reads) {
    if (userId === meId) continue;
    const at = lastAtOrBelow(candidates, seq);
    if (at === undefined) continue;
    const list = marks.get(at.seq);
    if (list) list.push(userId);
    else marks.set(at.seq, [userId]);
  }
  for (const list of marks.values()) list.sort((a, b) => a - b);
  return marks;
}

/** The last message with seq ≤ seq in an ascending list (binary search). */
function lastAtOrBelow(items: readonly Message[], seq: number): Message | undefined {
  let lo = 0;
  let hi = items.length - 1;
  let found: Message | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = items[mid]!;
    if (m.seq <= seq) {
      found = m;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The read markers of the other members of the groups on screen, one signal
 * per group: loaded from GET /groups/{id}/reads, then moved by `read` events
 * carrying a user_id (sent only for those who share receipts) and by the
 * members' own messages (sending marks read).
 */
export class ReceiptsStore {
  private readonly byGroup = new SignalMap<number, Reads | undefined>(() => undefined);

  constructor(private readonly api: Pick<ChatApi, 'reads'>) {}

  /** The markers, or undefined until loaded. */
  of(groupId: number): Reads | undefined {
    return this.byGroup.get(groupId);
  }

  /** The groups whose markers are held. */
  held(): number[] {
    return this.byGroup.keys().filter((id) => this.byGroup.peek(id) !== undefined);
  }

  async load(groupId: number): Promise<void> {
    const { items } = await this.api.reads(groupId);
    this.byGroup.update(groupId, (held) => {
      const next = new Map(items.map((r) => [r.user_id, r.last_read_seq]));
      // A live event may have moved a marker past the answer while it was on its way.
      if (held) for (const [u, s] of held) if (next.has(u) && s > next.get(u)!) next.set(u, s);
      return next;
    });
  }

  /** A read event about another member: they share receipts, so they are listed from now on. */
  read(groupId: number, userId: number, seq: number): void {
    this.byGroup.update(groupId, (held) => {
      if (!held || (held.get(userId) ?? -1) >= seq) return held;
      return new Map(held).set(userId, seq);
    });
  }

  /** A member's message moves their marker to it, if they share receipts (are listed). */
  sent(m: Message): void {
    this.byGroup.update(m.group_id, (held) => {
      const at = held?.get(m.sender.id);
      if (!held || at === undefined || at >= m.seq) return held;
      return new Map(held).set(m.sender.id, m.seq);
    });
  }

  /** A member left: their marker goes. */
  left(groupId: number, userId: number): void {
    this.byGroup.update(groupId, (held) => {
      if (!held?.has(userId)) return held;
      const next = new Map(held);
      next.delete(userId);
      return next;
    });
  }

  forget(groupId: number): void {
    this.byGroup.delete(groupId);
  }
}

import { batch } from '@preact/signals';
import { SignalMap } from './signals';

/** How long "typing" shows after the last typing event (docs/API.md, WebSocket). */
export const TYPING_SHOW_MS = 5000;

type Typists = ReadonlyMap<number, number>;
const nobody: Typists = new Map();

/**
 * Who is online (per user) and who is typing (per conversation), one signal
 * each: a typing event re-renders the typing line of its conversation only.
 */
export class PresenceStore {
  private readonly online = new SignalMap<number, boolean | undefined>(() => undefined);
  /** Per conversation: user id → time until which "typing" shows. */
  private readonly typists = new SignalMap<number, Typists>(() => nobody);
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** true or false once known; undefined while nobody has said. */
  isOnline(userId: number): boolean | undefined {
    return this.online.get(userId);
  }

  known(userId: number): boolean {
    return this.online.peek(userId) !== undefined;
  }

  set(userId: number, online: boolean): void {
    this.online.update(userId, () => online);
  }

  /** Presence carried by users in a REST answer (peers, members), where it is there. */
  fromUsers(users: readonly { id: number; online?: boolean }[]): void {
    batch(() => {
      for (const u of users) if (u.online !== undefined) this.set(u.id, u.online);
    });
  }

  /** The ids of the users typing in a conversation now. */
  typingIn(groupId: number): number[] {
    const t = this.now();
    return [...this.typists.get(groupId)].filter(([, until]) => until > t).map(([uid]) => uid);
  }

  typing(groupId: number, userId: number): void {
    this.typists.update(groupId, (cur) => new Map(cur).set(userId, this.now() + TYPING_SHOW_MS));
    this.scheduleExpiry();
  }

  /** Their message arrived: they are no longer typing it. */
  stoppedTyping(groupId: number, userId: number): void {
    this.typists.update(groupId, (cur) => {
      if (!cur.has(userId)) return cur;
      const next = new Map(cur);
      next.delete(userId);
      return next;
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private scheduleExpiry(): void {
    this.stop();
    const t = this.now();
    let next = Infinity;
    for (const gid of this.typists.keys()) {
      for (const until of this.typists.peek(gid).values()) if (until > t) next = Math.min(next, until);
    }
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.prune();
      this.scheduleExpiry();
    }, next - t + 10);
  }

  private prune(): void {
    const t = this.now();
    batch(() => {
      for (const gid of this.typists.keys()) {
        this.typists.update(gid, (cur) => {
          const keep = [...cur].filter(([, until]) => until > t);
          return keep.length === cur.size ? cur : new Map(keep);
        });
      }
    });
  }
}

import { batch, computed, signal } from '@preact/signals';
import type { ChatApi } from '../api/api';
import { ApiError } from '../api/http';
import { SocketClient, type ConnectionStatus, type OutboxItem, type SocketOptions } from '../api/socket';
import type { Cursors, Member, Message, MyGroup, ServerEvent, User, Visibility } from '../api/types';
import {
  addMemberCount,
  applyGroupUpdated,
  applyMessage,
  applyMessageUpdate,
  applyRead,
  asMyGroup,
  removeGroup,
  sortByActivity,
  upsertGroup,
} from './groups';
import { contiguousEnd, emptyConversation, lastSeqOf, mergeMessages, type Conversation } from './messages';
import { newClientId, OutboxStore } from './outbox';

export const TYPING_SEND_INTERVAL_MS = 3000;
export const TYPING_SHOW_MS = 5000;
export const MAX_BODY = 4000;
const PAGE = 50;

/** Error codes after which resending the same message can never succeed. */
const PERMANENT = new Set(['validation_failed', 'forbidden', 'not_member', 'not_found', 'payload_too_large', 'invalid_json']);

export interface ChatDeps {
  api: ChatApi;
  me: User;
  storage: Storage;
  socket: Omit<SocketOptions, 'cursors' | 'outbox' | 'onEvent' | 'onStatus' | 'token' | 'refresh'>;
  now?: () => number;
  /** The current user lost access to a group (left, removed, deleted). */
  onGroupGone?: (groupId: number) => void;
}

/**
 * Everything the signed-in user sees, kept current from REST answers and
 * WebSocket events: conversations, messages, outbox, typing and presence.
 */
export class ChatStore {
  /** The signed-in user; only its fields change (applyMe), never its id. */
  me: User;
  readonly status = signal<ConnectionStatus>('idle');
  readonly groups = signal<MyGroup[]>([]);
  readonly groupsLoaded = signal(false);
  readonly groupsError = signal<string | null>(null);
  readonly conversations = signal<Record<number, Conversation>>({});
  readonly outbox = signal<OutboxItem[]>([]);
  readonly typing = signal<Record<number, Record<number, number>>>({});
  readonly presence = signal<Record<number, boolean>>({});
  readonly users = signal<Record<number, User>>({});
  readonly members = signal<Record<number, Member[]>>({});
  readonly sortedGroups = computed(() => sortByActivity(this.groups.value));

  readonly socket: SocketClient;
  private readonly api: ChatApi;
  private readonly outboxStore: OutboxStore;
  private readonly now: () => number;
  private readonly onGroupGone: ((id: number) => void) | undefined;
  private readonly lastTypingSent = new Map<number, number>();
  private readonly backfilling = new Map<number, Promise<void>>();
  private readonly backfillAgain = new Set<number>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private readyCount = 0;
  private stopped = false;

  constructor(deps: ChatDeps) {
    this.api = deps.api;
    this.me = deps.me;
    this.now = deps.now ?? Date.now;
    this.onGroupGone = deps.onGroupGone;
    this.outboxStore = new OutboxStore(deps.storage, `chat.outbox.${deps.me.id}`);
    this.outbox.value = this.outboxStore.load();
    this.rememberUsers([deps.me]);
    this.socket = new SocketClient({
      ...deps.socket,
      token: () => this.api.http.accessToken(),
      refresh: () => this.api.http.refresh(),
      cursors: () => this.cursors(),
      outbox: () => this.outbox.value,
      onEvent: (ev) => this.handleEvent(ev),
      onStatus: (s) => {
        this.status.value = s;
      },
    });
  }

  async start(): Promise<void> {
    await this.loadGroups();
    if (!this.stopped) this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    if (this.typingTimer) clearTimeout(this.typingTimer);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
  }

  group(id: number): MyGroup | undefined {
    return this.groups.value.find((g) => g.id === id);
  }

  conversation(id: number): Conversation {
    return this.conversations.value[id] ?? emptyConversation;
  }

  /** Per-group last seen seq for the auth/resume frame: what is loaded, else what the list said. */
  cursors(): Cursors {
    const out: Cursors = {};
    const convs = this.conversations.value;
    for (const g of this.groups.value) {
      const c = convs[g.id];
      const held = c && c.loaded && c.items.length > 0 ? contiguousEnd(c.items) : 0;
      out[String(g.id)] = c && c.loaded && c.items.length > 0 ? held : g.last_seq;
    }
    return out;
  }

  async loadGroups(): Promise<void> {
    try {
      const { items } = await this.api.myGroups();
      batch(() => {
        const prev = new Map(this.groups.value.map((g) => [g.id, g]));
        // Keep markers that moved forward locally while the request was in flight.
        this.groups.value = items.map((g) => {
          const p = prev.get(g.id);
          if (!p) return g;
          const lastSeq = Math.max(g.last_seq, p.last_seq);
          const read = Math.max(g.last_read_seq, p.last_read_seq);
          const lm = p.last_message && (!g.last_message || p.last_message.seq > g.last_message.seq) ? p.last_message : g.last_message;
          return { ...g, last_seq: lastSeq, last_read_seq: read, unread_count: Math.max(0, lastSeq - read), last_message: lm };
        });
        this.groupsLoaded.value = true;
        this.groupsError.value = null;
        const pres = { ...this.presence.value };
        const users: User[] = [];
        for (const g of items) {
          if (g.peer) {
            users.push(g.peer);
            if (g.peer.online !== undefined) pres[g.peer.id] = g.peer.online;
          }
          if (g.last_message) users.push(g.last_message.sender);
        }
        this.presence.value = pres;
        this.rememberUsers(users);
      });
      // The list may not say who is online; ask for the first few direct peers (events keep it current after).
      const unknown = items.filter((g) => g.peer && this.presence.value[g.peer.id] === undefined).slice(0, 20);
      for (const g of unknown) if (g.peer) void this.refreshPresence(g.peer.id);
    } catch (err) {
      this.groupsError.value = messageOf(err);
      this.groupsLoaded.value = true;
    }
  }

  private scheduleGroupsReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.loadGroups();
    }, 150);
  }

  // ---- history ----

  private setConversation(id: number, fn: (c: Conversation) => Conversation): void {
    const cur = this.conversations.value[id] ?? emptyConversation;
    const next = fn(cur);
    if (next !== cur) this.conversations.value = { ...this.conversations.value, [id]: next };
  }

  private addMessages(groupId: number, msgs: readonly Message[]): void {
    if (msgs.length === 0) return;
    this.setConversation(groupId, (c) => {
      const items = mergeMessages(c.items, msgs);
      return items === c.items ? c : { ...c, items };
    });
  }

  /** Loads the latest page the first time a conversation is opened. */
  async openConversation(groupId: number): Promise<void> {
    const c = this.conversation(groupId);
    if (c.loaded) {
      void this.backfill(groupId);
      return;
    }
    try {
      const page = await this.api.messages(groupId, { limit: PAGE });
      batch(() => {
        this.rememberUsers(page.items.map((m) => m.sender));
        this.setConversation(groupId, (cur) => ({
          ...cur,
          items: mergeMessages(cur.items, page.items),
          hasMore: page.has_more,
          loaded: true,
          error: null,
        }));
      });
      this.dropArrivedFromOutbox(page.items);
      // Events that came in while the page was loading may have left a gap.
      void this.backfill(groupId);
    } catch (err) {
      this.setConversation(groupId, (cur) => ({ ...cur, error: messageOf(err) }));
    }
  }

  /** Older history (infinite scroll upward, before_seq). */
  async loadOlder(groupId: number): Promise<void> {
    const c = this.conversation(groupId);
    const first = c.items[0];
    if (!c.loaded || !c.hasMore || c.loadingOlder || !first) return;
    this.setConversation(groupId, (cur) => ({ ...cur, loadingOlder: true }));
    try {
      const page = await this.api.messages(groupId, { beforeSeq: first.seq, limit: PAGE });
      batch(() => {
        this.rememberUsers(page.items.map((m) => m.sender));
        this.setConversation(groupId, (cur) => ({
          ...cur,
          items: mergeMessages(cur.items, page.items),
          hasMore: page.has_more,
          loadingOlder: false,
        }));
      });
    } catch (err) {
      this.setConversation(groupId, (cur) => ({ ...cur, loadingOlder: false, error: messageOf(err) }));
    }
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
    const run = (async () => {
      for (let guard = 0; guard < 100; guard++) {
        const c = this.conversation(groupId);
        const g = this.group(groupId);
        if (!c.loaded || c.items.length === 0) return;
        const end = contiguousEnd(c.items);
        const target = Math.max(g?.last_seq ?? 0, lastSeqOf(c.items));
        if (end >= target) return;
        const page = await this.api.messages(groupId, { afterSeq: end, limit: 200 });
        this.rememberUsers(page.items.map((m) => m.sender));
        this.addMessages(groupId, page.items);
        this.dropArrivedFromOutbox(page.items);
        if (page.items.length === 0) return;
        if (!page.has_more && contiguousEnd(this.conversation(groupId).items) >= lastSeqOf(page.items)) return;
      }
    })()
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

  // ---- sending ----

  /** Queues a message in the outbox (persisted) and sends it now if connected. */
  send(groupId: number, body: string): OutboxItem | null {
    const text = body.trim();
    if (text === '' || text.length > MAX_BODY) return null;
    const item: OutboxItem = {
      client_id: newClientId(),
      group_id: groupId,
      body: text,
      created_at: new Date(this.now()).toISOString(),
    };
    this.setOutbox([...this.outbox.value, item]);
    this.lastTypingSent.delete(groupId);
    this.socket.send(item);
    return item;
  }

  retry(clientId: string): void {
    const item = this.outbox.value.find((o) => o.client_id === clientId);
    if (!item) return;
    const fresh: OutboxItem = { client_id: item.client_id, group_id: item.group_id, body: item.body, created_at: item.created_at };
    this.setOutbox(this.outbox.value.map((o) => (o.client_id === clientId ? fresh : o)));
    this.socket.send(fresh);
  }

  discard(clientId: string): void {
    this.setOutbox(this.outbox.value.filter((o) => o.client_id !== clientId));
  }

  private setOutbox(items: OutboxItem[]): void {
    this.outbox.value = items;
    this.outboxStore.save(items);
  }

  private dropArrivedFromOutbox(msgs: readonly Message[]): void {
    const ids = new Set(msgs.filter((m) => m.sender.id === this.me.id && m.client_id).map((m) => m.client_id));
    if (ids.size === 0) return;
    const left = this.outbox.value.filter((o) => !ids.has(o.client_id));
    if (left.length !== this.outbox.value.length) this.setOutbox(left);
  }

  async edit(messageId: number, body: string): Promise<void> {
    const m = await this.api.editMessage(messageId, body.trim());
    this.applyUpdated(m);
  }

  async remove(messageId: number): Promise<void> {
    await this.api.deleteMessage(messageId);
    for (const c of Object.values(this.conversations.value)) {
      const m = c.items.find((x) => x.id === messageId);
      if (m) this.applyUpdated({ ...m, body: '', deleted: true });
    }
  }

  /** Tells the others "typing", at most every 3 s per conversation. */
  notifyTyping(groupId: number): void {
    const t = this.now();
    const last = this.lastTypingSent.get(groupId) ?? -Infinity;
    if (t - last < TYPING_SEND_INTERVAL_MS) return;
    if (this.socket.typing(groupId)) this.lastTypingSent.set(groupId, t);
  }

  /** Moves the read marker forward (never back), by socket when connected, else by REST. */
  markRead(groupId: number, seq: number): void {
    const g = this.group(groupId);
    if (!g || seq <= g.last_read_seq) return;
    this.groups.value = applyRead(this.groups.value, groupId, seq);
    if (!this.socket.read(groupId, seq)) {
      this.api.markRead(groupId, seq).catch(() => {
        // Harmless: the marker is sent again with the next seen message.
      });
    }
  }

  typingNames(groupId: number): string[] {
    const t = this.now();
    const byUser = this.typing.value[groupId] ?? {};
    const users = this.users.value;
    return Object.entries(byUser)
      .filter(([, until]) => until > t)
      .map(([uid]) => users[Number(uid)])
      .filter((u): u is User => u !== undefined)
      .map((u) => (u.display_name.trim() || u.username));
  }

  // ---- groups ----

  async createGroup(name: string, description: string, visibility: Visibility): Promise<MyGroup> {
    const g = asMyGroup(await this.api.createGroup(name.trim(), description.trim(), visibility), 'owner');
    this.groups.value = upsertGroup(this.groups.value, this.group(g.id) ?? g);
    void this.resumeGroups([g.id]);
    return g;
  }

  async openDirect(userId: number): Promise<MyGroup> {
    const g = await this.api.direct(userId);
    const mine = this.group(g.id) ?? asMyGroup(g, 'member');
    this.groups.value = upsertGroup(this.groups.value, mine);
    if (g.peer) this.rememberUsers([g.peer]);
    void this.resumeGroups([g.id]);
    return mine;
  }

  async join(groupId: number): Promise<MyGroup> {
    const g = await this.api.join(groupId);
    const mine = this.group(g.id) ?? asMyGroup(g, 'member');
    this.groups.value = upsertGroup(this.groups.value, mine);
    void this.resumeGroups([g.id]);
    this.scheduleGroupsReload();
    return mine;
  }

  /** A group joined on this connection: the server sends its events from now on; catch up from its current seq. */
  private async resumeGroups(ids: number[]): Promise<void> {
    const cursors: Cursors = {};
    for (const id of ids) cursors[String(id)] = this.group(id)?.last_seq ?? 0;
    this.socket.resume(cursors);
  }

  async leave(groupId: number): Promise<void> {
    await this.api.leave(groupId);
    this.forgetGroup(groupId);
  }

  async deleteGroup(groupId: number): Promise<void> {
    await this.api.deleteGroup(groupId);
    this.forgetGroup(groupId);
  }

  async updateGroup(groupId: number, patch: { name?: string; description?: string; visibility?: Visibility }): Promise<void> {
    const g = await this.api.updateGroup(groupId, patch);
    this.groups.value = applyGroupUpdated(this.groups.value, g);
  }

  async loadMembers(groupId: number): Promise<void> {
    const { items } = await this.api.members(groupId);
    batch(() => {
      this.members.value = { ...this.members.value, [groupId]: items };
      this.rememberUsers(items);
      const pres = { ...this.presence.value };
      for (const u of items) if (u.online !== undefined) pres[u.id] = u.online;
      this.presence.value = pres;
    });
  }

  async addMember(groupId: number, userId: number): Promise<void> {
    await this.api.addMember(groupId, userId);
    await this.loadMembers(groupId);
  }

  async removeMember(groupId: number, userId: number): Promise<void> {
    await this.api.removeMember(groupId, userId);
    this.members.value = {
      ...this.members.value,
      [groupId]: (this.members.value[groupId] ?? []).filter((m) => m.id !== userId),
    };
  }

  async setRole(groupId: number, userId: number, role: 'admin' | 'member'): Promise<void> {
    await this.api.setRole(groupId, userId, role);
    this.members.value = {
      ...this.members.value,
      [groupId]: (this.members.value[groupId] ?? []).map((m) => (m.id === userId ? { ...m, role } : m)),
    };
  }

  private forgetGroup(groupId: number): void {
    batch(() => {
      this.groups.value = removeGroup(this.groups.value, groupId);
      const convs = { ...this.conversations.value };
      delete convs[groupId];
      this.conversations.value = convs;
    });
    this.onGroupGone?.(groupId);
  }

  /** Asks for a user's presence when no event has told it yet (e.g. a new direct peer). */
  async refreshPresence(userId: number): Promise<void> {
    if (this.presence.value[userId] !== undefined) return;
    try {
      const u = await this.api.user(userId);
      if (u.online !== undefined && this.presence.value[userId] === undefined) {
        this.presence.value = { ...this.presence.value, [userId]: u.online };
      }
    } catch {
      // Unknown presence just shows as offline.
    }
  }

  /**
   * The user's own profile changed (display name): every copy of it that is
   * on screen follows — the sender of own messages already loaded, the last
   * message of each conversation, member lists — without waiting for a reload.
   */
  applyMe(u: User): void {
    if (u.id !== this.me.id) return;
    this.me = u;
    // A copy of me still showing the old name.
    const stale = (a: User) => a.id === u.id && (a.display_name !== u.display_name || a.username !== u.username);
    const asSender = (m: Message): Message =>
      stale(m.sender) ? { ...m, sender: { ...m.sender, display_name: u.display_name, username: u.username } } : m;
    batch(() => {
      this.rememberUsers([u]);
      const convs = this.conversations.value;
      let nextConvs: Record<number, Conversation> | null = null;
      for (const [id, c] of Object.entries(convs)) {
        if (!c.items.some((m) => stale(m.sender))) continue;
        nextConvs ??= { ...convs };
        nextConvs[Number(id)] = { ...c, items: c.items.map(asSender) };
      }
      if (nextConvs) this.conversations.value = nextConvs;
      if (this.groups.value.some((g) => g.last_message && stale(g.last_message.sender))) {
        this.groups.value = this.groups.value.map((g) =>
          g.last_message && stale(g.last_message.sender) ? { ...g, last_message: asSender(g.last_message) } : g,
        );
      }
      const members = this.members.value;
      let nextMembers: Record<number, Member[]> | null = null;
      for (const [id, list] of Object.entries(members)) {
        if (!list.some(stale)) continue;
        nextMembers ??= { ...members };
        nextMembers[Number(id)] = list.map((m) =>
          stale(m) ? { ...m, display_name: u.display_name, username: u.username } : m,
        );
      }
      if (nextMembers) this.members.value = nextMembers;
    });
  }

  rememberUsers(users: readonly User[]): void {
    if (users.length === 0) return;
    const cur = this.users.value;
    let next: Record<number, User> | null = null;
    for (const u of users) {
      const old = cur[u.id];
      if (!old || old.display_name !== u.display_name || old.username !== u.username) {
        next ??= { ...cur };
        next[u.id] = { id: u.id, username: u.username, display_name: u.display_name, created_at: u.created_at };
      }
    }
    if (next) this.users.value = next;
  }

  // ---- events ----

  private applyUpdated(m: Message): void {
    batch(() => {
      if (this.conversations.value[m.group_id]) this.addMessages(m.group_id, [m]);
      this.groups.value = applyMessageUpdate(this.groups.value, m);
    });
  }

  private applyNewMessage(m: Message): void {
    batch(() => {
      this.rememberUsers([m.sender]);
      const c = this.conversations.value[m.group_id];
      let gap = false;
      if (c?.loaded) {
        const end = contiguousEnd(c.items);
        gap = c.items.length > 0 && m.seq > end + 1;
        this.addMessages(m.group_id, [m]);
      }
      if (!this.group(m.group_id)) this.scheduleGroupsReload();
      this.groups.value = applyMessage(this.groups.value, m, this.me.id);
      this.dropArrivedFromOutbox([m]);
      const typing = this.typing.value[m.group_id];
      if (typing && typing[m.sender.id] !== undefined) {
        const rest = { ...typing };
        delete rest[m.sender.id];
        this.typing.value = { ...this.typing.value, [m.group_id]: rest };
      }
      if (gap) void this.backfill(m.group_id);
    });
  }

  handleEvent(ev: ServerEvent): void {
    switch (ev.type) {
      case 'ready':
        this.rememberUsers([ev.user]);
        this.readyCount++;
        // After a reconnect, groups joined or deleted meanwhile and fresh unread counts come from REST.
        if (this.readyCount > 1) this.scheduleGroupsReload();
        return;
      case 'resumed':
        for (const id of Object.keys(this.conversations.value)) void this.backfill(Number(id));
        return;
      case 'ack':
        this.applyNewMessage(ev.message);
        return;
      case 'message':
        this.applyNewMessage(ev.message);
        return;
      case 'message_updated':
      case 'message_deleted':
        this.applyUpdated(ev.message);
        return;
      case 'typing': {
        if (ev.user_id === this.me.id) return;
        const g = { ...(this.typing.value[ev.group_id] ?? {}), [ev.user_id]: this.now() + TYPING_SHOW_MS };
        this.typing.value = { ...this.typing.value, [ev.group_id]: g };
        if (!this.users.value[ev.user_id]) {
          this.api.user(ev.user_id).then(
            (u) => this.rememberUsers([u]),
            () => undefined,
          );
        }
        this.scheduleTypingExpiry();
        return;
      }
      case 'read':
        this.groups.value = applyRead(this.groups.value, ev.group_id, ev.seq);
        return;
      case 'presence':
        this.presence.value = { ...this.presence.value, [ev.user_id]: ev.online };
        return;
      case 'member_joined':
        this.rememberUsers([ev.user]);
        if (ev.user.id === this.me.id) {
          this.scheduleGroupsReload();
          return;
        }
        batch(() => {
          this.groups.value = addMemberCount(this.groups.value, ev.group_id, 1);
          const ms = this.members.value[ev.group_id];
          if (ms && !ms.some((m) => m.id === ev.user.id)) {
            this.members.value = { ...this.members.value, [ev.group_id]: [...ms, { ...ev.user, role: 'member' }] };
          }
        });
        return;
      case 'member_left':
        if (ev.user_id === this.me.id) {
          this.forgetGroup(ev.group_id);
          return;
        }
        batch(() => {
          this.groups.value = addMemberCount(this.groups.value, ev.group_id, -1);
          const ms = this.members.value[ev.group_id];
          if (ms) this.members.value = { ...this.members.value, [ev.group_id]: ms.filter((m) => m.id !== ev.user_id) };
        });
        return;
      case 'group_updated':
        this.groups.value = applyGroupUpdated(this.groups.value, ev.group);
        return;
      case 'group_deleted':
        if (this.group(ev.group_id)) this.forgetGroup(ev.group_id);
        return;
      case 'error': {
        const ref = ev.ref;
        if (ref === undefined) return;
        const item = this.outbox.value.find((o) => o.client_id === ref);
        if (!item) return;
        if (PERMANENT.has(ev.error.code)) {
          this.setOutbox(this.outbox.value.map((o) => (o.client_id === ref ? { ...o, error: ev.error.message } : o)));
        }
        // Other failures (rate limits, unavailable) stay queued and go out again on the next connection.
        return;
      }
      case 'pong':
        return;
    }
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    const t = this.now();
    let next = Infinity;
    for (const byUser of Object.values(this.typing.value)) {
      for (const until of Object.values(byUser)) if (until > t) next = Math.min(next, until);
    }
    if (next === Infinity) return;
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = this.now();
      const pruned: Record<number, Record<number, number>> = {};
      for (const [gid, byUser] of Object.entries(this.typing.value)) {
        const keep: Record<number, number> = {};
        for (const [uid, until] of Object.entries(byUser)) if (until > now) keep[Number(uid)] = until;
        pruned[Number(gid)] = keep;
      }
      this.typing.value = pruned;
      this.scheduleTypingExpiry();
    }, next - t + 10);
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

import { batch, signal } from '@preact/signals';
import type { ChatApi } from '../api/api';
import type { Cursors, EventOf, ServerEvent, ServerEventType } from '../api/frames';
import { ApiError } from '../api/http';
import { SocketClient, type ConnectionStatus, type OutboxItem, type SocketOptions } from '../api/socket';
import type { ReplyPreview } from '../api/rich';
import type { Message, MyGroup, User, Visibility } from '../api/types';
import { xhrUploader, type Uploader } from '../api/upload';
import { asMyGroup, ConversationsStore } from './conversations';
import { HistoryStore } from './history';
import { MembersStore } from './members';
import { outboxKey } from './keys';
import { Notifier, type NotifierDeps } from './notifications';
import { newClientId, OutboxStore } from './outbox';
import { PresenceStore } from './presence';
import { applyReaction } from './reactions';
import { ReceiptsStore } from './receipts';
import { checkBody } from './text';
import { UploadStore } from './uploads';
import { UsersStore } from './users';

/** Typing frames go out at most this often per conversation (docs/API.md, WebSocket). */
const TYPING_SEND_INTERVAL_MS = 3000;
/** How many direct peers' presence to ask for when the list does not say. */
const PRESENCE_LOOKUPS = 20;

export interface ChatDeps {
  api: ChatApi;
  me: User;
  storage: Storage;
  socket: Omit<SocketOptions, 'cursors' | 'outbox' | 'onEvent' | 'onStatus' | 'token' | 'refresh'>;
  now?: () => number;
  /** The current user lost access to a group (left, removed, deleted). */
  onGroupGone?: (groupId: number) => void;
  /** Attachment uploads (default: XMLHttpRequest to the API). */
  uploader?: Uploader;
  /** Browser notifications: the Notification API and the view; none when absent. */
  notifications?: Pick<NotifierDeps, 'api' | 'view'>;
}

const noNotifications: Pick<NotifierDeps, 'api' | 'view'> = {
  api: undefined,
  view: { activeId: () => null, hidden: () => false, open: () => undefined, text: (m) => ({ title: '', body: m.body }) },
};

type Handlers = { [T in ServerEventType]: (ev: EventOf<T>) => void };

/**
 * What the signed-in user sees, one store per concern, kept current from
 * REST answers and WebSocket events. This class wires them to the socket,
 * routes each event type to the stores that own it, and holds the actions
 * that span stores (sending, joining, leaving).
 */
export class ChatStore {
  /** The signed-in user; only its fields change (applyMe), never its id. */
  me: User;
  readonly status = signal<ConnectionStatus>('idle');
  readonly conversations: ConversationsStore;
  readonly history: HistoryStore;
  readonly outbox: OutboxStore;
  readonly presence: PresenceStore;
  readonly members: MembersStore;
  readonly users = new UsersStore();
  readonly uploads: UploadStore;
  readonly notifier: Notifier;
  readonly receipts: ReceiptsStore;
  readonly socket: SocketClient;

  readonly api: ChatApi;
  private readonly now: () => number;
  private readonly onGroupGone: ((id: number) => void) | undefined;
  private readonly lastTypingSent = new Map<number, number>();
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private readyCount = 0;
  private stopped = false;
  private readonly stopTokens: () => void;

  constructor(deps: ChatDeps) {
    this.api = deps.api;
    this.me = deps.me;
    this.now = deps.now ?? Date.now;
    this.onGroupGone = deps.onGroupGone;
    this.conversations = new ConversationsStore(deps.me.id);
    this.outbox = new OutboxStore(deps.storage, outboxKey(deps.me.id), deps.me.id);
    this.presence = new PresenceStore(() => this.now());
    this.receipts = new ReceiptsStore(this.api);
    this.notifier = new Notifier({ userId: deps.me.id, storage: deps.storage, ...(deps.notifications ?? noNotifications) });
    this.history = new HistoryStore({
      api: this.api,
      lastSeq: (id) => this.conversations.peek(id)?.last_seq ?? 0,
      onArrived: (msgs) => {
        this.users.remember(msgs.map((m) => m.sender));
        this.outbox.delivered(msgs);
      },
      describe: messageOf,
    });
    this.members = new MembersStore({
      api: this.api,
      onLoaded: (ms) => {
        this.users.remember(ms);
        this.presence.fromUsers(ms);
      },
    });
    this.users.remember([deps.me]);
    this.uploads = new UploadStore(
      deps.uploader ?? xhrUploader({ token: () => this.api.http.accessToken() }),
      {
        done: (id, a) => this.sendReady(this.outbox.uploadDone(id, a.id)),
        cancelled: (id) => this.sendReady(this.outbox.uploadCancelled(id)),
        failed: (id, message) => this.outbox.uploadFailed(id, message),
      },
      messageOf,
    );
    this.socket = new SocketClient({
      ...deps.socket,
      token: () => this.api.http.accessToken(),
      refresh: () => this.api.http.refresh(),
      cursors: () => this.cursors(),
      outbox: () => this.outbox.items.peek(),
      onEvent: (ev) => this.handleEvent(ev),
      onStatus: (s) => {
        this.status.value = s;
      },
    });
    // A refreshed access token authenticates the open socket again before
    // the old one expires: the server would close it then.
    this.stopTokens = this.api.http.onAccessToken((tok) => this.socket.reauthenticate(tok));
  }

  async start(): Promise<void> {
    await this.loadGroups();
    if (!this.stopped) this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    this.stopTokens();
    this.socket.stop();
    this.uploads.stop();
    this.history.stop();
    this.presence.stop();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
  }

  /** Per-group last seen seq for the auth/resume frame: what is held, else what the list said. */
  cursors(): Cursors {
    const out: Cursors = {};
    for (const g of this.conversations.list()) out[String(g.id)] = this.history.heldEnd(g.id) ?? g.last_seq;
    return out;
  }

  async loadGroups(): Promise<void> {
    let items: MyGroup[];
    try {
      ({ items } = await this.api.myGroups());
    } catch (err) {
      this.conversations.failed(messageOf(err));
      return;
    }
    const peers = items.flatMap((g) => (g.peer ? [g.peer] : []));
    batch(() => {
      this.conversations.replaceAll(items);
      this.presence.fromUsers(peers);
      this.users.remember([...peers, ...items.flatMap((g) => (g.last_message ? [g.last_message.sender] : []))]);
    });
    // The list may not say who is online; ask for the first few direct peers (events keep it current after).
    for (const p of peers.filter((u) => !this.presence.known(u.id)).slice(0, PRESENCE_LOOKUPS)) void this.refreshPresence(p.id);
  }

  private scheduleGroupsReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      void this.loadGroups();
    }, 150);
  }

  /** Asks for a user's presence when no event has told it yet (e.g. a new direct peer). */
  async refreshPresence(userId: number): Promise<void> {
    if (this.presence.known(userId)) return;
    try {
      const u = await this.api.user(userId);
      if (u.online !== undefined && !this.presence.known(userId)) this.presence.set(userId, u.online);
    } catch {
      // Unknown presence just shows as offline.
    }
  }

  // ---- sending ----

  /**
   * Queues a message in the outbox (persisted) and sends it now if connected:
   * the text, the message it answers, and the files of the composer (with
   * withFiles), waiting for those still uploading. Its client_id stays the
   * same however often it goes out.
   */
  send(groupId: number, text: string, opts: { replyTo?: ReplyPreview | null; withFiles?: boolean } = {}): OutboxItem | null {
    const { body, empty, tooLong } = checkBody(text);
    const hasFiles = opts.withFiles === true && this.uploads.draft(groupId).peek().some((u) => u.status !== 'failed');
    if (tooLong || (empty && !hasFiles)) return null;
    const item: OutboxItem = { client_id: newClientId(), group_id: groupId, body: empty ? '' : body, created_at: new Date(this.now()).toISOString() };
    if (opts.replyTo) {
      item.reply_to_id = opts.replyTo.id;
      item.reply_to = opts.replyTo;
    }
    if (hasFiles) {
      const { attachmentIds, waiting } = this.uploads.take(groupId);
      if (attachmentIds.length > 0) item.attachment_ids = attachmentIds;
      if (waiting.length > 0) item.uploads = waiting;
    }
    this.outbox.add(item);
    this.lastTypingSent.delete(groupId);
    this.socket.send(item);
    return item;
  }

  private sendReady(items: readonly OutboxItem[]): void {
    for (const item of items) this.socket.send(item);
  }

  /** Adds or removes the user's reaction: shown at once, undone if the server refuses. */
  async react(m: Message, emoji: string, add: boolean): Promise<void> {
    const ev = { group_id: m.group_id, message_id: m.id, emoji, user_id: this.me.id, added: add };
    this.history.patch(m.group_id, m.id, (x) => applyReaction(x, ev, this.me.id));
    try {
      await this.api.react(m.id, emoji, add);
    } catch (err) {
      this.history.patch(m.group_id, m.id, (x) => applyReaction(x, { ...ev, added: !add }, this.me.id));
      throw err;
    }
  }

  retry(clientId: string): void {
    const item = this.outbox.retry(clientId);
    if (item) this.socket.send(item);
  }

  discard(clientId: string): void {
    this.outbox.discard(clientId);
  }

  async edit(messageId: number, body: string): Promise<void> {
    this.messageUpdated(await this.api.editMessage(messageId, body.trim()));
  }

  async remove(messageId: number): Promise<void> {
    await this.api.deleteMessage(messageId);
    const m = this.history.find(messageId);
    if (m) this.messageUpdated({ ...m, body: '', deleted: true });
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
    const g = this.conversations.peek(groupId);
    if (!g || seq <= g.last_read_seq) return;
    this.conversations.read(groupId, seq);
    if (!this.socket.read(groupId, seq)) {
      this.api.markRead(groupId, seq).catch(() => {
        // Harmless: the marker is sent again with the next seen message.
      });
    }
  }

  /** The read markers of a group's members who share them, and the names of those readers. */
  async loadReceipts(groupId: number): Promise<void> {
    await this.receipts.load(groupId);
    const unknown = [...(this.receipts.of(groupId)?.keys() ?? [])].some((id) => !this.users.known(id));
    if (unknown) await this.members.load(groupId);
  }

  /** Names someone known only by id (a typist, a reader) once the server says who it is. */
  private learnUser(userId: number): void {
    if (this.users.known(userId)) return;
    this.api.user(userId).then(
      (u) => this.users.remember([u]),
      () => undefined,
    );
  }

  // ---- groups ----

  /** Mutes or unmutes a conversation (PATCH /me/groups/{id}): no notification but for mentions, a quieter badge. */
  async setMuted(groupId: number, muted: boolean): Promise<void> {
    this.conversations.mine(await this.api.setMuted(groupId, muted));
  }

  async createGroup(name: string, description: string, visibility: Visibility): Promise<MyGroup> {
    const g = this.conversations.add(asMyGroup(await this.api.createGroup(name.trim(), description.trim(), visibility), 'owner'));
    this.resumeFrom(g);
    return g;
  }

  async openDirect(userId: number): Promise<MyGroup> {
    const grp = await this.api.direct(userId);
    if (grp.peer) this.users.remember([grp.peer]);
    const g = this.conversations.add(asMyGroup(grp, 'member'));
    this.resumeFrom(g);
    return g;
  }

  async join(groupId: number): Promise<MyGroup> {
    const g = this.conversations.add(asMyGroup(await this.api.join(groupId), 'member'));
    this.resumeFrom(g);
    this.scheduleGroupsReload();
    return g;
  }

  /** A group joined on this connection: the server sends its events from now on; catch up from its current seq. */
  private resumeFrom(g: MyGroup): void {
    this.socket.resume({ [String(g.id)]: g.last_seq });
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
    this.conversations.groupUpdated(await this.api.updateGroup(groupId, patch));
  }

  private forgetGroup(groupId: number): void {
    batch(() => {
      this.conversations.remove(groupId);
      this.history.forget(groupId);
      this.members.forget(groupId);
      this.receipts.forget(groupId);
    });
    this.onGroupGone?.(groupId);
  }

  /**
   * The user's own profile changed (display name): every copy of it that is
   * on screen follows — the sender of own messages already loaded, the last
   * message of each conversation, member lists — without waiting for a reload.
   */
  applyMe(u: User): void {
    if (u.id !== this.me.id) return;
    this.me = u;
    batch(() => {
      this.users.remember([u]);
      this.history.renameSender(u);
      this.conversations.renameSender(u);
      this.members.renameUser(u);
    });
  }

  // ---- events: each type goes to the stores that own it ----

  private messageArrived(m: Message, live = false): void {
    const before = this.conversations.peek(m.group_id);
    if (live && before && m.seq > before.last_seq) this.notifier.message(m, before);
    batch(() => {
      if (!this.conversations.has(m.group_id)) this.scheduleGroupsReload();
      this.history.received(m);
      this.conversations.message(m);
      this.receipts.sent(m);
      this.presence.stoppedTyping(m.group_id, m.sender.id);
    });
  }

  private messageUpdated(m: Message): void {
    batch(() => {
      this.history.updated(m);
      this.conversations.messageUpdated(m);
    });
  }

  private readonly on: Handlers = {
    ready: (ev) => {
      this.users.remember([ev.user]);
      // After a reconnect, groups joined or deleted meanwhile and fresh unread counts come from REST.
      if (++this.readyCount > 1) this.scheduleGroupsReload();
    },
    reauthed: () => undefined,
    resumed: () => {
      for (const id of this.history.held()) void this.history.backfill(id);
      // Read events missed while disconnected: ask again.
      for (const id of this.receipts.held()) this.loadReceipts(id).catch(() => undefined);
    },
    pong: () => undefined,
    ack: (ev) => this.messageArrived(ev.message),
    message: (ev) => this.messageArrived(ev.message, true),
    message_updated: (ev) => this.messageUpdated(ev.message),
    message_deleted: (ev) => this.messageUpdated(ev.message),
    typing: (ev) => {
      if (ev.user_id === this.me.id) return;
      this.presence.typing(ev.group_id, ev.user_id);
      this.learnUser(ev.user_id);
    },
    read: (ev) => {
      // Another member's marker (they share receipts), or one's own from another connection.
      if (ev.user_id !== undefined && ev.user_id !== this.me.id) {
        this.receipts.read(ev.group_id, ev.user_id, ev.seq);
        this.learnUser(ev.user_id);
      } else this.conversations.read(ev.group_id, ev.seq);
    },
    presence: (ev) => this.presence.set(ev.user_id, ev.online),
    member_joined: (ev) => {
      this.users.remember([ev.user]);
      if (ev.user.id === this.me.id) {
        this.scheduleGroupsReload();
        return;
      }
      batch(() => {
        this.conversations.memberCount(ev.group_id, 1);
        this.members.joined(ev.group_id, ev.user);
      });
    },
    member_left: (ev) => {
      if (ev.user_id === this.me.id) {
        this.forgetGroup(ev.group_id);
        return;
      }
      batch(() => {
        this.conversations.memberCount(ev.group_id, -1);
        this.members.left(ev.group_id, ev.user_id);
        this.receipts.left(ev.group_id, ev.user_id);
      });
    },
    reaction: (ev) => this.history.patch(ev.group_id, ev.message_id, (m) => applyReaction(m, ev, this.me.id)),
    group_updated: (ev) => this.conversations.groupUpdated(ev.group),
    group_deleted: (ev) => {
      if (this.conversations.has(ev.group_id)) this.forgetGroup(ev.group_id);
    },
    error: (ev) => {
      if (ev.ref === undefined) return;
      this.outbox.refused(ev.ref, ev.error);
      if (ev.error.code === 'rate_limited') this.socket.sendAgainLater(ev.ref);
    },
  };

  handleEvent(ev: ServerEvent): void {
    // A frame is only as typed as the server that sent it: a newer server may send types this client does not know.
    if (!Object.hasOwn(this.on, ev.type)) return;
    (this.on[ev.type] as (e: ServerEvent) => void)(ev);
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

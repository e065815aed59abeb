import type { ClientFrame, Cursors, ServerEvent } from './frames';
import type { ReplyPreview, SendExtras } from './rich';

/** The part of the browser WebSocket the client uses, so tests can hand in a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'stopped';

export interface OutboxItem {
  client_id: string;
  group_id: number;
  body: string;
  created_at: string;
  /** Set when the server refused the message for good; such items wait for the user. */
  error?: string;
  reply_to_id?: number;
  /** The message answered, as the pending item shows it. */
  reply_to?: ReplyPreview;
  attachment_ids?: number[];
  /** Local ids of uploads (state/uploads.ts) still running: the item is not sent before they are done. */
  uploads?: string[];
}

/** The send frame of an outbox item: body, client_id, and the reply and attachments when it has them. */
export function sendFrame(item: OutboxItem): ClientFrame {
  const extras: SendExtras = {};
  if (item.reply_to_id !== undefined) extras.reply_to_id = item.reply_to_id;
  if (item.attachment_ids !== undefined && item.attachment_ids.length > 0) extras.attachment_ids = item.attachment_ids;
  return { type: 'send', group_id: item.group_id, body: item.body, client_id: item.client_id, ref: item.client_id, ...extras };
}

/** The pause before a send refused with rate_limited goes out again (the server's Retry-After is 1 s), plus up to as much again at random. */
const RETRY_REFUSED_MS = 1000;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SocketOptions {
  url: () => string;
  create: (url: string) => WebSocketLike;
  /** A fresh access token for the auth frame. */
  token: () => Promise<string>;
  /** Called after a 4401 close; resolves once a new access token is stored. */
  refresh: () => Promise<unknown>;
  cursors: () => Cursors;
  outbox: () => readonly OutboxItem[];
  onEvent: (ev: ServerEvent) => void;
  onStatus: (s: ConnectionStatus) => void;
  /** The refresh after 4401 failed for good (the user must log in again). */
  onAuthLost?: (err: unknown) => void;
  random?: () => number;
  timers?: Timers;
  baseDelayMs?: number;
  maxDelayMs?: number;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
}

export const CLOSE_AUTH = 4401;
export const CLOSE_AUTH_TIMEOUT = 4408;
export const CLOSE_RATE_LIMITED = 4429;
export const CLOSE_TRY_AGAIN = 1013;

/**
 * Exponential backoff with "equal jitter": the wait for attempt n lies in
 * [d/2, d] where d = min(max, base·2ⁿ), so clients that lost the same server
 * do not come back in lockstep, yet none retries sooner than half the step.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs: number, maxMs: number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return d / 2 + random() * (d / 2);
}

/** The WebSocket URL of this page's origin (ws: for http:, wss: for https:). */
export function socketUrl(loc: Pick<Location, 'protocol' | 'host'>, path = '/api/v1/ws'): string {
  return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + path;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * One WebSocket to the server, kept open: authenticates with the first frame
 * (carrying per-group cursors so the server replays what was missed), sends
 * queued messages once per connection, reconnects with backoff, refreshes the
 * token on 4401 and resumes after 1013.
 */
export class SocketClient {
  private readonly o: Required<Omit<SocketOptions, 'onAuthLost'>> & Pick<SocketOptions, 'onAuthLost'>;
  private ws: WebSocketLike | null = null;
  private ready = false;
  private running = false;
  private attempt = 0;
  private authFailures = 0;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private pongTimer: unknown = null;
  /** client_ids already sent on the current connection: a message goes out at most once per connection. */
  private sentOnConnection = new Set<string>();
  private status: ConnectionStatus = 'idle';
  private everReady = false;

  constructor(opts: SocketOptions) {
    this.o = {
      random: Math.random,
      timers: defaultTimers,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      heartbeatMs: 25_000,
      pongTimeoutMs: 10_000,
      ...opts,
    };
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    ws?.close(1000, 'bye');
    this.setStatus('stopped');
  }

  /** Skip the remaining backoff wait (the browser says it is back online). */
  reconnectNow(): void {
    if (!this.running || this.ws !== null) return;
    if (this.retryTimer !== null) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  /** Sends an outbox item if connected and its uploads are done; returns false when it stays queued. */
  send(item: OutboxItem): boolean {
    if (!this.ready || this.sentOnConnection.has(item.client_id) || (item.uploads?.length ?? 0) > 0) return false;
    this.sentOnConnection.add(item.client_id);
    return this.frame(sendFrame(item));
  }

  /**
   * A send the server refused for now (rate_limited: it is behind on its
   * deliveries): the same item goes out again on this connection after a
   * pause of about a second, unless it has been delivered or refused for good
   * meanwhile. A new connection sends it anyway (flushOutbox).
   */
  sendAgainLater(clientId: string): void {
    if (!this.sentOnConnection.delete(clientId)) return;
    const sent = this.sentOnConnection;
    this.o.timers.setTimeout(
      () => {
        if (this.sentOnConnection !== sent) return; // a new connection sent it already
        const item = this.o.outbox().find((o) => o.client_id === clientId);
        if (item !== undefined && item.error === undefined) this.send(item);
      },
      RETRY_REFUSED_MS + this.o.random() * RETRY_REFUSED_MS,
    );
  }

  typing(groupId: number): boolean {
    return this.ready && this.frame({ type: 'typing', group_id: groupId });
  }

  read(groupId: number, seq: number): boolean {
    return this.ready && this.frame({ type: 'read', group_id: groupId, seq });
  }

  resume(cursors: Cursors): boolean {
    return this.ready && this.frame({ type: 'resume', cursors });
  }

  /**
   * Authenticates the open connection again with a fresh access token, so
   * the server does not close it when the old one expires (no reconnect).
   * A connection still authenticating uses the fresh token anyway.
   */
  reauthenticate(token: string): boolean {
    return this.ready && this.frame({ type: 'auth', token });
  }

  private frame(f: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(f));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    this.retryTimer = null;
    this.setStatus(this.everReady || this.attempt > 0 ? 'reconnecting' : 'connecting');
    let ws: WebSocketLike;
    try {
      ws = this.o.create(this.o.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.ready = false;
    this.sentOnConnection = new Set();
    ws.onopen = () => {
      void this.authenticate(ws);
    };
    ws.onmessage = (ev) => this.onMessage(ws, ev);
    ws.onclose = (ev) => this.onClose(ws, ev.code);
    ws.onerror = () => {
      // A close event always follows; reconnecting happens there.
    };
  }

  private async authenticate(ws: WebSocketLike): Promise<void> {
    let token: string;
    try {
      token = await this.o.token();
    } catch (err) {
      if (ws !== this.ws) return;
      this.detach();
      ws.close(1000, 'no token');
      if (isAuthError(err)) {
        this.running = false;
        this.setStatus('stopped');
        this.o.onAuthLost?.(err);
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (ws !== this.ws) return;
    const cursors = this.o.cursors();
    const frame: ClientFrame = Object.keys(cursors).length > 0 ? { type: 'auth', token, cursors } : { type: 'auth', token };
    ws.send(JSON.stringify(frame));
  }

  private onMessage(ws: WebSocketLike, ev: MessageEvent): void {
    if (ws !== this.ws) return;
    let data: ServerEvent;
    try {
      data = JSON.parse(String(ev.data)) as ServerEvent;
    } catch {
      return;
    }
    if (data.type === 'ready') {
      this.ready = true;
      this.everReady = true;
      this.attempt = 0;
      this.authFailures = 0;
      this.setStatus('online');
      this.startHeartbeat();
      this.o.onEvent(data);
      this.flushOutbox();
      return;
    }
    if (data.type === 'pong') {
      if (this.pongTimer !== null) this.o.timers.clearTimeout(this.pongTimer);
      this.pongTimer = null;
      return;
    }
    this.o.onEvent(data);
  }

  private flushOutbox(): void {
    for (const item of this.o.outbox()) {
      if (item.error === undefined) this.send(item);
    }
  }

  private onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.ws) return;
    this.detach();
    if (!this.running) return;
    if (code === CLOSE_AUTH) {
      this.authFailures++;
      if (this.authFailures > 3) {
        // Fresh tokens keep being refused: back off like any other failure.
        this.scheduleReconnect();
        return;
      }
      this.setStatus('reconnecting');
      this.o.refresh().then(
        () => {
          if (this.running && this.ws === null && this.retryTimer === null) this.connect();
        },
        (err: unknown) => {
          if (isAuthError(err)) {
            this.running = false;
            this.setStatus('stopped');
            this.o.onAuthLost?.(err);
          } else {
            this.scheduleReconnect();
          }
        },
      );
      return;
    }
    if (code === CLOSE_TRY_AGAIN) {
      // The server shed us because we fell behind; come back quickly and resume from the cursors.
      this.setStatus('reconnecting');
      this.retryTimer = this.o.timers.setTimeout(() => this.connect(), this.o.random() * this.o.baseDelayMs);
      return;
    }
    if (code === CLOSE_RATE_LIMITED) this.attempt = Math.max(this.attempt, 3);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    const delay = backoffDelay(this.attempt, this.o.random, this.o.baseDelayMs, this.o.maxDelayMs);
    this.attempt++;
    this.setStatus('reconnecting');
    this.retryTimer = this.o.timers.setTimeout(() => this.connect(), delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const ws = this.ws;
    const tick = (): void => {
      if (ws !== this.ws || !this.ready) return;
      this.frame({ type: 'ping' });
      if (this.pongTimer !== null) this.o.timers.clearTimeout(this.pongTimer);
      // A connection that stays silent is dead even if the browser has not noticed yet.
      this.pongTimer = this.o.timers.setTimeout(() => {
        this.pongTimer = null;
        if (ws === null || ws !== this.ws) return;
        this.detach();
        ws.close(4000, 'heartbeat timeout');
        this.scheduleReconnect();
      }, this.o.pongTimeoutMs);
      this.heartbeatTimer = this.o.timers.setTimeout(tick, this.o.heartbeatMs);
    };
    this.heartbeatTimer = this.o.timers.setTimeout(tick, this.o.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.o.timers.clearTimeout(this.heartbeatTimer);
    if (this.pongTimer !== null) this.o.timers.clearTimeout(this.pongTimer);
    this.heartbeatTimer = null;
    this.pongTimer = null;
  }

  private clearTimers(): void {
    this.stopHeartbeat();
    if (this.retryTimer !== null) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
    }
    this.ws = null;
    this.ready = false;
    this.stopHeartbeat();
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.o.onStatus(s);
  }
}

function isAuthError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'status' in err && (err as { status: unknown }).status === 401;
}

import type { Tokens, TokenStore } from '../api/http';
import type { Timers, WebSocketLike } from '../api/socket';
import type { Message, MyGroup, User } from '../api/types';

/** A WebSocket double: records sent frames; the test drives open, server frames and close. */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }

  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' } as CloseEvent);
  }

  frames(type: string): Record<string, unknown>[] {
    return this.sent.filter((f): f is Record<string, unknown> => (f as { type: string }).type === type);
  }
}

/** Manual clock for timers: nothing runs until the test advances time. */
export class ManualTimers implements Timers {
  now = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Delays of the timers waiting now, in the order they were set. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.ms);
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, p]) => p.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export const alice: User = { id: 1, username: 'alice', display_name: 'Alice', created_at: '2025-01-01T00:00:00Z' };
export const bob: User = { id: 2, username: 'bob', display_name: '', created_at: '2025-01-01T00:00:00Z' };

export function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: 1000 + seq,
    group_id: 7,
    seq,
    sender: bob,
    body: `message ${seq}`,
    client_id: null,
    created_at: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    edited_at: null,
    deleted: false,
    reply_to: null,
    attachments: [],
    reactions: [],
    ...over,
  };
}

/** A conversation of the signed-in user, id 7 unless said otherwise. */
export function myGroup(over: Partial<MyGroup> = {}): MyGroup {
  return {
    id: 7,
    kind: 'group',
    name: 'Team',
    description: '',
    visibility: 'public',
    owner_id: 1,
    member_count: 2,
    last_seq: 3,
    created_at: '2025-01-01T00:00:00Z',
    role: 'owner',
    last_read_seq: 3,
    unread_count: 0,
    last_message: null,
    ...over,
  };
}

/** A token store in memory; value is what is stored. */
export function memoryTokens(initial: Tokens | null): TokenStore & { value: Tokens | null } {
  return {
    value: initial,
    load() {
      return this.value;
    },
    save(t) {
      this.value = t;
    },
  };
}

/** A JSON response as the server sends it. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

import { describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, flush, ManualTimers, msg } from '../test/fakes';
import { backoffDelay, socketUrl, SocketClient, type OutboxItem, type SocketOptions } from './socket';
import type { ServerEvent } from './frames';

function setup(over: Partial<SocketOptions> = {}) {
  const sockets: FakeWebSocket[] = [];
  const timers = new ManualTimers();
  const events: ServerEvent[] = [];
  const statuses: string[] = [];
  const outbox: OutboxItem[] = [];
  let cursors: Record<string, number> = { '7': 40, '9': 3 };
  let token = 'tok-1';
  const refresh = vi.fn(async () => {
    token = 'tok-2';
  });
  const client = new SocketClient({
    url: () => 'ws://test/api/v1/ws',
    create: (url) => {
      const ws = new FakeWebSocket(url);
      sockets.push(ws);
      return ws;
    },
    token: async () => token,
    refresh,
    cursors: () => cursors,
    outbox: () => outbox,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    random: () => 0.5,
    timers,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    ...over,
  });
  const last = () => {
    const ws = sockets[sockets.length - 1];
    if (!ws) throw new Error('no socket');
    return ws;
  };
  const connect = async () => {
    last().open();
    await flush();
    last().receive({ type: 'ready', user: { id: 1, username: 'a', display_name: '', created_at: '' } });
  };
  return {
    client,
    sockets,
    timers,
    events,
    statuses,
    outbox,
    refresh,
    last,
    connect,
    setCursors: (c: Record<string, number>) => (cursors = c),
  };
}

const item = (id: string): OutboxItem => ({ client_id: id, group_id: 7, body: `body ${id}`, created_at: '' });

describe('backoffDelay', () => {
  it('stays within [d/2, d] with d = min(max, base·2ⁿ)', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = Math.min(30_000, 500 * 2 ** attempt);
      expect(backoffDelay(attempt, () => 0, 500, 30_000)).toBe(d / 2);
      expect(backoffDelay(attempt, () => 0.999999, 500, 30_000)).toBeLessThanOrEqual(d);
      expect(backoffDelay(attempt, () => 0.999999, 500, 30_000)).toBeGreaterThan(d * 0.99);
    }
  });

  it('grows exponentially then caps', () => {
    const r = () => 1;
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, r, 500, 30_000))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, r, 500, 30_000)).toBe(30_000);
  });
});

describe('socketUrl', () => {
  it('derives ws/wss from the page', () => {
    expect(socketUrl({ protocol: 'http:', host: 'localhost:5173' })).toBe('ws://localhost:5173/api/v1/ws');
    expect(socketUrl({ protocol: 'https:', host: 'chat.example' })).toBe('wss://chat.example/api/v1/ws');
  });
});

describe('SocketClient', () => {
  it('authenticates with the first frame carrying the cursors, never the URL', async () => {
    const t = setup();
    t.client.start();
    expect(t.last().url).toBe('ws://test/api/v1/ws');
    t.last().open();
    await flush();
    expect(t.last().sent[0]).toEqual({ type: 'auth', token: 'tok-1', cursors: { '7': 40, '9': 3 } });
    t.last().receive({ type: 'ready', user: { id: 1 } });
    expect(t.statuses).toEqual(['connecting', 'online']);
    expect(t.events[0]?.type).toBe('ready');
  });

  it('omits cursors when there are none', async () => {
    const t = setup();
    t.setCursors({});
    t.client.start();
    t.last().open();
    await flush();
    expect(t.last().sent[0]).toEqual({ type: 'auth', token: 'tok-1' });
  });

  it('reconnects with growing, jittered backoff and resets after ready', async () => {
    const t = setup();
    t.client.start();
    t.last().serverClose(1006);
    expect(t.statuses.at(-1)).toBe('reconnecting');
    expect(t.timers.delays()).toEqual([375]); // attempt 0: d=500 → 250 + 0.5·250
    t.timers.advance(375);
    expect(t.sockets).toHaveLength(2);
    t.last().serverClose(1006);
    expect(t.timers.delays()).toEqual([750]); // attempt 1: d=1000
    t.timers.advance(750);
    t.last().serverClose(1006);
    expect(t.timers.delays()).toEqual([1500]);
    t.timers.advance(1500);
    await t.connect();
    t.last().serverClose(1006);
    expect(t.timers.delays()).toEqual([375]); // back to the first step
  });

  it('sends the new cursors on every reconnect (resume)', async () => {
    const t = setup();
    t.client.start();
    await t.connect();
    t.setCursors({ '7': 45 });
    t.last().serverClose(1006);
    t.timers.advance(1000);
    t.last().open();
    await flush();
    expect(t.last().sent[0]).toEqual({ type: 'auth', token: 'tok-1', cursors: { '7': 45 } });
  });

  it('flushes the outbox exactly once per connection and again after a reconnect', async () => {
    const t = setup();
    t.outbox.push(item('a'), item('b'));
    t.client.start();
    await t.connect();
    const first = t.last();
    expect(first.frames('send').map((f) => f.client_id)).toEqual(['a', 'b']);
    expect(first.frames('send')[0]).toMatchObject({ group_id: 7, body: 'body a', ref: 'a' });
    // Sending an item already flushed on this connection does nothing.
    expect(t.client.send(item('a'))).toBe(false);
    t.outbox.push(item('c'));
    expect(t.client.send(item('c'))).toBe(true);
    expect(first.frames('send')).toHaveLength(3);
    // "a" was acknowledged; the others were lost with the connection.
    t.outbox.splice(0, 1);
    first.serverClose(1006);
    t.timers.advance(1000);
    await t.connect();
    expect(t.last().frames('send').map((f) => f.client_id)).toEqual(['b', 'c']);
  });

  it('sends a rate_limited send again on the same connection after a pause, once', async () => {
    const t = setup();
    t.outbox.push(item('a'), item('b'));
    t.client.start();
    await t.connect();
    const ws = t.last();
    expect(ws.frames('send').map((f) => f.client_id)).toEqual(['a', 'b']);
    // The server was behind and refused "a" (nothing stored); "b" went through.
    t.outbox.splice(1, 1);
    t.client.sendAgainLater('a');
    t.client.sendAgainLater('a'); // a second refusal of the same frame schedules nothing more
    t.timers.advance(1400); // 1000 ms + 0.5 · 1000 ms of jitter
    expect(ws.frames('send')).toHaveLength(2);
    t.timers.advance(200);
    expect(ws.frames('send').map((f) => f.client_id)).toEqual(['a', 'b', 'a']);
    t.timers.advance(5000);
    expect(ws.frames('send')).toHaveLength(3);
  });

  it('does not send a rate_limited send again once it was delivered or after a reconnect sent it', async () => {
    const t = setup();
    t.outbox.push(item('a'), item('b'));
    t.client.start();
    await t.connect();
    t.client.sendAgainLater('a');
    t.client.sendAgainLater('b');
    t.outbox.splice(0, 1); // "a" arrived after all (an earlier try of it was stored)
    t.last().serverClose(1013);
    t.timers.advance(1000);
    await t.connect();
    expect(t.last().frames('send').map((f) => f.client_id)).toEqual(['b']);
    t.timers.advance(5000);
    expect(t.last().frames('send').map((f) => f.client_id)).toEqual(['b']);
  });

  it('does not send while disconnected and skips refused items', async () => {
    const t = setup();
    t.client.start();
    expect(t.client.send(item('x'))).toBe(false);
    t.outbox.push(item('x'), { ...item('bad'), error: 'too long' });
    await t.connect();
    expect(t.last().frames('send').map((f) => f.client_id)).toEqual(['x']);
  });

  it('on 4401 refreshes the token and reconnects with the new one', async () => {
    const t = setup();
    t.client.start();
    await t.connect();
    t.last().serverClose(4401);
    expect(t.refresh).toHaveBeenCalledTimes(1);
    await flush();
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    await flush();
    expect(t.last().sent[0]).toMatchObject({ type: 'auth', token: 'tok-2' });
  });

  it('on 4401 with a dead refresh token reports the lost session and stops', async () => {
    const lost = vi.fn();
    const t = setup({
      refresh: async () => {
        throw Object.assign(new Error('expired'), { status: 401 });
      },
      onAuthLost: lost,
    });
    t.client.start();
    await t.connect();
    t.last().serverClose(4401);
    await flush();
    expect(lost).toHaveBeenCalledTimes(1);
    expect(t.statuses.at(-1)).toBe('stopped');
    t.timers.advance(60_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('on 1013 comes back quickly and resumes from the cursors', async () => {
    const t = setup();
    t.client.start();
    await t.connect();
    t.last().serverClose(1013);
    const [delay] = t.timers.delays();
    expect(delay).toBeLessThanOrEqual(500);
    t.timers.advance(500);
    t.last().open();
    await flush();
    expect(t.last().sent[0]).toMatchObject({ type: 'auth', cursors: { '7': 40, '9': 3 } });
  });

  it('passes events through and closes a silent connection after a missed pong', async () => {
    const t = setup({ heartbeatMs: 1000, pongTimeoutMs: 500 });
    t.client.start();
    await t.connect();
    t.last().receive({ type: 'message', message: msg(41) });
    expect(t.events.at(-1)).toMatchObject({ type: 'message' });
    t.timers.advance(1000);
    expect(t.last().frames('ping')).toHaveLength(1);
    t.last().receive({ type: 'pong' });
    t.timers.advance(1000);
    expect(t.last().frames('ping')).toHaveLength(2);
    t.timers.advance(500); // no pong
    expect(t.sockets[0]?.closedWith).toBe(4000);
    expect(t.statuses.at(-1)).toBe('reconnecting');
  });

  it('stop() closes and never reconnects', async () => {
    const t = setup();
    t.client.start();
    await t.connect();
    const ws = t.last();
    t.client.stop();
    expect(ws.closedWith).toBe(1000);
    t.timers.advance(100_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('reconnectNow skips the backoff wait', () => {
    const t = setup();
    t.client.start();
    t.last().serverClose(1006);
    t.client.reconnectNow();
    expect(t.sockets).toHaveLength(2);
    expect(t.timers.delays()).toEqual([]);
  });
});

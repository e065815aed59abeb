import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import type { ChatApi } from '../api/api';
import type { ServerEvent } from '../api/frames';
import type { MessagePage, MyGroup } from '../api/types';
import { alice, bob, FakeWebSocket, flush, ManualTimers, msg, myGroup } from '../test/fakes';
import { ChatStore } from './chat';

/** A fake of the REST API holding group 7's history (and more groups if given). */
function fakeApi(history = [msg(1), msg(2), msg(3)], others: MyGroup[] = []) {
  const calls: string[] = [];
  const tokenListeners = new Set<(t: string) => void>();
  const api = {
    http: {
      accessToken: async () => 'tok',
      refresh: async () => ({}),
      onAccessToken: (fn: (t: string) => void) => {
        tokenListeners.add(fn);
        return () => tokenListeners.delete(fn);
      },
      announce: (t: string) => tokenListeners.forEach((fn) => fn(t)),
    },
    myGroups: async () => ({ items: [myGroup({ last_seq: history.at(-1)?.seq ?? 0 }), ...others] }),
    messages: async (id: number, o: { beforeSeq?: number; afterSeq?: number; limit?: number }): Promise<MessagePage> => {
      calls.push(`messages ${id} before=${o.beforeSeq ?? ''} after=${o.afterSeq ?? ''}`);
      let items = history.filter((m) => m.group_id === id);
      if (o.afterSeq !== undefined) items = items.filter((m) => m.seq > o.afterSeq!);
      if (o.beforeSeq !== undefined) items = items.filter((m) => m.seq < o.beforeSeq!);
      return { items, has_more: false };
    },
    markRead: async (id: number, seq: number) => {
      calls.push(`read ${id} ${seq}`);
    },
    user: async () => bob,
  };
  return { api: api as unknown as ChatApi, calls, history, announce: api.http.announce };
}

async function started(history?: ReturnType<typeof msg>[], others?: MyGroup[]) {
  const { api, calls, announce } = fakeApi(history, others);
  const sockets: FakeWebSocket[] = [];
  const timers = new ManualTimers();
  const store = new ChatStore({
    api,
    me: alice,
    storage: localStorage,
    socket: {
      url: () => 'ws://x/api/v1/ws',
      create: (u) => {
        const ws = new FakeWebSocket(u);
        sockets.push(ws);
        return ws;
      },
      timers,
      random: () => 0,
    },
  });
  await store.start();
  const ws = sockets[0]!;
  ws.open();
  await flush();
  ws.receive({ type: 'ready', user: alice });
  return { store, ws, sockets, timers, calls, announce };
}

describe('ChatStore', () => {
  it('authenticates the open socket again with each refreshed token, without reconnecting', async () => {
    const { store, ws, sockets, announce } = await started();
    announce('fresh-1');
    ws.receive({ type: 'reauthed', expires_in: 900 });
    announce('fresh-2');
    expect(ws.frames('auth').slice(1)).toEqual([
      { type: 'auth', token: 'fresh-1' },
      { type: 'auth', token: 'fresh-2' },
    ]);
    expect(sockets).toHaveLength(1);
    expect(store.status.value).toBe('online');
    store.stop();
    announce('after-stop');
    expect(ws.frames('auth')).toHaveLength(3);
  });

  it('shows a sent message once: outbox → ack → live event', async () => {
    const { store, ws } = await started();
    await store.history.open(7);
    const item = store.send(7, '  hello  ');
    expect(item?.body).toBe('hello');
    const frame = ws.frames('send')[0];
    expect(frame).toMatchObject({ group_id: 7, body: 'hello', client_id: item?.client_id });
    const m = msg(4, { sender: alice, body: 'hello', client_id: item!.client_id });
    ws.receive({ type: 'ack', ref: item!.client_id, message: m });
    ws.receive({ type: 'message', message: m });
    expect(store.history.conversation(7).items.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(store.outbox.items.value).toEqual([]);
    expect(store.conversations.get(7)?.unread_count).toBe(0);
  });

  it('shows a new display name of mine on my loaded messages, the conversation list and the users map', async () => {
    const { store, ws } = await started([msg(1, { sender: alice }), msg(2), msg(3, { sender: alice })]);
    await store.history.open(7);
    ws.receive({ type: 'message', message: msg(4, { sender: alice }) });
    const renamed = { ...alice, display_name: 'Alice Liddell' };
    store.applyMe(renamed);
    const senders = store.history.conversation(7).items.map((m) => `${m.seq}:${m.sender.display_name}`);
    expect(senders).toEqual(['1:Alice Liddell', '2:', '3:Alice Liddell', '4:Alice Liddell']);
    expect(store.conversations.get(7)?.last_message?.sender.display_name).toBe('Alice Liddell');
    expect(store.users.get(alice.id)?.display_name).toBe('Alice Liddell');
    expect(store.me.display_name).toBe('Alice Liddell');
    // Someone else's profile never lands on me.
    store.applyMe({ ...bob, display_name: 'Not Bob' });
    expect(store.me).toEqual(renamed);
  });

  it('keeps the outbox across a reload and sends it with the same client_id after reconnecting', async () => {
    const first = await started();
    first.ws.serverClose(1006);
    const item = first.store.send(7, 'typed offline');
    expect(first.ws.frames('send')).toHaveLength(0);
    first.store.stop();

    // A new page load for the same user reads the outbox back.
    const second = await started();
    expect(second.store.outbox.items.value.map((o) => o.client_id)).toEqual([item!.client_id]);
    expect(second.ws.frames('send')).toEqual([
      { type: 'send', group_id: 7, body: 'typed offline', client_id: item!.client_id, ref: item!.client_id },
    ]);
    second.ws.receive({ type: 'message', message: msg(4, { sender: alice, client_id: item!.client_id }) });
    expect(second.store.outbox.items.value).toEqual([]);
    expect(localStorage.getItem(`chat.outbox.${alice.id}`)).toBeNull();
  });

  it('counts unread messages from others and clears them when read', async () => {
    const { store, ws, calls } = await started();
    ws.receive({ type: 'message', message: msg(4) });
    ws.receive({ type: 'message', message: msg(5) });
    ws.receive({ type: 'message', message: msg(5) }); // duplicate delivery
    expect(store.conversations.get(7)?.unread_count).toBe(2);
    store.markRead(7, 5);
    expect(store.conversations.get(7)?.unread_count).toBe(0);
    expect(ws.frames('read')).toEqual([{ type: 'read', group_id: 7, seq: 5 }]);
    store.markRead(7, 4); // never backwards
    expect(ws.frames('read')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('read'))).toEqual([]);
  });

  it('fills a gap in live events from REST (after_seq)', async () => {
    const history = [msg(1), msg(2), msg(3), msg(4), msg(5), msg(6)];
    const { store, ws } = await started(history.slice(0, 3));
    await store.history.open(7);
    // The server has 6 messages now; only seq 6 reaches us live.
    const { api, calls } = fakeApi(history);
    (store as unknown as { api: ChatApi }).api.messages = api.messages;
    ws.receive({ type: 'message', message: msg(6) });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.history.conversation(7).items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls).toEqual(['messages 7 before= after=3']);
  });

  it('uses held history as the resume cursor', async () => {
    const { store, ws, sockets, timers } = await started();
    await store.history.open(7);
    ws.receive({ type: 'message', message: msg(4) });
    expect(store.cursors()).toEqual({ '7': 4 });
    ws.serverClose(1006);
    timers.advance(1000);
    const next = sockets[1]!;
    next.open();
    await flush();
    expect(next.sent[0]).toMatchObject({ type: 'auth', cursors: { '7': 4 } });
  });

  it('shows typing for 5 s or until that user sends', async () => {
    const { store, ws } = await started();
    ws.receive({ type: 'typing', group_id: 7, user_id: bob.id });
    expect(store.presence.typingIn(7)).toEqual([bob.id]);
    await flush(); // a typist not met before is looked up, to be named
    expect(store.users.get(bob.id)?.username).toBe('bob');
    ws.receive({ type: 'message', message: msg(4, { sender: bob }) });
    expect(store.presence.typingIn(7)).toEqual([]);
  });

  it('sends typing at most every 3 s', async () => {
    let now = 10_000;
    const { store, ws } = await started();
    (store as unknown as { now: () => number }).now = () => now;
    store.notifyTyping(7);
    now += 1000;
    store.notifyTyping(7);
    now += 2500;
    store.notifyTyping(7);
    expect(ws.frames('typing')).toHaveLength(2);
  });

  it('marks a refused message as failed and keeps it out of automatic resends', async () => {
    const { store, ws } = await started();
    const item = store.send(7, 'x')!;
    ws.receive({ type: 'error', ref: item.client_id, error: { code: 'not_member', message: 'You are not a member.' } });
    expect(store.outbox.items.value[0]?.error).toBe('You are not a member.');
    store.retry(item.client_id);
    expect(store.outbox.items.value[0]?.error).toBeUndefined();
  });

  it('sends a message refused with rate_limited again by itself, without marking it failed', async () => {
    const { store, ws, timers } = await started();
    const item = store.send(7, 'x')!;
    expect(ws.frames('send')).toHaveLength(1);
    ws.receive({ type: 'error', ref: item.client_id, error: { code: 'rate_limited', message: 'The server is busy.' } });
    expect(store.outbox.items.value[0]?.error).toBeUndefined();
    timers.advance(2000);
    expect(ws.frames('send').map((f) => f.client_id)).toEqual([item.client_id, item.client_id]);
  });

  it('updates only the conversation and the message list that a new message belongs to', async () => {
    const other = myGroup({ id: 8, name: 'Other', last_seq: 1, last_read_seq: 1, created_at: '2024-01-01T00:00:00Z' });
    const { store, ws } = await started([msg(1), msg(2), msg(3), msg(1, { id: 2001, group_id: 8 })], [other]);
    await store.history.open(7);
    await store.history.open(8);
    const runs = { group7: 0, list7: 0, group8: 0, list8: 0, order: 0, unread: 0 };
    const stop = [
      effect(() => void (store.conversations.get(7), runs.group7++)),
      effect(() => void (store.history.conversation(7), runs.list7++)),
      effect(() => void (store.conversations.get(8), runs.group8++)),
      effect(() => void (store.history.conversation(8), runs.list8++)),
      effect(() => void (store.conversations.order.value, runs.order++)),
      effect(() => void (store.conversations.unreadTotal.value, runs.unread++)),
    ];
    ws.receive({ type: 'message', message: msg(4) });
    stop.forEach((s) => s());
    // Group 7 was already the most recent: the order stands, the unread total moved.
    expect(runs).toEqual({ group7: 2, list7: 2, group8: 1, list8: 1, order: 1, unread: 2 });
    expect(store.conversations.order.value).toEqual([7, 8]);
    expect(store.conversations.unreadTotal.value).toBe(1);
  });

  it('ignores an event type it does not know (a newer server)', async () => {
    const { store, ws } = await started();
    ws.receive({ type: 'reaction', group_id: 7, message_id: 1, emoji: '👍' });
    expect(() => store.handleEvent({ type: 'bogus' } as unknown as ServerEvent)).not.toThrow();
    ws.receive({ type: 'message', message: msg(4) });
    expect(store.conversations.get(7)?.last_seq).toBe(4);
  });
});

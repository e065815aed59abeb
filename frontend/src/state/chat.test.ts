import { describe, expect, it } from 'vitest';
import type { ChatApi } from '../api/api';
import type { MessagePage, MyGroup } from '../api/types';
import { alice, bob, FakeWebSocket, flush, ManualTimers, msg } from '../test/fakes';
import { ChatStore } from './chat';

function myGroup(over: Partial<MyGroup> = {}): MyGroup {
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

/** A fake of the REST API holding one group's history. */
function fakeApi(history = [msg(1), msg(2), msg(3)]) {
  const calls: string[] = [];
  const api = {
    http: { accessToken: async () => 'tok', refresh: async () => ({}) },
    myGroups: async () => ({ items: [myGroup({ last_seq: history.at(-1)?.seq ?? 0 })] }),
    messages: async (id: number, o: { beforeSeq?: number; afterSeq?: number; limit?: number }): Promise<MessagePage> => {
      calls.push(`messages ${id} before=${o.beforeSeq ?? ''} after=${o.afterSeq ?? ''}`);
      let items = history;
      if (o.afterSeq !== undefined) items = items.filter((m) => m.seq > o.afterSeq!);
      if (o.beforeSeq !== undefined) items = items.filter((m) => m.seq < o.beforeSeq!);
      return { items, has_more: false };
    },
    markRead: async (id: number, seq: number) => {
      calls.push(`read ${id} ${seq}`);
    },
    user: async () => bob,
  };
  return { api: api as unknown as ChatApi, calls, history };
}

async function started(history?: ReturnType<typeof msg>[]) {
  const { api, calls } = fakeApi(history);
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
  return { store, ws, sockets, timers, calls };
}

describe('ChatStore', () => {
  it('shows a sent message once: outbox → ack → live event', async () => {
    const { store, ws } = await started();
    await store.openConversation(7);
    const item = store.send(7, '  hello  ');
    expect(item?.body).toBe('hello');
    const frame = ws.frames('send')[0];
    expect(frame).toMatchObject({ group_id: 7, body: 'hello', client_id: item?.client_id });
    const m = msg(4, { sender: alice, body: 'hello', client_id: item!.client_id });
    ws.receive({ type: 'ack', ref: item!.client_id, message: m });
    ws.receive({ type: 'message', message: m });
    expect(store.conversation(7).items.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(store.outbox.value).toEqual([]);
    expect(store.group(7)?.unread_count).toBe(0);
  });

  it('shows a new display name of mine on my loaded messages, the conversation list and the users map', async () => {
    const { store, ws } = await started([msg(1, { sender: alice }), msg(2), msg(3, { sender: alice })]);
    await store.openConversation(7);
    ws.receive({ type: 'message', message: msg(4, { sender: alice }) });
    const renamed = { ...alice, display_name: 'Alice Liddell' };
    store.applyMe(renamed);
    const senders = store.conversation(7).items.map((m) => `${m.seq}:${m.sender.display_name}`);
    expect(senders).toEqual(['1:Alice Liddell', '2:', '3:Alice Liddell', '4:Alice Liddell']);
    expect(store.group(7)?.last_message?.sender.display_name).toBe('Alice Liddell');
    expect(store.users.value[alice.id]?.display_name).toBe('Alice Liddell');
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
    expect(second.store.outbox.value.map((o) => o.client_id)).toEqual([item!.client_id]);
    expect(second.ws.frames('send')).toEqual([
      { type: 'send', group_id: 7, body: 'typed offline', client_id: item!.client_id, ref: item!.client_id },
    ]);
    second.ws.receive({ type: 'message', message: msg(4, { sender: alice, client_id: item!.client_id }) });
    expect(second.store.outbox.value).toEqual([]);
    expect(localStorage.getItem(`chat.outbox.${alice.id}`)).toBeNull();
  });

  it('counts unread messages from others and clears them when read', async () => {
    const { store, ws, calls } = await started();
    ws.receive({ type: 'message', message: msg(4) });
    ws.receive({ type: 'message', message: msg(5) });
    ws.receive({ type: 'message', message: msg(5) }); // duplicate delivery
    expect(store.group(7)?.unread_count).toBe(2);
    store.markRead(7, 5);
    expect(store.group(7)?.unread_count).toBe(0);
    expect(ws.frames('read')).toEqual([{ type: 'read', group_id: 7, seq: 5 }]);
    store.markRead(7, 4); // never backwards
    expect(ws.frames('read')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('read'))).toEqual([]);
  });

  it('fills a gap in live events from REST (after_seq)', async () => {
    const history = [msg(1), msg(2), msg(3), msg(4), msg(5), msg(6)];
    const { store, ws } = await started(history.slice(0, 3));
    await store.openConversation(7);
    // The server has 6 messages now; only seq 6 reaches us live.
    const { api, calls } = fakeApi(history);
    (store as unknown as { api: ChatApi }).api.messages = api.messages;
    ws.receive({ type: 'message', message: msg(6) });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.conversation(7).items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls).toEqual(['messages 7 before= after=3']);
  });

  it('uses held history as the resume cursor', async () => {
    const { store, ws, sockets, timers } = await started();
    await store.openConversation(7);
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
    store.rememberUsers([bob]);
    ws.receive({ type: 'typing', group_id: 7, user_id: bob.id });
    expect(store.typingNames(7)).toEqual(['bob']);
    ws.receive({ type: 'message', message: msg(4, { sender: bob }) });
    expect(store.typingNames(7)).toEqual([]);
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
    expect(store.outbox.value[0]?.error).toBe('You are not a member.');
    store.retry(item.client_id);
    expect(store.outbox.value[0]?.error).toBeUndefined();
  });
});

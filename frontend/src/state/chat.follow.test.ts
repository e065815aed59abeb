import { describe, expect, it, vi } from 'vitest';
import type { ChatApi } from '../api/api';
import type { Message, MessagePage, MyGroup } from '../api/types';
import { alice, bob, FakeWebSocket, flush, ManualTimers, msg, myGroup } from '../test/fakes';
import { fakeNotifications } from '../test/notifications';
import { ChatStore } from './chat';

// The ChatStore's wiring of find-and-follow: notifications of live messages, receipts from read events.

async function started(groups: MyGroup[], api: Partial<ChatApi> = {}) {
  const fake = fakeNotifications('granted');
  const view = { active: null as number | null, activeId: () => view.active, hidden: () => false, open: vi.fn(), text: (m: Message) => ({ title: 't', body: m.body }) };
  const sockets: FakeWebSocket[] = [];
  const full = {
    http: { accessToken: async () => 'tok', refresh: async () => ({}), onAccessToken: () => () => undefined },
    myGroups: async () => ({ items: groups }),
    messages: async (): Promise<MessagePage> => ({ items: [], has_more: false }),
    markRead: async () => undefined,
    user: async () => bob,
    ...api,
  };
  const store = new ChatStore({
    api: full as unknown as ChatApi,
    me: alice,
    storage: localStorage,
    notifications: { api: fake.api, view },
    socket: {
      url: () => 'ws://x/api/v1/ws',
      create: (u) => {
        const ws = new FakeWebSocket(u);
        sockets.push(ws);
        return ws;
      },
      timers: new ManualTimers(),
      random: () => 0,
    },
  });
  await store.start();
  const ws = sockets[0]!;
  ws.open();
  await flush();
  ws.receive({ type: 'ready', user: alice });
  await store.notifier.enable();
  return { store, ws, shown: fake.shown, view };
}

describe('ChatStore notifications', () => {
  it('notifies live messages once, not acks of my own nor messages already known', async () => {
    const { store, ws, shown, view } = await started([myGroup({ id: 7, last_seq: 3, last_read_seq: 3 }), myGroup({ id: 8, last_seq: 1, last_read_seq: 1 })]);
    view.active = 8;
    ws.receive({ type: 'message', message: msg(4, { body: 'new one' }) });
    ws.receive({ type: 'message', message: msg(4, { body: 'new one' }) });
    ws.receive({ type: 'message', message: msg(2, { body: 'old one' }) });
    ws.receive({ type: 'ack', message: msg(5, { sender: alice }) });
    ws.receive({ type: 'message', message: msg(2, { group_id: 8, body: 'in the open one' }) });
    expect(shown.map((s) => s.options?.body)).toEqual(['new one']);
    store.stop();
  });

  it('notifies a mention in a muted group, not a plain message, and keeps the mention badge', async () => {
    const { store, ws, shown } = await started([myGroup({ id: 7, last_seq: 3, last_read_seq: 3, muted: true })]);
    ws.receive({ type: 'message', message: msg(4, { body: 'plain' }) });
    ws.receive({ type: 'message', message: msg(5, { body: '@alice hi', mentions: [alice.id] }) });
    expect(shown.map((s) => s.options?.body)).toEqual(['@alice hi']);
    expect(store.conversations.peek(7)?.mention_count).toBe(1);
    store.stop();
  });
});

describe('ChatStore receipts', () => {
  it('moves other members’ markers on read events with user_id, one’s own without', async () => {
    const reads = vi.fn(async () => ({ items: [{ user_id: bob.id, last_read_seq: 1 }] }));
    const { store, ws } = await started([myGroup({ id: 7, last_seq: 3, last_read_seq: 1 })], { reads } as Partial<ChatApi>);
    await store.receipts.load(7);
    ws.receive({ type: 'read', group_id: 7, seq: 3, user_id: bob.id });
    expect(store.receipts.of(7)?.get(bob.id)).toBe(3);
    expect(store.conversations.peek(7)?.last_read_seq).toBe(1);
    ws.receive({ type: 'read', group_id: 7, seq: 2 });
    expect(store.conversations.peek(7)?.last_read_seq).toBe(2);
    expect(store.receipts.of(7)?.get(bob.id)).toBe(3);
    store.stop();
  });
});

describe('ChatStore.loadReceipts', () => {
  it('loads the members when a reader is not known by name yet', async () => {
    const dave = { ...bob, id: 4, username: 'dave', display_name: 'Dave' };
    const members = vi.fn(async () => ({ items: [{ ...dave, role: 'member' as const }] }));
    const reads = async () => ({ items: [{ user_id: dave.id, last_read_seq: 2 }] });
    const { store } = await started([myGroup({ id: 7 })], { reads, members } as Partial<ChatApi>);
    await store.loadReceipts(7);
    expect(members).toHaveBeenCalledWith(7);
    expect(store.users.get(dave.id)?.display_name).toBe('Dave');
    await store.loadReceipts(7);
    expect(members).toHaveBeenCalledTimes(1);
    store.stop();
  });
});

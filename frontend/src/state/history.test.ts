import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import type { Message, MessagePage } from '../api/types';
import { alice, bob, msg } from '../test/fakes';
import { HistoryStore } from './history';

/** A history store over a server holding `server` (all groups), with what it reports. */
function setup(server: Message[], lastSeq: Record<number, number> = {}) {
  const calls: string[] = [];
  const arrived: number[] = [];
  let fail: Error | null = null;
  const store = new HistoryStore({
    api: {
      messages: async (id, o = {}): Promise<MessagePage> => {
        calls.push(`${id} before=${o.beforeSeq ?? ''} after=${o.afterSeq ?? ''} limit=${o.limit ?? ''}`);
        if (fail) throw fail;
        let items = server.filter((m) => m.group_id === id);
        if (o.afterSeq !== undefined) items = items.filter((m) => m.seq > o.afterSeq!);
        if (o.beforeSeq !== undefined) items = items.filter((m) => m.seq < o.beforeSeq!);
        const limit = o.limit ?? 50;
        const page = o.afterSeq !== undefined ? items.slice(0, limit) : items.slice(-limit);
        return { items: page, has_more: page.length < items.length };
      },
    },
    lastSeq: (id) => lastSeq[id] ?? 0,
    onArrived: (msgs) => arrived.push(...msgs.map((m) => m.seq)),
    describe: (err) => (err instanceof Error ? err.message : 'failed'),
  });
  return { store, calls, arrived, failWith: (e: Error | null) => (fail = e) };
}

const seqs = (s: HistoryStore, id = 7) => s.conversation(id).items.map((m) => m.seq);
const range = (from: number, to: number, over: Partial<Message> = {}) =>
  Array.from({ length: to - from + 1 }, (_, i) => msg(from + i, over));

describe('HistoryStore', () => {
  it('opens with the latest page and then loads older ones', async () => {
    const { store, calls } = setup(range(1, 120));
    await store.open(7);
    expect(seqs(store)).toEqual(range(71, 120).map((m) => m.seq));
    expect(store.conversation(7)).toMatchObject({ loaded: true, hasMore: true, error: null });
    await store.loadOlder(7);
    expect(seqs(store)[0]).toBe(21);
    await store.loadOlder(7);
    expect(seqs(store)).toHaveLength(120);
    expect(store.conversation(7).hasMore).toBe(false);
    await store.loadOlder(7); // nothing more: no request
    expect(calls).toEqual(['7 before= after= limit=50', '7 before=71 after= limit=50', '7 before=21 after= limit=50']);
  });

  it('tells every arrival (first page, live, back-fill) to onArrived', async () => {
    const { store, arrived } = setup(range(1, 3));
    await store.open(7);
    store.received(msg(4));
    expect(arrived).toEqual([1, 2, 3, 4]);
  });

  it('shows a message once however often it arrives, in seq order', async () => {
    const { store } = setup(range(1, 3));
    await store.open(7);
    store.received(msg(5));
    store.received(msg(5));
    store.received(msg(3));
    expect(seqs(store).filter((s) => s === 5)).toHaveLength(1);
    expect(seqs(store)).toEqual([...new Set(seqs(store))].sort((a, b) => a - b));
  });

  it('back-fills after a live message that skips seqs', async () => {
    const server = range(1, 3);
    const { store, calls } = setup(server, { 7: 3 });
    await store.open(7);
    server.push(msg(4), msg(5), msg(6));
    calls.length = 0;
    store.received(msg(6));
    await store.backfill(7);
    expect(seqs(store)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls).toEqual(['7 before= after=3 limit=200']);
  });

  it('back-fills up to the last seq the conversation list knows', async () => {
    const server = range(1, 3);
    const last = { 7: 3 };
    const { store } = setup(server, last);
    await store.open(7);
    server.push(msg(4), msg(5));
    last[7] = 5;
    await store.backfill(7);
    expect(seqs(store)).toEqual([1, 2, 3, 4, 5]);
    expect(store.heldEnd(7)).toBe(5);
  });

  it('runs one back-fill per conversation at a time', async () => {
    const server = range(1, 3);
    const last = { 7: 3 };
    const { store, calls } = setup(server, last);
    await store.open(7);
    server.push(msg(4));
    last[7] = 4;
    calls.length = 0;
    const a = store.backfill(7);
    const b = store.backfill(7);
    expect(b).toBe(a);
    await a;
    await new Promise((r) => setTimeout(r, 0));
    expect(seqs(store)).toEqual([1, 2, 3, 4]);
    expect(calls.filter((c) => c.includes('after=3'))).toHaveLength(1);
  });

  it('keeps the error of a failed first page and loads on retry', async () => {
    const { store, failWith } = setup(range(1, 2));
    failWith(new Error('Cannot reach the server.'));
    await store.open(7);
    expect(store.conversation(7)).toMatchObject({ loaded: false, error: 'Cannot reach the server.' });
    failWith(null);
    await store.open(7);
    expect(store.conversation(7)).toMatchObject({ loaded: true, error: null });
    expect(seqs(store)).toEqual([1, 2]);
  });

  it('changes only held conversations on edits, and finds a message to delete', async () => {
    const { store } = setup([...range(1, 2), msg(1, { id: 5001, group_id: 8 })]);
    await store.open(7);
    store.updated(msg(1, { id: 5001, group_id: 8, body: 'edited', edited_at: '2025-02-01T00:00:00Z' }));
    expect(store.conversation(8).items).toEqual([]);
    store.updated(msg(2, { body: 'edited', edited_at: '2025-02-01T00:00:00Z' }));
    expect(store.conversation(7).items[1]?.body).toBe('edited');
    expect(store.find(1002)?.body).toBe('edited');
    expect(store.find(5001)).toBeUndefined();
  });

  it('notifies the readers of one conversation only', async () => {
    const { store } = setup([...range(1, 2), msg(1, { id: 5001, group_id: 8 })]);
    await store.open(7);
    await store.open(8);
    let seven = 0;
    let eight = 0;
    const stops = [effect(() => void (store.conversation(7), seven++)), effect(() => void (store.conversation(8), eight++))];
    store.received(msg(3));
    store.received(msg(3)); // a duplicate changes nothing
    stops.forEach((s) => s());
    expect({ seven, eight }).toEqual({ seven: 2, eight: 1 });
  });

  it('shows a new profile on the messages already held', async () => {
    const { store } = setup([msg(1, { sender: alice }), msg(2, { sender: bob })]);
    await store.open(7);
    store.renameSender({ ...alice, display_name: 'Alice Liddell' });
    expect(store.conversation(7).items.map((m) => m.sender.display_name)).toEqual(['Alice Liddell', '']);
  });

  it('forgets a conversation left', async () => {
    const { store } = setup(range(1, 2));
    await store.open(7);
    expect(store.held()).toEqual([7]);
    store.forget(7);
    expect(store.held()).toEqual([]);
    expect(store.conversation(7).loaded).toBe(false);
    expect(store.heldEnd(7)).toBeNull();
  });
});

describe('HistoryStore.openAt (a search result)', () => {
  it('loads the pages around the message, then joins them to the latest', async () => {
    const { store, calls } = setup(range(1, 300), { 7: 300 });
    await store.openAt(7, 100);
    expect(calls.slice(0, 2)).toEqual(['7 before=101 after= limit=25', '7 before= after=100 limit=25']);
    expect(seqs(store).slice(0, 50)).toEqual(range(76, 125).map((m) => m.seq));
    expect(store.conversation(7).hasMore).toBe(true);
    await store.backfill(7);
    expect(seqs(store)).toEqual(range(76, 300).map((m) => m.seq));
  });

  it('adds an older message to a conversation already open, and knows there is nothing before the first page', async () => {
    const { store } = setup(range(1, 120), { 7: 120 });
    await store.open(7);
    await store.openAt(7, 10);
    await store.backfill(7);
    expect(seqs(store)).toEqual(range(1, 120).map((m) => m.seq));
    expect(store.conversation(7).hasMore).toBe(false);
  });

  it('asks nothing when the message is held', async () => {
    const { store, calls } = setup(range(1, 20), { 7: 20 });
    await store.open(7);
    calls.length = 0;
    await store.openAt(7, 5);
    expect(calls.filter((c) => c.includes('limit=25'))).toEqual([]);
  });
});

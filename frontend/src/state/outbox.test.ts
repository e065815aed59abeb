import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import type { OutboxItem } from '../api/socket';
import { alice, bob, msg } from '../test/fakes';
import { OutboxStore } from './outbox';

const KEY = 'chat.outbox.1';
const item = (client_id: string, group_id = 7): OutboxItem => ({ client_id, group_id, body: client_id, created_at: '' });

describe('OutboxStore', () => {
  it('keeps its items in storage across a reload, and clears the key when empty', () => {
    const a = new OutboxStore(localStorage, KEY, alice.id);
    a.add(item('x'));
    a.add(item('y', 8));
    const b = new OutboxStore(localStorage, KEY, alice.id);
    expect(b.items.value.map((o) => o.client_id)).toEqual(['x', 'y']);
    b.discard('x');
    b.discard('y');
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it('reads nothing from a corrupt or foreign entry', () => {
    localStorage.setItem(KEY, '{not json');
    expect(new OutboxStore(localStorage, KEY, alice.id).items.value).toEqual([]);
    localStorage.setItem(KEY, JSON.stringify([{ client_id: 1 }, item('ok')]));
    expect(new OutboxStore(localStorage, KEY, alice.id).items.value.map((o) => o.client_id)).toEqual(['ok']);
  });

  it('drops an item when its message arrives from me, not from someone else with the same client_id', () => {
    const s = new OutboxStore(localStorage, KEY, alice.id);
    s.add(item('a'));
    s.add(item('b'));
    s.delivered([msg(1, { sender: bob, client_id: 'a' })]);
    expect(s.items.value).toHaveLength(2);
    s.delivered([msg(2, { sender: alice, client_id: 'a' })]);
    expect(s.items.value.map((o) => o.client_id)).toEqual(['b']);
  });

  it('marks a permanent refusal for the user and leaves others for the next connection', () => {
    const s = new OutboxStore(localStorage, KEY, alice.id);
    s.add(item('a'));
    s.refused('a', { code: 'rate_limited', message: 'Slow down.' });
    expect(s.find('a')?.error).toBeUndefined();
    s.refused('a', { code: 'not_member', message: 'You are not a member.' });
    expect(s.find('a')?.error).toBe('You are not a member.');
    const again = s.retry('a');
    expect(again).toEqual(item('a'));
    expect(s.find('a')?.error).toBeUndefined();
    expect(s.retry('gone')).toBeUndefined();
  });

  it('gives each conversation its pending items, re-computed only when they change', () => {
    const s = new OutboxStore(localStorage, KEY, alice.id);
    s.add(item('a', 7));
    const seven = s.pendingIn(7);
    expect(s.pendingIn(7)).toBe(seven);
    let runs = 0;
    const stop = effect(() => void (seven.value, runs++));
    s.add(item('b', 8));
    s.delivered([msg(1, { sender: alice, client_id: 'b', group_id: 8 })]);
    expect(runs).toBe(1);
    s.add(item('c', 7));
    stop();
    expect(runs).toBe(2);
    expect(seven.value.map((o) => o.client_id)).toEqual(['a', 'c']);
  });
});

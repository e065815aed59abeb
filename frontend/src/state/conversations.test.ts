import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import type { MyGroup } from '../api/types';
import { alice, bob, msg, myGroup } from '../test/fakes';
import {
  asMyGroup,
  ConversationsStore,
  sortByActivity,
  unreadCount,
  withGroupUpdate,
  withMessage,
  withRead,
  withReload,
} from './conversations';

const group = (id: number, over: Partial<MyGroup> = {}) =>
  myGroup({ id, name: `g${id}`, role: 'member', last_seq: 0, last_read_seq: 0, ...over });

describe('unread counts', () => {
  it('is last_seq minus last_read_seq, never negative', () => {
    expect(unreadCount({ last_seq: 10, last_read_seq: 4 })).toBe(6);
    expect(unreadCount({ last_seq: 3, last_read_seq: 5 })).toBe(0);
  });

  it('grows with messages from others, not with own messages', () => {
    let g = group(7, { last_seq: 2, last_read_seq: 2 });
    g = withMessage(g, msg(3, { sender: bob }), alice.id);
    g = withMessage(g, msg(4, { sender: bob }), alice.id);
    expect(g.unread_count).toBe(2);
    g = withMessage(g, msg(5, { sender: alice }), alice.id);
    expect(g.unread_count).toBe(0);
    expect(g.last_message?.seq).toBe(5);
  });

  it('does not count a message twice', () => {
    let g = group(7, { last_seq: 2, last_read_seq: 2 });
    g = withMessage(g, msg(3), alice.id);
    const once = g;
    g = withMessage(g, msg(3), alice.id);
    expect(g.unread_count).toBe(1);
    expect(g).toBe(once);
  });

  it('read markers only move forward', () => {
    let g = group(7, { last_seq: 9, last_read_seq: 5, unread_count: 4 });
    expect(withRead(g, 3)).toBe(g);
    g = withRead(g, 8);
    expect(g.unread_count).toBe(1);
  });

  it('keeps role and marker on group_updated', () => {
    const g = withGroupUpdate(group(7, { role: 'admin', last_read_seq: 3, last_seq: 5 }), { ...group(7), name: 'renamed', last_seq: 5 });
    expect(g).toMatchObject({ name: 'renamed', role: 'admin', last_read_seq: 3, unread_count: 2 });
  });

  it('keeps on a reload what moved forward locally while it was in flight', () => {
    const held = group(7, { last_seq: 6, last_read_seq: 6, last_message: msg(6) });
    const fresh = group(7, { last_seq: 5, last_read_seq: 4, unread_count: 1, last_message: msg(5), description: 'new' });
    expect(withReload(fresh, held)).toMatchObject({ last_seq: 6, last_read_seq: 6, unread_count: 0, description: 'new' });
    expect(withReload(fresh, held).last_message?.seq).toBe(6);
    expect(withReload(fresh, undefined)).toBe(fresh);
  });
});

describe('sortByActivity', () => {
  it('puts the most recent conversation first', () => {
    const old = group(1, { last_message: msg(1, { created_at: '2025-01-01T10:00:00Z' }) });
    const recent = group(2, { last_message: msg(1, { created_at: '2025-01-03T10:00:00Z' }) });
    const empty = group(3, { created_at: '2025-01-02T00:00:00Z' });
    expect(sortByActivity([old, recent, empty]).map((g) => g.id)).toEqual([2, 3, 1]);
  });
});

describe('ConversationsStore', () => {
  function store(...groups: MyGroup[]) {
    const s = new ConversationsStore(alice.id);
    s.replaceAll(groups);
    return s;
  }

  it('orders by activity and keeps the same order array while the order stands', () => {
    const s = store(
      group(1, { last_message: msg(1, { group_id: 1, created_at: '2025-01-01T10:00:00Z' }) }),
      group(2, { last_message: msg(1, { group_id: 2, created_at: '2025-01-02T10:00:00Z' }) }),
    );
    const before = s.order.value;
    expect(before).toEqual([2, 1]);
    s.message(msg(2, { group_id: 2, created_at: '2025-01-03T10:00:00Z' }));
    expect(s.order.value).toBe(before);
    s.message(msg(2, { group_id: 1, created_at: '2025-01-04T10:00:00Z' }));
    expect(s.order.value).toEqual([1, 2]);
  });

  it('totals unread messages across conversations', () => {
    const s = store(group(1, { last_seq: 3, last_read_seq: 1, unread_count: 2 }), group(2, { last_seq: 5, last_read_seq: 5 }));
    expect(s.unreadTotal.value).toBe(2);
    s.message(msg(6, { group_id: 2 }));
    expect(s.unreadTotal.value).toBe(3);
    s.read(1, 3);
    expect(s.unreadTotal.value).toBe(1);
  });

  it('notifies the readers of one conversation only', () => {
    const s = store(group(1), group(2));
    let one = 0;
    let two = 0;
    const stop1 = effect(() => void (s.get(1), one++));
    const stop2 = effect(() => void (s.get(2), two++));
    s.message(msg(1, { group_id: 2 }));
    s.read(2, 1);
    s.memberCount(2, 1);
    stop1();
    stop2();
    expect({ one, two }).toEqual({ one: 1, two: 4 });
  });

  it('adds a conversation once and forgets a removed one', () => {
    const s = store(group(1));
    const held = s.get(1)!;
    expect(s.add(asMyGroup({ ...group(1), name: 'again' }, 'member'))).toBe(held);
    const added = s.add(asMyGroup(group(9, { last_seq: 4 }), 'owner'));
    expect(added).toMatchObject({ id: 9, role: 'owner', last_read_seq: 4, unread_count: 0, last_message: null });
    expect(s.order.value).toEqual([9, 1]);
    expect(s.remove(1)).toBe(true);
    expect(s.get(1)).toBeUndefined();
    expect(s.remove(1)).toBe(false);
    expect(s.list().map((g) => g.id)).toEqual([9]);
  });

  it('drops on reload the conversations the server no longer lists', () => {
    const s = store(group(1), group(2));
    s.replaceAll([group(2)]);
    expect(s.get(1)).toBeUndefined();
    expect(s.order.value).toEqual([2]);
  });

  it('shows a new profile in the previews of its messages', () => {
    const s = store(group(1, { last_message: msg(1, { group_id: 1, sender: alice }) }), group(2, { last_message: msg(1, { group_id: 2 }) }));
    const other = s.get(2);
    s.renameSender({ ...alice, display_name: 'Alice Liddell' });
    expect(s.get(1)?.last_message?.sender.display_name).toBe('Alice Liddell');
    expect(s.get(2)).toBe(other);
  });
});

import { describe, expect, it } from 'vitest';
import type { MyGroup } from '../api/types';
import { alice, bob, msg } from '../test/fakes';
import { applyGroupUpdated, applyMessage, applyRead, sortByActivity, unreadCount } from './groups';

function group(id: number, over: Partial<MyGroup> = {}): MyGroup {
  return {
    id,
    kind: 'group',
    name: `g${id}`,
    description: '',
    visibility: 'public',
    owner_id: 1,
    member_count: 2,
    last_seq: 0,
    created_at: '2025-01-01T00:00:00Z',
    role: 'member',
    last_read_seq: 0,
    unread_count: 0,
    last_message: null,
    ...over,
  };
}

describe('unread counts', () => {
  it('is last_seq minus last_read_seq, never negative', () => {
    expect(unreadCount({ last_seq: 10, last_read_seq: 4 })).toBe(6);
    expect(unreadCount({ last_seq: 3, last_read_seq: 5 })).toBe(0);
  });

  it('grows with messages from others, not with own messages', () => {
    let gs = [group(7, { last_seq: 2, last_read_seq: 2 })];
    gs = applyMessage(gs, msg(3, { sender: bob }), alice.id);
    gs = applyMessage(gs, msg(4, { sender: bob }), alice.id);
    expect(gs[0]?.unread_count).toBe(2);
    gs = applyMessage(gs, msg(5, { sender: alice }), alice.id);
    expect(gs[0]?.unread_count).toBe(0);
    expect(gs[0]?.last_message?.seq).toBe(5);
  });

  it('does not count a message twice', () => {
    let gs = [group(7, { last_seq: 2, last_read_seq: 2 })];
    gs = applyMessage(gs, msg(3), alice.id);
    gs = applyMessage(gs, msg(3), alice.id);
    expect(gs[0]?.unread_count).toBe(1);
  });

  it('read markers only move forward', () => {
    let gs = [group(7, { last_seq: 9, last_read_seq: 5, unread_count: 4 })];
    gs = applyRead(gs, 7, 3);
    expect(gs[0]?.last_read_seq).toBe(5);
    gs = applyRead(gs, 7, 8);
    expect(gs[0]?.unread_count).toBe(1);
  });

  it('keeps role and marker on group_updated', () => {
    const gs = applyGroupUpdated([group(7, { role: 'admin', last_read_seq: 3, last_seq: 5 })], {
      ...group(7),
      name: 'renamed',
      last_seq: 5,
    });
    expect(gs[0]).toMatchObject({ name: 'renamed', role: 'admin', last_read_seq: 3, unread_count: 2 });
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

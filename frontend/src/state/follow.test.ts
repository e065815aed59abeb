import { describe, expect, it } from 'vitest';
import type { Message, MyGroup } from '../api/types';
import { alice, bob, msg, myGroup } from '../test/fakes';
import { ConversationsStore, withMessage, withRead, withReload } from './conversations';

const group = (over: Partial<MyGroup> = {}) =>
  myGroup({ role: 'member', last_seq: 2, last_read_seq: 2, ...over });
const mentioning = (seq: number, ids: number[], over: Partial<Message> = {}) => msg(seq, { sender: bob, mentions: ids, ...over });

describe('mention counts', () => {
  it('grows with new messages from others that mention me, once per message', () => {
    let g = group();
    g = withMessage(g, mentioning(3, [alice.id]), alice.id);
    g = withMessage(g, mentioning(3, [alice.id]), alice.id); // the same message again (ack, replay)
    g = withMessage(g, mentioning(4, [bob.id]), alice.id);
    g = withMessage(g, msg(5, { sender: bob }), alice.id);
    expect(g.mention_count).toBe(1);
    expect(g.unread_count).toBe(3);
  });

  it('does not count my own messages naming me, nor messages already read', () => {
    let g = group();
    g = withMessage(g, mentioning(3, [alice.id], { sender: alice }), alice.id);
    expect(g.mention_count).toBe(0);
    g = withMessage(group({ last_seq: 2, last_read_seq: 9 }), mentioning(3, [alice.id]), alice.id);
    expect(g.mention_count).toBe(0);
  });

  it('is cleared by reading to the end, kept by reading part way', () => {
    let g = group({ last_seq: 6, last_read_seq: 2, mention_count: 2 });
    g = withRead(g, 4);
    expect(g.mention_count).toBe(2);
    g = withRead(g, 6);
    expect(g.mention_count).toBe(0);
    g = withMessage(group({ last_seq: 2, last_read_seq: 2, mention_count: 1 }), mentioning(3, [], { sender: alice }), alice.id);
    expect(g.mention_count).toBe(0);
  });

  it('takes a fresh count from the server unless read here to the end meanwhile', () => {
    const fresh = group({ last_seq: 5, last_read_seq: 2, mention_count: 1 });
    expect(withReload(fresh, group({ last_seq: 5, last_read_seq: 3 })).mention_count).toBe(1);
    expect(withReload(fresh, group({ last_seq: 5, last_read_seq: 5 })).mention_count).toBe(0);
  });
});

describe('mute', () => {
  it('takes the answer of PATCH /me/groups/{id}, keeping what moved here', () => {
    const s = new ConversationsStore(alice.id);
    s.replaceAll([group({ last_seq: 2 })]);
    s.message(msg(3, { sender: bob }));
    s.mine(group({ last_seq: 2, muted: true }));
    const g = s.peek(7)!;
    expect(g.muted).toBe(true);
    expect(g.last_seq).toBe(3);
    expect(g.last_message?.seq).toBe(3);
    s.mine(group({ last_seq: 3, muted: false }));
    expect(s.peek(7)!.muted).toBe(false);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { alice, bob, msg } from '../test/fakes';
import { receiptMarks, ReceiptsStore } from './receipts';

const carol = { ...bob, id: 3, username: 'carol' };
const items = [msg(1, { sender: alice }), msg(2), msg(3, { sender: alice }), msg(5, { sender: carol }), msg(6)];

describe('receiptMarks', () => {
  it('puts each other reader of a group at the last held message up to their marker', () => {
    const marks = receiptMarks(items, new Map([[bob.id, 4], [carol.id, 6], [alice.id, 6], [9, 3]]), 'group', alice.id);
    expect([...marks.entries()]).toEqual([
      [3, [bob.id, 9]],
      [6, [carol.id]],
    ]);
  });

  it('leaves out readers whose marker is before what is held', () => {
    expect(receiptMarks(items.slice(2), new Map([[bob.id, 2]]), 'group', alice.id).size).toBe(0);
  });

  it('puts the direct peer at the last of my messages they have read', () => {
    expect([...receiptMarks(items, new Map([[bob.id, 6]]), 'direct', alice.id)]).toEqual([[3, [bob.id]]]);
    expect([...receiptMarks(items, new Map([[bob.id, 2]]), 'direct', alice.id)]).toEqual([[1, [bob.id]]]);
    expect(receiptMarks(items, new Map([[bob.id, 0]]), 'direct', alice.id).size).toBe(0);
  });
});

describe('ReceiptsStore', () => {
  it('loads the markers, moves them forward only, and keeps a newer live one over the answer', async () => {
    let answer: (v: { items: { user_id: number; last_read_seq: number }[] }) => void = () => undefined;
    const reads = vi.fn(() => new Promise<{ items: { user_id: number; last_read_seq: number }[] }>((r) => (answer = r)));
    const s = new ReceiptsStore({ reads });
    s.read(7, bob.id, 3); // nothing held yet: ignored
    expect(s.of(7)).toBeUndefined();
    const loading = s.load(7);
    answer({ items: [{ user_id: bob.id, last_read_seq: 2 }] });
    await loading;
    s.read(7, bob.id, 5);
    s.read(7, bob.id, 4);
    s.read(7, carol.id, 1);
    expect([...s.of(7)!]).toEqual([[bob.id, 5], [carol.id, 1]]);
    const again = s.load(7);
    answer({ items: [{ user_id: bob.id, last_read_seq: 4 }, { user_id: carol.id, last_read_seq: 2 }] });
    await again;
    expect([...s.of(7)!]).toEqual([[bob.id, 5], [carol.id, 2]]);
  });

  it('moves a listed member to their own new message, and drops one who left', async () => {
    const s = new ReceiptsStore({ reads: async () => ({ items: [{ user_id: bob.id, last_read_seq: 1 }] }) });
    await s.load(7);
    s.sent(msg(4, { sender: bob }));
    s.sent(msg(5, { sender: carol })); // carol does not share receipts
    expect([...s.of(7)!]).toEqual([[bob.id, 4]]);
    s.left(7, bob.id);
    expect(s.of(7)!.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { alice, bob, msg } from '../test/fakes';
import { contiguousEnd, deliveredClientIds, firstUnreadSeq, mergeMessages } from './messages';

describe('mergeMessages', () => {
  const cases: { name: string; existing: number[]; incoming: number[]; want: number[] }[] = [
    { name: 'appends in order', existing: [1, 2], incoming: [3], want: [1, 2, 3] },
    { name: 'orders out-of-order arrivals by seq', existing: [1, 4], incoming: [3, 2], want: [1, 2, 3, 4] },
    { name: 'prepends older pages', existing: [51, 52], incoming: [49, 50], want: [49, 50, 51, 52] },
    { name: 'drops duplicates by id', existing: [1, 2, 3], incoming: [2, 3, 3], want: [1, 2, 3] },
    { name: 'empty incoming', existing: [1], incoming: [], want: [1] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = mergeMessages(c.existing.map((s) => msg(s)), c.incoming.map((s) => msg(s)));
      expect(out.map((m) => m.seq)).toEqual(c.want);
      expect(new Set(out.map((m) => m.id)).size).toBe(out.length);
    });
  }

  it('returns the same array when nothing changes (no needless re-render)', () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2)])).toBe(existing);
  });

  it('takes the edited copy and never un-deletes', () => {
    const edited = msg(2, { body: 'fixed', edited_at: '2025-01-02T00:00:00Z' });
    const deleted = msg(2, { body: '', deleted: true });
    let out = mergeMessages([msg(1), msg(2)], [edited]);
    expect(out[1]?.body).toBe('fixed');
    out = mergeMessages(out, [msg(2)]); // a stale replay of the original
    expect(out[1]?.body).toBe('fixed');
    out = mergeMessages(out, [deleted]);
    expect(out[1]?.deleted).toBe(true);
    out = mergeMessages(out, [edited]);
    expect(out[1]?.deleted).toBe(true);
  });
});

describe('contiguousEnd', () => {
  it.each([
    [[], 0],
    [[5], 5],
    [[1, 2, 3], 3],
    [[1, 2, 4, 5], 2],
    [[10, 11, 12, 14], 12],
  ])('%j → %i', (seqs, want) => {
    expect(contiguousEnd(seqs.map((s) => msg(s)))).toBe(want);
  });
});

describe('deliveredClientIds', () => {
  it('names the outbox items whose message arrived (dedupe by client_id)', () => {
    const arrived = [msg(1, { sender: alice, client_id: 'a' }), msg(2, { sender: alice }), msg(3, { sender: alice, client_id: 'b' })];
    expect([...deliveredClientIds(arrived, alice.id)]).toEqual(['a', 'b']);
  });

  it('ignores the same client_id from another sender', () => {
    expect(deliveredClientIds([msg(1, { sender: bob, client_id: 'a' })], alice.id).size).toBe(0);
  });
});

describe('firstUnreadSeq', () => {
  it('is the first message from someone else after the marker', () => {
    const items = [msg(1), msg(2, { sender: alice }), msg(3), msg(4)];
    expect(firstUnreadSeq(items, 1, alice.id)).toBe(3);
    expect(firstUnreadSeq(items, 4, alice.id)).toBeNull();
  });
});

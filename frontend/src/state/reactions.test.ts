import { describe, expect, it } from 'vitest';
import { reactionsOf, summaryOf } from '../api/rich';
import { attachment } from '../test/rich';
import { msg } from '../test/fakes';
import { applyReaction } from './reactions';

const ME = 1;

describe('applyReaction', () => {
  it('adds, counts and removes, in order of first use', () => {
    let m = msg(1);
    m = applyReaction(m, { emoji: '👍', user_id: 2, added: true }, ME);
    m = applyReaction(m, { emoji: '🎉', user_id: 3, added: true }, ME);
    m = applyReaction(m, { emoji: '👍', user_id: ME, added: true }, ME);
    expect(reactionsOf(m)).toEqual([
      { emoji: '👍', count: 2, user_ids: [ME, 2] },
      { emoji: '🎉', count: 1, user_ids: [3] },
    ]);
    m = applyReaction(m, { emoji: '🎉', user_id: 3, added: false }, ME);
    m = applyReaction(m, { emoji: '👍', user_id: 2, added: false }, ME);
    expect(reactionsOf(m)).toEqual([{ emoji: '👍', count: 1, user_ids: [ME] }]);
  });

  it('is idempotent per user and emoji: a repeated event changes nothing', () => {
    const once = applyReaction(msg(1), { emoji: '👍', user_id: 2, added: true }, ME);
    expect(applyReaction(once, { emoji: '👍', user_id: 2, added: true }, ME)).toBe(once);
    const gone = applyReaction(once, { emoji: '👍', user_id: 2, added: false }, ME);
    expect(reactionsOf(gone)).toEqual([]);
    expect(applyReaction(gone, { emoji: '👍', user_id: 2, added: false }, ME)).toBe(gone);
    expect(applyReaction(once, { emoji: '👍', user_id: 5, added: false }, ME)).toBe(once);
  });

  it('counts a change by someone beyond the 20 listed reactors', () => {
    const ids = Array.from({ length: 20 }, (_, k) => 100 + k);
    const m = msg(1, { reactions: [{ emoji: '❤️', count: 25, user_ids: ids }] } as never);
    const more = applyReaction(m, { emoji: '❤️', user_id: 500, added: true }, ME);
    expect(reactionsOf(more)[0]).toEqual({ emoji: '❤️', count: 26, user_ids: ids });
    const less = applyReaction(m, { emoji: '❤️', user_id: 501, added: false }, ME);
    expect(reactionsOf(less)[0]?.count).toBe(24);
    const mine = applyReaction(m, { emoji: '❤️', user_id: ME, added: true }, ME);
    expect(reactionsOf(mine)[0]?.user_ids[0]).toBe(ME);
    expect(reactionsOf(mine)[0]?.user_ids).toHaveLength(20);
  });
});

describe('summaryOf', () => {
  it('is the body on one line, or the file names of a message without text', () => {
    expect(summaryOf(msg(1, { body: 'a\n  b ' }))).toBe('a b');
    expect(summaryOf(msg(1, { body: '', attachments: [attachment(1), attachment(2, { filename: 'plan.pdf' })] }))).toBe('📎 file-1.png, plan.pdf');
  });
});

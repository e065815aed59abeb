import { describe, expect, it } from 'vitest';
import type { Member } from '../api/types';
import { insertMention, matchMembers, mentionParts, mentionQuery } from './mentions';

const member = (id: number, username: string, display_name = ''): Member => ({
  id,
  username,
  display_name,
  created_at: '2025-01-01T00:00:00Z',
  role: 'member',
});

describe('mentionParts', () => {
  const marked = (body: string) =>
    mentionParts(body, 'alice')
      .map((p) => (p.mention ? `[${p.text}]` : p.text))
      .join('');

  it.each([
    ['hi @alice!', 'hi [@alice]!'],
    ['@ALICE and @Alice.', '[@ALICE] and [@Alice].'],
    ['@alice2 @alice_b @alice.b bob@alice @@alice', '@alice2 @alice_b @alice.b bob@alice @@alice'],
    ['(@alice), @alice-', '([@alice]), [@alice]-'],
    ['thanks @alice.. é@alice _@alice', 'thanks [@alice].. é@alice _@alice'],
    ['<b>@alice</b>', '<b>[@alice]</b>'],
    ['no mention', 'no mention'],
    ['', ''],
  ])('%s', (body, want) => {
    expect(marked(body)).toBe(want);
  });

  it('keeps every character of the body', () => {
    const body = 'a @alice b @alice';
    expect(mentionParts(body, 'alice').map((p) => p.text).join('')).toBe(body);
  });
});

describe('mentionQuery', () => {
  it.each([
    ['hello @al', 9, { start: 6, query: 'al' }],
    ['@', 1, { start: 0, query: '' }],
    ['hi @bob there', 7, { start: 3, query: 'bob' }],
    ['mail bob@al', 11, null],
    ['hi @bob there', 13, null],
    ['@@x', 3, null],
    ['é@al', 4, null],
  ])('%s at %i', (text, caret, want) => {
    expect(mentionQuery(text, caret)).toEqual(want);
  });
});

describe('matchMembers', () => {
  const ms = [member(1, 'alice'), member(2, 'bob', 'Alina Brown'), member(3, 'albert'), member(4, 'carol', 'Al')];

  it('matches usernames first, then words of display names, never the user', () => {
    expect(matchMembers(ms, 'al', 1).map((m) => m.username)).toEqual(['albert', 'bob', 'carol']);
    expect(matchMembers(ms, 'BR', 1).map((m) => m.username)).toEqual(['bob']);
    expect(matchMembers(ms, '', 1, 2).map((m) => m.username)).toEqual(['albert', 'bob']);
  });
});

describe('insertMention', () => {
  it('replaces the partial name with the username and a space', () => {
    expect(insertMention('hi @al', 3, 6, 'albert')).toEqual({ text: 'hi @albert ', caret: 11 });
    expect(insertMention('hi @al there', 3, 6, 'albert')).toEqual({ text: 'hi @albert there', caret: 11 });
  });
});

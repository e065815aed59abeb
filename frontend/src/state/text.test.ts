import { describe, expect, it } from 'vitest';
import { checkBody, MAX_BODY, textLength } from './text';

describe('textLength counts code points as the server does', () => {
  it.each([
    ['ascii', 'hello', 5],
    ['an emoji outside the BMP is one (two UTF-16 units)', '😀', 1],
    ['a flag is two regional indicators', '🇫🇷', 2],
    ['a family emoji is its code points joined by ZWJ', '👨‍👩‍👧', 5],
    ['e + combining acute composes to é (NFC)', 'e\u0301', 1],
    ['a combining mark with no precomposed form stays two', 'q\u0301', 2],
    ['CJK', '漢字', 2],
    ['empty', '', 0],
  ])('%s', (_name, text, want) => {
    expect(textLength(text)).toBe(want);
  });
});

describe('checkBody', () => {
  it('trims before measuring', () => {
    expect(checkBody('  hi \n')).toEqual({ body: 'hi', length: 2, empty: false, tooLong: false });
    expect(checkBody(' \n\t ')).toMatchObject({ body: '', empty: true });
  });

  it('accepts 4000 emoji (8000 UTF-16 units) and refuses 4001', () => {
    const max = '😀'.repeat(MAX_BODY);
    expect(max.length).toBe(2 * MAX_BODY);
    expect(checkBody(max)).toMatchObject({ length: MAX_BODY, tooLong: false });
    expect(checkBody(max + '😀')).toMatchObject({ length: MAX_BODY + 1, tooLong: true });
  });

  it('accepts 4000 letters with combining accents that compose', () => {
    const max = 'e\u0301'.repeat(MAX_BODY);
    expect(checkBody(max)).toMatchObject({ length: MAX_BODY, tooLong: false });
    expect(checkBody(max + 'a')).toMatchObject({ tooLong: true });
  });
});

import { describe, expect, it } from 'vitest';
import { humanSize, parseBody, parseInline, safeHref } from './format';

describe('parseInline', () => {
  it('makes links of http(s) URLs only, leaving sentence punctuation out', () => {
    expect(parseInline('see https://example.org/a?b=1, then.')).toEqual([
      { t: 'text', v: 'see ' },
      { t: 'link', href: 'https://example.org/a?b=1', v: 'https://example.org/a?b=1' },
      { t: 'text', v: ', then.' },
    ]);
    expect(parseInline('(HTTP://Example.org/x_(y))')).toEqual([
      { t: 'text', v: '(' },
      { t: 'link', href: 'http://example.org/x_(y)', v: 'HTTP://Example.org/x_(y)' },
      { t: 'text', v: ')' },
    ]);
    expect(parseInline('ftp://x.org javascript:alert(1) xhttps://x.org')).toEqual([
      { t: 'text', v: 'ftp://x.org javascript:alert(1) xhttps://x.org' },
    ]);
  });

  it('reads bold, italic and code, nested, and leaves snake_case alone', () => {
    expect(parseInline('**bold _both_** and `**not**` my_var_name')).toEqual([
      { t: 'bold', c: [{ t: 'text', v: 'bold ' }, { t: 'italic', c: [{ t: 'text', v: 'both' }] }] },
      { t: 'text', v: ' and ' },
      { t: 'code', v: '**not**' },
      { t: 'text', v: ' my_var_name' },
    ]);
  });

  it('does not close a marker inside a URL or code span, but right after one', () => {
    expect(parseInline('_see https://x.org/a_b_ now_')).toEqual([
      {
        t: 'italic',
        c: [
          { t: 'text', v: 'see ' },
          { t: 'link', href: 'https://x.org/a_b', v: 'https://x.org/a_b' },
        ],
      },
      { t: 'text', v: ' now_' },
    ]);
  });

  it('keeps unmatched markers as text', () => {
    expect(parseInline('** a** _b _ `c')).toEqual([{ t: 'text', v: '** a** _b _ `c' }]);
  });
});

describe('parseBody', () => {
  it('reads fenced code, quote runs and paragraphs', () => {
    expect(parseBody('hi\n> a\n>b\n```js\nx < 1 **y**\n```\nbye')).toEqual([
      { t: 'para', c: [{ t: 'text', v: 'hi' }] },
      { t: 'quote', c: [{ t: 'text', v: 'a' }, { t: 'text', v: '\n' }, { t: 'text', v: 'b' }] },
      { t: 'pre', v: 'x < 1 **y**' },
      { t: 'para', c: [{ t: 'text', v: 'bye' }] },
    ]);
  });

  it('treats an unclosed fence as text', () => {
    expect(parseBody('```\ncode')).toEqual([{ t: 'para', c: [{ t: 'text', v: '```' }, { t: 'text', v: '\n' }, { t: 'text', v: 'code' }] }]);
  });
});

describe('safeHref', () => {
  it.each(['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'vbscript:x', ' javascript:x', 'nope'])('refuses %s', (u) => {
    expect(safeHref(u)).toBeNull();
  });
  it('takes http and https', () => {
    expect(safeHref('https://a.example/')).toBe('https://a.example/');
    expect(safeHref('http://a.example')).toBe('http://a.example/');
  });
});

describe('humanSize', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [25_000_000, '25 MB'],
    [-1, ''],
  ])('%d → %s', (n, want) => {
    expect(humanSize(n)).toBe(want);
  });
});

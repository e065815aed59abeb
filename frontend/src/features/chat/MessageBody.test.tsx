import { render } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { MessageBody } from './MessageBody';

const ALLOWED = new Set(['DIV', 'SPAN', 'A', 'STRONG', 'EM', 'CODE', 'PRE', 'BLOCKQUOTE']);

/**
 * Bodies meant to run code or make a dangerous link, and what a reader must
 * see of each: the input itself, except where a marker of the formatting
 * subset is taken out (given then as the second element).
 */
const CORPUS: (string | [string, string])[] = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)><a xlink:href="javascript:alert(2)">x</a></svg>',
  '<a href="javascript:alert(1)">click</a>',
  '[click](javascript:alert(1))',
  'javascript:alert(document.cookie)',
  'JaVaScRiPt:alert(1)',
  'java\tscript:alert(1)',
  ' javascript:alert(1)',
  '&#106;&#97;vascript:alert(1)',
  'jav&#x09;ascript:alert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'DATA:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'https://ok.example/"onmouseover="alert(1)',
  "https://ok.example/'><script>alert(1)</script>",
  '<div style="background:url(javascript:alert(1))">',
  '<iframe src="https://evil.example"></iframe>',
  '<b onclick=alert(1)>bold</b',
  '"><img src=x onerror=alert(1)>',
  '<<script>script>alert(1)<</script>/script>',
  '<!--<img src=x onerror=alert(1)>-->',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '{{constructor.constructor("alert(1)")()}}',
  ['**<script>alert(1)</script>**', '<script>alert(1)</script>'],
  ['_<img src=x onerror=alert(1)>_', '<img src=x onerror=alert(1)>'],
  ['`<script>alert(1)</script>`', '<script>alert(1)</script>'],
  ['```\n<script>alert(1)</script>\n```', '<script>alert(1)</script>'],
  ['> <img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
  ['**_`javascript:alert(1)`_**', 'javascript:alert(1)'],
  '**unclosed _nested `markers',
  ['**a **b** c**', 'a **b c**'],
  ['https://ok.example/**x**', 'https://ok.example/**x**'],
  'http://',
  'https://javascript:alert(1)@',
];

describe('MessageBody against an XSS corpus', () => {
  it.each(CORPUS.map((c) => (typeof c === 'string' ? [c, c] : c)))('%j renders as text', (input, visible) => {
    const alert = vi.spyOn(window, 'alert').mockImplementation(() => undefined);
    const { container } = render(<MessageBody body={input} />);
    for (const el of container.querySelectorAll('*')) {
      expect(ALLOWED.has(el.tagName), `element <${el.tagName}>`).toBe(true);
      for (const attr of el.getAttributeNames()) {
        expect(['class', 'href', 'target', 'rel'], `attribute ${attr}`).toContain(attr);
      }
    }
    for (const a of container.querySelectorAll('a')) {
      expect(a.protocol === 'http:' || a.protocol === 'https:', `href ${a.getAttribute('href')}`).toBe(true);
      expect(a.getAttribute('href')).toMatch(/^https?:\/\//);
      expect(a.rel).toBe('noopener noreferrer nofollow');
      expect(a.target).toBe('_blank');
    }
    expect(container.textContent).toBe(visible);
    expect(alert).not.toHaveBeenCalled();
    alert.mockRestore();
  });
});

describe('MessageBody formatting', () => {
  it('links URLs, opening a new tab without the opener', () => {
    const { getByRole } = render(<MessageBody body="docs at https://example.org/docs." />);
    const a = getByRole('link', { name: 'https://example.org/docs' });
    expect(a.getAttribute('href')).toBe('https://example.org/docs');
    expect(a.getAttribute('target')).toBe('_blank');
    expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
  });

  it('renders bold, italic, code, code blocks and quotes as their elements', () => {
    const { container } = render(<MessageBody body={'**b** _i_ `c`\n> q\n```\npre\n```'} />);
    expect(container.querySelector('strong')?.textContent).toBe('b');
    expect(container.querySelector('em')?.textContent).toBe('i');
    expect(container.querySelector('span > code')?.textContent).toBe('c');
    expect(container.querySelector('blockquote')?.textContent).toBe('q');
    expect(container.querySelector('pre > code')?.textContent).toBe('pre');
    // The line breaks next to a quote or code block are their edges, not text.
    expect(container.textContent).toBe('b i cqpre');
  });
});

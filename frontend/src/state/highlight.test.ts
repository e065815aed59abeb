import { describe, expect, it } from 'vitest';
import { highlightParts, searchTerms } from './highlight';

const marked = (body: string, q: string) =>
  highlightParts(body, searchTerms(q))
    .map((p) => (p.hit ? `[${p.text}]` : p.text))
    .join('');

describe('searchTerms', () => {
  it.each([
    ['deploy friday', { words: ['deploy'], prefix: 'friday' }],
    ['"release notes" draft -old', { words: ['release', 'notes', 'draft'], prefix: null }],
    ['Café "x y"', { words: ['cafe', 'x', 'y'], prefix: null }],
    ['-only -operators', { words: [], prefix: null }],
    ['"', { words: [], prefix: null }],
    ['', { words: [], prefix: null }],
  ])('%s', (q, want) => {
    expect(searchTerms(q)).toEqual(want);
  });
});

describe('highlightParts', () => {
  it.each([
    ['We deploy on Friday, deployment after', 'deploy fri', 'We [deploy] on [Friday], deployment after'],
    ['Le café est prêt', 'cafe pret', 'Le [café] est [prêt]'],
    ['notes: release NOTES', '"release notes"', '[notes]: [release] [NOTES]'],
    ['old and new', 'new -old', 'old and [new]'],
    ['<b>deploy</b>', 'deploy', '<b>[deploy]</b>'],
    ['nothing here', '-x', 'nothing here'],
  ])('%s / %s', (body, q, want) => {
    expect(marked(body, q)).toBe(want);
  });

  it('keeps every character of the body', () => {
    const body = 'Ünïcödé 😀 deploy, déploy';
    expect(highlightParts(body, searchTerms('deploy')).map((p) => p.text).join('')).toBe(body);
  });
});

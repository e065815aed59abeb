// The words of a message search (docs/API.md, GET /search/messages) found in
// a body, to set them apart in results and in the conversation. The server
// decides what matches; this only shows where: its words (and the words of
// quoted phrases) at word starts, case and accents ignored, the last word
// also as a prefix, never an -excluded word.

export interface SearchTerms {
  /** Whole words. */
  words: string[];
  /** The last word, which also matches as a prefix; null when the query ends with a phrase or an exclusion. */
  prefix: string | null;
}

/** Lower case, accents dropped, one UTF-16 unit per unit of the input where possible (so indexes map back). */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const f = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    // Keep the length of the original character so that positions match.
    out += f.length === ch.length ? f : ch.toLowerCase().length === ch.length ? ch.toLowerCase() : ch;
  }
  return out;
}

const WORD = /[\p{L}\p{N}_]+/gu;

export function searchTerms(q: string): SearchTerms {
  const words: string[] = [];
  let prefix: string | null = null;
  // Quoted phrases, -exclusions, bare words, in order.
  const re = /(-?)"([^"]*)"?|(\S+)/g;
  let last: 'word' | 'other' = 'other';
  for (const m of q.matchAll(re)) {
    if (m[2] !== undefined) {
      if (m[1] !== '-') for (const w of fold(m[2]).match(WORD) ?? []) words.push(w);
      last = 'other';
    } else if (m[3] !== undefined) {
      const token = m[3];
      if (token.startsWith('-')) {
        last = 'other';
        continue;
      }
      const ws = fold(token).match(WORD) ?? [];
      words.push(...ws);
      last = ws.length > 0 ? 'word' : 'other';
    }
  }
  if (last === 'word') prefix = words.pop() ?? null;
  return { words: [...new Set(words)], prefix };
}

export interface Highlighted {
  text: string;
  hit: boolean;
}

/** Splits a body into the words that match the terms and the rest. */
export function highlightParts(body: string, terms: SearchTerms): Highlighted[] {
  const folded = fold(body);
  const whole = new Set(terms.words);
  const parts: Highlighted[] = [];
  let from = 0;
  for (const m of folded.matchAll(WORD)) {
    const w = m[0];
    const start = m.index;
    let hitLen = 0;
    if (whole.has(w)) hitLen = w.length;
    else if (terms.prefix !== null && w.startsWith(terms.prefix)) hitLen = w.length;
    if (hitLen === 0) continue;
    if (start > from) parts.push({ text: body.slice(from, start), hit: false });
    parts.push({ text: body.slice(start, start + hitLen), hit: true });
    from = start + hitLen;
  }
  if (from < body.length) parts.push({ text: body.slice(from), hit: false });
  return parts;
}

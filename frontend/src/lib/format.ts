// The small formatting subset of message bodies (issue 14): http(s) links,
// **bold**, _italic_, `code`, fenced code blocks and "> " quote lines.
// The parser returns a tree of plain data; MessageBody builds DOM nodes from
// it. Nothing here ever produces an HTML string: whatever is not one of the
// markers above stays literal text.

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'link'; href: string; v: string }
  | { t: 'code'; v: string }
  | { t: 'bold'; c: Inline[] }
  | { t: 'italic'; c: Inline[] };

export type Block = { t: 'para'; c: Inline[] } | { t: 'quote'; c: Inline[] } | { t: 'pre'; v: string };

/** Emphasis nested deeper than this stays literal (and bounds the work). */
const MAX_DEPTH = 4;
const URL_AT = /https?:\/\/[^\s<>"'`]+/iy;
/** Characters that end a sentence rather than a URL. */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', '*', '_', "'", '"', ']', '}']);
const FENCE_OPEN = /^```[^`]*$/;
const FENCE_CLOSE = /^```\s*$/;

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
}

function isSpace(ch: string | undefined): boolean {
  return ch === undefined || /\s/u.test(ch);
}

/** An http(s) URL as a link target, or null: anything else (javascript:, data:, …) is never a link. */
export function safeHref(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** The URL that starts at i (after a non-word character), trailing punctuation left out. */
function urlAt(s: string, i: number): string | null {
  if (isWordChar(s[i - 1])) return null;
  URL_AT.lastIndex = i;
  const m = URL_AT.exec(s);
  if (!m) return null;
  let url = m[0];
  for (;;) {
    const last = url[url.length - 1] ?? '';
    // A closing parenthesis belongs to the URL only when it closes one: (see https://x.org/a_(b)).
    const strayParen = last === ')' && count(url, '(') < count(url, ')');
    if (!TRAILING.has(last) && !strayParen) break;
    url = url.slice(0, -1);
  }
  return /^https?:\/\/[^/?#]/i.test(url) ? url : null;
}

/** The end of a `code` span starting at i, or -1. */
function codeEnd(s: string, i: number): number {
  if (s[i] !== '`') return -1;
  const end = s.indexOf('`', i + 1);
  return end > i + 1 ? end : -1;
}

function opensBold(s: string, i: number): boolean {
  return s.startsWith('**', i) && !isSpace(s[i + 2]) && s[i + 2] !== '*';
}

function closesBold(s: string, i: number): boolean {
  return s.startsWith('**', i) && !isSpace(s[i - 1]) && s[i + 2] !== '*';
}

// snake_case_words stay as typed: an underscore opens only after a non-word character and closes only before one.
function opensItalic(s: string, i: number): boolean {
  return s[i] === '_' && !isWordChar(s[i - 1]) && !isSpace(s[i + 1]) && s[i + 1] !== '_';
}

function closesItalic(s: string, i: number): boolean {
  return s[i] === '_' && !isSpace(s[i - 1]) && !isWordChar(s[i + 1]) && s[i + 1] !== '_';
}

/** Where the closer of a marker opened before `from` is, skipping code spans and URLs (markers in them do not count). */
function findCloser(s: string, from: number, closes: (s: string, i: number) => boolean): number {
  for (let j = from; j < s.length; j++) {
    const ce = codeEnd(s, j);
    if (ce >= 0) {
      j = ce;
      continue;
    }
    if (s[j] === 'h' || s[j] === 'H') {
      const url = urlAt(s, j);
      if (url) {
        j += url.length - 1;
        continue;
      }
    }
    if (closes(s, j)) return j;
  }
  return -1;
}

/** Inline markers of one line (markers never span lines). */
export function parseInline(s: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') out.push({ t: 'text', v: text });
    text = '';
  };
  for (let i = 0; i < s.length; ) {
    const ce = codeEnd(s, i);
    if (ce >= 0) {
      flush();
      out.push({ t: 'code', v: s.slice(i + 1, ce) });
      i = ce + 1;
      continue;
    }
    const url = s[i] === 'h' || s[i] === 'H' ? urlAt(s, i) : null;
    const href = url ? safeHref(url) : null;
    if (url && href) {
      flush();
      out.push({ t: 'link', href, v: url });
      i += url.length;
      continue;
    }
    if (depth < MAX_DEPTH && opensBold(s, i)) {
      const end = findCloser(s, i + 3, closesBold);
      if (end > i + 2) {
        flush();
        out.push({ t: 'bold', c: parseInline(s.slice(i + 2, end), depth + 1) });
        i = end + 2;
        continue;
      }
    }
    if (depth < MAX_DEPTH && opensItalic(s, i)) {
      const end = findCloser(s, i + 2, closesItalic);
      if (end > i + 1) {
        flush();
        out.push({ t: 'italic', c: parseInline(s.slice(i + 1, end), depth + 1) });
        i = end + 1;
        continue;
      }
    }
    text += s[i];
    i++;
  }
  flush();
  return out;
}

/** Inline markers of several lines: each line on its own, the line breaks kept as text. */
function parseLines(lines: readonly string[]): Inline[] {
  const out: Inline[] = [];
  lines.forEach((line, k) => {
    if (k > 0) out.push({ t: 'text', v: '\n' });
    out.push(...parseInline(line));
  });
  return out;
}

/**
 * A body as blocks: fenced code (``` lines; an unclosed fence is text),
 * runs of "> " lines as a quote, and paragraphs of the other lines. The line
 * break next to a quote or code block is its edge, not text.
 */
export function parseBody(body: string): Block[] {
  const lines = body.split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flushPara = () => {
    if (para.length > 0) blocks.push({ t: 'para', c: parseLines(para) });
    para = [];
  };
  for (let i = 0; i < lines.length; ) {
    const line = lines[i] ?? '';
    if (FENCE_OPEN.test(line)) {
      let close = -1;
      for (let k = i + 1; k < lines.length; k++) {
        if (FENCE_CLOSE.test(lines[k] ?? '')) {
          close = k;
          break;
        }
      }
      if (close > 0) {
        flushPara();
        blocks.push({ t: 'pre', v: lines.slice(i + 1, close).join('\n') });
        i = close + 1;
        continue;
      }
    }
    if (line.startsWith('>')) {
      flushPara();
      const quoted: string[] = [];
      while (i < lines.length && (lines[i] ?? '').startsWith('>')) {
        quoted.push((lines[i] ?? '').replace(/^> ?/, ''));
        i++;
      }
      blocks.push({ t: 'quote', c: parseLines(quoted) });
      continue;
    }
    para.push(line);
    i++;
  }
  flushPara();
  return blocks;
}

/** "1.4 MB": a file size for people (decimal units, as file managers show them). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

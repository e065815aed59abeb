import type { Member } from '../api/types';

// Mentions as the client sees them: the server decides who a message
// mentions (Message.mentions); the client finds the @username of the user in
// a body to highlight it, and completes member names after "@" in the composer.

/** The characters of a username (docs/API.md: letters A-Z, digits, '_', '.', '-'). */
const USERNAME_CHAR = /[A-Za-z0-9_.-]/;
const MAX_USERNAME = 32;

export interface TextPart {
  text: string;
  /** This part is an @username of the user. */
  mention: boolean;
}

/** Before an "@" that starts a mention: the start of the body or none of these (docs/API.md, Messages). */
const NOT_BEFORE_MENTION = /[\p{L}\p{N}@_.-]/u;

/**
 * Splits a body into text and the mentions of username ("@alice", any case)
 * by the server's rule: an "@" at the start or after a character that is not
 * a letter, digit, "@", "_", "." or "-"; then the longest run of username
 * characters, which names the user as it is or without its trailing "." and
 * "-" ("thanks @alice."); "bob@alice" and "@alice2" do not.
 */
export function mentionParts(body: string, username: string): TextPart[] {
  const parts: TextPart[] = [];
  const want = username.toLowerCase();
  let from = 0;
  for (let at = body.indexOf('@'); at !== -1 && want !== ''; at = body.indexOf('@', at + 1)) {
    const before = body.slice(0, at);
    const prev = [...before.slice(-2)].pop() ?? '';
    if (prev !== '' && NOT_BEFORE_MENTION.test(prev)) continue;
    let end = at + 1;
    while (end < body.length && USERNAME_CHAR.test(body.charAt(end))) end++;
    const run = body.slice(at + 1, end).toLowerCase();
    if (run !== want && run.replace(/[.-]+$/, '') !== want) continue;
    if (at > from) parts.push({ text: body.slice(from, at), mention: false });
    parts.push({ text: body.slice(at, at + 1 + want.length), mention: true });
    from = at + 1 + want.length;
  }
  if (from < body.length) parts.push({ text: body.slice(from), mention: false });
  return parts;
}

/** The "@partial" being typed just before the caret: where its "@" is and what follows it. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  let i = caret;
  while (i > 0 && caret - i <= MAX_USERNAME && USERNAME_CHAR.test(text.charAt(i - 1))) i--;
  if (i === 0 || text.charAt(i - 1) !== '@') return null;
  const start = i - 1;
  const before = start === 0 ? '' : text.charAt(start - 1);
  if (before !== '' && NOT_BEFORE_MENTION.test(before)) return null;
  return { start, query: text.slice(i, caret) };
}

/** Members whose username or a word of the display name starts with query, usernames first; never the user. */
export function matchMembers(members: readonly Member[], query: string, meId: number, limit = 8): Member[] {
  const q = query.toLowerCase();
  const byName: Member[] = [];
  const byDisplay: Member[] = [];
  for (const m of members) {
    if (m.id === meId) continue;
    if (m.username.toLowerCase().startsWith(q)) byName.push(m);
    else if (m.display_name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q))) byDisplay.push(m);
  }
  const byUsername = (a: Member, b: Member) => a.username.localeCompare(b.username);
  return [...byName.sort(byUsername), ...byDisplay.sort(byUsername)].slice(0, limit);
}

/** Puts "@username " in place of the "@partial" from start to the caret; answers the text and the new caret. */
export function insertMention(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const rest = text.slice(caret);
  const inserted = `@${username}` + (rest.startsWith(' ') ? '' : ' ');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length + (rest.startsWith(' ') ? 1 : 0) };
}

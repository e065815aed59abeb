// What the app keeps in the browser for one user, under keys that carry the
// user's id: on a shared browser one user never sees another's unsent
// messages or drafts, and ending the session can remove them all.

/** localStorage: the messages the user typed that the server has not acknowledged. */
export const outboxKey = (userId: number): string => `chat.outbox.${userId}`;

/** sessionStorage: the text typed into one conversation's composer. */
export const draftKey = (userId: number, groupId: number): string => `chat.draft.${userId}.${groupId}`;

/** Removes everything kept for the user (drafts and outbox). */
export function forgetUser(userId: number, local: Storage, session: Storage): void {
  local.removeItem(outboxKey(userId));
  const prefix = `chat.draft.${userId}.`;
  const drafts: string[] = [];
  for (let i = 0; i < session.length; i++) {
    const k = session.key(i);
    if (k !== null && k.startsWith(prefix)) drafts.push(k);
  }
  for (const k of drafts) session.removeItem(k);
}

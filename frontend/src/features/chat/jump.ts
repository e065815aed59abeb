import type { ConversationUi } from './conversationUi';
import type { HistoryStore } from '../../state/history';

/** Older pages loaded at most while looking for a message (50 each). */
const MAX_PAGES = 40;

/**
 * Loads older pages of a conversation until the message of that seq is
 * held (or the start is reached); true when it is held.
 */
export async function revealSeq(history: HistoryStore, groupId: number, id: number, seq: number): Promise<boolean> {
  for (let i = 0; i <= MAX_PAGES; i++) {
    const c = history.conversation(groupId);
    if (c.items.some((m) => m.id === id)) return true;
    const first = c.items[0];
    if (!c.loaded || !c.hasMore || first === undefined || first.seq <= seq) return false;
    await history.loadOlder(groupId);
    if (history.conversation(groupId).items[0] === first) return false;
  }
  return false;
}

/** How long a message jumped to stays highlighted. */
const HIGHLIGHT_MS = 2000;

/** Scrolls the message list to a message (loading older pages first if needed) and highlights it briefly. */
export async function jumpTo(
  history: HistoryStore,
  groupId: number,
  target: { id: number; seq: number },
  ui: Pick<ConversationUi, 'highlighted'>,
): Promise<void> {
  if (!(await revealSeq(history, groupId, target.id, target.seq))) return;
  // Let the list render the loaded page (and keep its scroll position) first.
  await new Promise((r) => setTimeout(r, 0));
  const el = document.querySelector<HTMLElement>(`[data-message-id="${target.id}"]`);
  if (!el) return;
  if (typeof el.scrollIntoView === 'function') el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  ui.highlighted.value = target.id;
  setTimeout(() => {
    if (ui.highlighted.peek() === target.id) ui.highlighted.value = null;
  }, HIGHLIGHT_MS);
}

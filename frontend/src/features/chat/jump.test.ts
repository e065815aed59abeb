import { describe, expect, it } from 'vitest';
import type { MessagePage } from '../../api/types';
import { HistoryStore } from '../../state/history';
import { msg } from '../../test/fakes';
import { newConversationUi } from './conversationUi';
import { jumpTo, revealSeq } from './jump';

/** 120 messages served 50 at a time, newest first as the API pages them. */
function history() {
  const all = Array.from({ length: 120 }, (_, i) => msg(i + 1));
  const calls: (number | undefined)[] = [];
  const api = {
    messages: async (_id: number, o: { beforeSeq?: number; limit?: number }): Promise<MessagePage> => {
      calls.push(o.beforeSeq);
      const below = all.filter((m) => o.beforeSeq === undefined || m.seq < o.beforeSeq);
      const items = below.slice(-(o.limit ?? 50));
      return { items, has_more: below.length > items.length };
    },
  };
  const store = new HistoryStore({ api, lastSeq: () => 120, onArrived: () => undefined, describe: String });
  return { store, calls };
}

describe('revealSeq', () => {
  it('loads older pages until the message is held', async () => {
    const { store, calls } = history();
    await store.open(7);
    expect(await revealSeq(store, 7, 1005, 5)).toBe(true);
    expect(calls).toEqual([undefined, 71, 21]);
    expect(store.conversation(7).items[0]?.seq).toBe(1);
  });

  it('loads nothing for a message already held, and gives up on one that is not there', async () => {
    const { store, calls } = history();
    await store.open(7);
    expect(await revealSeq(store, 7, 1100, 100)).toBe(true);
    expect(calls).toEqual([undefined]);
    expect(await revealSeq(store, 7, 99999, 500)).toBe(false);
  });
});

describe('jumpTo', () => {
  it('scrolls to the message and highlights it for a moment', async () => {
    const { store } = history();
    await store.open(7);
    const el = document.createElement('div');
    el.dataset.messageId = '1110';
    let scrolled = false;
    el.scrollIntoView = () => {
      scrolled = true;
    };
    document.body.append(el);
    const ui = newConversationUi();
    await jumpTo(store, 7, { id: 1110, seq: 110 }, ui);
    expect(scrolled).toBe(true);
    expect(ui.highlighted.value).toBe(1110);
    el.remove();
  });
});

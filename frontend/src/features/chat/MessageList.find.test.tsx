import { render, waitFor } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatApi } from '../../api/api';
import type { MessagePage } from '../../api/types';
import { seqParam } from '../../state/router';
import { offlineChat } from '../../test/chat';
import { msg, myGroup } from '../../test/fakes';
import { MessageList } from './MessageList';

const server = Array.from({ length: 80 }, (_, i) => msg(i + 1));

const messages = async (_id: number, o: { beforeSeq?: number; afterSeq?: number; limit?: number }): Promise<MessagePage> => {
  let items = server;
  if (o.beforeSeq !== undefined) items = items.filter((m) => m.seq < o.beforeSeq!).slice(-(o.limit ?? 50));
  else if (o.afterSeq !== undefined) items = items.filter((m) => m.seq > o.afterSeq!).slice(0, o.limit ?? 50);
  else items = items.slice(-(o.limit ?? 50));
  return { items, has_more: items[0]!.seq > 1 };
};

describe('MessageList at a search result', () => {
  it('sets the found message apart, the others not', async () => {
    const chat = offlineChat({ messages, reads: async () => ({ items: [] }) } as unknown as Partial<ChatApi>);
    chat.conversations.replaceAll([myGroup({ last_seq: 80, last_read_seq: 80 })]);
    await chat.history.openAt(7, 12);
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <MessageList group={chat.conversations.peek(7)!} focusSeq={12} />
      </ChatContext.Provider>,
    );
    await waitFor(() => expect(container.querySelector('[data-found="true"]')?.getAttribute('data-seq')).toBe('12'));
    expect(container.querySelectorAll('[data-found]')).toHaveLength(1);
    expect(container.querySelector('[data-seq="1"]')).toBeTruthy();
    chat.stop();
  });
});

describe('seqParam', () => {
  it.each([
    ['?seq=42', 42],
    ['?seq=0', null],
    ['?seq=-1', null],
    ['?seq=4x', null],
    ['', null],
  ])('%s', (search, want) => {
    expect(seqParam(search)).toBe(want);
  });
});

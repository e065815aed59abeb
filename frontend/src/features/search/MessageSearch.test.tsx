import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatApi } from '../../api/api';
import type { Message } from '../../api/types';
import { offlineChat } from '../../test/chat';
import { bob, msg, myGroup } from '../../test/fakes';
import { MessageSearch } from './MessageSearch';

function setup(activeId: number | null = null) {
  const searchMessages = vi.fn(async (_q: string, opts: { groupId?: number; cursor?: string }) => {
    if (opts.cursor === 'c2') return { items: [msg(2, { body: 'an older deploy' })], next_cursor: null };
    return { items: [msg(9, { body: 'We deploy <b>friday</b>', sender: bob }), msg(5, { group_id: 8, body: 'Deployment done' })], next_cursor: 'c2' };
  });
  const chat = offlineChat({ searchMessages } as unknown as Partial<ChatApi>);
  chat.conversations.replaceAll([myGroup({ id: 7, name: 'Team' }), myGroup({ id: 8, name: 'Ops' })]);
  const onOpen = vi.fn<(m: Message) => void>();
  render(
    <ChatContext.Provider value={chat}>
      <MessageSearch activeId={activeId} onClose={() => undefined} onOpen={onOpen} />
    </ChatContext.Provider>,
  );
  const type = (q: string) => fireEvent.input(screen.getByRole('searchbox', { name: 'Search messages' }), { target: { value: q } });
  return { chat, searchMessages, onOpen, type };
}

describe('MessageSearch', () => {
  it('lists conversation, sender, time and the matched words as DOM nodes, pages with "more", opens a result', async () => {
    const { chat, searchMessages, onOpen, type } = setup();
    type('deploy');
    const list = await screen.findByRole('list', { name: 'Message results' }, { timeout: 2000 });
    expect(searchMessages).toHaveBeenCalledWith('deploy', { groupId: undefined, limit: 20 }, expect.anything());
    const results = within(list).getAllByRole('button');
    expect(results[0]?.textContent).toContain('Team');
    expect(results[0]?.textContent).toContain('bob');
    expect(results[0]?.querySelector('time')).toBeTruthy();
    expect([...list.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['deploy', 'Deployment']);
    expect(list.querySelector('b')).toBeNull();
    expect(results[0]?.textContent).toContain('<b>friday</b>');
    expect(results[1]?.textContent).toContain('Ops');
    fireEvent.click(screen.getByRole('button', { name: 'More results' }));
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(3));
    expect(searchMessages).toHaveBeenLastCalledWith('deploy', { groupId: undefined, limit: 20, cursor: 'c2' }, undefined);
    expect(screen.queryByRole('button', { name: 'More results' })).toBeNull();
    fireEvent.click(within(list).getAllByRole('button')[0]!);
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ id: 1009, group_id: 7, seq: 9 }));
    chat.stop();
  });

  it('searches only the open conversation when asked', async () => {
    const { chat, searchMessages, type } = setup(7);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Only in Team' }));
    type('deploy');
    await screen.findByRole('list', { name: 'Message results' }, { timeout: 2000 });
    expect(searchMessages).toHaveBeenCalledWith('deploy', { groupId: 7, limit: 20 }, expect.anything());
    chat.stop();
  });

  it('says when nothing matches, and shows a refusal', async () => {
    const searchMessages = vi
      .fn()
      .mockResolvedValueOnce({ items: [], next_cursor: null })
      .mockRejectedValueOnce(new Error('q: must not be empty'));
    const chat = offlineChat({ searchMessages } as unknown as Partial<ChatApi>);
    render(
      <ChatContext.Provider value={chat}>
        <MessageSearch activeId={null} onClose={() => undefined} onOpen={() => undefined} />
      </ChatContext.Provider>,
    );
    const box = screen.getByRole('searchbox', { name: 'Search messages' });
    fireEvent.input(box, { target: { value: 'zzz' } });
    expect(await screen.findByText('No messages match “zzz”.', {}, { timeout: 2000 })).toBeTruthy();
    fireEvent.input(box, { target: { value: '-x' } });
    expect((await screen.findByRole('alert', {}, { timeout: 2000 })).textContent).toBe('q: must not be empty');
    chat.stop();
  });
});

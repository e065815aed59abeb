import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatApi } from '../../api/api';
import { offlineChat } from '../../test/chat';
import { alice, msg } from '../../test/fakes';
import { MessageItem } from './MessageItem';

describe('EditHistory', () => {
  it('opens from the edited marker and lists earlier versions oldest first, then the current one', async () => {
    const messageEdits = vi.fn(async () => ({
      items: [
        { body: 'first <b>draft</b>', edited_at: '2025-01-01T12:05:00Z' },
        { body: 'second draft', edited_at: '2025-01-01T12:10:00Z' },
      ],
    }));
    const chat = offlineChat({ messageEdits } as Partial<ChatApi>);
    const m = msg(4, { sender: alice, body: 'final', edited_at: '2025-01-01T12:10:00Z' });
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={m} mine showSender={false} canDelete />
      </ChatContext.Provider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Edited, show earlier versions' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit history' });
    const list = await within(dialog).findByRole('list', { name: 'Versions, oldest first' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('span:last-child')?.textContent)).toEqual(['first <b>draft</b>', 'second draft', 'final']);
    expect(items[0]?.querySelector('time')?.getAttribute('datetime')).toBe(m.created_at);
    expect(items[1]?.querySelector('time')?.getAttribute('datetime')).toBe('2025-01-01T12:05:00Z');
    expect(container.ownerDocument.querySelector('dialog b')).toBeNull();
    expect(messageEdits).toHaveBeenCalledWith(m.id);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    chat.stop();
  });

  it('says why when the history cannot be loaded', async () => {
    const chat = offlineChat({ messageEdits: async () => Promise.reject(new Error('Not found.')) } as Partial<ChatApi>);
    render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={msg(4, { edited_at: '2025-01-01T12:10:00Z' })} mine={false} showSender={false} canDelete={false} />
      </ChatContext.Provider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Edited, show earlier versions' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Not found.');
    chat.stop();
  });

  it('shows no marker on a message never edited', () => {
    const chat = offlineChat();
    render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={msg(4)} mine={false} showSender={false} canDelete={false} />
      </ChatContext.Provider>,
    );
    expect(screen.queryByRole('button', { name: /Edited/ })).toBeNull();
    chat.stop();
  });
});

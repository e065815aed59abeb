import type { ComponentChild } from 'preact';
import { render, screen } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatStore } from '../../state/chat';
import { offlineChat } from '../../test/chat';
import { alice, bob, msg } from '../../test/fakes';
import { MessageItem, PendingItem } from './MessageItem';
import { TypingIndicator, typingText } from './TypingIndicator';

/** User "mallory" who calls herself "Alice". */
const mallory = { id: 66, username: 'mallory', display_name: 'Alice', created_at: '2025-01-01T00:00:00Z' };

const chat = { me: alice, edit: vi.fn(), remove: vi.fn(), retry: vi.fn(), discard: vi.fn() } as unknown as ChatStore;

function renderItem(ui: ComponentChild) {
  return render(<ChatContext.Provider value={chat}>{ui}</ChatContext.Provider>);
}

describe('MessageItem', () => {
  it('renders markup in a body as literal text', () => {
    const alert = vi.spyOn(window, 'alert').mockImplementation(() => undefined);
    const body = '<img src=x onerror=alert(1)><script>alert(2)</script><b>bold</b>';
    const { container } = renderItem(<MessageItem message={msg(1, { body })} mine={false} showSender canDelete={false} />);
    expect(screen.getByText(body)).toBeTruthy();
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(alert).not.toHaveBeenCalled();
  });

  it('renders sender names as text too', () => {
    const evil = { ...bob, display_name: '<i>Mallory</i>' };
    const { container } = renderItem(<MessageItem message={msg(1, { sender: evil })} mine={false} showSender canDelete={false} />);
    expect(screen.getAllByText('<i>Mallory</i>').length).toBeGreaterThan(0);
    expect(container.querySelector('i')).toBeNull();
  });

  it('names a sender whose display name is not the username with the @username too', () => {
    const { container } = renderItem(<MessageItem message={msg(1, { sender: mallory })} mine={false} showSender canDelete={false} />);
    expect(container.querySelector('.sender')?.textContent).toBe('Alice @mallory');
    expect(container.querySelector('.bubble .visually-hidden')?.textContent).toBe('Alice @mallory: ');
  });

  it('marks edited and deleted messages', () => {
    renderItem(<MessageItem message={msg(1, { edited_at: '2025-01-01T13:00:00Z' })} mine showSender={false} canDelete />);
    expect(screen.getByText(/edited/)).toBeTruthy();
    renderItem(<MessageItem message={msg(2, { deleted: true, body: '' })} mine showSender={false} canDelete />);
    expect(screen.getByText('This message was deleted')).toBeTruthy();
  });

  it('offers edit and delete on own messages, only delete to admins on others', () => {
    const { unmount } = renderItem(<MessageItem message={msg(1, { sender: alice })} mine showSender={false} canDelete />);
    expect(screen.getByRole('button', { name: 'Edit message' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete message' })).toBeTruthy();
    unmount();
    renderItem(<MessageItem message={msg(2)} mine={false} showSender={false} canDelete />);
    expect(screen.queryByRole('button', { name: 'Edit message' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete message' })).toBeTruthy();
  });

  it('shows a pending message as waiting while offline', () => {
    renderItem(<PendingItem item={{ client_id: 'c1', group_id: 7, body: '<b>x</b>', created_at: '' }} online={false} />);
    expect(screen.getByText('Waiting for connection…')).toBeTruthy();
    expect(screen.getByText('<b>x</b>')).toBeTruthy();
  });
});

describe('typingText', () => {
  it.each([
    [[], ''],
    [['Alice'], 'Alice is typing…'],
    [['Alice', 'Bob'], 'Alice and Bob are typing…'],
    [['A', 'B', 'C'], 'Several people are typing…'],
  ])('%j → %s', (names, want) => {
    expect(typingText(names)).toBe(want);
  });
});

describe('TypingIndicator', () => {
  it('names typists with the @username where the display name differs', () => {
    const chat = offlineChat();
    chat.users.remember([mallory, { ...bob, display_name: 'bob' }]);
    chat.presence.typing(7, mallory.id);
    chat.presence.typing(7, bob.id);
    render(
      <ChatContext.Provider value={chat}>
        <TypingIndicator groupId={7} />
      </ChatContext.Provider>,
    );
    expect(screen.getByText('Alice @mallory and bob are typing…')).toBeTruthy();
    chat.stop();
  });
});

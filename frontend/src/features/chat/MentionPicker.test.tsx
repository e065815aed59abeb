import { fireEvent, render, screen, within } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatApi } from '../../api/api';
import type { Member } from '../../api/types';
import { offlineChat } from '../../test/chat';
import { alice, bob, msg } from '../../test/fakes';
import { Composer } from './Composer';
import { MessageItem } from './MessageItem';

const member = (id: number, username: string, display_name = ''): Member => ({
  id,
  username,
  display_name,
  created_at: '2025-01-01T00:00:00Z',
  role: 'member',
});

function setup() {
  const members = vi.fn(async () => ({ items: [member(1, 'alice', 'Alice'), member(3, 'albert', 'Al Bert'), member(4, 'alma')] }));
  const chat = offlineChat({ members } as Partial<ChatApi>);
  render(
    <ChatContext.Provider value={chat}>
      <Composer groupId={7} />
    </ChatContext.Provider>,
  );
  const box = screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement;
  const type = (text: string) => fireEvent.input(box, { target: { value: text } });
  return { chat, box, type, members };
}

describe('mention completion in the composer', () => {
  it('lists matching members after "@", never me, and takes one with the arrows and Enter', async () => {
    const { chat, box, type, members } = setup();
    type('hi @al');
    const list = await screen.findByRole('listbox', { name: 'Mention suggestions' });
    expect(members).toHaveBeenCalledWith(7);
    const options = within(list).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Al Bert @albert', 'alma @alma']);
    expect(options[0]?.getAttribute('aria-selected')).toBe('true');
    expect(box.getAttribute('aria-activedescendant')).toBe(options[0]?.id);
    fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(within(list).getAllByRole('option')[1]?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(box.value).toBe('hi @alma ');
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(chat.outbox.items.value).toEqual([]); // Enter took the name, it did not send
    chat.stop();
  });

  it('closes on Escape and sends on the next Enter', async () => {
    const { chat, box, type } = setup();
    type('@alb');
    await screen.findByRole('listbox');
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('listbox')).toBeNull();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(chat.outbox.items.value.map((o) => o.body)).toEqual(['@alb']);
    chat.stop();
  });

  it('takes a member by click', async () => {
    const { chat, box, type } = setup();
    type('@');
    const list = await screen.findByRole('listbox');
    fireEvent.click(within(list).getByRole('option', { name: 'Al Bert @albert' }));
    expect(box.value).toBe('@albert ');
    chat.stop();
  });
});

describe('mentions in a body', () => {
  const chat = offlineChat();

  it('sets my @username apart when the message mentions me, as text', () => {
    const m = msg(1, { sender: bob, body: 'ask @Alice <b>now</b>', mentions: [alice.id] });
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={m} mine={false} showSender={false} canDelete={false} />
      </ChatContext.Provider>,
    );
    const marks = container.querySelectorAll('mark[data-mention="me"]');
    expect([...marks].map((x) => x.textContent)).toEqual(['@Alice']);
    expect(container.querySelector('b')).toBeNull();
    expect(container.textContent).toContain('ask @Alice <b>now</b>');
  });

  it('sets it apart inside formatting too, but not inside code, keeping the formatting', () => {
    const m = msg(1, { sender: bob, body: '**hey @Alice** and `@Alice`', mentions: [alice.id] });
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={m} mine={false} showSender={false} canDelete={false} />
      </ChatContext.Provider>,
    );
    const marks = container.querySelectorAll('mark[data-mention="me"]');
    expect([...marks].map((x) => x.textContent)).toEqual(['@Alice']);
    expect(marks[0]?.closest('strong')).not.toBeNull();
    expect(container.querySelector('code')?.textContent).toBe('@Alice');
  });

  it('leaves a body alone when the server says it does not mention me', () => {
    const m = msg(1, { sender: bob, body: 'ask @alice', mentions: [] });
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <MessageItem message={m} mine={false} showSender={false} canDelete={false} />
      </ChatContext.Provider>,
    );
    expect(container.querySelector('mark')).toBeNull();
  });
});

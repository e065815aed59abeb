import { fireEvent, render, screen } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { ChatContext } from '../../app/context';
import { offlineChat } from '../../test/chat';
import { MAX_BODY } from '../../state/text';
import { Composer } from './Composer';

function setup() {
  const chat = offlineChat();
  render(
    <ChatContext.Provider value={chat}>
      <Composer groupId={7} />
    </ChatContext.Provider>,
  );
  const box = screen.getByLabelText('Message') as HTMLTextAreaElement;
  const type = (text: string) => fireEvent.input(box, { target: { value: text } });
  const sendButton = () => screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
  return { chat, box, type, sendButton };
}

describe('Composer counts as the server does (code points)', () => {
  it('takes 4000 emoji, which are 8000 UTF-16 units', () => {
    const { chat, box, type, sendButton } = setup();
    type('😀'.repeat(MAX_BODY));
    expect(screen.getByText(`${MAX_BODY}/${MAX_BODY}`)).toBeTruthy();
    expect(box.getAttribute('aria-invalid')).toBe('false');
    expect(sendButton().disabled).toBe(false);
    fireEvent.click(sendButton());
    expect(chat.outbox.items.value.map((o) => o.body.length)).toEqual([2 * MAX_BODY]);
  });

  it('refuses one code point more, and says so', () => {
    const { chat, box, type, sendButton } = setup();
    type('e\u0301'.repeat(MAX_BODY) + '😀');
    expect(screen.getByText(`${MAX_BODY + 1}/${MAX_BODY}`)).toBeTruthy();
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(sendButton().disabled).toBe(true);
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(chat.outbox.items.value).toEqual([]);
  });

  it('shows no counter far from the limit and trims what it sends', () => {
    const { chat, type, sendButton } = setup();
    type('  hello 👋  ');
    expect(screen.queryByText(/\/4000$/)).toBeNull();
    fireEvent.click(sendButton());
    expect(chat.outbox.items.value.map((o) => o.body)).toEqual(['hello 👋']);
  });
});

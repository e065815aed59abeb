import { render, screen, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { ChatContext, ServicesContext, type AppServices } from '../../app/context';
import { offlineChat } from '../../test/chat';
import { msg, myGroup } from '../../test/fakes';
import { ConversationList } from './ConversationList';

/** User "mallory" who calls herself "Alice". */
const mallory = { id: 66, username: 'mallory', display_name: 'Alice', created_at: '2025-01-01T00:00:00Z' };

function setup() {
  const chat = offlineChat();
  chat.conversations.replaceAll([
    myGroup({ id: 7, name: 'Team', last_message: msg(3, { sender: mallory, body: 'hi all' }) }),
    myGroup({ id: 8, kind: 'direct', name: null, peer: mallory, created_at: '2024-06-01T00:00:00Z' }),
  ]);
  const services = { router: { navigate: () => undefined } } as unknown as AppServices;
  render(
    <ServicesContext.Provider value={services}>
      <ChatContext.Provider value={chat}>
        <ConversationList activeId={null} />
      </ChatContext.Provider>
    </ServicesContext.Provider>,
  );
  return chat;
}

describe('ConversationList', () => {
  it('names a direct peer and a last sender with the @username beside the display name', () => {
    setup();
    const links = screen.getAllByRole('link');
    expect(links.map((a) => a.getAttribute('data-group-id'))).toEqual(['7', '8']);
    expect(links[0]?.textContent).toContain('Alice @mallory: hi all');
    expect(links[1]?.textContent).toContain('Alice @mallory, offline');
  });

  it('moves a conversation up when a message arrives in it', () => {
    const chat = setup();
    chat.conversations.message(msg(1, { group_id: 8, sender: mallory, created_at: '2026-01-01T00:00:00Z' }));
    return Promise.resolve().then(() => {
      expect(screen.getAllByRole('link').map((a) => a.getAttribute('data-group-id'))).toEqual(['8', '7']);
    });
  });
});

describe('ConversationList badges', () => {
  it('shows a muted conversation’s unread count quieter, still announced, and mentions apart', () => {
    const chat = offlineChat();
    chat.conversations.replaceAll([
      myGroup({ id: 7, name: 'Loud', last_seq: 5, last_read_seq: 2, unread_count: 3, mention_count: 1 }),
      myGroup({ id: 9, name: 'Quiet', last_seq: 4, last_read_seq: 0, unread_count: 4, muted: true }),
    ]);
    const services = { router: { navigate: () => undefined } } as unknown as AppServices;
    render(
      <ServicesContext.Provider value={services}>
        <ChatContext.Provider value={chat}>
          <ConversationList activeId={null} />
        </ChatContext.Provider>
      </ServicesContext.Provider>,
    );
    const loud = screen.getByRole('link', { name: /Loud/ });
    const quiet = screen.getByRole('link', { name: /Quiet/ });
    expect(loud.textContent).toContain('3 unread');
    expect(within(loud).getByTestId('mention-badge').textContent).toBe('@1 mention');
    expect(quiet.textContent).toContain('4 unread, muted');
    expect(within(quiet).queryByTestId('mention-badge')).toBeNull();
    expect(within(quiet).getByTestId('unread-badge').className).toMatch(/muted/);
    expect(within(loud).getByTestId('unread-badge').className).not.toMatch(/muted/);
    chat.stop();
  });
});

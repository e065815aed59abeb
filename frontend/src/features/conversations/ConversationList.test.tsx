import { render, screen } from '@testing-library/preact';
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

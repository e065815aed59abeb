import { render, screen } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { ChatContext } from '../../app/context';
import { offlineChat } from '../../test/chat';
import { bob, myGroup } from '../../test/fakes';
import { ReadMarks } from './Receipts';

const users = [bob, ...[3, 4, 5, 6].map((id) => ({ ...bob, id, username: `u${id}`, display_name: `User ${id}` }))];

describe('ReadMarks', () => {
  it('says "Seen" in a direct conversation', () => {
    const chat = offlineChat();
    render(
      <ChatContext.Provider value={chat}>
        <ReadMarks group={myGroup({ kind: 'direct', name: null, peer: bob })} readers={[bob.id]} />
      </ChatContext.Provider>,
    );
    expect(screen.getByText('Seen')).toBeTruthy();
    chat.stop();
  });

  it('shows at most three readers of a group and "+N", naming them all to screen readers', () => {
    const chat = offlineChat();
    chat.users.remember(users);
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <ReadMarks group={myGroup()} readers={users.map((u) => u.id)} />
      </ChatContext.Provider>,
    );
    expect(container.querySelectorAll('[title]')).toHaveLength(3);
    expect(screen.getByText('+2')).toBeTruthy();
    expect(screen.getByText('Read by bob, User 3 @u3, User 4 @u4, User 5 @u5 and User 6 @u6')).toBeTruthy();
    chat.stop();
  });

  it('shows nothing where nobody stopped reading', () => {
    const chat = offlineChat();
    const { container } = render(
      <ChatContext.Provider value={chat}>
        <ReadMarks group={myGroup()} readers={undefined} />
      </ChatContext.Provider>,
    );
    expect(container.textContent).toBe('');
    chat.stop();
  });
});

import { render } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { displayName, groupTitle, GroupTitle, handleOf, userLabel, UserName } from './names';

const user = (username: string, display_name: string) => ({ username, display_name });

describe('naming people', () => {
  it.each([
    // [username, display name, shown]
    ['mallory', 'alice', 'alice @mallory'],
    ['alice', 'Alice', 'Alice'],
    ['alice', 'ALICE', 'ALICE'],
    ['alice', '', 'alice'],
    ['alice', '   ', 'alice'],
    ['bob_42', 'Bob', 'Bob @bob_42'],
    ['mallory', 'alice @alice', 'alice @alice @mallory'],
    ['mallory', 'аlice', 'аlice @mallory'], // Cyrillic а
    ['mallory', 'alice\u200b', 'alice\u200b @mallory'],
  ])('%s named %j shows as %j', (username, display, shown) => {
    expect(userLabel(user(username, display))).toBe(shown);
  });

  it('says which part is the username', () => {
    expect(handleOf(user('mallory', 'alice'))).toBe('mallory');
    expect(handleOf(user('alice', 'Alice'))).toBeNull();
    expect(displayName(user('alice', ' Alice '))).toBe('Alice');
  });

  it('renders the @username apart from the display name, as text', () => {
    const { container } = render(<UserName user={user('mallory', '<b>alice</b>')} />);
    expect(container.textContent).toBe('<b>alice</b> @mallory');
    expect(container.querySelector('b')).toBeNull();
    expect(container.querySelectorAll('span')).toHaveLength(3);
  });

  it('names a direct conversation after the peer, with the @username', () => {
    const direct = { kind: 'direct' as const, name: null, peer: { id: 9, created_at: '', ...user('mallory', 'alice') } };
    expect(groupTitle(direct)).toBe('alice @mallory');
    expect(render(<GroupTitle group={direct} />).container.textContent).toBe('alice @mallory');
    expect(groupTitle({ kind: 'group', name: 'Team' })).toBe('Team');
    expect(groupTitle({ kind: 'direct', name: null })).toBe('Direct message');
  });
});

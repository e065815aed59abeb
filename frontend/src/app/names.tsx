import type { MyGroup, User } from '../api/types';
import styles from './names.module.scss';

// How people and conversations are named on screen. Display names are free
// text, so anyone can call themselves "alice": wherever a user is named, the
// @username goes beside a display name that is not the username itself, and
// user "mallory" named "alice" shows as "alice @mallory".

type Named = Pick<User, 'username' | 'display_name'>;

/** The name a user chose, or the username when they chose none (docs/API.md, Auth). */
export function displayName(u: Named): string {
  const d = u.display_name.trim();
  return d === '' ? u.username : d;
}

/** The username to show beside the display name, or null when the display name is the username. */
export function handleOf(u: Named): string | null {
  return displayName(u).toLowerCase() === u.username.toLowerCase() ? null : u.username;
}

/** The display name with the @username where needed, as one string (labels, titles, the typing line). */
export function userLabel(u: Named): string {
  const handle = handleOf(u);
  return handle === null ? displayName(u) : `${displayName(u)} @${handle}`;
}

/**
 * The display name, and the @username set apart beside it where needed. A
 * long display name is cut short with an ellipsis, never the @username.
 */
export function UserName({ user }: { user: Named }) {
  const handle = handleOf(user);
  if (handle === null) return <>{displayName(user)}</>;
  return (
    <span class={styles.user}>
      <span class={styles.display}>{displayName(user)}</span>
      <span class={styles.handle}> @{handle}</span>
    </span>
  );
}

type Titled = Pick<MyGroup, 'kind' | 'name' | 'peer'>;

/** What a conversation is called: the group's name, or the other person of a direct one. */
export function groupTitle(g: Titled): string {
  if (g.kind === 'direct') return g.peer ? userLabel(g.peer) : 'Direct message';
  return g.name ?? 'Unnamed group';
}

/** groupTitle, with the @username of a direct peer set apart. */
export function GroupTitle({ group }: { group: Titled }) {
  return group.kind === 'direct' && group.peer ? <UserName user={group.peer} /> : <>{groupTitle(group)}</>;
}

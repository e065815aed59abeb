import type { MyGroup } from '../api/types';
import { initials } from './format';
import { displayName, groupTitle } from './names';
import styles from './Avatar.module.scss';

/** As many as $avatar-palette in styles/abstracts/_tokens.scss has colours (Avatar.test.tsx checks). */
export const AVATAR_COLOURS = 8;

/** The palette entry of a seed: the same person or group always gets the same colour. */
export function colourIndex(seed: string): number {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) | 0;
  return Math.abs(h) % AVATAR_COLOURS;
}

interface Props {
  name: string;
  seed: string;
  size?: 'sm' | 'md' | 'lg';
  /** For direct peers: true online, false offline, undefined unknown (no dot). */
  online?: boolean | undefined;
}

/** A coloured circle with initials; decorative, the name is always written next to it. */
export function Avatar({ name, seed, size = 'md', online }: Props) {
  return (
    <span class={`${styles.avatar} ${styles[size]} ${styles[`c${colourIndex(seed)}`]}`} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span class={`${styles.dot} ${online ? styles.online : styles.offline}`} />}
    </span>
  );
}

/** A conversation's avatar: the peer of a direct one, else the group. */
export function GroupAvatar({
  group,
  size,
  online,
}: {
  group: Pick<MyGroup, 'id' | 'kind' | 'name' | 'peer'>;
  size?: Props['size'];
  online?: boolean | undefined;
}) {
  const peer = group.kind === 'direct' ? group.peer : undefined;
  return peer ? (
    <Avatar name={displayName(peer)} seed={peer.username} size={size} online={online} />
  ) : (
    <Avatar name={groupTitle(group)} seed={`g${group.id}`} size={size} online={online} />
  );
}

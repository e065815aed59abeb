import { colorFor, initials } from './format';
import styles from './Avatar.module.scss';

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
    <span class={`${styles.avatar} ${styles[size]}`} style={{ background: colorFor(seed) }} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span class={`${styles.dot} ${online ? styles.online : styles.offline}`} />}
    </span>
  );
}

import type { ConnectionStatus } from '../api/socket';
import styles from './ConnectionBanner.module.scss';

const text: Record<ConnectionStatus, string> = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
  stopped: 'Offline',
};

/** Live connection state; "Connected" is announced but not shown. */
export function ConnectionBanner({ status }: { status: ConnectionStatus }) {
  const visible = status !== 'online';
  return (
    <div role="status" class={visible ? `${styles.banner} ${styles[status]}` : 'visually-hidden'} data-status={status}>
      {visible && <span class={styles.spinner} aria-hidden="true" />}
      {text[status]}
    </div>
  );
}

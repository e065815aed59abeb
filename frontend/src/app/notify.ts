import type { Message, MyGroup } from '../api/types';
import { groupTitle, userLabel } from './names';

/** Notification text longer than this is cut: the notification opens the conversation for the rest. */
const MAX_NOTIFICATION_BODY = 200;

/** The title and text of a new message's browser notification. */
export function notificationText(m: Message, g: MyGroup): { title: string; body: string } {
  const who = userLabel(m.sender);
  const title = g.kind === 'direct' ? who : `${who} in ${groupTitle(g)}`;
  const text = m.body.replace(/\s+/g, ' ').trim();
  const body = text === '' ? 'New message' : text.length > MAX_NOTIFICATION_BODY ? `${text.slice(0, MAX_NOTIFICATION_BODY - 1)}…` : text;
  return { title, body };
}

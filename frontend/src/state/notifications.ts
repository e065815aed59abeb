import { signal } from '@preact/signals';
import type { Message, MyGroup } from '../api/types';

// Browser notifications of new messages: asked for only when the user turns
// them on in the profile, never on load; the choice is kept per user.

/** localStorage: "on" when the user turned notifications on. */
export const notifyKey = (userId: number): string => `chat.notify.${userId}`;

/** The part of window.Notification used here (a double in tests). */
export interface NotificationLike {
  onclick: ((ev: Event) => void) | null;
  close(): void;
}
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): NotificationLike;
}

export interface NotifyView {
  /** The conversation on screen, or null. */
  activeId: () => number | null;
  /** The tab is in the background. */
  hidden: () => boolean;
  /** A click on a notification: bring the tab forward and open the conversation. */
  open: (groupId: number) => void;
  /** The title and text of a message's notification. */
  text: (m: Message, g: MyGroup) => { title: string; body: string };
}

export interface NotifierDeps {
  userId: number;
  storage: Storage;
  /** window.Notification, or undefined where the browser has none. */
  api: NotificationApi | undefined;
  view: NotifyView;
}

/**
 * Whether a new message raises a notification: never one's own, never for
 * the conversation being looked at; otherwise always for a mention of the
 * user, and for any other message unless the conversation is muted.
 */
export function shouldNotify(g: MyGroup, m: Message, meId: number, activeId: number | null, hidden: boolean): boolean {
  if (m.sender.id === meId || m.deleted) return false;
  if (!hidden && activeId === m.group_id) return false;
  return m.mentions.includes(meId) || !g.muted;
}

export type NotifyState = NotificationPermission | 'unsupported';

export class Notifier {
  /** The user turned notifications on (and the browser allows them). */
  readonly enabled = signal(false);
  readonly permission = signal<NotifyState>('unsupported');

  constructor(private readonly deps: NotifierDeps) {
    this.permission.value = deps.api ? deps.api.permission : 'unsupported';
    this.enabled.value = deps.api?.permission === 'granted' && deps.storage.getItem(notifyKey(deps.userId)) === 'on';
  }

  /** Asks the browser's permission (the one place that does) and turns notifications on if given. */
  async enable(): Promise<NotifyState> {
    const api = this.deps.api;
    if (!api) return 'unsupported';
    const p = api.permission === 'granted' ? 'granted' : await api.requestPermission();
    this.permission.value = p;
    if (p === 'granted') {
      this.deps.storage.setItem(notifyKey(this.deps.userId), 'on');
      this.enabled.value = true;
    }
    return p;
  }

  disable(): void {
    this.deps.storage.removeItem(notifyKey(this.deps.userId));
    this.enabled.value = false;
  }

  /** A new message arrived live in g (as it was before the message). */
  message(m: Message, g: MyGroup): void {
    const api = this.deps.api;
    if (!this.enabled.peek() || !api || api.permission !== 'granted') return;
    const { view } = this.deps;
    if (!shouldNotify(g, m, this.deps.userId, view.activeId(), view.hidden())) return;
    const { title, body } = view.text(m, g);
    // One notification per conversation: a newer message replaces the older one.
    const n = new api(title, { body, tag: `group-${g.id}` });
    n.onclick = () => {
      view.open(g.id);
      n.close();
    };
  }
}

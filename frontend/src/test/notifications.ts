import type { NotificationApi, NotificationLike } from '../state/notifications';

export interface Shown {
  title: string;
  options: NotificationOptions | undefined;
  n: NotificationLike;
  closed: boolean;
}

/** A double of window.Notification: records what is shown; the test sets the permission and what the prompt answers. */
export function fakeNotifications(permission: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
  const shown: Shown[] = [];
  const state = { permission, answer, asked: 0 };
  class FakeNotification implements NotificationLike {
    onclick: ((ev: Event) => void) | null = null;
    static get permission(): NotificationPermission {
      return state.permission;
    }
    static async requestPermission(): Promise<NotificationPermission> {
      state.asked++;
      state.permission = state.answer;
      return state.answer;
    }
    constructor(title: string, options?: NotificationOptions) {
      shown.push({ title, options, n: this, closed: false });
    }
    close(): void {
      const s = shown.find((x) => x.n === this);
      if (s) s.closed = true;
    }
  }
  return { api: FakeNotification as NotificationApi, shown, state };
}

import { signal } from '@preact/signals';
import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import type { ChatApi } from '../../api/api';
import type { User } from '../../api/types';
import { ChatContext, ServicesContext, type AppServices } from '../../app/context';
import { offlineChat } from '../../test/chat';
import { alice } from '../../test/fakes';
import { fakeNotifications } from '../../test/notifications';
import { FollowSettings } from './FollowSettings';

function setup(permission: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
  const fake = fakeNotifications(permission, answer);
  const updateMe = vi.fn(async (patch: object) => ({ ...alice, ...patch }) as User);
  const chat = offlineChat({ updateMe } as Partial<ChatApi>, alice, {
    notifications: {
      api: fake.api,
      view: { activeId: () => null, hidden: () => true, open: () => undefined, text: (m) => ({ title: '', body: m.body }) },
    },
  });
  const user = signal<User | null>({ ...alice, share_read_receipts: true } as User);
  const session = { user, setUser: (u: User) => (user.value = u) };
  render(
    <ServicesContext.Provider value={{ session, router: {} } as unknown as AppServices}>
      <ChatContext.Provider value={chat}>
        <FollowSettings />
      </ChatContext.Provider>
    </ServicesContext.Provider>,
  );
  return { chat, fake, updateMe, user };
}

describe('FollowSettings', () => {
  it('asks for the notification permission when the switch is turned on, not before', async () => {
    const { chat, fake } = setup();
    const sw = screen.getByRole('switch', { name: 'Browser notifications' }) as HTMLInputElement;
    expect(fake.state.asked).toBe(0);
    expect(sw.checked).toBe(false);
    fireEvent.click(sw);
    await waitFor(() => expect((screen.getByRole('switch', { name: 'Browser notifications' }) as HTMLInputElement).checked).toBe(true));
    expect(fake.state.asked).toBe(1);
    expect(chat.notifier.enabled.value).toBe(true);
    fireEvent.click(screen.getByRole('switch', { name: 'Browser notifications' }));
    await waitFor(() => expect(chat.notifier.enabled.value).toBe(false));
    chat.stop();
  });

  it('explains a refusal and stays off', async () => {
    const { chat } = setup('default', 'denied');
    fireEvent.click(screen.getByRole('switch', { name: 'Browser notifications' }));
    await waitFor(() => expect(screen.getByText(/blocks notifications/)).toBeTruthy());
    expect((screen.getByRole('switch', { name: 'Browser notifications' }) as HTMLInputElement).checked).toBe(false);
    chat.stop();
  });

  it('turns read receipts off with PATCH /users/me', async () => {
    const { chat, updateMe, user } = setup();
    const sw = screen.getByRole('switch', { name: 'Share read receipts' }) as HTMLInputElement;
    expect(sw.checked).toBe(true);
    fireEvent.click(sw);
    await waitFor(() => expect((screen.getByRole('switch', { name: 'Share read receipts' }) as HTMLInputElement).checked).toBe(false));
    expect(updateMe).toHaveBeenCalledWith({ share_read_receipts: false });
    expect((user.value as User & { share_read_receipts: boolean }).share_read_receipts).toBe(false);
    chat.stop();
  });
});

import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { ChatApi } from '../../api/api';
import { ApiError } from '../../api/http';
import type { MyGroup } from '../../api/types';
import { offlineChat } from '../../test/chat';
import { myGroup } from '../../test/fakes';
import { MuteButton } from './Follow';

function Current({ chat }: { chat: ReturnType<typeof offlineChat> }) {
  const g = chat.conversations.get(7);
  return g ? <MuteButton group={g} /> : null;
}

describe('MuteButton', () => {
  it('mutes and unmutes the conversation with PATCH /me/groups/{id}', async () => {
    const setMuted = vi.fn(async (id: number, muted: boolean) => ({ ...myGroup({ id }), muted }) as MyGroup);
    const chat = offlineChat({ setMuted } as Partial<ChatApi>);
    chat.conversations.replaceAll([myGroup()]);
    render(
      <ChatContext.Provider value={chat}>
        <Current chat={chat} />
      </ChatContext.Provider>,
    );
    const button = screen.getByRole('button', { name: 'Mute' });
    expect(button.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(button);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).toBe('true'));
    expect(setMuted).toHaveBeenLastCalledWith(7, true);
    fireEvent.click(screen.getByRole('button', { name: 'Mute' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).toBe('false'));
    expect(setMuted).toHaveBeenLastCalledWith(7, false);
    chat.stop();
  });

  it('says why when the change fails, and keeps the setting', async () => {
    const setMuted = vi.fn(async () => Promise.reject(new ApiError(404, 'not_found', 'Group not found.')));
    const chat = offlineChat({ setMuted } as unknown as Partial<ChatApi>);
    chat.conversations.replaceAll([myGroup()]);
    render(
      <ChatContext.Provider value={chat}>
        <Current chat={chat} />
      </ChatContext.Provider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Mute' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Group not found.');
    expect(screen.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).toBe('false');
    chat.stop();
  });
});

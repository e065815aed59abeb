import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import type { User } from '../../api/types';
import { ServicesContext } from '../../app/context';
import type { Router } from '../../state/router';
import { Session } from '../../state/session';
import { alice, json, memoryTokens } from '../../test/fakes';
import { ProfileDialog } from './ProfileDialog';

const NOW = 1_000_000;

const invalid = (details: Record<string, string>) =>
  json(400, { error: { code: 'validation_failed', message: 'invalid fields', details } });

type Call = { method: string; path: string; body: unknown; auth: string | undefined };
type Answer = (call: Call) => Response;

/** Renders the dialog for a signed-in alice whose requests the answers map serves ("METHOD /path"). */
async function setup(answers: Record<string, Answer>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const path = String(url).replace('/api/v1', '');
    const call: Call = {
      method: init?.method ?? 'GET',
      path,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      auth: (init?.headers as Record<string, string>).Authorization,
    };
    calls.push(call);
    const answer = answers[`${call.method} ${path}`];
    if (!answer) throw new Error(`unexpected request ${call.method} ${path}`);
    return answer(call);
  });
  const tokens = memoryTokens({ access: 'access-0', refresh: 'refresh-0', expiresAt: NOW + 900_000 });
  const session = new Session({ tokens, storage: localStorage, drafts: sessionStorage, fetch, now: () => NOW });
  localStorage.setItem('chat.me', JSON.stringify(alice));
  await session.restore(); // cached user: authenticated at once, GET /users/me in the background
  await waitFor(() => expect(calls.some((c) => c.path === '/users/me')).toBe(true));
  calls.length = 0;
  const onSaved = vi.fn<(u: User) => void>();
  const onClose = vi.fn();
  render(
    <ServicesContext.Provider value={{ session, router: {} as Router }}>
      <ProfileDialog onClose={onClose} onSaved={onSaved} />
    </ServicesContext.Provider>,
  );
  return { calls, tokens, session, onSaved, onClose };
}

const me = () => json(200, alice);

function fill(label: RegExp, value: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

function save() {
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
}

function changePassword(current: string, next: string, confirm = next) {
  fill(/^current password/i, current);
  fill(/^new password/i, next);
  fill(/^confirm new password/i, confirm);
}

describe('ProfileDialog', () => {
  it('is a labelled dialog that starts on the display name', async () => {
    await setup({ 'GET /users/me': me });
    expect(screen.getByRole('dialog', { name: 'Profile' })).toBeTruthy();
    const name = screen.getByLabelText(/^display name/i) as HTMLInputElement;
    expect(name.value).toBe('Alice');
    expect(document.activeElement).toBe(name);
  });

  it('saves a new display name into the session, so the top bar and own messages follow', async () => {
    const renamed = { ...alice, display_name: 'Alice Liddell' };
    const { calls, session, onSaved } = await setup({
      'GET /users/me': me,
      'PATCH /users/me': () => json(200, renamed),
    });
    fill(/^display name/i, '  Alice Liddell ');
    save();
    expect(await screen.findByText('Display name saved.')).toBeTruthy();
    expect(calls).toEqual([
      { method: 'PATCH', path: '/users/me', body: { display_name: '  Alice Liddell ' }, auth: 'Bearer access-0' },
    ]);
    expect(session.user.value).toEqual(renamed);
    expect(JSON.parse(localStorage.getItem('chat.me')!)).toEqual(renamed);
    expect(onSaved).toHaveBeenCalledWith(renamed);
  });

  it('logs in again with the new password right after changing it, keeping this device signed in', async () => {
    const { calls, tokens, session, onSaved } = await setup({
      'GET /users/me': me,
      'PATCH /users/me': () => json(200, alice),
      'POST /auth/login': () =>
        json(200, { user: alice, access_token: 'access-1', token_type: 'Bearer', expires_in: 900, refresh_token: 'refresh-1' }),
    });
    changePassword('old password', 'a new password');
    save();
    expect(await screen.findByText(/Password changed\. Your other devices and sessions were signed out/)).toBeTruthy();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['PATCH /users/me', 'POST /auth/login']);
    expect(calls[0]!.body).toEqual({ password: 'a new password', current_password: 'old password' });
    expect(calls[1]!.body).toEqual({ username: 'alice', password: 'a new password', session: 'cookie' });
    expect(calls[1]!.auth).toBeUndefined();
    // The pair of the new login replaces the revoked one.
    expect(tokens.value).toEqual({ access: 'access-1', refresh: 'refresh-1', expiresAt: NOW + 900_000, refreshAt: NOW + 840_000 });
    expect(session.state.value).toBe('authenticated');
    expect(onSaved).toHaveBeenCalledWith(alice);
    for (const label of [/^current password/i, /^new password/i, /^confirm new password/i]) {
      expect((screen.getByLabelText(label) as HTMLInputElement).value).toBe('');
    }
  });

  it('puts a wrong current password next to its field and does not log in', async () => {
    const { calls, tokens } = await setup({
      'GET /users/me': me,
      'PATCH /users/me': () => invalid({ current_password: 'is not correct' }),
    });
    changePassword('not my password', 'a new password');
    save();
    const err = await screen.findByText('Is not correct.');
    expect(err.id).toBe('profile-current_password-error');
    const input = screen.getByLabelText(/^current password/i);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe('profile-current_password-error');
    expect(document.activeElement).toBe(input);
    expect(calls.map((c) => c.path)).toEqual(['/users/me']);
    expect(tokens.value?.refresh).toBe('refresh-0');
  });

  it('puts a password the server finds weak next to the new password', async () => {
    await setup({ 'GET /users/me': me, 'PATCH /users/me': () => invalid({ password: 'is too common' }) });
    changePassword('old password', 'password');
    save();
    const err = await screen.findByText('Is too common.');
    expect(err.id).toBe('profile-password-error');
    expect(screen.getByLabelText(/^new password/i).getAttribute('aria-describedby')).toBe('profile-password-error');
  });

  it('checks the fields inline before calling the server', async () => {
    const { calls } = await setup({ 'GET /users/me': me });
    fill(/^display name/i, 'x'.repeat(65));
    fill(/^new password/i, 'short');
    fill(/^confirm new password/i, 'other');
    save();
    expect(await screen.findByText('Use at most 64 characters.')).toBeTruthy();
    expect(screen.getByText('Enter your current password.')).toBeTruthy();
    expect(screen.getByText('Use at least 8 characters.')).toBeTruthy();
    expect(screen.getByText('The passwords do not match.')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText(/^display name/i));
    expect(calls).toEqual([]);
  });

  it('says so when the password changed but logging in again failed', async () => {
    const { calls } = await setup({
      'GET /users/me': me,
      'PATCH /users/me': () => json(200, alice),
      'POST /auth/login': () => json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '30' }),
    });
    changePassword('old password', 'a new password');
    save();
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Your password was changed, but signing in again failed');
    expect(calls.map((c) => c.path)).toEqual(['/users/me', '/auth/login']);
  });

  it('shows the rate limit with its wait', async () => {
    await setup({
      'GET /users/me': me,
      'PATCH /users/me': () => json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '42' }),
    });
    changePassword('guess one', 'a new password');
    save();
    expect((await screen.findByRole('alert')).textContent).toBe('Too many password attempts. Try again in 42 s.');
  });
});

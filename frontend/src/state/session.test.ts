import { describe, expect, it, vi } from 'vitest';
import { alice, bob, json, memoryTokens } from '../test/fakes';
import { draftKey, outboxKey } from './keys';
import { Session } from './session';

const NOW = 1_000_000;

describe('Session', () => {
  it('logs in as a cookie session: no refresh token is kept by the app', async () => {
    const fetch = vi.fn(async () => json(200, { user: alice, access_token: 'a1', token_type: 'Bearer', expires_in: 900 }));
    const tokens = memoryTokens(null);
    const session = new Session({ tokens, storage: localStorage, drafts: sessionStorage, fetch, now: () => NOW });
    await session.login('alice', 'correct horse battery');
    const init = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(JSON.parse(String(init[1].body))).toMatchObject({ session: 'cookie' });
    expect(tokens.value).toEqual({ access: 'a1', expiresAt: NOW + 900_000, refreshAt: NOW + 840_000 });
    expect(JSON.stringify(localStorage)).not.toContain('refresh');
    session.state.value = 'anonymous'; // stop the refresh timer's work
  });

  it('logs out: the server ends the cookie session, and the user\u2019s drafts and outbox leave storage', async () => {
    localStorage.clear();
    sessionStorage.clear();
    localStorage.setItem('chat.me', JSON.stringify(alice));
    localStorage.setItem(outboxKey(alice.id), '[{"client_id":"c"}]');
    localStorage.setItem(outboxKey(bob.id), '[{"client_id":"b"}]');
    sessionStorage.setItem(draftKey(alice.id, 7), 'half a thought');
    sessionStorage.setItem(draftKey(alice.id, 8), 'another');
    sessionStorage.setItem(draftKey(bob.id, 7), 'bob\u2019s');
    const calls: { path: string; body: unknown }[] = [];
    const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ path: String(url), body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return String(url).endsWith('/auth/logout') ? new Response(null, { status: 204 }) : json(200, alice);
    });
    const tokens = memoryTokens({ access: 'a1', expiresAt: NOW + 900_000 });
    const session = new Session({ tokens, storage: localStorage, drafts: sessionStorage, fetch, now: () => NOW });
    await session.restore();
    await session.logout();
    expect(calls.at(-1)).toEqual({ path: '/api/v1/auth/logout', body: {} });
    expect(session.state.value).toBe('anonymous');
    expect(tokens.value).toBeNull();
    expect(localStorage.getItem(outboxKey(alice.id))).toBeNull();
    expect(sessionStorage.getItem(draftKey(alice.id, 7))).toBeNull();
    expect(sessionStorage.getItem(draftKey(alice.id, 8))).toBeNull();
    // Another user's data on this browser is not this logout's to remove.
    expect(localStorage.getItem(outboxKey(bob.id))).not.toBeNull();
    expect(sessionStorage.getItem(draftKey(bob.id, 7))).toBe('bob\u2019s');
  });
});

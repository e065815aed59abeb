import { describe, expect, it, vi } from 'vitest';
import { json, memoryTokens } from '../test/fakes';
import { ApiError, HttpClient, NetworkError, parseRetryAfter } from './http';

const authResult = (n: number) => ({
  user: { id: 1, username: 'alice', display_name: '', created_at: '' },
  access_token: `access-${n}`,
  token_type: 'Bearer',
  expires_in: 900,
  refresh_token: `refresh-${n}`,
});

const NOW = 1_000_000;

describe('HttpClient', () => {
  it('turns error bodies into typed errors', async () => {
    const fetch = vi.fn(async () =>
      json(409, { error: { code: 'username_taken', message: 'taken', details: { username: 'already taken' } } }),
    );
    const http = new HttpClient({ fetch, tokens: memoryTokens(null), now: () => NOW });
    const err = await http.request('POST', '/auth/register', { body: {}, auth: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'username_taken', details: { username: 'already taken' } });
  });

  it('reads Retry-After on 429', async () => {
    const fetch = vi.fn(async () =>
      json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '17' }),
    );
    const http = new HttpClient({ fetch, tokens: memoryTokens(null), now: () => NOW });
    await expect(http.request('POST', '/auth/login', { auth: false })).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfter: 17,
    });
  });

  it('reports a network failure as NetworkError', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const http = new HttpClient({ fetch, tokens: memoryTokens(null), now: () => NOW });
    await expect(http.request('GET', '/x', { auth: false })).rejects.toBeInstanceOf(NetworkError);
  });

  it('sends the bearer token and parses JSON; 204 gives undefined', async () => {
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer a');
      return init?.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { id: 3 });
    });
    const http = new HttpClient({ fetch, tokens: memoryTokens({ access: 'a', refresh: 'r', expiresAt: NOW + 600_000 }), now: () => NOW });
    expect(await http.request('GET', '/users/me')).toEqual({ id: 3 });
    expect(await http.request('DELETE', '/messages/1')).toBeUndefined();
    expect(fetch.mock.calls[0]?.[0]).toBe('/api/v1/users/me');
  });

  it('refreshes once on 401, stores the rotated pair and retries', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'refresh-0', expiresAt: NOW + 600_000 });
    const calls: string[] = [];
    const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>).Authorization ?? '';
      calls.push(`${String(url)} ${auth}`);
      if (String(url).endsWith('/auth/refresh')) {
        expect(JSON.parse(String(init?.body))).toEqual({ refresh_token: 'refresh-0' });
        return json(200, authResult(1));
      }
      return auth === 'Bearer old' ? json(401, { error: { code: 'token_expired', message: 'expired' } }) : json(200, { ok: true });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW });
    expect(await http.request('GET', '/users/me')).toEqual({ ok: true });
    expect(calls).toEqual([
      '/api/v1/users/me Bearer old',
      '/api/v1/auth/refresh ',
      '/api/v1/users/me Bearer access-1',
    ]);
    // Refreshed again a minute before it expires.
    expect(tokens.value).toEqual({ access: 'access-1', refresh: 'refresh-1', expiresAt: NOW + 900_000, refreshAt: NOW + 840_000 });
  });

  it('does not loop: a second 401 after refreshing is the answer', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'r', expiresAt: NOW + 600_000 });
    const fetch = vi.fn(async (url: RequestInfo | URL) =>
      String(url).endsWith('/auth/refresh')
        ? json(200, authResult(1))
        : json(401, { error: { code: 'unauthorized', message: 'no' } }),
    );
    const http = new HttpClient({ fetch, tokens, now: () => NOW });
    await expect(http.request('GET', '/users/me')).rejects.toMatchObject({ status: 401 });
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('single-flights concurrent refreshes (one refresh token is never presented twice)', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'refresh-0', expiresAt: NOW + 1000 }); // about to expire
    let refreshes = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = vi.fn(async (url: RequestInfo | URL) => {
      if (String(url).endsWith('/auth/refresh')) {
        refreshes++;
        await gate;
        return json(200, authResult(refreshes));
      }
      return json(200, { ok: true });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW });
    const all = Promise.all([http.request('GET', '/a'), http.request('GET', '/b'), http.request('GET', '/c')]);
    release();
    await all;
    expect(refreshes).toBe(1);
    expect(tokens.value?.refresh).toBe('refresh-1');
  });

  it('ends the session when the refresh token is refused', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'reused', expiresAt: NOW - 1 });
    const ended = vi.fn();
    const fetch = vi.fn(async () => json(401, { error: { code: 'unauthorized', message: 'revoked' } }));
    const http = new HttpClient({ fetch, tokens, now: () => NOW, onSessionEnded: ended });
    await expect(http.request('GET', '/users/me')).rejects.toMatchObject({ status: 401 });
    expect(ended).toHaveBeenCalledTimes(1);
    expect(tokens.value).toBeNull();
  });

  it('keeps a pair stored while a refused refresh was out (a login again after a password change)', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'revoked', expiresAt: NOW - 1 });
    const ended = vi.fn();
    const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      if (String(url).endsWith('/auth/refresh')) {
        // The password change revoked this refresh token; the new login landed meanwhile.
        tokens.value = { access: 'after-login', refresh: 'fresh', expiresAt: NOW + 900_000 };
        return json(401, { error: { code: 'unauthorized', message: 'revoked' } });
      }
      return json(200, { auth: (init?.headers as Record<string, string>).Authorization });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW, onSessionEnded: ended });
    expect(await http.request('GET', '/users/me')).toEqual({ auth: 'Bearer after-login' });
    expect(ended).not.toHaveBeenCalled();
    expect(tokens.value?.refresh).toBe('fresh');
  });

  it('makes a refresh wait while the pair is being replaced (the socket closed 4401 before the login again)', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'revoked', expiresAt: NOW + 600_000 });
    const ended = vi.fn();
    const presented: string[] = [];
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      const token = (JSON.parse(String(init?.body)) as { refresh_token: string }).refresh_token;
      presented.push(token);
      return token === 'fresh' ? json(200, authResult(2)) : json(401, { error: { code: 'unauthorized', message: 'revoked' } });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW, onSessionEnded: ended });
    let loggedIn!: () => void;
    const login = new Promise<void>((resolve) => {
      loggedIn = resolve;
    }).then(() => {
      tokens.value = { access: 'after-login', refresh: 'fresh', expiresAt: NOW + 900_000 };
    });
    const replacing = http.replacingTokens(login);
    const refreshed = http.refresh(); // what the socket does on 4401
    await Promise.resolve();
    expect(fetch).not.toHaveBeenCalled();
    loggedIn();
    await replacing;
    expect(await refreshed).toMatchObject({ access: 'access-2', refresh: 'refresh-2' });
    expect(presented).toEqual(['fresh']);
    expect(ended).not.toHaveBeenCalled();
    // Once replaced, refreshes no longer wait.
    await http.replacingTokens(Promise.reject(new Error('login failed'))).catch(() => undefined);
    tokens.value = { access: 'a', refresh: 'fresh', expiresAt: NOW + 900_000 };
    await expect(http.refresh()).resolves.toMatchObject({ access: 'access-2' });
  });

  it('adopts a pair another tab already rotated instead of refreshing again', async () => {
    const tokens = memoryTokens({ access: 'old', refresh: 'r0', expiresAt: NOW + 600_000 });
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>).Authorization;
      if (auth === 'Bearer old') {
        // Meanwhile the other tab stored a fresh pair.
        tokens.value = { access: 'other-tab', refresh: 'r1', expiresAt: NOW + 900_000 };
        return json(401, { error: { code: 'token_expired', message: 'expired' } });
      }
      return json(200, { auth });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW });
    expect(await http.request('GET', '/users/me')).toEqual({ auth: 'Bearer other-tab' });
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['30', 30],
    ['0', 0],
    ['', null],
    ['soon', null],
  ])('%s → %s', (v, want) => {
    expect(parseRetryAfter(v, NOW)).toBe(want);
  });

  it('accepts an HTTP date', () => {
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5);
  });

  it('refreshes a cookie session with an empty body, the browser sending the cookie, and no token kept', async () => {
    const tokens = memoryTokens({ access: 'old', expiresAt: NOW + 1000 });
    const seen: RequestInit[] = [];
    const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      seen.push(init ?? {});
      if (String(url).endsWith('/auth/refresh')) {
        const { refresh_token: _dropped, ...cookieResult } = authResult(1);
        return json(200, { ...cookieResult, expires_in: 20 });
      }
      return json(200, { ok: true });
    });
    const http = new HttpClient({ fetch, tokens, now: () => NOW });
    expect(await http.request('GET', '/users/me')).toEqual({ ok: true });
    expect(JSON.parse(String(seen[0]?.body))).toEqual({});
    expect(seen.every((i) => i.credentials === 'same-origin')).toBe(true);
    // A 20 s token is refreshed a quarter of its life before it expires.
    expect(tokens.value).toEqual({ access: 'access-1', expiresAt: NOW + 20_000, refreshAt: NOW + 15_000 });
  });

  it('ends a cookie session whose cookie is gone (400 from refresh)', async () => {
    const tokens = memoryTokens({ access: 'old', expiresAt: NOW - 1 });
    const ended = vi.fn();
    const fetch = vi.fn(async () => json(400, { error: { code: 'validation_failed', message: 'no token' } }));
    const http = new HttpClient({ fetch, tokens, now: () => NOW, onSessionEnded: ended });
    await expect(http.accessToken()).rejects.toMatchObject({ status: 400 });
    expect(ended).toHaveBeenCalledTimes(1);
    expect(tokens.value).toBeNull();
  });

  it('tells listeners of each new access token once', async () => {
    let now = NOW;
    const tokens = memoryTokens({ access: 'a0', expiresAt: NOW + 900_000 });
    const fetch = vi.fn(async () => json(200, authResult(1)));
    const http = new HttpClient({ fetch, tokens, now: () => now });
    const heard: string[] = [];
    const stop = http.onAccessToken((t) => heard.push(t));
    await http.accessToken();
    await http.accessToken();
    now += 850_000; // past the refresh point
    await http.accessToken();
    stop();
    tokens.value = { access: 'a2', expiresAt: now + 900_000 };
    await http.accessToken();
    expect(heard).toEqual(['a0', 'access-1']);
  });
});

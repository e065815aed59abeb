import type { AuthResult, ErrorBody } from './types';

/** A failed API call: the HTTP status, the contract's error code and its sentence. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, string>;
  /** Seconds to wait, from Retry-After on 429/503 answers. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, string> = {},
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** The request never got an answer (offline, server down, CORS). */
export class NetworkError extends ApiError {
  constructor(cause: unknown) {
    super(0, 'network_error', 'Cannot reach the server. Check your connection.');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export interface Tokens {
  access: string;
  /**
   * The refresh token of a session in the JSON form (API clients, sessions
   * stored before cookie sessions). Absent for a browser's cookie session:
   * its refresh token is an HttpOnly cookie that no script can read.
   */
  refresh?: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
  /** Epoch milliseconds from which to refresh it (absent: REFRESH_MARGIN_MS before expiresAt). */
  refreshAt?: number;
}

export interface TokenStore {
  load(): Tokens | null;
  save(tokens: Tokens | null): void;
}

/** Runs fn while holding a named lock shared by every tab (Web Locks), so only one tab rotates a refresh token. */
export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface HttpOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  tokens: TokenStore;
  now?: () => number;
  lock?: LockFn;
  /** Called once the refresh token is rejected: the user must log in again. */
  onSessionEnded?: () => void;
}

/** Hears each new access token (an open WebSocket authenticates again with it). */
export type TokenListener = (access: string) => void;

export interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  signal?: AbortSignal;
}

/**
 * Refresh this long before the access token expires (at most; a quarter of
 * the token's lifetime when that is shorter), so no request goes out with a
 * dying token and an open WebSocket is authenticated again before the
 * server closes it.
 */
export const REFRESH_MARGIN_MS = 60_000;

export function tokensFrom(result: AuthResult, now: number): Tokens {
  const life = result.expires_in * 1000;
  const t: Tokens = { access: result.access_token, expiresAt: now + life, refreshAt: now + life - Math.min(REFRESH_MARGIN_MS, life / 4) };
  if (result.refresh_token !== undefined) t.refresh = result.refresh_token;
  return t;
}

/** When the access token of t should be refreshed. */
export function refreshDue(t: Tokens): number {
  return t.refreshAt ?? t.expiresAt - REFRESH_MARGIN_MS;
}

export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export async function errorFromResponse(res: Response, now: number): Promise<ApiError> {
  let code = 'http_' + String(res.status);
  let message = res.statusText || 'Request failed';
  let details: Record<string, string> = {};
  try {
    const body = (await res.json()) as Partial<ErrorBody>;
    if (body.error) {
      code = body.error.code;
      message = body.error.message;
      details = body.error.details ?? {};
    }
  } catch {
    // Not JSON (a proxy error page): keep the status-derived code.
  }
  return new ApiError(res.status, code, message, details, parseRetryAfter(res.headers.get('Retry-After'), now));
}

export class HttpClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly tokens: TokenStore;
  private readonly now: () => number;
  private readonly lock: LockFn | undefined;
  private readonly onSessionEnded: (() => void) | undefined;
  private inflightRefresh: Promise<Tokens> | null = null;
  private relogin: Promise<unknown> | null = null;
  private readonly listeners = new Set<TokenListener>();
  private announced: string | null = null;

  constructor(opts: HttpOptions) {
    this.baseUrl = opts.baseUrl ?? '/api/v1';
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.tokens = opts.tokens;
    this.now = opts.now ?? Date.now;
    this.lock = opts.lock;
    this.onSessionEnded = opts.onSessionEnded;
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const t = this.tokens.load();
    if (!t) throw new ApiError(401, 'unauthorized', 'Please log in.');
    const access = this.now() < refreshDue(t) ? t.access : (await this.refresh(t.access)).access;
    this.announce(access);
    return access;
  }

  /** Calls fn with every access token newer than the last one announced; returns the unsubscribe. */
  onAccessToken(fn: TokenListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private announce(access: string): void {
    if (access === this.announced) return;
    this.announced = access;
    for (const fn of this.listeners) fn(access);
  }

  /**
   * Runs a step that replaces the stored pair (the login again after a
   * password change). Refreshes started meanwhile wait for it and use the new
   * pair: the server ends every session on a password change and closes the
   * WebSocket (4401) perhaps before this tab has logged in again, and a
   * refresh with the revoked token would sign the user out here too.
   */
  async replacingTokens<T>(step: Promise<T>): Promise<T> {
    const done = step.then(
      () => undefined,
      () => undefined,
    );
    this.relogin = done;
    try {
      return await step;
    } finally {
      if (this.relogin === done) this.relogin = null;
    }
  }

  /**
   * Rotates the refresh token. Concurrent callers share one in-flight request:
   * presenting the same refresh token twice would make the server revoke the
   * whole token family and log the user out.
   */
  refresh(staleAccess?: string): Promise<Tokens> {
    if (!this.inflightRefresh) {
      this.inflightRefresh = this.doRefresh(staleAccess).finally(() => {
        this.inflightRefresh = null;
      });
    }
    return this.inflightRefresh;
  }

  private async doRefresh(staleAccess: string | undefined): Promise<Tokens> {
    if (this.relogin) await this.relogin;
    const run = async (): Promise<Tokens> => {
      const current = this.tokens.load();
      if (!current) throw new ApiError(401, 'unauthorized', 'Please log in.');
      // Another tab may already have rotated the pair while we waited for the lock.
      if (staleAccess !== undefined && current.access !== staleAccess && this.now() < refreshDue(current)) {
        return current;
      }
      try {
        // A cookie session sends no token: the browser sends the cookie.
        const result = await this.request<AuthResult>('POST', '/auth/refresh', {
          body: current.refresh !== undefined ? { refresh_token: current.refresh } : {},
          auth: false,
        });
        const next = tokensFrom(result, this.now());
        this.tokens.save(next);
        return next;
      } catch (err) {
        // 400: a cookie session whose cookie is gone (expired, cleared).
        const dead = err instanceof ApiError && (err.status === 401 || err.status === 403 || (err.status === 400 && current.refresh === undefined));
        if (dead) {
          // A new pair stored while this refresh was out (a login again after
          // a password change, here or in another tab) is not dead with ours.
          const stored = this.tokens.load();
          if (stored && stored.access !== current.access) return stored;
          this.tokens.save(null);
          this.onSessionEnded?.();
        }
        throw err;
      }
    };
    return this.lock ? this.lock('chat-token-refresh', run) : run();
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    let token = auth ? await this.accessToken() : null;
    let res = await this.send(method, path, opts, token);
    if (res.status === 401 && auth && token !== null) {
      // The token was rejected although it looked fresh (clock skew, server restart with
      // new keys): refresh once and try again.
      token = (await this.refresh(token)).access;
      res = await this.send(method, path, opts, token);
    }
    if (!res.ok) throw await errorFromResponse(res, this.now());
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private async send(method: string, path: string, opts: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== null) headers['Authorization'] = 'Bearer ' + token;
    try {
      return await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: opts.signal ?? null,
        // The session cookie goes to our own origin only.
        credentials: 'same-origin',
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new NetworkError(err);
    }
  }
}

/**
 * Tokens kept in localStorage so a reload (and every tab) stays logged in:
 * the short-lived access token; the refresh token only for a session
 * stored in the JSON form (a browser's is an HttpOnly cookie).
 */
export class LocalTokenStore implements TokenStore {
  constructor(
    private readonly storage: Storage,
    private readonly key = 'chat.tokens',
  ) {}

  load(): Tokens | null {
    const raw = this.storage.getItem(this.key);
    if (raw === null) return null;
    try {
      const t = JSON.parse(raw) as Partial<Tokens>;
      if (typeof t.access === 'string' && typeof t.expiresAt === 'number') {
        const out: Tokens = { access: t.access, expiresAt: t.expiresAt };
        if (typeof t.refresh === 'string') out.refresh = t.refresh;
        if (typeof t.refreshAt === 'number') out.refreshAt = t.refreshAt;
        return out;
      }
    } catch {
      // Corrupt entry: treat as logged out.
    }
    return null;
  }

  save(tokens: Tokens | null): void {
    if (tokens === null) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(tokens));
  }
}

/** Web Locks when the browser has them; otherwise a plain call (one tab cannot race itself). */
export function browserLock(): LockFn | undefined {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return undefined;
  return <T,>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as Promise<T>;
}

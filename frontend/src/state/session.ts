import { signal } from '@preact/signals';
import { ChatApi } from '../api/api';
import { ApiError, HttpClient, refreshDue, type LockFn, type TokenStore } from '../api/http';
import type { User } from '../api/types';
import { forgetUser } from './keys';

export type SessionState = 'loading' | 'anonymous' | 'authenticated';

export interface SessionDeps {
  tokens: TokenStore;
  /** localStorage: the cached user, the outbox. */
  storage: Storage;
  /** sessionStorage: the drafts (this tab's). */
  drafts: Storage;
  fetch?: typeof fetch;
  lock?: LockFn;
  now?: () => number;
}

const ME_KEY = 'chat.me';

export interface ProfileChange {
  displayName?: string;
  /** A new password; needs currentPassword. */
  password?: string;
  currentPassword?: string;
}

/** The password was changed, but logging in again with it failed (offline, rate limited). */
export class SignInAgainError extends Error {
  constructor(cause: unknown) {
    super('Your password was changed, but signing in again failed. Log in with your new password.');
    this.name = 'SignInAgainError';
    this.cause = cause;
  }
}

/**
 * Who is logged in. The session is a cookie session: its refresh token is an
 * HttpOnly cookie no script can read; the short-lived access token lives in
 * localStorage so a reload (and every tab) stays logged in, and is refreshed
 * shortly before it expires.
 */
export class Session {
  readonly state = signal<SessionState>('loading');
  readonly user = signal<User | null>(null);
  readonly api: ChatApi;
  readonly http: HttpClient;
  private readonly tokens: TokenStore;
  private readonly storage: Storage;
  private readonly drafts: Storage;
  private readonly now: () => number;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: SessionDeps) {
    this.tokens = deps.tokens;
    this.storage = deps.storage;
    this.drafts = deps.drafts;
    this.now = deps.now ?? Date.now;
    this.http = new HttpClient({
      tokens: deps.tokens,
      fetch: deps.fetch,
      lock: deps.lock,
      now: this.now,
      onSessionEnded: () => this.ended(),
    });
    this.api = new ChatApi(this.http, this.now);
  }

  /** Restores the session from storage; verifies it in the background when a cached user exists. */
  async restore(): Promise<void> {
    if (!this.tokens.load()) {
      this.state.value = 'anonymous';
      return;
    }
    const cached = this.cachedUser();
    if (cached) {
      this.authenticated(cached);
      this.api.me().then(
        (u) => this.setUser(u),
        () => undefined, // offline: keep the cached user; a 401 already ended the session
      );
      return;
    }
    try {
      this.authenticated(await this.api.me());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.ended();
      else this.state.value = 'anonymous';
    }
  }

  async login(username: string, password: string): Promise<void> {
    const res = await this.api.login(username.trim(), password);
    this.tokens.save(this.api.tokensOf(res));
    this.authenticated(res.user);
  }

  async register(username: string, password: string, displayName: string): Promise<void> {
    const res = await this.api.register(username.trim(), password, displayName);
    this.tokens.save(this.api.tokensOf(res));
    this.authenticated(res.user);
  }

  /**
   * Changes the display name and/or the password (PATCH /users/me). The server
   * answers a password change by revoking every refresh token of the user,
   * ours included, so this logs in again with the new password right away and
   * the user stays signed in here; other devices are signed out. When that
   * second step fails the change itself stands: SignInAgainError says so.
   */
  async updateProfile(change: ProfileChange): Promise<User> {
    const patch: { display_name?: string; password?: string; current_password?: string } = {};
    if (change.displayName !== undefined) patch.display_name = change.displayName;
    if (change.password !== undefined) {
      patch.password = change.password;
      patch.current_password = change.currentPassword ?? '';
    }
    if (change.password === undefined) {
      const user = await this.api.updateMe(patch);
      this.setUser(user);
      return user;
    }
    const password = change.password;
    // Refreshes wait for the whole change (the socket's, after the server
    // closed it with 4401), so that they use the pair of the new login.
    return this.http.replacingTokens(
      (async () => {
        const user = await this.api.updateMe(patch);
        this.setUser(user);
        try {
          const res = await this.api.login(user.username, password);
          this.tokens.save(this.api.tokensOf(res));
          this.authenticated(res.user);
          return res.user;
        } catch (err) {
          throw new SignInAgainError(err);
        }
      })(),
    );
  }

  /** Ends the session here and on the server (its sockets close everywhere); what was kept for the user goes. */
  async logout(): Promise<void> {
    const t = this.tokens.load();
    this.ended();
    if (t) {
      await this.api.logout(t.refresh).catch(() => undefined);
    }
  }

  /** Another tab logged out or in: follow it. */
  onStorage(key: string | null): void {
    if (key !== null && key !== 'chat.tokens') return;
    const has = this.tokens.load() !== null;
    if (!has && this.state.value === 'authenticated') this.ended();
  }

  setUser(u: User): void {
    this.user.value = u;
    this.storage.setItem(ME_KEY, JSON.stringify(u));
  }

  private authenticated(u: User): void {
    this.setUser(u);
    this.state.value = 'authenticated';
    this.scheduleRefresh();
  }

  private ended(): void {
    const uid = this.user.value?.id ?? this.cachedUser()?.id;
    if (uid !== undefined) forgetUser(uid, this.storage, this.drafts);
    this.tokens.save(null);
    this.storage.removeItem(ME_KEY);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.user.value = null;
    this.state.value = 'anonymous';
  }

  /** Keep the access token fresh even while idle, so a reconnect never starts with an expired one. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const t = this.tokens.load();
    if (!t) return;
    const wait = Math.max(1_000, refreshDue(t) - this.now() + 100);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (this.state.value !== 'authenticated') return;
      this.http.accessToken().then(
        () => this.scheduleRefresh(),
        (err: unknown) => {
          if (!(err instanceof ApiError && err.status === 401)) {
            this.refreshTimer = setTimeout(() => this.scheduleRefresh(), 15_000);
          }
        },
      );
    }, Math.min(wait, 2 ** 31 - 1));
  }

  private cachedUser(): User | null {
    const raw = this.storage.getItem(ME_KEY);
    if (!raw) return null;
    try {
      const u = JSON.parse(raw) as User;
      return typeof u.id === 'number' && typeof u.username === 'string' ? u : null;
    } catch {
      return null;
    }
  }
}

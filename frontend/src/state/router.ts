import { signal } from '@preact/signals';

export type Route =
  | { name: 'home' }
  | { name: 'group'; id: number }
  | { name: 'login' }
  | { name: 'signup' }
  | { name: 'notfound' };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'home' };
  if (path === '/login') return { name: 'login' };
  if (path === '/signup') return { name: 'signup' };
  const m = /^\/g\/(\d{1,15})$/.exec(path);
  if (m?.[1]) return { name: 'group', id: Number(m[1]) };
  return { name: 'notfound' };
}

/** The message to open a conversation at (`/g/7?seq=42`, from a search result), or null. */
export function seqParam(search: string): number | null {
  const v = new URLSearchParams(search).get('seq');
  return v !== null && /^\d{1,15}$/.test(v) && Number(v) > 0 ? Number(v) : null;
}

/** History-API router: a signal holding the current path. */
export class Router {
  readonly path = signal(location.pathname);
  readonly search = signal(location.search);

  constructor() {
    window.addEventListener('popstate', () => {
      this.path.value = location.pathname;
      this.search.value = location.search;
    });
  }

  get route(): Route {
    return parseRoute(this.path.value);
  }

  navigate(to: string, opts: { replace?: boolean } = {}): void {
    const url = new URL(to, location.origin);
    if (url.pathname === location.pathname && url.search === location.search) return;
    if (opts.replace) history.replaceState(null, '', url.pathname + url.search);
    else history.pushState(null, '', url.pathname + url.search);
    this.path.value = url.pathname;
    this.search.value = url.search;
  }
}

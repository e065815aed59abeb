import type { Browser, BrowserContext, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend, browserSkipReason, freePort, launchBrowser, signup, sleep, waitOnline } from './harness';

// Sessions in a real browser: the refresh token is an HttpOnly cookie, the
// socket outlives its access token by authenticating again in-band, and a
// logout ends the session's socket wherever it is open.

const runId = Date.now().toString(36).slice(-5);

// Throws under CI when Chromium is missing: the run fails, it does not skip.
const skip = browserSkipReason();
if (skip !== null) console.warn(skip);

/** Records the page's WebSockets and the frames they carry. */
function watchSockets(p: Page) {
  const opened: WebSocket[] = [];
  const received: string[] = [];
  p.on('websocket', (ws) => {
    opened.push(ws);
    ws.on('framereceived', (f) => received.push(String(f.payload)));
  });
  return { opened, received };
}

describe.skipIf(skip !== null)('sessions in a real browser', () => {
  let browser: Browser;
  let backend: Backend;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  async function newPage(ctx: BrowserContext): Promise<Page> {
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  it('stays connected on one socket past the expiry of its access tokens, and keeps no refresh token where scripts read', async () => {
    // 10 s access tokens: the server closes a socket whose token expired
    // unless it was authenticated again on the open socket.
    backend = new Backend(await freePort(), { ACCESS_TOKEN_TTL: '10s' });
    await backend.start();
    const ctx = await browser.newContext({ baseURL: backend.url });
    const page = await newPage(ctx);
    const sockets = watchSockets(page);
    const name = `tess_${runId}`;
    await signup(page, name, name);

    // The refresh token is an HttpOnly cookie of the auth routes, in no storage a script reads.
    const cookies = await ctx.cookies();
    const refresh = cookies.find((c) => c.name === 'chat_refresh');
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth' });
    const visible = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(visible).not.toContain(refresh!.value);
    const stored = await page.evaluate(() => Object.keys(JSON.parse(localStorage.getItem('chat.tokens') ?? '{}') as object));
    expect(stored.sort()).toEqual(['access', 'expiresAt', 'refreshAt']);

    // Three token lifetimes later: still online, on the same socket, which
    // was authenticated again in-band.
    await sleep(32_000);
    await waitOnline(page);
    expect(sockets.opened).toHaveLength(1);
    expect(sockets.opened[0]!.isClosed()).toBe(false);
    expect(sockets.received.filter((f) => f.includes('"type":"reauthed"')).length).toBeGreaterThanOrEqual(2);

    // The socket still carries events: a group made now shows a message sent to it.
    await page.getByRole('button', { name: 'New group' }).click();
    await page.getByLabel('Name').fill(`expiry-${runId}`);
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: `expiry-${runId}`, level: 1 }).waitFor();
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('after three expiries');
    await box.press('Enter');
    await page.getByRole('log', { name: 'Messages' }).getByText('after three expiries').waitFor();
    expect(sockets.opened).toHaveLength(1);
    await ctx.close();
    await backend.stop();
  }, 90_000);

  it('closes the socket of a session that logs out elsewhere, and refuses its token', async () => {
    backend = new Backend(await freePort());
    await backend.start();
    const first = await browser.newContext({ baseURL: backend.url });
    const page = await newPage(first);
    const name = `lou_${runId}`;
    await signup(page, name, name);

    // A second browser holding the very same session (its cookie and its
    // stored token): no storage event reaches it, only the server can.
    const state = await first.storageState();
    const second = await browser.newContext({ baseURL: backend.url, storageState: state });
    const other = await newPage(second);
    const sockets = watchSockets(other);
    await other.goto('/');
    await other.getByRole('heading', { name: 'Conversations' }).waitFor();
    await waitOnline(other);
    const closed = new Promise<void>((ok) => sockets.opened[0]!.on('close', () => ok()));
    const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('chat.tokens') ?? '{}') as { access?: string }).access ?? '');
    expect(token).not.toBe('');

    const started = Date.now();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login/);
    await closed;
    const took = Date.now() - started;
    console.log(`the other browser's socket of the logged-out session closed ${took} ms after the logout`);
    // It cannot come back: the session's refresh cookie is revoked.
    await other.waitForURL(/\/login/, { timeout: 20_000 });
    const res = await fetch(`${backend.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    await first.close();
    await second.close();
  }, 90_000);
});

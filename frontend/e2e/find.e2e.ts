import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { axeSerious, Backend, browserSkipReason, ensureOutputDir, freePort, launchBrowser, PASSWORD, signup, sleep } from './harness';

// Find and follow (issue 15) in a real browser against the real backend:
// mentions, notifications, mute, message search and read receipts.

const runId = Date.now().toString(36).slice(-5);
const names = { alice: `alice_f${runId}`, bob: `bob_f${runId}` };
const groupName = `Follow ${runId}`;
const oldWord = `zebracorn${runId}`;

const skip = browserSkipReason();
if (skip !== null) console.warn(skip);

interface Note {
  title: string;
  body: string | undefined;
}

/**
 * Runs before the app in every page: records the notifications the app
 * shows (and keeps the last one to click), and lets the test say whether the
 * tab is hidden (a headless tab is always "visible").
 */
const pageHooks = () => {
  const w = window as unknown as { __notes: Note[]; __last: Notification | null; __hidden: boolean };
  w.__notes = [];
  w.__last = null;
  w.__hidden = false;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notes.push({ title, body: options?.body });
      w.__last = this;
    }
  }
  window.Notification = Recorded;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (w.__hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => w.__hidden });
};

describe.skipIf(skip !== null)('find and follow in a real browser', () => {
  let backend: Backend;
  let browser: Browser;
  let alice: { ctx: BrowserContext; page: Page };
  let bob: { ctx: BrowserContext; page: Page };
  let bobToken = '';
  let groupId = 0;

  async function person() {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: backend.url });
    await ctx.grantPermissions(['notifications'], { origin: backend.url });
    await ctx.addInitScript(pageHooks);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    return { ctx, page };
  }

  const log = (p: Page) => p.getByRole('log', { name: 'Messages' });
  const notes = (p: Page) => p.evaluate(() => (window as unknown as { __notes: Note[] }).__notes);
  const setHidden = (p: Page, hidden: boolean) =>
    p.evaluate((h) => {
      (window as unknown as { __hidden: boolean }).__hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${backend.url}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${bobToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  }

  async function send(p: Page, text: string) {
    const box = p.getByLabel('Message', { exact: true });
    await box.fill(text);
    await box.press('Enter');
    await log(p).getByText(text, { exact: true }).waitFor();
  }

  beforeAll(async () => {
    backend = new Backend(await freePort());
    await backend.start();
    browser = await launchBrowser();
    alice = await person();
    bob = await person();
    await signup(alice.page, names.alice, 'Alice');
    await signup(bob.page, names.bob, 'Bob');
    const login = await fetch(`${backend.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: names.bob, password: PASSWORD }),
    });
    bobToken = ((await login.json()) as { access_token: string }).access_token;

    // Alice creates a group; Bob joins it.
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Name').fill(groupName);
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: groupName, level: 1 }).waitFor();
    groupId = Number(/\/g\/(\d+)/.exec(alice.page.url())?.[1]);
    await bob.page.getByLabel('Search people and groups').fill(groupName);
    await bob.page.getByRole('button', { name: `Join ${groupName}` }).click();
    await bob.page.getByRole('heading', { name: groupName, level: 1 }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('finds a word of an old message and opens the conversation at it, highlighted in place', async () => {
    await send(bob.page, `the ${oldWord} plan is on`);
    // More than a page of later messages: the old one is not in the latest page.
    for (let i = 0; i < 60; i++) await api('POST', `/groups/${groupId}/messages`, { body: `filler ${i}` });
    await alice.page.goto('/');
    await alice.page.getByRole('button', { name: 'Search messages' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByRole('searchbox', { name: 'Search messages' }).fill(oldWord.slice(0, -2));
    const results = dialog.getByRole('list', { name: 'Message results' });
    const result = results.getByRole('button').filter({ hasText: oldWord });
    await result.waitFor();
    expect(await result.textContent()).toContain(groupName);
    expect(await result.textContent()).toContain('Bob');
    expect(await result.locator('mark').textContent()).toBe(oldWord);
    expect(await axeSerious(alice.page)).toEqual([]);
    await alice.page.screenshot({ path: join(ensureOutputDir(), 'desktop-message-search.png') });
    await result.click();
    await alice.page.getByRole('heading', { name: groupName, level: 1 }).waitFor();
    expect(alice.page.url()).toMatch(new RegExp(`/g/${groupId}\\?seq=\\d+$`));
    const found = log(alice.page).locator('[data-found="true"]');
    await found.waitFor();
    expect(await found.textContent()).toContain(oldWord);
    await expect.poll(() => found.isVisible()).toBe(true);
    const box = await found.boundingBox();
    const view = await log(alice.page).boundingBox();
    expect(box && view && box.y >= view.y && box.y + box.height <= view.y + view.height).toBe(true);
    await alice.page.screenshot({ path: join(ensureOutputDir(), 'desktop-found-message.png') });
  });

  it('notifies a mention while the tab is hidden, shows the mention badge, and a click opens the conversation', async () => {
    await alice.page.goto('/');
    await alice.page.getByRole('button', { name: 'Profile' }).click();
    await alice.page.getByRole('switch', { name: 'Browser notifications' }).check();
    await expect.poll(() => alice.page.getByRole('switch', { name: 'Browser notifications' }).isChecked()).toBe(true);
    await alice.page.getByRole('dialog', { name: 'Profile' }).getByRole('button', { name: 'Close' }).first().click();
    await alice.page.goto('/');
    await alice.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await setHidden(alice.page, true);
    const before = (await notes(alice.page)).length;

    // Bob names Alice through the completion list of the composer.
    const box = bob.page.getByLabel('Message', { exact: true });
    await box.fill('');
    await box.pressSequentially('@ali', { delay: 20 });
    const option = bob.page.getByRole('listbox', { name: 'Mention suggestions' }).getByRole('option', { name: `Alice @${names.alice}` });
    await option.waitFor();
    expect(await option.getAttribute('aria-selected')).toBe('true');
    await box.press('Enter');
    await expect.poll(() => box.inputValue()).toBe(`@${names.alice} `);
    await box.pressSequentially('can you look at this?');
    await box.press('Enter');
    await log(bob.page).getByText(`@${names.alice} can you look at this?`, { exact: true }).waitFor();
    await expect.poll(async () => (await notes(alice.page)).slice(before)).toEqual([
      { title: `Bob @${names.bob} in ${groupName}`, body: `@${names.alice} can you look at this?` },
    ]);
    const row = alice.page.getByRole('link', { name: new RegExp(`^${groupName}`) });
    await expect.poll(() => row.getByTestId('mention-badge').textContent()).toBe('@1 mention');
    await expect.poll(() => alice.page.title()).toMatch(/^\(\d+\) Chat$/);

    await setHidden(alice.page, false);
    await alice.page.evaluate(() => (window as unknown as { __last: Notification }).__last.dispatchEvent(new Event('click')));
    await alice.page.getByRole('heading', { name: groupName, level: 1 }).waitFor();
    await log(alice.page).locator('mark[data-mention="me"]').filter({ hasText: `@${names.alice}` }).waitFor();
  });

  it('raises no notification for a plain message in a muted group', async () => {
    await alice.page.goto(`/g/${groupId}`);
    await alice.page.getByRole('button', { name: 'Mute' }).click();
    await expect.poll(() => alice.page.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).toBe('true');
    await alice.page.goto('/');
    await alice.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await setHidden(alice.page, true);
    const before = (await notes(alice.page)).length;
    await send(bob.page, 'a plain message nobody needs to hear about');
    const row = alice.page.getByRole('link', { name: new RegExp(`^${groupName}`) });
    await expect.poll(() => row.textContent()).toContain('unread, muted');
    await sleep(500);
    expect((await notes(alice.page)).slice(before)).toEqual([]);
    await setHidden(alice.page, false);
  });

  it('shows "Seen" in a direct conversation once the peer has read it', async () => {
    await alice.page.goto('/');
    await alice.page.getByLabel('Search people and groups').fill(names.bob);
    await alice.page.getByRole('button', { name: `Message Bob @${names.bob}` }).click();
    await alice.page.getByRole('heading', { name: /Bob/, level: 1 }).waitFor();
    await send(alice.page, 'did you see this?');
    const directUrl = new URL(alice.page.url()).pathname;
    expect(await log(alice.page).getByText('Seen', { exact: true }).count()).toBe(0);
    await bob.page.goto(directUrl);
    await log(bob.page).getByText('did you see this?').waitFor();
    await log(alice.page).getByText('Seen', { exact: true }).waitFor();
    await alice.page.screenshot({ path: join(ensureOutputDir(), 'desktop-seen.png') });
  });
});

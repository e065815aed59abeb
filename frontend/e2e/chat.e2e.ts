import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeSerious, Backend, browserSkipReason, ensureOutputDir, freePort, launchBrowser, PASSWORD, signup, sleep, waitOnline } from './harness';

const runId = Date.now().toString(36).slice(-5);
const names = { alice: `alice_${runId}`, bob: `bob_${runId}`, carol: `carol_${runId}`, mallory: `mallory_${runId}` };

// Throws under CI when Chromium is missing: the run fails, it does not skip.
const skip = browserSkipReason();
if (skip !== null) console.warn(skip);

interface Person {
  ctx: BrowserContext;
  page: Page;
  dialogs: string[];
}

describe.skipIf(skip !== null)('chat in a real browser against the real backend', () => {
  let backend: Backend;
  let browser: Browser;
  let out: string;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let directUrl = '';
  let groupUrl = '';

  async function person(width = 1280, height = 800): Promise<Person> {
    const ctx = await browser.newContext({ viewport: { width, height }, baseURL: backend.url });
    const page = await ctx.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.setDefaultTimeout(15_000);
    return { ctx, page, dialogs };
  }

  async function send(p: Page, text: string) {
    const box = p.getByLabel('Message', { exact: true });
    await box.fill(text);
    await box.press('Enter');
  }

  function log(p: Page) {
    return p.getByRole('log', { name: 'Messages' });
  }

  async function shot(p: Page, name: string) {
    await p.screenshot({ path: join(out, `${name}.png`) });
  }

  beforeAll(async () => {
    out = ensureOutputDir();
    backend = new Backend(await freePort());
    await backend.start();
    browser = await launchBrowser();
    alice = await person();
    bob = await person();
    carol = await person(375, 812);
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('shows accessible log-in and sign-up screens', async () => {
    await alice.page.goto('/');
    await alice.page.waitForURL(/\/login$/);
    await alice.page.getByRole('heading', { name: 'Log in' }).waitFor();
    await shot(alice.page, 'desktop-login');
    expect(await axeSerious(alice.page)).toEqual([]);
    await alice.page.getByRole('link', { name: 'Create an account' }).click();
    await alice.page.getByRole('heading', { name: 'Create your account' }).waitFor();
    expect(await axeSerious(alice.page)).toEqual([]);
  });

  it('signs up two users who find each other and chat live both ways', async () => {
    await signup(alice.page, names.alice, 'Alice');
    await signup(bob.page, names.bob, 'Bob');

    // Alice finds Bob with the search box and starts a direct conversation.
    await alice.page.getByLabel('Search people and groups').fill(names.bob);
    await alice.page.getByRole('button', { name: 'Message Bob' }).click();
    await alice.page.waitForURL(/\/g\/\d+$/);
    directUrl = new URL(alice.page.url()).pathname;
    await alice.page.getByRole('heading', { name: 'Bob', level: 1 }).waitFor();
    await send(alice.page, 'Hello Bob!');
    await log(alice.page).getByText('Hello Bob!').waitFor();

    // Bob sees the conversation appear with an unread badge, live.
    const bobItem = bob.page.getByRole('link', { name: /^Alice/ });
    await bobItem.waitFor();
    await expect.poll(() => bobItem.getByTestId('unread-badge').textContent()).toBe('1 unread');
    await shot(bob.page, 'desktop-list-unread');
    await bobItem.click();
    await log(bob.page).getByText('Hello Bob!').waitFor();
    await expect.poll(() => bobItem.getByTestId('unread-badge').count()).toBe(0);

    // Bob types: Alice sees the typing indicator (with his @username), then the reply.
    const typing = `Bob @${names.bob} is typing…`;
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Hi Al', { delay: 20 });
    await alice.page.getByText(typing).waitFor();
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('ice!');
    await bob.page.getByLabel('Message', { exact: true }).press('Enter');
    await log(alice.page).getByText('Hi Alice!').waitFor();
    await alice.page.getByText(typing).waitFor({ state: 'detached' });

    // Own messages on the right, theirs on the left.
    const mine = await log(alice.page).getByText('Hello Bob!').boundingBox();
    const theirs = await log(alice.page).getByText('Hi Alice!').boundingBox();
    expect(mine!.x).toBeGreaterThan(theirs!.x);
    await shot(alice.page, 'desktop-conversation');
    expect(await axeSerious(alice.page)).toEqual([]);
  });

  it('runs a group with three users', async () => {
    await signup(carol.page, names.carol, 'Carol');
    await shot(carol.page, 'phone-list');

    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Name').fill(`Team ${runId}`);
    await alice.page.getByLabel(/Description/).fill('Planning <b>things</b>');
    await shot(alice.page, 'desktop-new-group');
    expect(await axeSerious(alice.page)).toEqual([]);
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: `Team ${runId}`, level: 1 }).waitFor();
    groupUrl = new URL(alice.page.url()).pathname;

    // Bob joins through search; Alice adds Carol from the details panel.
    await bob.page.getByLabel('Search people and groups').fill(`Team ${runId}`);
    await bob.page.getByRole('button', { name: `Join Team ${runId}` }).click();
    await bob.page.getByRole('heading', { name: `Team ${runId}`, level: 1 }).waitFor();

    await alice.page.getByRole('button', { name: 'Details' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Group details' });
    await dialog.getByText(`@${names.bob}`, { exact: true }).waitFor();
    await dialog.getByLabel('Add a member by name').fill(names.carol);
    await dialog.getByRole('button', { name: 'Add Carol' }).click();
    await dialog.getByText(`@${names.carol}`, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Make admin Bob' }).click();
    await dialog.getByRole('button', { name: 'Remove admin Bob' }).waitFor();
    await shot(alice.page, 'desktop-group-details');
    expect(await axeSerious(alice.page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Close' }).click();

    await carol.page.getByRole('link', { name: new RegExp(`^Team ${runId}`) }).click();
    await carol.page.getByRole('heading', { name: `Team ${runId}`, level: 1 }).waitFor();

    await send(alice.page, 'Welcome, team');
    await send(bob.page, 'Glad to be here');
    await send(carol.page, 'Hi all from my phone');
    for (const p of [alice.page, bob.page, carol.page]) {
      for (const text of ['Welcome, team', 'Glad to be here', 'Hi all from my phone']) {
        await log(p).getByText(text, { exact: true }).waitFor();
      }
    }
    await shot(carol.page, 'phone-conversation');
    expect(await axeSerious(carol.page)).toEqual([]);
    await carol.page.getByRole('button', { name: 'Back to conversations' }).click();
    await carol.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    expect(await axeSerious(carol.page)).toEqual([]);
  });

  it('shows a message with markup as literal text and runs nothing', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await bob.page.goto(directUrl);
    await send(bob.page, evil);
    await alice.page.goto(directUrl);
    await log(alice.page).getByText(evil, { exact: true }).waitFor();
    expect(await log(alice.page).locator('img').count()).toBe(0);
    await alice.page.waitForTimeout(300);
    expect(alice.dialogs).toEqual([]);
    expect(bob.dialogs).toEqual([]);
  });

  it('keeps history across a reload and opens deep links', async () => {
    await alice.page.goto(groupUrl);
    await alice.page.reload();
    await log(alice.page).getByText('Glad to be here').waitFor();
    await log(alice.page).getByText('Hi all from my phone').waitFor();
    await alice.page.goto(directUrl);
    await log(alice.page).getByText('Hello Bob!').waitFor();
  });

  it('reconnects after a server restart and shows messages sent meanwhile once', async () => {
    await alice.page.goto(directUrl);
    await bob.page.goto(directUrl);
    await waitOnline(alice.page);
    await waitOnline(bob.page);

    await backend.kill();
    await alice.page.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
    // Typed while the server is down: waits in the outbox.
    await send(alice.page, 'sent while the server was down');
    await alice.page.getByText('Waiting for connection…').waitFor();
    await shot(alice.page, 'desktop-reconnecting');

    await backend.start();
    await waitOnline(alice.page);
    await waitOnline(bob.page);
    await send(bob.page, 'back online');
    for (const p of [alice.page, bob.page]) {
      await log(p).getByText('sent while the server was down', { exact: true }).waitFor();
      await log(p).getByText('back online', { exact: true }).waitFor();
    }
    await alice.page.getByText('Waiting for connection…').waitFor({ state: 'detached' });
    await alice.page.waitForTimeout(500);
    for (const p of [alice.page, bob.page]) {
      expect(await log(p).getByText('sent while the server was down', { exact: true }).count()).toBe(1);
      expect(await log(p).getByText('back online', { exact: true }).count()).toBe(1);
    }
    // And after a reload, still once.
    await bob.page.reload();
    await log(bob.page).getByText('back online').waitFor();
    expect(await log(bob.page).getByText('sent while the server was down', { exact: true }).count()).toBe(1);
  });

  it('edits and deletes an own message for everyone', async () => {
    await alice.page.goto(directUrl);
    await bob.page.goto(directUrl);
    await send(alice.page, 'tpyo here');
    const row = log(alice.page).locator('[data-message-id]').filter({ hasText: 'tpyo here' });
    await row.hover();
    await row.getByRole('button', { name: 'Edit message' }).click();
    await alice.page.getByLabel('Edit message').fill('typo fixed');
    await alice.page.getByLabel('Edit message').press('Enter');
    await log(bob.page).getByText('typo fixed').waitFor();
    await log(bob.page).getByText('edited ·').first().waitFor();

    const fixed = log(alice.page).locator('[data-message-id]').filter({ hasText: 'typo fixed' });
    await fixed.hover();
    await fixed.getByRole('button', { name: 'Delete message' }).click();
    await fixed.getByRole('button', { name: 'Delete', exact: true }).click();
    await log(bob.page).getByText('This message was deleted').waitFor();
    expect(await log(bob.page).getByText('typo fixed').count()).toBe(0);
  });

  it('shows who really writes when a display name copies another user', async () => {
    const mallory = await person();
    await signup(mallory.page, names.mallory, 'Alice');
    await mallory.page.getByLabel('Search people and groups').fill(names.alice);
    await mallory.page.getByRole('button', { name: `Message Alice @${names.alice}` }).click();
    await mallory.page.waitForURL(/\/g\/\d+$/);
    await send(mallory.page, 'It is me, Alice. Send me your password.');
    // The server passes on at most one typing event per connection and group every 2 s; filling the box sent one.
    const typingAgainAt = Date.now() + 2500;

    // Alice sees "Alice @mallory_…" in her list, in the header and in the typing line, never a bare "Alice".
    const item = alice.page.getByRole('link', { name: new RegExp(`^Alice @${names.mallory}`) });
    await item.waitFor();
    await item.click();
    await alice.page.getByRole('heading', { name: `Alice @${names.mallory}`, level: 1 }).waitFor();
    await log(alice.page).getByText('It is me, Alice.', { exact: false }).waitFor();
    await sleep(typingAgainAt - Date.now());
    await mallory.page.getByLabel('Message', { exact: true }).pressSequentially('more', { delay: 20 });
    await alice.page.getByText(`Alice @${names.mallory} is typing…`).waitFor();
    await shot(alice.page, 'desktop-impersonation');
    expect(await axeSerious(alice.page)).toEqual([]);
    await mallory.ctx.close();
  });

  it('opens dialogs as modal <dialog>s that Escape closes, giving focus back', async () => {
    await alice.page.goto(directUrl);
    const opener = alice.page.getByRole('button', { name: 'Profile' });
    await opener.click();
    const dialog = alice.page.getByRole('dialog', { name: 'Profile' });
    await dialog.waitFor();
    expect(await dialog.evaluate((d) => d.tagName === 'DIALOG' && (d as HTMLDialogElement).open && d.matches(':modal'))).toBe(true);
    // Focus starts on the first field and Tab cannot leave the dialog for the page behind.
    expect(await alice.page.evaluate(() => document.activeElement?.id)).toBe('profile-display_name');
    for (let i = 0; i < 12; i++) await alice.page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement) || document.activeElement === document.body)).toBe(true);
    await alice.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await opener.evaluate((b) => b === document.activeElement)).toBe(true);
  });

  it('signs out other sessions on a password change and keeps this one live', async () => {
    const other = await person();
    await other.page.goto('/login');
    await other.page.getByLabel('Username').fill(names.alice);
    await other.page.getByLabel('Password').fill(PASSWORD);
    await other.page.getByRole('button', { name: 'Log in' }).click();
    await other.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await waitOnline(other.page);

    await alice.page.goto(directUrl);
    await waitOnline(alice.page);
    await alice.page.getByRole('button', { name: 'Profile' }).click();
    const form = alice.page.getByRole('form', { name: 'Profile' });
    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await form.getByLabel('Confirm new password').fill('a brand new passphrase');
    await form.getByRole('button', { name: 'Save' }).click();
    await alice.page.getByText(/Password changed\./).waitFor();
    await form.getByRole('button', { name: 'Close' }).click();

    // The other session's socket is closed by the server and its refresh
    // token is revoked: it is signed out.
    await other.page.waitForURL(/\/login$/, { timeout: 20_000 });
    // This one logged in again by itself and still gets messages live.
    await waitOnline(alice.page);
    await bob.page.goto(directUrl);
    await send(bob.page, 'Still there after the password change?');
    await log(alice.page).getByText('Still there after the password change?').waitFor();
    expect(alice.page.url()).toContain(directUrl);
    await other.ctx.close();
  });

  it('works at phone width with two screens', async () => {
    const phone = await person(375, 812);
    await phone.page.goto('/login');
    await phone.page.getByLabel('Username').fill(names.bob);
    await phone.page.getByLabel('Password').fill(PASSWORD);
    await phone.page.getByRole('button', { name: 'Log in' }).click();
    await phone.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await shot(phone.page, 'phone-list-bob');
    expect(await axeSerious(phone.page)).toEqual([]);
    await phone.page.getByRole('link', { name: /^Alice/ }).click();
    await log(phone.page).getByText('back online').waitFor();
    expect(await phone.page.getByRole('navigation', { name: 'Conversations' }).isVisible()).toBe(false);
    await shot(phone.page, 'phone-direct');
    await phone.ctx.close();
  });
});

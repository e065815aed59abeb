import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeSerious, Backend, browserSkipReason, freePort, frontendDir, launchBrowser, PASSWORD, signup, waitOnline } from './harness';

// Rich messages (issue 14) between two real browsers and the real backend:
// pasted images, a PDF card, a reply that jumps to its original, live
// reactions, links; screenshots of the conversation, kept in
// docs/screenshots when UPDATE_SCREENSHOTS=1 (otherwise in test-output, so
// that a test run leaves the checkout unchanged).

const runId = Date.now().toString(36).slice(-5);
const names = { alice: `ralice_${runId}`, bob: `rbob_${runId}` };
const screenshots =
  process.env.UPDATE_SCREENSHOTS === '1' ? resolve(frontendDir, '../docs/screenshots') : resolve(frontendDir, 'test-output');

const skip = browserSkipReason();
if (skip !== null) console.warn(skip);

interface Person {
  ctx: BrowserContext;
  page: Page;
  dialogs: string[];
}

/** The smallest PDF the server's content sniffing takes for one. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

describe.skipIf(skip !== null)('rich messages in a real browser', () => {
  let backend: Backend;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let directUrl = '';

  async function person(width = 1280, height = 860): Promise<Person> {
    const ctx = await browser.newContext({ viewport: { width, height }, baseURL: backend.url });
    const page = await ctx.newPage();
    const dialogs: string[] = [];
    // A javascript: URL that ran would open an alert: count them.
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.setDefaultTimeout(15_000);
    return { ctx, page, dialogs };
  }

  const log = (p: Page) => p.getByRole('log', { name: 'Messages' });
  const composer = (p: Page) => p.getByLabel('Message', { exact: true });

  async function send(p: Page, text: string) {
    await composer(p).fill(text);
    await composer(p).press('Enter');
  }

  /** The row of the message whose body has this text. */
  const row = (p: Page, text: string) => log(p).locator('[data-message-id]').filter({ hasText: text }).last();

  /** Pastes an image drawn on a canvas into the composer, as a screenshot tool's paste would. */
  async function pasteImage(p: Page, filename: string, hue: number) {
    await composer(p).focus();
    await p.evaluate(
      async ([name, h]) => {
        const c = document.createElement('canvas');
        c.width = 800;
        c.height = 500;
        const g = c.getContext('2d')!;
        const grad = g.createLinearGradient(0, 0, 800, 500);
        grad.addColorStop(0, `hsl(${h}, 70%, 60%)`);
        grad.addColorStop(1, `hsl(${(h as number) + 60}, 70%, 40%)`);
        g.fillStyle = grad;
        g.fillRect(0, 0, 800, 500);
        g.fillStyle = 'white';
        g.font = 'bold 64px sans-serif';
        g.fillText(String(name), 60, 270);
        const blob = await new Promise<Blob>((ok) => c.toBlob((b) => ok(b!), 'image/png'));
        const dt = new DataTransfer();
        dt.items.add(new File([blob], String(name), { type: 'image/png' }));
        const target = document.getElementById('composer-input')!;
        target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      },
      [filename, hue] as const,
    );
  }

  async function filesReady(p: Page) {
    await p.getByRole('list', { name: 'Files to send' }).getByText('Ready').first().waitFor();
    await p.getByRole('progressbar').waitFor({ state: 'detached' });
  }

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    backend = new Backend(await freePort(), { CHAT_MAX_UPLOAD: '2MiB' });
    await backend.start();
    browser = await launchBrowser();
    alice = await person();
    bob = await person();
    await signup(alice.page, names.alice, 'Alice');
    await signup(bob.page, names.bob, 'Bob');
    await alice.page.getByLabel('Search people and groups').fill(names.bob);
    await alice.page.getByRole('button', { name: 'Message Bob' }).click();
    await alice.page.waitForURL(/\/g\/\d+$/);
    directUrl = new URL(alice.page.url()).pathname;
    await send(alice.page, 'Shall we plan the trip?');
    await bob.page.goto(directUrl);
    await waitOnline(bob.page);
    await log(bob.page).getByText('Shall we plan the trip?').waitFor();
    // More than a page of messages after it: jumping back to it has to load older history.
    await alice.page.evaluate(async (path) => {
      const token = (JSON.parse(localStorage.getItem('chat.tokens') ?? '{}') as { access?: string }).access ?? '';
      const id = path.split('/').pop() ?? '';
      for (let i = 1; i <= 60; i++) {
        const res = await fetch(`/api/v1/groups/${id}/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify({ body: `filler ${i}` }),
        });
        if (!res.ok) throw new Error(`filler ${i}: ${res.status}`);
      }
    }, directUrl);
    await log(bob.page).getByText('filler 60', { exact: true }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('shows a reply with its quote, which jumps to the original', async () => {
    await row(bob.page, 'Shall we plan the trip?').getByRole('button', { name: 'Reply to this message' }).click();
    await bob.page.getByRole('status', { name: 'Replying to Alice' }).waitFor();
    await send(bob.page, 'Yes! **Saturday** works, see https://example.org/trip and javascript:alert(1)');
    await bob.page.getByRole('status', { name: 'Replying to Alice' }).waitFor({ state: 'detached' });

    // A fresh load holds the latest page only: the original is not in it.
    await alice.page.reload();
    await waitOnline(alice.page);
    const reply = row(alice.page, 'Saturday works');
    await reply.waitFor();
    // The question is the conversation's first message.
    const original = log(alice.page).locator('[data-seq="1"]');
    expect(await original.count()).toBe(0);
    const quote = reply.getByRole('button', { name: /^In reply to Alice .*Shall we plan the trip\?\s*\. Go to the original message$/ });
    await quote.waitFor();
    await log(alice.page).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await quote.click();
    await expect.poll(() => original.getAttribute('class')).toMatch(/highlight/);
    await expect.poll(() => original.isVisible()).toBe(true);
  });

  it('makes http(s) links clickable and leaves a javascript: URL as text', async () => {
    const reply = row(alice.page, 'Saturday works');
    const link = reply.getByRole('link', { name: 'https://example.org/trip' });
    expect(await link.getAttribute('href')).toBe('https://example.org/trip');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(await reply.locator('strong').textContent()).toBe('Saturday');
    expect(await reply.getByText(/javascript:alert\(1\)/).count()).toBe(1);
    expect(await log(alice.page).locator('a[href]:not([href^="http"]):not([href^="/"])').count()).toBe(0);
    await reply.getByText(/javascript:alert\(1\)/).click();
    expect(alice.dialogs).toEqual([]);
  });

  it('shows a reaction live to the other user, and its removal', async () => {
    const target = row(alice.page, 'Saturday works');
    await target.getByRole('button', { name: 'React to this message' }).click();
    const picker = alice.page.getByRole('dialog', { name: 'Choose a reaction' });
    await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('party');
    await picker.getByRole('searchbox', { name: 'Search emoji' }).press('Enter');
    const mine = target.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: '🎉 1' });
    await mine.waitFor();
    expect(await mine.getAttribute('aria-pressed')).toBe('true');

    const theirs = row(bob.page, 'Saturday works').getByRole('button', { name: '🎉 1' });
    await theirs.waitFor();
    expect(await theirs.getAttribute('aria-pressed')).toBe('false');
    await theirs.focus();
    await row(bob.page, 'Saturday works').getByRole('tooltip').filter({ hasText: 'Alice' }).waitFor();

    await mine.click();
    await theirs.waitFor({ state: 'detached' });

    // Leave some for the screenshots: Bob 👍 on the question, both ❤️ on the reply.
    await row(bob.page, 'Shall we plan the trip?').getByRole('button', { name: 'React to this message' }).click();
    await bob.page.getByRole('dialog', { name: 'Choose a reaction' }).getByRole('button', { name: 'thumbs up' }).click();
    for (const p of [alice.page, bob.page]) {
      await row(p, 'Saturday works').getByRole('button', { name: 'React to this message' }).click();
      await p.getByRole('dialog', { name: 'Choose a reaction' }).getByRole('button', { name: 'red heart' }).click();
    }
    await row(alice.page, 'Saturday works').getByRole('button', { name: '❤️ 2' }).waitFor();
    await row(alice.page, 'Shall we plan the trip?').getByRole('button', { name: '👍 1' }).waitFor();
  });

  it('sends a pasted image that both see as a thumbnail; the viewer opens and closes', async () => {
    await pasteImage(alice.page, 'mountains.png', 200);
    await filesReady(alice.page);
    await send(alice.page, 'Look at this view');
    for (const p of [alice.page, bob.page]) {
      const thumb = log(p).getByRole('button', { name: 'View image mountains.png' });
      await thumb.waitFor();
      await expect.poll(() => thumb.getByRole('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    }
    const thumb = log(bob.page).getByRole('button', { name: 'View image mountains.png' });
    await thumb.click();
    const viewer = bob.page.getByRole('dialog', { name: 'mountains.png' });
    await viewer.waitFor();
    const full = viewer.getByRole('img', { name: 'mountains.png' });
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(800);
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    expect(await thumb.evaluate((el) => el === document.activeElement)).toBe(true);

    // An image alone, with no text, from the other side.
    await pasteImage(bob.page, 'sunset.png', 20);
    await filesReady(bob.page);
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await log(alice.page).getByRole('button', { name: 'View image sunset.png' }).waitFor();
  });

  it('sends a PDF as a card with a working download link', async () => {
    await alice.page.getByLabel('Files to attach').setInputFiles({ name: 'itinerary.pdf', mimeType: 'application/pdf', buffer: PDF });
    await filesReady(alice.page);
    await send(alice.page, 'and the plan');
    const link = log(bob.page).getByRole('link', { name: 'Download itinerary.pdf' });
    await link.waitFor();
    const href = await link.getAttribute('href');
    expect(href).toBeTruthy();
    // The signed URL works without the Authorization header, as a plain link does.
    const res = await bob.page.request.get(href!);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-disposition']).toMatch(/^attachment/);
    expect((await res.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await row(bob.page, 'and the plan').getByText(`${PDF.length} B`).waitFor();
  });

  it('takes a file dropped on the conversation', async () => {
    await alice.page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['packing list: boots, map'], 'packing.txt', { type: 'text/plain' }));
      const view = document.querySelector('section[aria-labelledby="chat-title"]')!;
      view.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      view.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await filesReady(alice.page);
    await send(alice.page, 'dropped in');
    await log(bob.page).getByRole('link', { name: 'Download packing.txt' }).waitFor();
  });

  it('says so when a file is over the limit', async () => {
    await alice.page.getByLabel('Files to attach').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 * 1024 * 1024, 1) });
    const files = alice.page.getByRole('list', { name: 'Files to send' });
    const row = files.getByRole('listitem').filter({ hasText: 'huge.bin' });
    await row.getByRole('alert').waitFor();
    expect(await row.getByRole('alert').textContent()).toBe('A file may be at most 2097152 bytes.');
    await files.getByRole('button', { name: 'Remove huge.bin' }).click();
    await files.waitFor({ state: 'detached' });
  });

  it('takes screenshots of the conversation at desktop and phone widths', async () => {
    // The last screenful: images, a file, a reply with its quote, and reactions.
    await row(bob.page, 'Look at this view').getByRole('button', { name: 'Reply to this message' }).click();
    await send(bob.page, 'Wow, **stunning**! Is that from `day 2`?');
    await row(alice.page, 'stunning').getByRole('button', { name: 'React to this message' }).click();
    await alice.page.getByRole('dialog', { name: 'Choose a reaction' }).getByRole('button', { name: 'smiling face with heart eyes' }).click();
    await row(alice.page, 'stunning').getByRole('button', { name: 'React to this message' }).click();
    await alice.page.getByRole('dialog', { name: 'Choose a reaction' }).getByRole('button', { name: 'thumbs up' }).click();
    await row(bob.page, 'stunning').getByRole('button', { name: '👍 1' }).click();
    await row(alice.page, 'stunning').getByRole('button', { name: '👍 2' }).waitFor();
    await alice.page.mouse.move(0, 0);
    await log(alice.page).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await alice.page.waitForTimeout(300);
    await alice.page.screenshot({ path: join(screenshots, 'rich-desktop.png') });
    expect(await axeSerious(alice.page)).toEqual([]);

    const phone = await person(375, 812);
    await phone.page.goto('/login');
    await phone.page.getByLabel('Username').fill(names.bob);
    await phone.page.getByLabel('Password').fill(PASSWORD);
    await phone.page.getByRole('button', { name: 'Log in' }).click();
    await phone.page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await phone.page.goto(directUrl);
    await waitOnline(phone.page);
    await log(phone.page).getByText('Saturday', { exact: true }).waitFor();
    await expect.poll(() => log(phone.page).locator('img').evaluateAll((imgs: HTMLImageElement[]) => imgs.every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await log(phone.page).evaluate((el) => (el.scrollTop = el.scrollHeight));
    await phone.page.waitForTimeout(300);
    await phone.page.screenshot({ path: join(screenshots, 'rich-phone.png') });
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.ctx.close();
  });
});

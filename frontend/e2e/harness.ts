import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const frontendDir = resolve(here, '..');
export const chatdPath = resolve(frontendDir, process.env.CHATD_PATH ?? '../bin/chatd');
export const outputDir = resolve(frontendDir, 'test-output');
const chromiumIn = (env: NodeJS.ProcessEnv) => env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumPath = chromiumIn(process.env);

/** CI=true (or any value but "", "0" and "false") means a CI run. */
function isCI(env: NodeJS.ProcessEnv): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

/**
 * Whether the browser tests can run: null when Chromium is there, else why
 * they are skipped. In CI a missing browser throws instead, so that the run
 * fails rather than passing with the browser tests quietly skipped.
 */
export function browserSkipReason(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string | null {
  const path = chromiumIn(env);
  if (exists(path)) return null;
  const missing = `Chromium is missing at ${path} (set CHROMIUM_PATH, or apt-get install chromium)`;
  if (isCI(env)) throw new Error(`${missing}: CI requires the browser tests.`);
  return `${missing}: skipping the browser tests (they fail instead when CI is set).`;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** The real backend binary on a loopback port with its own data directory. */
export class Backend {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'chat-e2e-'));
  private proc: ChildProcess | null = null;
  private log: string[] = [];

  /** env: extra settings of the server (e.g. a short ACCESS_TOKEN_TTL). */
  constructor(
    readonly port: number,
    private readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!existsSync(chatdPath)) throw new Error(`backend binary missing at ${chatdPath}: run "make backend" first`);
    if (!existsSync(join(frontendDir, 'dist', 'index.html'))) throw new Error('frontend/dist missing: run "npm run build" first');
    const proc = spawn(chatdPath, [], {
      cwd: frontendDir,
      env: {
        ...process.env,
        CHAT_ADDR: `127.0.0.1:${this.port}`,
        CHAT_DATA_DIR: this.dataDir,
        CHAT_STATIC_DIR: join(frontendDir, 'dist'),
        CHAT_AUTH_RATE: '0',
        LOG_LEVEL: 'warn',
        // Its fixed default port would collide with another server here.
        CHAT_METRICS_ADDR: 'off',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      this.log.push(b.toString());
      if (this.log.length > 200) this.log.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.proc = proc;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`chatd exited with ${proc.exitCode}:\n${this.log.join('')}`);
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`chatd not ready in time:\n${this.log.join('')}`);
  }

  /** Kills the process hard (no graceful shutdown), as a crash would. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((ok) => proc.once('exit', ok));
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((ok) => proc.once('exit', ok));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  logs(): string {
    return this.log.join('');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The password of every user the browser tests sign up. */
export const PASSWORD = 'correct horse battery';

/** Signs up through the form and waits until the app is online. */
export async function signup(p: Page, username: string, displayName: string): Promise<void> {
  await p.goto('/signup');
  await p.getByLabel('Username').fill(username);
  await p.getByLabel(/Display name/).fill(displayName);
  await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.getByLabel('Confirm password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign up' }).click();
  await p.getByRole('heading', { name: 'Conversations' }).waitFor();
  await waitOnline(p);
}

/** Waits until the connection banner says the socket is online. */
export async function waitOnline(p: Page): Promise<void> {
  await p.locator('[role="status"][data-status="online"]').waitFor({ state: 'attached', timeout: 20_000 });
}

export function launchBrowser(): Promise<Browser> {
  // Playwright gives every launch a fresh temporary profile (user-data-dir) and removes it on close.
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function ensureOutputDir(): string {
  mkdirSync(outputDir, { recursive: true });
  return outputDir;
}

const axeSource = readFileSync(resolve(frontendDir, 'node_modules/axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; html: string }[];
}

/** Runs axe-core in the page; returns the serious and critical violations, one readable line each. */
export async function axeSerious(page: Page): Promise<string[]> {
  const has = await page.evaluate(() => 'axe' in window);
  // Evaluated through the DevTools protocol: the app's CSP (script-src 'self') rightly blocks inline scripts.
  if (!has) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html })),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.html).join(' | ')}`);
}

import { signal, type ReadonlySignal, type Signal } from '@preact/signals';
import type { OutboxItem } from '../api/socket';
import type { Message } from '../api/types';
import { deliveredClientIds } from './messages';
import { listComputed } from './signals';

/** Error codes after which sending the same message again can never succeed: the item waits for the user. */
const PERMANENT = new Set(['validation_failed', 'forbidden', 'not_member', 'not_found', 'payload_too_large', 'invalid_json']);

/**
 * Messages typed but not yet acknowledged, kept in localStorage per user so a
 * reload or a lost connection does not lose them. Each has a client_id, so
 * sending it again can never store it twice.
 */
export class OutboxStore {
  private readonly state: Signal<readonly OutboxItem[]>;
  private readonly byGroup = new Map<number, ReadonlySignal<readonly OutboxItem[]>>();

  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly meId: number,
  ) {
    this.state = signal(this.load());
  }

  /** Every item, oldest first. */
  get items(): ReadonlySignal<readonly OutboxItem[]> {
    return this.state;
  }

  /** The items of one conversation, oldest first; a new array only when they change. */
  pendingIn(groupId: number): ReadonlySignal<readonly OutboxItem[]> {
    let s = this.byGroup.get(groupId);
    if (!s) {
      s = listComputed(() => this.state.value.filter((o) => o.group_id === groupId));
      this.byGroup.set(groupId, s);
    }
    return s;
  }

  find(clientId: string): OutboxItem | undefined {
    return this.state.peek().find((o) => o.client_id === clientId);
  }

  add(item: OutboxItem): void {
    this.set([...this.state.peek(), item]);
  }

  /** Clears a refusal so the item goes out again (without uploads that were lost); returns the item to send. */
  retry(clientId: string): OutboxItem | undefined {
    const item = this.find(clientId);
    if (!item) return undefined;
    const fresh: OutboxItem = { ...item };
    delete fresh.error;
    delete fresh.uploads;
    this.set(this.state.peek().map((o) => (o === item ? fresh : o)));
    return fresh;
  }

  /**
   * An upload of a waiting item finished: its attachment joins the item.
   * Returns the items that have no upload left to wait for (to send now).
   */
  uploadDone(uploadId: string, attachmentId: number): OutboxItem[] {
    return this.changeUploads(uploadId, (o) => ({ ...o, attachment_ids: [...(o.attachment_ids ?? []), attachmentId] }));
  }

  /** An upload of a waiting item was cancelled: the item goes without it (or goes away when nothing is left). */
  uploadCancelled(uploadId: string): OutboxItem[] {
    return this.changeUploads(uploadId, (o) => o);
  }

  /** An upload of a waiting item failed: the item waits for the user (Retry sends it without that file). */
  uploadFailed(uploadId: string, message: string): void {
    if (!this.state.peek().some((o) => o.uploads?.includes(uploadId))) return;
    this.set(this.state.peek().map((o) => (o.uploads?.includes(uploadId) ? { ...o, error: message } : o)));
  }

  private changeUploads(uploadId: string, fn: (o: OutboxItem) => OutboxItem): OutboxItem[] {
    const ready: OutboxItem[] = [];
    let changed = false;
    const next: OutboxItem[] = [];
    for (const o of this.state.peek()) {
      if (!o.uploads?.includes(uploadId)) {
        next.push(o);
        continue;
      }
      changed = true;
      const item = fn({ ...o, uploads: o.uploads.filter((u) => u !== uploadId) });
      if (item.body === '' && (item.attachment_ids?.length ?? 0) === 0 && (item.uploads?.length ?? 0) === 0) continue;
      next.push(item);
      if (item.uploads?.length === 0 && item.error === undefined) ready.push(item);
    }
    if (changed) this.set(next);
    return ready;
  }

  discard(clientId: string): void {
    this.set(this.state.peek().filter((o) => o.client_id !== clientId));
  }

  /** The server refused a send. A permanent refusal waits for the user; others go out again on the next connection. */
  refused(clientId: string, error: { code: string; message: string }): void {
    if (!PERMANENT.has(error.code) || !this.find(clientId)) return;
    this.set(this.state.peek().map((o) => (o.client_id === clientId ? { ...o, error: error.message } : o)));
  }

  /** Drops the items whose message has arrived. */
  delivered(msgs: readonly Message[]): void {
    const ids = deliveredClientIds(msgs, this.meId);
    if (ids.size === 0) return;
    const cur = this.state.peek();
    const left = cur.filter((o) => !ids.has(o.client_id));
    if (left.length !== cur.length) this.set(left);
  }

  private set(items: readonly OutboxItem[]): void {
    this.state.value = items;
    if (items.length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(items));
  }

  private load(): OutboxItem[] {
    const raw = this.storage.getItem(this.key);
    if (raw === null) return [];
    try {
      const items = JSON.parse(raw) as unknown;
      // Uploads do not outlive the page: an item still waiting for one waits for the user.
      return Array.isArray(items)
        ? items.filter(isOutboxItem).map((o) => ((o.uploads?.length ?? 0) > 0 && o.error === undefined ? { ...o, error: 'Its files were not uploaded.' } : o))
        : [];
    } catch {
      return [];
    }
  }
}

function isOutboxItem(v: unknown): v is OutboxItem {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.client_id === 'string' &&
    typeof o.group_id === 'number' &&
    typeof o.body === 'string' &&
    typeof o.created_at === 'string'
  );
}

export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}

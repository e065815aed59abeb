import type { OutboxItem } from '../api/socket';

/**
 * Messages typed but not yet acknowledged, kept in localStorage per user so a
 * reload or a lost connection does not lose them. Each has a client_id, so
 * sending it again can never store it twice.
 */
export class OutboxStore {
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
  ) {}

  load(): OutboxItem[] {
    const raw = this.storage.getItem(this.key);
    if (raw === null) return [];
    try {
      const items = JSON.parse(raw) as unknown;
      if (!Array.isArray(items)) return [];
      return items.filter(isOutboxItem);
    } catch {
      return [];
    }
  }

  save(items: readonly OutboxItem[]): void {
    if (items.length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(items));
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

import { signal, type ReadonlySignal } from '@preact/signals';
import type { Attachment } from '../api/rich';
import type { Uploader } from '../api/upload';
import { newClientId } from './outbox';
import { listComputed } from './signals';

/** At most this many files go with one message (docs/API.md, send). */
export const MAX_ATTACHMENTS = 10;

export interface Upload {
  /** Local id, never sent. */
  id: string;
  group_id: number;
  name: string;
  size: number;
  /** Bytes sent so far. */
  loaded: number;
  status: 'uploading' | 'done' | 'failed';
  attachment?: Attachment;
  error?: string;
  /** Taken into a message (the outbox item waits for it), no longer in the composer. */
  sent: boolean;
}

export interface UploadEvents {
  done: (id: string, a: Attachment) => void;
  failed: (id: string, message: string) => void;
  cancelled: (id: string) => void;
}

/**
 * Files being uploaded, one entry each with its progress: those in a
 * conversation's composer, and those taken into a message that waits for
 * them in the outbox (which hears done/failed/cancelled).
 */
export class UploadStore {
  private readonly state = signal<readonly Upload[]>([]);
  private readonly aborts = new Map<string, AbortController>();
  private readonly drafts = new Map<number, ReadonlySignal<readonly Upload[]>>();

  constructor(
    private readonly upload: Uploader,
    private readonly events: UploadEvents,
    private readonly describe: (err: unknown) => string,
  ) {}

  /** The uploads in a conversation's composer, oldest first. */
  draft(groupId: number): ReadonlySignal<readonly Upload[]> {
    let s = this.drafts.get(groupId);
    if (!s) {
      s = listComputed(() => this.state.value.filter((u) => u.group_id === groupId && !u.sent));
      this.drafts.set(groupId, s);
    }
    return s;
  }

  get(id: string): Upload | undefined {
    return this.state.value.find((u) => u.id === id);
  }

  /** Starts uploading files into a conversation's composer; returns how many were refused for the per-message limit. */
  add(groupId: number, files: readonly File[]): number {
    const room = Math.max(0, MAX_ATTACHMENTS - this.draft(groupId).peek().length);
    const taken = files.slice(0, room);
    for (const f of taken) this.start(groupId, f);
    return files.length - taken.length;
  }

  private start(groupId: number, file: File): void {
    // Unique across reloads too: outbox items kept in storage name their uploads.
    const id = newClientId();
    const ctl = new AbortController();
    this.aborts.set(id, ctl);
    this.state.value = [...this.state.peek(), { id, group_id: groupId, name: file.name, size: file.size, loaded: 0, status: 'uploading', sent: false }];
    this.upload(groupId, file, (loaded) => this.patch(id, { loaded }), ctl.signal).then(
      (attachment) => {
        this.aborts.delete(id);
        const u = this.patch(id, { status: 'done', loaded: file.size, attachment });
        if (u?.sent) {
          this.remove(id);
          this.events.done(id, attachment);
        }
      },
      (err: unknown) => {
        this.aborts.delete(id);
        if (err instanceof DOMException && err.name === 'AbortError') return;
        const message = this.describe(err);
        const u = this.patch(id, { status: 'failed', error: message });
        if (u?.sent) {
          this.remove(id);
          this.events.failed(id, `${file.name}: ${message}`);
        }
      },
    );
  }

  /** Stops an upload (or drops a finished one from the composer). */
  cancel(id: string): void {
    const u = this.state.peek().find((x) => x.id === id);
    if (!u) return;
    this.aborts.get(id)?.abort();
    this.aborts.delete(id);
    this.remove(id);
    if (u.sent) this.events.cancelled(id);
  }

  /**
   * Takes the composer's uploads into a message: the attachments already
   * uploaded, and the ids of those still running (the message waits for
   * them). Failed ones stay in the composer.
   */
  take(groupId: number): { attachmentIds: number[]; waiting: string[] } {
    const attachmentIds: number[] = [];
    const waiting: string[] = [];
    const next: Upload[] = [];
    for (const u of this.state.peek()) {
      if (u.group_id !== groupId || u.sent || u.status === 'failed') next.push(u);
      else if (u.status === 'done' && u.attachment) attachmentIds.push(u.attachment.id);
      else {
        waiting.push(u.id);
        next.push({ ...u, sent: true });
      }
    }
    this.state.value = next;
    return { attachmentIds, waiting };
  }

  stop(): void {
    for (const c of this.aborts.values()) c.abort();
    this.aborts.clear();
  }

  private patch(id: string, p: Partial<Upload>): Upload | undefined {
    let out: Upload | undefined;
    this.state.value = this.state.peek().map((u) => (u.id === id ? (out = { ...u, ...p }) : u));
    return out;
  }

  private remove(id: string): void {
    this.state.value = this.state.peek().filter((u) => u.id !== id);
  }
}

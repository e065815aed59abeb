// The rich parts of a Message (docs/API.md, Messages and Attachments, issue
// 14), read defensively: a Message from an older server, or an outbox item,
// has none of them. Written from the contract until the OpenAPI document
// carries them; then these become aliases of the generated schema types.
import type { Message } from './types';

export interface Attachment {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  url: string;
  thumbnail_url: string | null;
  created_at: string;
}

export interface ReplyPreview {
  id: number;
  seq: number;
  sender: Message['sender'];
  /** The first 200 characters. */
  body: string;
  deleted: boolean;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** Up to 20 reactors, the caller first if it reacted. */
  user_ids: number[];
}

export interface RichFields {
  reply_to?: ReplyPreview | null;
  attachments?: Attachment[];
  reactions?: Reaction[];
}

/** What a send carries besides the body (REST and WebSocket). */
export interface SendExtras {
  reply_to_id?: number;
  attachment_ids?: number[];
}

type Rich = Message & RichFields;

export function replyOf(m: Message): ReplyPreview | null {
  return (m as Rich).reply_to ?? null;
}

export function attachmentsOf(m: Message): readonly Attachment[] {
  return (m as Rich).attachments ?? [];
}

export function reactionsOf(m: Message): readonly Reaction[] {
  return (m as Rich).reactions ?? [];
}

export function withReactions(m: Message, reactions: Reaction[]): Message {
  return { ...m, reactions } as Rich;
}

/** How a reply shows the message it answers: the sender and the first 200 characters (code points), as the server cuts it. */
export function previewOf(m: Message): ReplyPreview {
  return { id: m.id, seq: m.seq, sender: m.sender, body: [...m.body].slice(0, 200).join(''), deleted: m.deleted };
}

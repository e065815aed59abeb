// The rich parts of a Message (docs/API.md, Messages and Attachments, issue
// 14), read defensively: a Message kept from an older server, or an outbox
// item, may lack them.
import type { Attachment, Message, ReplyPreview, Reaction, SendRequest } from './types';

export type { Attachment, ReplyPreview, Reaction };

export interface RichFields {
  reply_to?: ReplyPreview | null;
  attachments?: Attachment[];
  reactions?: Reaction[];
}

/** What a send carries besides the body (REST and WebSocket). */
export type SendExtras = Pick<SendRequest, 'reply_to_id' | 'attachment_ids'>;

type Rich = Omit<Message, keyof RichFields> & RichFields;

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
  return { ...m, reactions };
}

/** How a reply shows the message it answers: the sender and the first 200 characters (code points), as the server cuts it. */
export function previewOf(m: Message): ReplyPreview {
  return { id: m.id, seq: m.seq, sender: m.sender, body: [...m.body].slice(0, 200).join(''), deleted: m.deleted };
}

/** A message in one line of text (conversation list): its body, or the names of its files when it has no text. */
export function summaryOf(m: Message): string {
  const body = m.body.replace(/\s+/g, ' ').trim();
  if (body !== '') return body;
  const files = attachmentsOf(m);
  if (files.length === 0) return '';
  return `📎 ${files.map((a) => a.filename).join(', ')}`;
}

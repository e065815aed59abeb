// WebSocket frames of docs/API.md ("WebSocket"). OpenAPI does not describe
// them, so they are written here, and only here, from the generated REST types.
import type { SendExtras } from './rich';
import type { ErrorBody, Group, Message, SendRequest, User } from './types';

/** Per-group last seen seq, keyed by the group id as a string (JSON object keys). */
export type Cursors = Record<string, number>;

/** The error of a frame that failed; the connection stays open. */
export type FrameError = Pick<ErrorBody['error'], 'code' | 'message'>;

export type ClientFrame =
  | { type: 'auth'; token: string; cursors?: Cursors }
  | ({ type: 'send'; group_id: number; client_id: string; ref?: string } & Required<Pick<SendRequest, 'body'>> & SendExtras)
  | { type: 'typing'; group_id: number }
  | { type: 'read'; group_id: number; seq: number }
  | { type: 'resume'; cursors: Cursors }
  | { type: 'ping' };

export type ServerEvent =
  | { type: 'ready'; user: User }
  | { type: 'reauthed'; ref?: string; expires_in: number }
  | { type: 'resumed' }
  | { type: 'pong' }
  | { type: 'ack'; ref?: string; message: Message }
  | { type: 'message'; message: Message }
  | { type: 'message_updated'; message: Message }
  | { type: 'message_deleted'; message: Message }
  | { type: 'typing'; group_id: number; user_id: number }
  // user_id: another member's marker (docs/API.md: sent when that member shares read receipts); absent: one's own.
  | { type: 'read'; group_id: number; seq: number; user_id?: number }
  | { type: 'presence'; user_id: number; online: boolean }
  | { type: 'member_joined'; group_id: number; user: User }
  | { type: 'member_left'; group_id: number; user_id: number }
  | { type: 'group_updated'; group: Group }
  | { type: 'group_deleted'; group_id: number }
  | { type: 'reaction'; group_id: number; message_id: number; seq: number; emoji: string; user_id: number; added: boolean }
  | { type: 'error'; ref?: string; error: FrameError };

export type ServerEventType = ServerEvent['type'];

/** The event of one type, e.g. EventOf<'message'>. */
export type EventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

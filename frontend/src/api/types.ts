// Wire types of docs/API.md (v1). Ids are JSON integers, times RFC 3339.

export interface User {
  id: number;
  username: string;
  display_name: string;
  created_at: string;
  online?: boolean;
}

export type Role = 'owner' | 'admin' | 'member';
export type Visibility = 'public' | 'private';
export type GroupKind = 'group' | 'direct';

export interface Group {
  id: number;
  kind: GroupKind;
  name: string | null;
  description: string;
  visibility: Visibility;
  owner_id: number;
  member_count: number;
  last_seq: number;
  created_at: string;
  peer?: User;
}

export interface MyGroup extends Group {
  role: Role;
  last_read_seq: number;
  unread_count: number;
  last_message: Message | null;
}

export interface Member extends User {
  role: Role;
}

export interface Message {
  id: number;
  group_id: number;
  seq: number;
  sender: User;
  body: string;
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

export interface AuthResult {
  user: User;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface MessagePage {
  items: Message[];
  has_more: boolean;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, string> };
}

/** Per-group last seen seq, keyed by the group id as a string (JSON object keys). */
export type Cursors = Record<string, number>;

export type ClientFrame =
  | { type: 'auth'; token: string; cursors?: Cursors }
  | { type: 'send'; group_id: number; body: string; client_id: string; ref?: string }
  | { type: 'typing'; group_id: number }
  | { type: 'read'; group_id: number; seq: number }
  | { type: 'resume'; cursors: Cursors }
  | { type: 'ping' };

export type ServerEvent =
  | { type: 'ready'; user: User }
  | { type: 'resumed' }
  | { type: 'pong' }
  | { type: 'ack'; ref?: string; message: Message }
  | { type: 'message'; message: Message }
  | { type: 'message_updated'; message: Message }
  | { type: 'message_deleted'; message: Message }
  | { type: 'typing'; group_id: number; user_id: number }
  | { type: 'read'; group_id: number; seq: number }
  | { type: 'presence'; user_id: number; online: boolean }
  | { type: 'member_joined'; group_id: number; user: User }
  | { type: 'member_left'; group_id: number; user_id: number }
  | { type: 'group_updated'; group: Group }
  | { type: 'group_deleted'; group_id: number }
  | { type: 'error'; ref?: string; error: { code: string; message: string } };

export function displayName(u: Pick<User, 'username' | 'display_name'>): string {
  const d = u.display_name.trim();
  return d === '' ? u.username : d;
}

import { HttpClient, tokensFrom } from './http';
import type {
  AuthResult,
  CreateGroupRequest,
  EditList,
  Group,
  GroupPage,
  LoginRequest,
  MemberList,
  Message,
  MessagePage,
  MyGroup,
  MyGroupList,
  MuteRequest,
  ReadReceiptList,
  RegisterRequest,
  SearchMessagePage,
  SetRoleRequest,
  UpdateGroupRequest,
  UpdateMeRequest,
  User,
  UserPage,
  Visibility,
} from './types';

/** The REST endpoints of API.md, typed. */
export class ChatApi {
  constructor(
    readonly http: HttpClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Signs up; a browser's session keeps its refresh token in an HttpOnly cookie (session: 'cookie'). */
  register(username: string, password: string, displayName?: string): Promise<AuthResult> {
    const body: RegisterRequest = { username, password, session: 'cookie' };
    if (displayName !== undefined && displayName.trim() !== '') body.display_name = displayName.trim();
    return this.http.request<AuthResult>('POST', '/auth/register', { body, auth: false });
  }

  login(username: string, password: string): Promise<AuthResult> {
    const body: LoginRequest = { username, password, session: 'cookie' };
    return this.http.request<AuthResult>('POST', '/auth/login', { body, auth: false });
  }

  /** Ends the session: the one of refreshToken, else the cookie's. */
  logout(refreshToken?: string): Promise<void> {
    const body = refreshToken !== undefined ? { refresh_token: refreshToken } : {};
    return this.http.request<void>('POST', '/auth/logout', { body, auth: false });
  }

  tokensOf(result: AuthResult) {
    return tokensFrom(result, this.now());
  }

  me(): Promise<User> {
    return this.http.request<User>('GET', '/users/me');
  }

  updateMe(patch: UpdateMeRequest): Promise<User> {
    return this.http.request<User>('PATCH', '/users/me', { body: patch });
  }

  searchUsers(q: string, limit = 20, signal?: AbortSignal): Promise<UserPage> {
    return this.http.request<UserPage>('GET', `/users?${query({ q, limit })}`, { signal });
  }

  user(id: number): Promise<User> {
    return this.http.request<User>('GET', `/users/${id}`);
  }

  searchGroups(q: string, limit = 20, signal?: AbortSignal): Promise<GroupPage> {
    return this.http.request<GroupPage>('GET', `/groups?${query({ q, limit })}`, { signal });
  }

  myGroups(): Promise<MyGroupList> {
    return this.http.request<MyGroupList>('GET', '/me/groups');
  }

  createGroup(name: string, description: string, visibility: Visibility): Promise<Group> {
    const body: CreateGroupRequest = { name, description, visibility };
    return this.http.request<Group>('POST', '/groups', { body });
  }

  direct(userId: number): Promise<Group> {
    return this.http.request<Group>('POST', '/direct', { body: { user_id: userId } });
  }

  group(id: number): Promise<Group> {
    return this.http.request<Group>('GET', `/groups/${id}`);
  }

  updateGroup(id: number, patch: UpdateGroupRequest): Promise<Group> {
    return this.http.request<Group>('PATCH', `/groups/${id}`, { body: patch });
  }

  deleteGroup(id: number): Promise<void> {
    return this.http.request<void>('DELETE', `/groups/${id}`);
  }

  join(id: number): Promise<Group> {
    return this.http.request<Group>('POST', `/groups/${id}/join`);
  }

  leave(id: number): Promise<void> {
    return this.http.request<void>('POST', `/groups/${id}/leave`);
  }

  members(id: number): Promise<MemberList> {
    return this.http.request<MemberList>('GET', `/groups/${id}/members`);
  }

  addMember(id: number, userId: number): Promise<unknown> {
    return this.http.request<unknown>('POST', `/groups/${id}/members`, { body: { user_id: userId } });
  }

  setRole(id: number, userId: number, role: SetRoleRequest['role']): Promise<unknown> {
    return this.http.request<unknown>('PATCH', `/groups/${id}/members/${userId}`, { body: { role } });
  }

  removeMember(id: number, userId: number): Promise<void> {
    return this.http.request<void>('DELETE', `/groups/${id}/members/${userId}`);
  }

  markRead(id: number, seq: number): Promise<void> {
    return this.http.request<void>('POST', `/groups/${id}/read`, { body: { seq } });
  }

  messages(id: number, opts: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}): Promise<MessagePage> {
    return this.http.request<MessagePage>(
      'GET',
      `/groups/${id}/messages?${query({ before_seq: opts.beforeSeq, after_seq: opts.afterSeq, limit: opts.limit })}`,
    );
  }

  editMessage(id: number, body: string): Promise<Message> {
    return this.http.request<Message>('PATCH', `/messages/${id}`, { body: { body } });
  }

  deleteMessage(id: number): Promise<void> {
    return this.http.request<void>('DELETE', `/messages/${id}`);
  }

  /** Adds (PUT) or removes (DELETE) the caller's reaction; both idempotent. */
  react(messageId: number, emoji: string, add: boolean): Promise<void> {
    return this.http.request<void>(add ? 'PUT' : 'DELETE', `/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`);
  }

  /** Earlier versions of an edited message, oldest first. */
  messageEdits(id: number): Promise<EditList> {
    return this.http.request<EditList>('GET', `/messages/${id}/edits`);
  }

  /** Mutes or unmutes one of the caller's conversations; answers the MyGroup. */
  setMuted(id: number, muted: boolean): Promise<MyGroup> {
    return this.http.request<MyGroup>('PATCH', `/me/groups/${id}`, { body: { muted } satisfies MuteRequest });
  }

  /** How far the members who share read receipts have read. */
  reads(id: number): Promise<ReadReceiptList> {
    return this.http.request<ReadReceiptList>('GET', `/groups/${id}/reads`);
  }

  /** Full-text search over the caller's messages (or one group's). */
  searchMessages(
    q: string,
    opts: { groupId?: number; cursor?: string; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<SearchMessagePage> {
    return this.http.request<SearchMessagePage>(
      'GET',
      `/search/messages?${query({ q, group_id: opts.groupId, cursor: opts.cursor, limit: opts.limit })}`,
      { signal },
    );
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') q.set(k, String(v));
  }
  return q.toString();
}

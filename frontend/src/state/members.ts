import { batch } from '@preact/signals';
import type { ChatApi } from '../api/api';
import type { Member, SetRoleRequest, User } from '../api/types';
import { SignalMap } from './signals';
import { renamed } from './users';

export interface MembersDeps {
  api: Pick<ChatApi, 'members' | 'addMember' | 'removeMember' | 'setRole'>;
  /** Every member list that arrives (users, presence). */
  onLoaded: (members: readonly Member[]) => void;
}

/** The member lists of the groups whose details were opened, one signal per group. */
export class MembersStore {
  private readonly lists = new SignalMap<number, readonly Member[] | undefined>(() => undefined);

  constructor(private readonly deps: MembersDeps) {}

  /** The members, or undefined until loaded. */
  of(groupId: number): readonly Member[] | undefined {
    return this.lists.get(groupId);
  }

  async load(groupId: number): Promise<void> {
    const { items } = await this.deps.api.members(groupId);
    batch(() => {
      this.lists.update(groupId, () => items);
      this.deps.onLoaded(items);
    });
  }

  async add(groupId: number, userId: number): Promise<void> {
    await this.deps.api.addMember(groupId, userId);
    await this.load(groupId);
  }

  async remove(groupId: number, userId: number): Promise<void> {
    await this.deps.api.removeMember(groupId, userId);
    this.left(groupId, userId);
  }

  async setRole(groupId: number, userId: number, role: SetRoleRequest['role']): Promise<void> {
    await this.deps.api.setRole(groupId, userId, role);
    this.update(groupId, (ms) => ms.map((m) => (m.id === userId ? { ...m, role } : m)));
  }

  /** A member_joined event: someone else joined a group whose list is held. */
  joined(groupId: number, user: User): void {
    this.update(groupId, (ms) => (ms.some((m) => m.id === user.id) ? ms : [...ms, { ...user, role: 'member' }]));
  }

  left(groupId: number, userId: number): void {
    this.update(groupId, (ms) => (ms.some((m) => m.id === userId) ? ms.filter((m) => m.id !== userId) : ms));
  }

  forget(groupId: number): void {
    this.lists.delete(groupId);
  }

  /** A new profile of u shows in the lists already held. */
  renameUser(u: User): void {
    batch(() => {
      for (const id of this.lists.keys()) {
        this.update(id, (ms) =>
          ms.some((m) => renamed(m, u))
            ? ms.map((m) => (renamed(m, u) ? { ...m, display_name: u.display_name, username: u.username } : m))
            : ms,
        );
      }
    });
  }

  private update(groupId: number, fn: (ms: readonly Member[]) => readonly Member[]): void {
    this.lists.update(groupId, (ms) => (ms ? fn(ms) : ms));
  }
}

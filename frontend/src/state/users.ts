import { batch } from '@preact/signals';
import type { User } from '../api/types';
import { SignalMap } from './signals';

type Named = Pick<User, 'id' | 'username' | 'display_name'>;

/** What the client keeps of a user met in passing: what names them. */
export type Naming = Pick<User, 'id' | 'username' | 'display_name' | 'created_at'>;

/** copy is a copy of u that still shows other names. */
export function renamed(copy: Named, u: Named): boolean {
  return copy.id === u.id && (copy.display_name !== u.display_name || copy.username !== u.username);
}

/**
 * The users met so far (senders, peers, members, typists), one signal each,
 * so that a typing line can name someone known only by id.
 */
export class UsersStore {
  private readonly byId = new SignalMap<number, Naming | undefined>(() => undefined);

  get(id: number): Naming | undefined {
    return this.byId.get(id);
  }

  known(id: number): boolean {
    return this.byId.peek(id) !== undefined;
  }

  remember(users: readonly User[]): void {
    if (users.length === 0) return;
    batch(() => {
      for (const u of users) {
        this.byId.update(u.id, (old) =>
          old && !renamed(old, u) ? old : { id: u.id, username: u.username, display_name: u.display_name, created_at: u.created_at },
        );
      }
    });
  }
}

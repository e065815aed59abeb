import { describe, expect, it } from 'vitest';
import type { Member } from '../api/types';
import { alice, bob } from '../test/fakes';
import { MembersStore } from './members';

const carol = { id: 3, username: 'carol', display_name: 'Carol', created_at: '2025-01-01T00:00:00Z' };

function setup() {
  const server: Member[] = [
    { ...alice, role: 'owner', online: true },
    { ...bob, role: 'member' },
  ];
  const calls: string[] = [];
  const loaded: number[][] = [];
  const store = new MembersStore({
    api: {
      members: async (id) => {
        calls.push(`members ${id}`);
        return { items: server.map((m) => ({ ...m })) };
      },
      addMember: async (id, userId) => {
        calls.push(`add ${id} ${userId}`);
        server.push({ ...carol, role: 'member' });
        return undefined;
      },
      removeMember: async (id, userId) => {
        calls.push(`remove ${id} ${userId}`);
      },
      setRole: async (id, userId, role) => {
        calls.push(`role ${id} ${userId} ${role}`);
        return undefined;
      },
    },
    onLoaded: (ms) => loaded.push(ms.map((m) => m.id)),
  });
  return { store, calls, loaded };
}

const names = (ms: readonly Member[] | undefined) => ms?.map((m) => `${m.username}:${m.role}`);

describe('MembersStore', () => {
  it('is undefined until loaded, and tells who was loaded', async () => {
    const { store, loaded } = setup();
    expect(store.of(7)).toBeUndefined();
    await store.load(7);
    expect(names(store.of(7))).toEqual(['alice:owner', 'bob:member']);
    expect(loaded).toEqual([[1, 2]]);
  });

  it('adds (then reloads), removes and changes roles', async () => {
    const { store, calls } = setup();
    await store.load(7);
    await store.add(7, carol.id);
    expect(names(store.of(7))).toEqual(['alice:owner', 'bob:member', 'carol:member']);
    await store.setRole(7, bob.id, 'admin');
    await store.remove(7, carol.id);
    expect(names(store.of(7))).toEqual(['alice:owner', 'bob:admin']);
    expect(calls).toEqual(['members 7', 'add 7 3', 'members 7', 'role 7 2 admin', 'remove 7 3']);
  });

  it('follows member_joined and member_left for held lists only', async () => {
    const { store } = setup();
    await store.load(7);
    store.joined(7, carol);
    store.joined(7, carol);
    store.joined(8, carol);
    expect(names(store.of(7))).toEqual(['alice:owner', 'bob:member', 'carol:member']);
    expect(store.of(8)).toBeUndefined();
    store.left(7, bob.id);
    expect(names(store.of(7))).toEqual(['alice:owner', 'carol:member']);
  });

  it('shows a new profile in the lists held, and forgets a group left', async () => {
    const { store } = setup();
    await store.load(7);
    store.renameUser({ ...alice, display_name: 'Alice Liddell' });
    expect(store.of(7)?.[0]?.display_name).toBe('Alice Liddell');
    store.forget(7);
    expect(store.of(7)).toBeUndefined();
  });
});

import { effect } from '@preact/signals';
import { describe, expect, it } from 'vitest';
import { alice, bob } from '../test/fakes';
import { renamed, UsersStore } from './users';

describe('UsersStore', () => {
  it('remembers names, and changes a user only when a name changed', () => {
    const s = new UsersStore();
    s.remember([alice, bob]);
    const first = s.get(alice.id);
    let runs = 0;
    const stop = effect(() => void (s.get(alice.id), runs++));
    s.remember([{ ...alice, online: true }]);
    s.remember([bob, { ...bob, display_name: 'Bob' }]);
    expect(s.get(alice.id)).toBe(first);
    s.remember([{ ...alice, display_name: 'Alice Liddell' }]);
    stop();
    expect(runs).toBe(2);
    expect(s.get(alice.id)?.display_name).toBe('Alice Liddell');
    expect(s.get(bob.id)?.display_name).toBe('Bob');
    expect(s.known(99)).toBe(false);
  });

  it('renamed: a copy of the same user with other names', () => {
    expect(renamed(alice, { ...alice, display_name: 'x' })).toBe(true);
    expect(renamed(alice, { ...alice, username: 'alice2' })).toBe(true);
    expect(renamed(alice, { ...alice })).toBe(false);
    expect(renamed(alice, { ...bob, display_name: 'x' })).toBe(false);
  });
});

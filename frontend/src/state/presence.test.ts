import { effect } from '@preact/signals';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PresenceStore, TYPING_SHOW_MS } from './presence';

describe('PresenceStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('knows presence once told, from events or from users in REST answers', () => {
    const p = new PresenceStore(Date.now);
    expect(p.isOnline(2)).toBeUndefined();
    expect(p.known(2)).toBe(false);
    p.fromUsers([{ id: 2, online: true }, { id: 3 }]);
    expect(p.isOnline(2)).toBe(true);
    expect(p.known(3)).toBe(false);
    p.set(2, false);
    expect(p.isOnline(2)).toBe(false);
  });

  it('shows typing for 5 s after the last typing event', () => {
    const p = new PresenceStore(Date.now);
    p.typing(7, 2);
    vi.advanceTimersByTime(TYPING_SHOW_MS - 1000);
    p.typing(7, 2);
    vi.advanceTimersByTime(TYPING_SHOW_MS - 1000);
    expect(p.typingIn(7)).toEqual([2]);
    vi.advanceTimersByTime(1100);
    expect(p.typingIn(7)).toEqual([]);
    p.stop();
  });

  it('stops showing a typist whose message arrived', () => {
    const p = new PresenceStore(Date.now);
    p.typing(7, 2);
    p.typing(7, 3);
    p.stoppedTyping(7, 2);
    expect(p.typingIn(7)).toEqual([3]);
    p.stop();
  });

  it('re-renders the typing line of one conversation only', () => {
    const p = new PresenceStore(Date.now);
    let seven = 0;
    let eight = 0;
    const stops = [effect(() => void (p.typingIn(7), seven++)), effect(() => void (p.typingIn(8), eight++))];
    p.typing(8, 2);
    vi.advanceTimersByTime(TYPING_SHOW_MS + 100); // expiry prunes group 8 only
    stops.forEach((s) => s());
    expect({ seven, eight }).toEqual({ seven: 1, eight: 3 });
    p.stop();
  });
});

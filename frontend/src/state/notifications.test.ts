import { describe, expect, it, vi } from 'vitest';
import { alice, bob, msg, myGroup } from '../test/fakes';
import { fakeNotifications } from '../test/notifications';
import { Notifier, notifyKey, shouldNotify, type NotifyView } from './notifications';

const plain = msg(4, { sender: bob, body: 'hello' });
const mention = msg(5, { sender: bob, body: '@alice look', mentions: [alice.id] });
const group = myGroup({ id: 7 });
const muted = myGroup({ id: 7, muted: true });

describe('shouldNotify', () => {
  it.each([
    ['a message in another conversation', group, plain, 9, false, true],
    ['a message in the open conversation, tab visible', group, plain, 7, false, false],
    ['a message in the open conversation, tab hidden', group, plain, 7, true, true],
    ['a plain message in a muted conversation', muted, plain, null, true, false],
    ['a mention in a muted conversation', muted, mention, null, true, true],
    ['a mention in the open conversation, tab visible', group, mention, 7, false, false],
    ['my own message', group, msg(6, { sender: alice }), null, true, false],
    ['a deleted message', group, msg(6, { sender: bob, deleted: true, body: '' }), null, true, false],
  ] as const)('%s', (_, g, m, activeId, hidden, want) => {
    expect(shouldNotify(g, m, alice.id, activeId, hidden)).toBe(want);
  });
});

function setup(permission: NotificationPermission = 'default', answer: NotificationPermission = 'granted') {
  const fake = fakeNotifications(permission, answer);
  const view: NotifyView & { active: number | null; isHidden: boolean } = {
    active: null,
    isHidden: true,
    activeId: () => view.active,
    hidden: () => view.isHidden,
    open: vi.fn(),
    text: (m) => ({ title: `${m.sender.username} wrote`, body: m.body }),
  };
  const notifier = new Notifier({ userId: alice.id, storage: localStorage, api: fake.api, view });
  return { ...fake, view, notifier };
}

describe('Notifier', () => {
  it('asks the permission only when turned on, and remembers the choice per user', async () => {
    const { notifier, state } = setup();
    expect(state.asked).toBe(0);
    expect(notifier.enabled.value).toBe(false);
    expect(await notifier.enable()).toBe('granted');
    expect(state.asked).toBe(1);
    expect(notifier.enabled.value).toBe(true);
    expect(localStorage.getItem(notifyKey(alice.id))).toBe('on');
    // The next load of the app finds it on, without asking again.
    const again = new Notifier({ userId: alice.id, storage: localStorage, api: setup('granted').api, view: setup().view });
    expect(again.enabled.value).toBe(true);
    expect(new Notifier({ userId: bob.id, storage: localStorage, api: setup('granted').api, view: setup().view }).enabled.value).toBe(false);
    notifier.disable();
    expect(localStorage.getItem(notifyKey(alice.id))).toBeNull();
  });

  it('stays off when the browser refuses', async () => {
    const { notifier, shown } = setup('default', 'denied');
    expect(await notifier.enable()).toBe('denied');
    expect(notifier.enabled.value).toBe(false);
    notifier.message(plain, group);
    expect(shown).toEqual([]);
  });

  it('shows nothing until turned on', () => {
    const { notifier, shown } = setup('granted');
    notifier.message(plain, group);
    expect(shown).toEqual([]);
  });

  it('shows a message with one tag per conversation; a click opens it', async () => {
    const { notifier, shown, view } = setup();
    await notifier.enable();
    notifier.message(plain, group);
    notifier.message(mention, muted);
    notifier.message(msg(6, { sender: bob }), muted);
    expect(shown.map((s) => [s.title, s.options?.body, s.options?.tag])).toEqual([
      ['bob wrote', 'hello', 'group-7'],
      ['bob wrote', '@alice look', 'group-7'],
    ]);
    shown[0]?.n.onclick?.(new Event('click'));
    expect(view.open).toHaveBeenCalledWith(7);
    expect(shown[0]?.closed).toBe(true);
  });
});

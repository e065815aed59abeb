import { describe, expect, it } from 'vitest';
import type { ChatApi } from '../api/api';
import { reactionsOf } from '../api/rich';
import type { MessagePage } from '../api/types';
import { ApiError } from '../api/http';
import { alice, bob, FakeWebSocket, flush, ManualTimers, msg, myGroup } from '../test/fakes';
import { attachment, manualUploader } from '../test/rich';
import { ChatStore } from './chat';

async function started(history = [msg(1), msg(2), msg(3)]) {
  const reacts: string[] = [];
  let refuse: ApiError | null = null;
  const api = {
    http: { accessToken: async () => 'tok', refresh: async () => ({}), onAccessToken: () => () => undefined },
    myGroups: async () => ({ items: [myGroup({ last_seq: 3 })] }),
    messages: async (): Promise<MessagePage> => ({ items: history, has_more: false }),
    markRead: async () => undefined,
    user: async () => bob,
    react: async (id: number, emoji: string, add: boolean) => {
      reacts.push(`${add ? 'PUT' : 'DELETE'} ${id} ${emoji}`);
      if (refuse) throw refuse;
    },
  } as unknown as ChatApi;
  const sockets: FakeWebSocket[] = [];
  const up = manualUploader();
  const store = new ChatStore({
    api,
    me: alice,
    storage: localStorage,
    uploader: up.upload,
    socket: {
      url: () => 'ws://x/api/v1/ws',
      create: (u) => {
        const ws = new FakeWebSocket(u);
        sockets.push(ws);
        return ws;
      },
      timers: new ManualTimers(),
      random: () => 0,
    },
  });
  await store.start();
  const ws = sockets[0]!;
  ws.open();
  await flush();
  ws.receive({ type: 'ready', user: alice });
  await store.history.open(7);
  return { store, ws, up, reacts, refuse: (e: ApiError | null) => (refuse = e) };
}

const file = (name: string, size = 10) => new File([new Uint8Array(size)], name, { type: 'application/octet-stream' });

describe('replies', () => {
  it('sends reply_to_id with the message and shows the quote while pending', async () => {
    const { store, ws } = await started();
    const item = store.send(7, 'agreed', { replyTo: { id: 1002, seq: 2, sender: bob, body: 'message 2', deleted: false } });
    expect(item?.reply_to?.id).toBe(1002);
    expect(ws.frames('send')).toEqual([{ type: 'send', group_id: 7, body: 'agreed', client_id: item?.client_id, ref: item?.client_id, reply_to_id: 1002 }]);
    store.stop();
  });
});

describe('reactions', () => {
  it('shows a click at once, sends PUT then DELETE, and takes the own event back without counting twice', async () => {
    const { store, ws, reacts } = await started();
    const m = () => store.history.conversation(7).items.find((x) => x.seq === 2)!;
    await store.react(m(), '👍', true);
    ws.receive({ type: 'reaction', group_id: 7, message_id: 1002, seq: 2, emoji: '👍', user_id: alice.id, added: true });
    ws.receive({ type: 'reaction', group_id: 7, message_id: 1002, seq: 2, emoji: '👍', user_id: bob.id, added: true });
    ws.receive({ type: 'reaction', group_id: 7, message_id: 1002, seq: 2, emoji: '👍', user_id: bob.id, added: true });
    expect(reactionsOf(m())).toEqual([{ emoji: '👍', count: 2, user_ids: [alice.id, bob.id] }]);
    await store.react(m(), '👍', false);
    expect(reacts).toEqual(['PUT 1002 👍', 'DELETE 1002 👍']);
    expect(reactionsOf(m())).toEqual([{ emoji: '👍', count: 1, user_ids: [bob.id] }]);
    store.stop();
  });

  it('undoes a click the server refuses', async () => {
    const { store, refuse } = await started();
    refuse(new ApiError(400, 'validation_failed', 'Too many reactions.'));
    const m = () => store.history.conversation(7).items.find((x) => x.seq === 1)!;
    await expect(store.react(m(), '🎉', true)).rejects.toThrow('Too many reactions.');
    expect(reactionsOf(m())).toEqual([]);
    store.stop();
  });
});

describe('attachments in the outbox', () => {
  it('waits for uploads, then sends once with every attachment id and the same client_id', async () => {
    const { store, ws, up } = await started();
    store.uploads.add(7, [file('a.png'), file('b.pdf')]);
    up.runs[0]!.progress(5, 10);
    expect(store.uploads.draft(7).value.map((u) => [u.name, u.loaded, u.status])).toEqual([
      ['a.png', 5, 'uploading'],
      ['b.pdf', 0, 'uploading'],
    ]);
    up.runs[0]!.resolve(attachment(11));
    await flush();
    const item = store.send(7, '', { withFiles: true })!;
    expect(item.attachment_ids).toEqual([11]);
    expect(item.uploads).toHaveLength(1);
    expect(store.uploads.draft(7).value).toEqual([]);
    expect(ws.frames('send')).toEqual([]);
    // A reconnect meanwhile does not send it either.
    ws.serverClose(1006);
    up.runs[1]!.resolve(attachment(12, { filename: 'b.pdf', width: null, height: null, thumbnail_url: null }));
    await flush();
    expect(store.outbox.find(item.client_id)?.attachment_ids).toEqual([11, 12]);
    expect(store.outbox.find(item.client_id)?.uploads).toEqual([]);
    store.stop();
  });

  it('sends as soon as the last upload is done, and never twice', async () => {
    const { store, ws, up } = await started();
    store.uploads.add(7, [file('a.png')]);
    const item = store.send(7, 'look', { withFiles: true })!;
    expect(ws.frames('send')).toEqual([]);
    up.runs[0]!.resolve(attachment(21));
    await flush();
    expect(ws.frames('send')).toEqual([{ type: 'send', group_id: 7, body: 'look', client_id: item.client_id, ref: item.client_id, attachment_ids: [21] }]);
    store.retry(item.client_id);
    expect(ws.frames('send')).toHaveLength(1);
    ws.receive({ type: 'ack', ref: item.client_id, message: msg(4, { sender: alice, client_id: item.client_id, body: 'look' }) });
    expect(store.outbox.items.value).toEqual([]);
    store.stop();
  });

  it('goes without a cancelled upload, and is dropped when nothing is left', async () => {
    const { store, ws, up } = await started();
    store.uploads.add(7, [file('a.png')]);
    const withText = store.send(7, 'hi', { withFiles: true })!;
    store.uploads.cancel(withText.uploads![0]!);
    await flush();
    expect(up.runs[0]!.signal.aborted).toBe(true);
    expect(ws.frames('send').map((f) => f.body)).toEqual(['hi']);
    store.uploads.add(7, [file('b.png')]);
    const bare = store.send(7, '', { withFiles: true })!;
    store.uploads.cancel(bare.uploads![0]!);
    expect(store.outbox.find(bare.client_id)).toBeUndefined();
    store.stop();
  });

  it('keeps a message whose upload failed for the user, saying why', async () => {
    const { store, ws, up } = await started();
    store.uploads.add(7, [file('big.bin')]);
    const item = store.send(7, 'here', { withFiles: true })!;
    up.runs[0]!.reject(new ApiError(413, 'payload_too_large', 'The file is larger than 25 MiB.'));
    await flush();
    expect(store.outbox.find(item.client_id)?.error).toBe('big.bin: The file is larger than 25 MiB.');
    expect(ws.frames('send')).toEqual([]);
    store.stop();
  });

  it('shows a failed upload in the composer and leaves it out of the message', async () => {
    const { store, up } = await started();
    store.uploads.add(7, [file('x.exe')]);
    up.runs[0]!.reject(new ApiError(400, 'validation_failed', 'Not allowed.'));
    await flush();
    expect(store.uploads.draft(7).value.map((u) => [u.status, u.error])).toEqual([['failed', 'Not allowed.']]);
    expect(store.send(7, '', { withFiles: true })).toBeNull();
    store.stop();
  });

  it('refuses more than 10 files for one message', async () => {
    const { store } = await started();
    expect(store.uploads.add(7, Array.from({ length: 12 }, (_, i) => file(`f${i}`)))).toBe(2);
    expect(store.uploads.draft(7).value).toHaveLength(10);
    store.stop();
  });
});

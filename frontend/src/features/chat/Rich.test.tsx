import type { ComponentChild } from 'preact';
import { fireEvent, render, screen, within } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import { ChatContext } from '../../app/context';
import type { Message } from '../../api/types';
import type { ChatStore } from '../../state/chat';
import { attachment, manualUploader } from '../../test/rich';
import { UploadStore } from '../../state/uploads';
import { offlineChat } from '../../test/chat';
import { alice, bob, flush, msg } from '../../test/fakes';
import { Attachments } from './Attachments';
import { Composer } from './Composer';
import { ConversationUiContext, newConversationUi, type ConversationUi } from './conversationUi';
import { MessageItem } from './MessageItem';
import { UploadList } from './Uploads';

function renderWith(chat: ChatStore, ui: ConversationUi, node: ComponentChild) {
  return render(
    <ChatContext.Provider value={chat}>
      <ConversationUiContext.Provider value={ui}>{node}</ConversationUiContext.Provider>
    </ChatContext.Provider>,
  );
}

describe('replies', () => {
  it('Reply opens a bar above the composer, Escape cancels, and the send carries reply_to_id', () => {
    const chat = offlineChat();
    const ui = newConversationUi();
    renderWith(
      chat,
      ui,
      <>
        <MessageItem message={msg(2, { body: 'first line\nsecond line\nthird' })} mine={false} showSender canDelete={false} />
        <Composer groupId={7} />
      </>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Reply to this message' }));
    const bar = screen.getByRole('status', { name: 'Replying to bob' });
    expect(bar.textContent).toContain('first line second line');
    const box = screen.getByLabelText('Message');
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('status', { name: 'Replying to bob' })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Reply to this message' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel reply' }));
    expect(screen.queryByRole('status', { name: 'Replying to bob' })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Reply to this message' }));
    fireEvent.input(box, { target: { value: 'yes' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(chat.outbox.items.value.map((o) => [o.body, o.reply_to_id])).toEqual([['yes', 1002]]);
    expect(screen.queryByRole('status', { name: 'Replying to bob' })).toBeNull();
    chat.stop();
  });

  it('shows the quote above a reply, deleted when the original is, and goes to the original on click', () => {
    const chat = offlineChat();
    const ui = newConversationUi(vi.fn());
    const reply = { ...msg(9, { sender: alice, body: 'indeed' }), reply_to: { id: 1002, seq: 2, sender: bob, body: 'the <b>plan</b>', deleted: false } } as Message;
    const { container } = renderWith(chat, ui, <MessageItem message={reply} mine showSender={false} canDelete />);
    const quote = screen.getByRole('button', { name: /^In reply to bob\s*: the <b>plan<\/b>\s*\. Go to the original message$/ });
    expect(container.querySelector('b')).toBeNull();
    fireEvent.click(quote);
    expect(ui.jumpTo).toHaveBeenCalledWith({ id: 1002, seq: 2 });

    const gone = { ...reply, id: 2000, reply_to: { id: 1003, seq: 3, sender: bob, body: '', deleted: true } } as Message;
    renderWith(chat, ui, <MessageItem message={gone} mine showSender={false} canDelete />);
    expect(screen.getByRole('button', { name: /In reply to bob\s*: This message was deleted/ })).toBeTruthy();
    chat.stop();
  });

  it('highlights the message jumped to', () => {
    const chat = offlineChat();
    const ui = newConversationUi();
    const { container } = renderWith(chat, ui, <MessageItem message={msg(2)} mine={false} showSender canDelete={false} />);
    ui.highlighted.value = 1002;
    return flush().then(() => {
      expect(container.querySelector('[data-message-id="1002"]')?.className).toContain('highlight');
      chat.stop();
    });
  });
});

describe('reactions', () => {
  const withReactions = (m: Message) =>
    ({
      ...m,
      reactions: [
        { emoji: '👍', count: 3, user_ids: [alice.id, bob.id] },
        { emoji: '🎉', count: 1, user_ids: [bob.id] },
      ],
    }) as Message;

  it('shows emoji and counts, pressed where mine, with who reacted; a click toggles mine', async () => {
    const chat = offlineChat();
    chat.users.remember([bob]);
    const react = vi.spyOn(chat, 'react').mockResolvedValue(undefined);
    renderWith(chat, newConversationUi(), <MessageItem message={withReactions(msg(2))} mine={false} showSender canDelete={false} />);
    const bar = screen.getByRole('group', { name: 'Reactions' });
    const thumbs = within(bar).getByRole('button', { name: '👍 3' });
    const party = within(bar).getByRole('button', { name: '🎉 1' });
    expect(thumbs.getAttribute('aria-pressed')).toBe('true');
    expect(party.getAttribute('aria-pressed')).toBe('false');
    expect(screen.getAllByRole('tooltip', { hidden: true }).map((t) => t.textContent)).toEqual([
      'You, bob and 1 other reacted with 👍',
      'bob reacted with 🎉',
    ]);
    expect(document.getElementById(thumbs.getAttribute('aria-describedby')!)?.textContent).toBe('You, bob and 1 other reacted with 👍');
    fireEvent.click(thumbs);
    fireEvent.click(party);
    await flush();
    expect(react.mock.calls.map(([m, e, add]) => [m.id, e, add])).toEqual([
      [1002, '👍', false],
      [1002, '🎉', true],
    ]);
    chat.stop();
  });

  it('picks from a searchable picker, by keyboard too; Escape closes it', async () => {
    const chat = offlineChat();
    const react = vi.spyOn(chat, 'react').mockResolvedValue(undefined);
    renderWith(chat, newConversationUi(), <MessageItem message={msg(2)} mine={false} showSender canDelete={false} />);
    const open = screen.getByRole('button', { name: 'React to this message' });
    fireEvent.click(open);
    const picker = screen.getByRole('dialog', { name: 'Choose a reaction' });
    const search = within(picker).getByRole('searchbox', { name: 'Search emoji' });
    expect(document.activeElement).toBe(search);
    fireEvent.input(search, { target: { value: 'party' } });
    expect(within(picker).getAllByRole('button').map((b) => b.textContent)).toEqual(['🎉']);
    fireEvent.keyDown(search, { key: 'Enter' });
    await flush();
    expect(react.mock.calls.map(([, e, add]) => [e, add])).toEqual([['🎉', true]]);
    expect(screen.queryByRole('dialog', { name: 'Choose a reaction' })).toBeNull();

    fireEvent.click(open);
    const again = screen.getByRole('dialog', { name: 'Choose a reaction' });
    fireEvent.keyDown(within(again).getByRole('searchbox'), { key: 'ArrowDown' });
    expect(document.activeElement?.textContent).toBe('👍');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowRight' });
    expect(document.activeElement?.getAttribute('aria-label')).toBe('red heart');
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Choose a reaction' })).toBeNull();
    chat.stop();
  });
});

describe('attachments', () => {
  it('shows images as thumbnails that open a full-size viewer, and gives focus back when it closes', () => {
    render(<Attachments items={[attachment(1)]} />);
    const thumb = screen.getByRole('button', { name: 'View image file-1.png' });
    expect(within(thumb).getByRole('img', { name: 'file-1.png' }).getAttribute('src')).toBe('/api/v1/attachments/1/thumbnail?exp=1&sig=x');
    thumb.focus();
    fireEvent.click(thumb);
    const viewer = screen.getByRole('dialog', { name: 'file-1.png' });
    expect(within(viewer).getByRole('img', { name: 'file-1.png' }).getAttribute('src')).toBe('/api/v1/attachments/1/content?exp=1&sig=x');
    fireEvent.click(within(viewer).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(thumb);
  });

  it('shows other files as a card with name, size and a download link, and no unsafe URL', () => {
    const pdf = attachment(2, { filename: 'report.pdf', content_type: 'application/pdf', size: 1_500_000, width: null, height: null, thumbnail_url: null });
    const evil = attachment(3, { filename: 'x.html', url: 'javascript:alert(1)', width: null, height: null, thumbnail_url: null });
    render(<Attachments items={[pdf, evil]} />);
    expect(screen.getByText('report.pdf', { selector: '.fileName' })).toBeTruthy();
    expect(screen.getByText('1.5 MB')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Download report.pdf' }).getAttribute('href')).toBe('/api/v1/attachments/2/content?exp=1&sig=x');
    expect(screen.queryByRole('link', { name: 'Download x.html' })).toBeNull();
  });

  it('lists the composer uploads with a progress bar and cancel', async () => {
    const up = manualUploader();
    const chat = offlineChat();
    Object.assign(chat, { uploads: new UploadStore(up.upload, { done: vi.fn(), failed: vi.fn(), cancelled: vi.fn() }, String) });
    renderWith(chat, newConversationUi(), <UploadList groupId={7} />);
    chat.uploads.add(7, [new File([new Uint8Array(200)], 'cat.png')]);
    up.runs[0]!.progress(50, 200);
    await flush();
    const bar = screen.getByRole('progressbar', { name: 'Uploading cat.png' });
    expect(bar.getAttribute('value')).toBe('25');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel cat.png' }));
    expect(up.runs[0]!.signal.aborted).toBe(true);
    expect(screen.queryByRole('progressbar')).toBeNull();
    chat.stop();
  });
});

describe('attaching in the composer', () => {
  function setup() {
    const up = manualUploader();
    const chat = offlineChat();
    Object.assign(chat, { uploads: new UploadStore(up.upload, { done: vi.fn(), failed: vi.fn(), cancelled: vi.fn() }, String) });
    renderWith(chat, newConversationUi(), <Composer groupId={7} />);
    return { chat, up, box: screen.getByLabelText('Message'), sendButton: () => screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement };
  }

  it('takes pasted files, and sends a message of files only', async () => {
    const { chat, up, box, sendButton } = setup();
    expect(sendButton().disabled).toBe(true);
    fireEvent.paste(box, { clipboardData: { files: [new File(['x'], 'shot.png', { type: 'image/png' })] } });
    expect(up.runs.map((r) => [r.groupId, r.file.name])).toEqual([[7, 'shot.png']]);
    await flush();
    expect(screen.getByRole('list', { name: 'Files to send' }).textContent).toContain('shot.png');
    expect(sendButton().disabled).toBe(false);
    fireEvent.click(sendButton());
    expect(chat.outbox.items.value.map((o) => [o.body, o.uploads?.length])).toEqual([['', 1]]);
    expect(screen.queryByRole('list', { name: 'Files to send' })).toBeNull();
    chat.stop();
  });

  it('takes files from the Attach button, at most 10 per message, and says so', async () => {
    const { up } = setup();
    const input = screen.getByLabelText('Files to attach') as HTMLInputElement;
    const files = Array.from({ length: 11 }, (_, i) => new File(['x'], `f${i}.txt`));
    Object.defineProperty(input, 'files', { value: files, configurable: true });
    fireEvent.change(input);
    expect(up.runs).toHaveLength(10);
    await flush();
    expect(screen.getByRole('alert').textContent).toBe('At most 10 files go with one message: 1 left out.');
  });
});

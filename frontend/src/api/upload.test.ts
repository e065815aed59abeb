import { describe, expect, it } from 'vitest';
import { ApiError } from './http';
import { xhrUploader } from './upload';

/** Just enough of XMLHttpRequest: records the request; the test answers it. */
class FakeXhr {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  aborted = false;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(m: string, u: string) {
    this.method = m;
    this.url = u;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(b: FormData) {
    this.body = b;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  answer(status: number, text: string) {
    this.status = status;
    this.responseText = text;
    this.onload?.();
  }
}

function setup() {
  const xhrs: FakeXhr[] = [];
  const upload = xhrUploader({
    token: async () => 'tok',
    createXhr: () => {
      const x = new FakeXhr();
      xhrs.push(x);
      return x as unknown as XMLHttpRequest;
    },
  });
  return { upload, xhrs };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('xhrUploader', () => {
  it('posts the file as multipart with the bearer token and reports progress', async () => {
    const { upload, xhrs } = setup();
    const seen: number[] = [];
    const p = upload(7, new File(['hello'], 'a.txt'), (n) => seen.push(n), new AbortController().signal);
    await tick();
    const x = xhrs[0]!;
    expect([x.method, x.url, x.headers['Authorization']]).toEqual(['POST', '/api/v1/groups/7/attachments', 'Bearer tok']);
    expect((x.body?.get('file') as File).name).toBe('a.txt');
    x.upload.onprogress?.({ loaded: 3, total: 5, lengthComputable: true });
    x.answer(201, JSON.stringify({ id: 9, filename: 'a.txt' }));
    expect(await p).toMatchObject({ id: 9, filename: 'a.txt' });
    expect(seen).toEqual([3]);
  });

  it('turns 413 and 400 answers into errors the user can read', async () => {
    const { upload, xhrs } = setup();
    const big = upload(7, new File(['x'], 'big.bin'), () => undefined, new AbortController().signal);
    await tick();
    xhrs[0]!.answer(413, '<html>too large</html>');
    await expect(big).rejects.toEqual(new ApiError(413, 'payload_too_large', 'The file is too large.'));
    const bad = upload(7, new File(['x'], 'b.gif'), () => undefined, new AbortController().signal);
    await tick();
    xhrs[1]!.answer(400, JSON.stringify({ error: { code: 'validation_failed', message: 'The image is too large to decode.' } }));
    await expect(bad).rejects.toMatchObject({ status: 400, message: 'The image is too large to decode.' });
  });

  it('aborts the request when cancelled', async () => {
    const { upload, xhrs } = setup();
    const ctl = new AbortController();
    const p = upload(7, new File(['x'], 'a'), () => undefined, ctl.signal);
    await tick();
    ctl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(xhrs[0]!.aborted).toBe(true);
  });
});

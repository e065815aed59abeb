import type { Attachment } from '../api/rich';
import type { Uploader } from '../api/upload';

/** An attachment as the API answers it: an image unless told otherwise. */
export function attachment(id: number, over: Partial<Attachment> = {}): Attachment {
  return {
    id,
    filename: `file-${id}.png`,
    content_type: 'image/png',
    size: 2048,
    sha256: 'ab'.repeat(32),
    width: 640,
    height: 480,
    url: `/api/v1/attachments/${id}/content?exp=1&sig=x`,
    thumbnail_url: `/api/v1/attachments/${id}/thumbnail?exp=1&sig=x`,
    created_at: '2025-01-01T12:00:00Z',
    ...over,
  };
}

/** An uploader whose uploads the test finishes, fails or watches being cancelled. */
export function manualUploader() {
  const runs: { groupId: number; file: File; progress: (n: number, t: number) => void; resolve: (a: Attachment) => void; reject: (e: unknown) => void; signal: AbortSignal }[] = [];
  const upload: Uploader = (groupId, file, progress, signal) =>
    new Promise((resolve, reject) => {
      runs.push({ groupId, file, progress, resolve, reject, signal });
      signal.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
    });
  return { upload, runs };
}


import { ApiError, NetworkError } from './http';
import type { Attachment } from './rich';
import type { ErrorBody } from './types';

/** Uploads one file to a group; onProgress hears the bytes sent so far; signal cancels. */
export type Uploader = (groupId: number, file: File, onProgress: (loaded: number, total: number) => void, signal: AbortSignal) => Promise<Attachment>;

export interface XhrUploaderOptions {
  baseUrl?: string;
  /** A usable access token (HttpClient.accessToken). */
  token: () => Promise<string>;
  createXhr?: () => XMLHttpRequest;
}

/**
 * POST /groups/{id}/attachments as multipart/form-data through
 * XMLHttpRequest, the one browser API that reports upload progress.
 */
export function xhrUploader(opts: XhrUploaderOptions): Uploader {
  const base = opts.baseUrl ?? '/api/v1';
  const create = opts.createXhr ?? (() => new XMLHttpRequest());
  return async (groupId, file, onProgress, signal) => {
    const token = await opts.token();
    if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
    return new Promise<Attachment>((resolve, reject) => {
      const xhr = create();
      xhr.open('POST', `${base}/groups/${groupId}/attachments`);
      xhr.setRequestHeader('Authorization', 'Bearer ' + token);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText) as Attachment);
          } catch {
            reject(new ApiError(xhr.status, 'bad_response', 'The server answered the upload with something unreadable.'));
          }
          return;
        }
        reject(uploadError(xhr.status, xhr.responseText));
      };
      xhr.onerror = () => reject(new NetworkError(new Error('upload failed')));
      xhr.onabort = () => reject(new DOMException('cancelled', 'AbortError'));
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  };
}

/** The contract's error of a failed upload, with a sentence for the common ones when the body has none. */
export function uploadError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error) return new ApiError(status, body.error.code, body.error.message, body.error.details ?? {});
  } catch {
    // Not JSON (a proxy's page): say it from the status.
  }
  if (status === 413) return new ApiError(413, 'payload_too_large', 'The file is too large.');
  return new ApiError(status, 'http_' + String(status), 'The upload failed.');
}

import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { CloseIcon } from '../../app/Icons';
import type { Attachment } from '../../api/rich';
import { humanSize } from '../../lib/format';
import styles from './Rich.module.scss';

/** A URL the server gave for a file, only if it is ours (a path) or http(s): never javascript: or data:. */
export function fileUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  return /^https?:\/\//i.test(url) ? url : undefined;
}

/** The thumbnail's box: the image's proportions within 240×240 px, so the list does not jump when it loads. */
function thumbSize(a: Attachment): { width: number; height: number } {
  const w = Math.max(1, a.width ?? 1);
  const h = Math.max(1, a.height ?? 1);
  const s = Math.min(1, 240 / w, 240 / h);
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

function isImage(a: Attachment): boolean {
  return a.width !== null && a.height !== null && fileUrl(a.thumbnail_url) !== undefined;
}

/**
 * The full-size image in a modal <dialog>: Escape, the Close button or a
 * click outside the picture closes it; focus returns to the thumbnail.
 */
export function ImageViewer({ a, onClose }: { a: Attachment; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    d.showModal();
    d.querySelector<HTMLElement>('button')?.focus();
    return () => {
      if (d.open) d.close();
      before?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={styles.viewer}
      aria-label={a.filename}
      onClose={onClose}
      onClick={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class={styles.viewerBar}>
        <span class={styles.viewerName}>{a.filename}</span>
        <a class="btn btn-small btn-secondary" href={fileUrl(a.url)} download={a.filename} target="_blank" rel="noopener noreferrer">
          Download
        </a>
        <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <img class={styles.viewerImg} src={fileUrl(a.url)} alt={a.filename} />
    </dialog>
  );
}

/** A message's files: images as thumbnails that open the viewer, others as a card with a download link. */
export function Attachments({ items }: { items: readonly Attachment[] }) {
  const [open, setOpen] = useState<Attachment | null>(null);
  if (items.length === 0) return null;
  return (
    <div class={styles.attachments}>
      {items.map((a) =>
        isImage(a) ? (
          <button key={a.id} type="button" class={styles.thumb} aria-label={`View image ${a.filename}`} onClick={() => setOpen(a)}>
            <img
              src={fileUrl(a.thumbnail_url)}
              alt={a.filename}
              loading="lazy"
              {...thumbSize(a)}
            />
          </button>
        ) : (
          <div key={a.id} class={styles.fileCard}>
            <svg class={styles.fileIcon} width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true">
              <path d="M14 3H7a2 2 0 00-2 2v14a2 2 0 002 2h10a2 2 0 002-2V8z" />
              <path d="M14 3v5h5" />
            </svg>
            <span class={styles.fileInfo}>
              <span class={styles.fileName}>{a.filename}</span>
              <span class={styles.fileSize}>{humanSize(a.size)}</span>
            </span>
            {fileUrl(a.url) !== undefined && (
              <a class={styles.fileLink} href={fileUrl(a.url)} download={a.filename} target="_blank" rel="noopener noreferrer">
                Download<span class="visually-hidden"> {a.filename}</span>
              </a>
            )}
          </div>
        ),
      )}
      {open && <ImageViewer a={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

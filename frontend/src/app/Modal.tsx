import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import { CloseIcon } from './Icons';
import styles from './Modal.module.scss';

interface Props {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}

/** Where focus starts: the first field or action, not the Close button that comes first. */
const FIRST = 'input:not([hidden]), textarea, select, button:not([data-close])';

/**
 * A modal <dialog>: the browser keeps focus and the screen reader inside it
 * and closes it on Escape; focus returns to where it was when it goes.
 */
export function Modal({ title, onClose, children, wide }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // The close event of a dialog removed by its owner comes after unmount: ignore it.
  const mounted = useRef(true);
  const close = () => {
    if (mounted.current) onClose();
  };

  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    mounted.current = true;
    dialog.showModal();
    dialog.querySelector<HTMLElement>(FIRST)?.focus();
    return () => {
      mounted.current = false;
      if (dialog.open) dialog.close();
      before?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={`${styles.dialog} ${wide ? styles.wide : ''}`}
      aria-labelledby={titleId}
      // Escape closes the dialog (cancel, then close); the owner then removes it.
      onClose={close}
      onMouseDown={(e) => {
        // A press on the backdrop targets the dialog itself, outside its box (not on its scrollbar).
        const r = e.currentTarget.getBoundingClientRect();
        const outside = e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom;
        if (e.target === e.currentTarget && outside) close();
      }}
    >
      <div class={styles.content}>
        <div class={styles.header}>
          <h2 id={titleId}>{title}</h2>
          <button class="icon-btn" type="button" data-close aria-label="Close" onClick={close}>
            <CloseIcon />
          </button>
        </div>
        {children}
      </div>
    </dialog>
  );
}

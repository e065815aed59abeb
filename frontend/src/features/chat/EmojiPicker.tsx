import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { searchEmoji } from './emoji';
import styles from './Rich.module.scss';

interface Props {
  onPick: (emoji: string) => void;
  onClose: () => void;
}

/**
 * A small emoji picker (a non-modal dialog under the message): a search
 * field filtering by name, then a grid of buttons. Arrow keys move in the
 * grid, Enter picks, Escape closes and focus goes back to where it was.
 */
export function EmojiPicker({ onPick, onClose }: Props) {
  const [q, setQ] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const found = searchEmoji(q);

  useLayoutEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    box.current?.querySelector<HTMLInputElement>('input')?.focus();
    return () => before?.focus();
  }, []);

  const move = (e: KeyboardEvent) => {
    const buttons = [...(box.current?.querySelectorAll<HTMLButtonElement>('[data-emoji]') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 6, ArrowUp: -6 }[e.key];
    if (step === undefined || buttons.length === 0) return;
    e.preventDefault();
    const next = at < 0 ? 0 : Math.min(buttons.length - 1, Math.max(0, at + step));
    buttons[next]?.focus();
  };

  return (
    <div
      ref={box}
      class={styles.picker}
      role="dialog"
      aria-label="Choose a reaction"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        } else move(e);
      }}
      onFocusOut={(e) => {
        if (!box.current?.contains(e.relatedTarget as Node | null)) onClose();
      }}
    >
      <label class="visually-hidden" for="emoji-search">
        Search emoji
      </label>
      <input
        id="emoji-search"
        type="search"
        class={styles.pickerSearch}
        placeholder="Search emoji"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && found[0]) {
            e.preventDefault();
            onPick(found[0].e);
          }
        }}
      />
      <div class={styles.pickerGrid} role="group" aria-label="Emoji">
        {found.map((x) => (
          <button
            key={x.e}
            type="button"
            data-emoji
            class={styles.pickerItem}
            aria-label={x.label}
            title={x.label}
            // Focus stays where it is on a click (some browsers would not focus the button and the picker would close first).
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => onPick(x.e)}
          >
            {x.e}
          </button>
        ))}
        {found.length === 0 && <p class={styles.pickerEmpty}>No emoji found</p>}
      </div>
    </div>
  );
}

import { cleanup } from '@testing-library/preact';
import { afterEach } from 'vitest';

// jsdom has <dialog> but not its methods. This gives it what components rely
// on (open, and the close event); focus trapping, Escape and the backdrop are
// the browser's, tested in Chromium (e2e).
if (typeof HTMLDialogElement !== 'undefined' && !('showModal' in HTMLDialogElement.prototype)) {
  Object.assign(HTMLDialogElement.prototype, {
    showModal(this: HTMLDialogElement) {
      this.setAttribute('open', '');
    },
    close(this: HTMLDialogElement) {
      if (!this.hasAttribute('open')) return;
      this.removeAttribute('open');
      this.dispatchEvent(new Event('close'));
    },
  });
}

afterEach(() => {
  cleanup();
  localStorage.clear();
  sessionStorage.clear();
});

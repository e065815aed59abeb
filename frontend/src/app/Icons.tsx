import type { ComponentChildren } from 'preact';
// Inline SVG icons: they render the same everywhere, unlike emoji fonts. All decorative (aria-hidden);
// the control that holds one carries the accessible name.

interface P {
  size?: number;
}

const svg = (size: number, children: ComponentChildren) => (
  <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
    {children}
  </svg>
);

export const LogoIcon = ({ size = 24 }: P) => (
  <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" fill="currentColor" />
    <path d="M8 9h16a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H14l-6 4.5V10a1 1 0 0 1 1-1z" style={{ fill: 'var(--logo-ink)' }} />
  </svg>
);

export const SendIcon = ({ size = 20 }: P) => svg(size, <path d="M4 12l16-8-6 16-2.5-6.5z" fill="currentColor" />);
export const BackIcon = ({ size = 22 }: P) => svg(size, <path d="M15 5l-7 7 7 7" />);
export const CloseIcon = ({ size = 20 }: P) => svg(size, <path d="M6 6l12 12M18 6L6 18" />);
export const PlusIcon = ({ size = 16 }: P) => svg(size, <path d="M12 5v14M5 12h14" />);
export const LockIcon = ({ size = 12 }: P) =>
  svg(
    size,
    <>
      <rect x="5" y="11" width="14" height="10" rx="2" />
      <path d="M8 11V7a4 4 0 0 1 8 0v4" />
    </>,
  );
export const ChatIcon = ({ size = 56 }: P) =>
  svg(size, <path d="M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H10l-5 4v-4H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z" />);

import { signal, type Signal } from '@preact/signals';
import { createContext } from 'preact';
import { useContext, useMemo } from 'preact/hooks';
import type { ReplyPreview } from '../../api/rich';

/**
 * What the parts of one open conversation share beyond the stores: the
 * message being answered (set by "Reply", shown and sent by the composer)
 * and the message just jumped to (highlighted for a moment).
 */
export interface ConversationUi {
  replyTo: Signal<ReplyPreview | null>;
  highlighted: Signal<number | null>;
  /** Scrolls to a message, loading older pages if needed, and highlights it. */
  jumpTo: (target: { id: number; seq: number }) => void;
}

export function newConversationUi(jumpTo: ConversationUi['jumpTo'] = () => undefined): ConversationUi {
  return { replyTo: signal(null), highlighted: signal(null), jumpTo };
}

export const ConversationUiContext = createContext<ConversationUi | null>(null);

/** The open conversation's shared UI state; a lone component (a test) gets one of its own. */
export function useConversationUi(): ConversationUi {
  const ui = useContext(ConversationUiContext);
  const own = useMemo(() => newConversationUi(), []);
  return ui ?? own;
}

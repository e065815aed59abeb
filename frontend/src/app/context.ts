import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ChatStore } from '../state/chat';
import type { Router } from '../state/router';
import type { Session } from '../state/session';

export interface AppServices {
  session: Session;
  router: Router;
}

export const ServicesContext = createContext<AppServices | null>(null);
export const ChatContext = createContext<ChatStore | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext missing');
  return s;
}

export function useChat(): ChatStore {
  const c = useContext(ChatContext);
  if (!c) throw new Error('ChatContext missing');
  return c;
}

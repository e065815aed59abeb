import type { ChatApi } from '../api/api';
import type { User } from '../api/types';
import { ChatStore, type ChatDeps } from '../state/chat';
import { alice } from './fakes';

/**
 * A real ChatStore for component tests, never connected: the test puts
 * state in through its stores. REST calls it makes answer from `api`.
 */
export function offlineChat(api: Partial<ChatApi> = {}, me: User = alice, more: Pick<ChatDeps, 'notifications'> = {}): ChatStore {
  return new ChatStore({
    api: { http: { onAccessToken: () => () => undefined }, ...api } as unknown as ChatApi,
    me,
    storage: localStorage,
    ...more,
    socket: {
      url: () => 'ws://test/api/v1/ws',
      create: () => {
        throw new Error('component tests never connect');
      },
    },
  });
}

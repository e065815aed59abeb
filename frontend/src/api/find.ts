// The wire type of GET /search/messages (docs/API.md), written from the
// contract while backend/httpapi/openapi.json does not describe it yet. Once
// it does, it becomes an alias of the generated type in types.ts and this
// file goes.
import type { Message } from './types';

export interface MessageSearchPage {
  items: Message[];
  next_cursor: string | null;
}

/** The longest message body the server accepts, in code points after trimming (docs/API.md, Messages). */
export const MAX_BODY = 4000;

/**
 * The length of text as the server counts it: Unicode code points of its
 * NFC form. An emoji outside the BMP is one, not two UTF-16 units; "e" and a
 * combining acute accent are one once composed to "é".
 */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text.normalize('NFC')) n++;
  return n;
}

export interface BodyCheck {
  /** What is sent: the text trimmed. */
  body: string;
  /** Its length as the server counts it. */
  length: number;
  empty: boolean;
  tooLong: boolean;
}

/** A message body as typed, measured against the server's rule (composer, its counter, edits and the store). */
export function checkBody(text: string): BodyCheck {
  const body = text.trim();
  const length = textLength(body);
  return { body, length, empty: body === '', tooLong: length > MAX_BODY };
}

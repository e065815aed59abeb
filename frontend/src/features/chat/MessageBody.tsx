import { Fragment, type ComponentChild } from 'preact';
import { useMemo } from 'preact/hooks';
import { parseBody, type Block, type Inline } from '../../lib/format';
import { mentionParts } from '../../state/mentions';
import findStyles from './Find.module.scss';
import styles from './Rich.module.scss';

/** A text leaf, with the @username of `me` set apart when given (the server said the message mentions me). */
function text(v: string, key: number, me: string | null): ComponentChild {
  if (me === null) return v;
  return (
    <Fragment key={key}>
      {mentionParts(v, me).map((p, j) =>
        p.mention ? (
          <mark key={j} class={findStyles.mention} data-mention="me">
            {p.text}
          </mark>
        ) : (
          p.text
        ),
      )}
    </Fragment>
  );
}

function inline(nodes: readonly Inline[], me: string | null): ComponentChild[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return text(n.v, i, me);
      case 'link':
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
            {n.v}
          </a>
        );
      case 'code':
        return (
          <code key={i} class={styles.code}>
            {n.v}
          </code>
        );
      case 'bold':
        return <strong key={i}>{inline(n.c, me)}</strong>;
      case 'italic':
        return <em key={i}>{inline(n.c, me)}</em>;
    }
  });
}

function block(b: Block, i: number, me: string | null): ComponentChild {
  switch (b.t) {
    case 'para':
      return <span key={i}>{inline(b.c, me)}</span>;
    case 'quote':
      return (
        <blockquote key={i} class={styles.quote}>
          {inline(b.c, me)}
        </blockquote>
      );
    case 'pre':
      return (
        <pre key={i} class={styles.pre}>
          <code>{b.v}</code>
        </pre>
      );
  }
}

/**
 * A message body with its links and formatting, built as DOM nodes from
 * lib/format's tree: text is only ever a text node, a link only http(s).
 * `mention` is my username when the server lists me in the message's
 * mentions: its @mentions in text (not in code) are set apart.
 */
export function MessageBody({ body, class: cls, mention = null }: { body: string; class?: string; mention?: string | null }) {
  const blocks = useMemo(() => parseBody(body), [body]);
  return <div class={cls}>{blocks.map((b, i) => block(b, i, mention))}</div>;
}

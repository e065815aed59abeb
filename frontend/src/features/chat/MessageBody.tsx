import type { ComponentChild } from 'preact';
import { useMemo } from 'preact/hooks';
import { parseBody, type Block, type Inline } from '../../lib/format';
import styles from './Rich.module.scss';

function inline(nodes: readonly Inline[]): ComponentChild[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return n.v;
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
        return <strong key={i}>{inline(n.c)}</strong>;
      case 'italic':
        return <em key={i}>{inline(n.c)}</em>;
    }
  });
}

function block(b: Block, i: number): ComponentChild {
  switch (b.t) {
    case 'para':
      return <span key={i}>{inline(b.c)}</span>;
    case 'quote':
      return (
        <blockquote key={i} class={styles.quote}>
          {inline(b.c)}
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
 */
export function MessageBody({ body, class: cls }: { body: string; class?: string }) {
  const blocks = useMemo(() => parseBody(body), [body]);
  return <div class={cls}>{blocks.map(block)}</div>;
}

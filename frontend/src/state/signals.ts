import { computed, signal, type ReadonlySignal, type Signal } from '@preact/signals';

/**
 * A computed list that keeps its previous array while the items are the same
 * ones, so that readers re-render when the list changes, not each time it is
 * recomputed.
 */
export function listComputed<T>(fn: () => readonly T[]): ReadonlySignal<readonly T[]> {
  let prev: readonly T[] | null = null;
  return computed(() => {
    const next = fn();
    if (prev !== null && prev.length === next.length && prev.every((x, i) => Object.is(x, next[i]))) return prev;
    prev = next;
    return next;
  });
}

/** One signal per key, made on first use: a change for one key notifies only the readers of that key. */
export class SignalMap<K, V> {
  private readonly map = new Map<K, Signal<V>>();

  constructor(private readonly initial: (key: K) => V) {}

  signal(key: K): Signal<V> {
    let s = this.map.get(key);
    if (!s) {
      s = signal(this.initial(key));
      this.map.set(key, s);
    }
    return s;
  }

  get(key: K): V {
    return this.signal(key).value;
  }

  /** Applies fn to the current value; readers are notified only when it returns a new value. */
  update(key: K, fn: (v: V) => V): void {
    const s = this.signal(key);
    const next = fn(s.peek());
    if (!Object.is(next, s.peek())) s.value = next;
  }

  /** The current value without subscribing (for decisions inside actions). */
  peek(key: K): V {
    return this.map.get(key)?.peek() ?? this.initial(key);
  }

  delete(key: K): void {
    const s = this.map.get(key);
    if (s) s.value = this.initial(key);
    this.map.delete(key);
  }

  keys(): K[] {
    return [...this.map.keys()];
  }
}

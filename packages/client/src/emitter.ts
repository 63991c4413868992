/**
 * A tiny typed event emitter that works the same in browsers and Node (no Node
 * `EventEmitter` in the browser path). `E` maps each event name to its argument tuple.
 *
 * Listener lists are copy-on-write arrays: `emit` iterates the array it found without
 * copying it (no allocation per event on the hot path), and `on`/`off` replace it.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener tuples are checked at the call sites
type AnyListener = (...args: any[]) => void;

export type Listener<A extends unknown[]> = (...args: A) => void;

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, AnyListener[]>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(type: K, listener: Listener<E[K]>): () => void {
    const current = this.listeners.get(type);
    this.listeners.set(type, current ? [...current, listener] : [listener]);
    return () => this.off(type, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof E>(type: K, listener: Listener<E[K]>): () => void {
    const off = this.on(type, ((...args: E[K]) => {
      off();
      listener(...args);
    }) as Listener<E[K]>);
    return off;
  }

  off<K extends keyof E>(type: K, listener: Listener<E[K]>): void {
    const current = this.listeners.get(type);
    if (!current) return;
    const index = current.indexOf(listener);
    if (index === -1) return;
    if (current.length === 1) this.listeners.delete(type);
    else this.listeners.set(type, [...current.slice(0, index), ...current.slice(index + 1)]);
  }

  /** True when at least one listener is registered for `type`. */
  has(type: keyof E): boolean {
    return this.listeners.has(type);
  }

  /**
   * Calls every listener of `type` in order. A listener that throws does not stop the
   * others nor the client's own processing: its error is rethrown on a fresh microtask,
   * where it surfaces like any uncaught error (window.onerror, process
   * 'uncaughtException').
   */
  emit<K extends keyof E>(type: K, ...args: E[K]): void {
    const current = this.listeners.get(type);
    if (!current) return;
    for (let i = 0; i < current.length; i++) {
      try {
        (current[i] as AnyListener)(...args);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  removeAll(): void {
    this.listeners.clear();
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

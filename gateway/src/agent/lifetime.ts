// What the agent started, closed in reverse order when it stops (or when starting fails half way).
// A part that fails to close is logged and the rest still close.
import type { LogFn } from './options.ts';

export class Lifetime {
  readonly #closers: (() => Promise<void> | void)[] = [];
  readonly #log: LogFn;

  constructor(log: LogFn) {
    this.#log = log;
  }

  /** Remembers how to close `part`; returns `part`. */
  own<T>(part: T, close: (part: T) => Promise<void> | void): T {
    this.#closers.push(() => close(part));
    return part;
  }

  async close(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        this.#log('warn', `while closing: ${(err as Error).message}`);
      }
    }
  }
}

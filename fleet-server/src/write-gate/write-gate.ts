// A gate between the event loop's writes and the telemetry writer thread (telemetry/writer.ts).
// Both write to one SQLite file through their own connections, and SQLite makes a connection that
// finds the write lock taken poll for it with growing sleeps (1, 2, 5, 10, 15, 20 … ms): with the
// writer committing batch after batch, a one-row update on the event loop waited 16-60 ms, and
// the whole event loop with it. So the event loop says when it writes (a shared counter), and the
// writer thread starts no new transaction while it does: the event loop then waits at most for
// the writer's transaction in progress, a few milliseconds.
/** Longest the writer thread holds off for the event loop, ms (then SQLite's busy_timeout rules). */
const MAX_HOLD_MS = 1000;

export class WriteGate {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /** On the event loop: runs `write` while the writer thread starts no transaction. */
  run<T>(write: () => T): T {
    const release = this.hold();
    try {
      return write();
    } finally {
      release();
    }
  }

  /** Closes the gate until the returned function is called (once; again does nothing). */
  hold(): () => void {
    Atomics.add(this.cell, 0, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (Atomics.sub(this.cell, 0, 1) === 1) Atomics.notify(this.cell, 0);
    };
  }

  /** On the writer thread, before each transaction: waits while the event loop writes. */
  waitClear(): void {
    const deadline = performance.now() + MAX_HOLD_MS;
    for (;;) {
      const writers = Atomics.load(this.cell, 0);
      if (writers === 0) return;
      const left = deadline - performance.now();
      if (left <= 0) return;
      Atomics.wait(this.cell, 0, writers, left);
    }
  }
}

const gates = new WeakMap<object, WriteGate>();

/** Makes `gate` the one that loopWrite uses for these connection handles (drizzle, better-sqlite3). */
export function registerWriteGate(gate: WriteGate, ...handles: object[]): void {
  for (const h of handles) gates.set(h, gate);
}

/** Runs a write on the event loop's connection through its gate (as is when it has none). */
export function loopWrite<T>(handle: object, write: () => T): T {
  const gate = gates.get(handle);
  return gate ? gate.run(write) : write();
}

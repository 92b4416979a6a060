// Small helpers of the fieldbus integration tests: waiting on real time, and a sink that keeps
// every record the engine sends.
import type { FieldbusRecord, FieldbusSink } from '../src/fieldbus/index.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds; fails naming `what` after `ms`. */
export async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A sink that accepts and keeps every record. */
export function recordingSink(): { sink: FieldbusSink; records: FieldbusRecord[] } {
  const records: FieldbusRecord[] = [];
  return {
    records,
    sink: {
      send: (r) => {
        records.push(r);
        return true;
      },
    },
  };
}

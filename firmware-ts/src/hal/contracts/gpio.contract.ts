// The behaviour every GPIO backend must show. A harness drives or reads the physical line
// from outside (a bench wire, a loopback jumper on a real board) and controls time.
import { describe, expect, it } from 'vitest';
import { HalConfigError, PortClosedError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';
import type {
  DigitalInput,
  DigitalInputOptions,
  DigitalOutput,
  DigitalOutputOptions,
  Level,
} from '../gpio/digital.ts';

export interface GpioContractHarness {
  clock: Clock;
  /** Lets time pass until `done()` holds or `limitMs` of clock time have gone; resolves to `done()`. */
  waitUntil(done: () => boolean, limitMs: number): Promise<boolean>;
  dispose(): Promise<void>;
}

export interface DigitalInputHarness extends GpioContractHarness {
  open(options?: DigitalInputOptions): Promise<DigitalInput>;
  /** Sets the physical level of the line from outside. */
  drive(level: Level): Promise<void>;
}

export interface DigitalOutputHarness extends GpioContractHarness {
  open(options?: DigitalOutputOptions): Promise<DigitalOutput>;
  /** The physical level of the line, seen from outside. */
  physical(): Promise<Level>;
}

type Edge = { level: Level; atNs: bigint };

function record(input: DigitalInput): Edge[] {
  const edges: Edge[] = [];
  input.onEdge((level, atNs) => edges.push({ level, atNs }));
  return edges;
}

export function describeDigitalInputContract(name: string, create: () => Promise<DigitalInputHarness>): void {
  describe(`DigitalInput contract: ${name}`, () => {
    it('reads the physical level at open, inverted when active-low', async () => {
      const h = await create();
      await h.drive(1);
      const plain = await h.open();
      expect(plain.read()).toBe(1);
      await plain.close();
      const inverted = await h.open({ activeLow: true });
      expect(inverted.read()).toBe(0);
      await inverted.close();
      await h.dispose();
    });

    it('reports each change once with a monotonic timestamp taken when it happened', async () => {
      const h = await create();
      await h.drive(0);
      const input = await h.open();
      const edges = record(input);
      const before = h.clock.monotonicNs();
      await h.drive(1);
      expect(await h.waitUntil(() => edges.length === 1, 1000)).toBe(true);
      await h.drive(1); // not a change
      await h.drive(0);
      expect(await h.waitUntil(() => edges.length >= 2, 1000)).toBe(true);
      const after = h.clock.monotonicNs();
      expect(edges.map((e) => e.level)).toEqual([1, 0]);
      expect(edges[0]!.atNs >= before && edges[1]!.atNs <= after).toBe(true);
      expect(edges[1]!.atNs >= edges[0]!.atNs).toBe(true);
      expect(input.read()).toBe(0);
      await input.close();
      await h.dispose();
    });

    it("reports only the selected edge kind, in logical terms ('rising' on active-low = physical fall)", async () => {
      const h = await create();
      await h.drive(1);
      const rising = await h.open({ edge: 'rising', activeLow: true });
      const falling = await h.open({ edge: 'falling' });
      const r = record(rising);
      const f = record(falling);
      await h.drive(0);
      await h.drive(1);
      await h.drive(0);
      expect(await h.waitUntil(() => r.length === 2 && f.length === 2, 1000)).toBe(true);
      expect(r.map((e) => e.level)).toEqual([1, 1]);
      expect(f.map((e) => e.level)).toEqual([0, 0]);
      await rising.close();
      await falling.close();
      await h.dispose();
    });

    it('debounce drops a glitch shorter than the window and reports a held change, stamped when it began', async () => {
      const h = await create();
      await h.drive(0);
      const input = await h.open({ debounceMs: 40 });
      const edges = record(input);
      await h.drive(1);
      await h.drive(0); // a glitch of microseconds
      const start = h.clock.monotonicNs();
      await h.drive(1);
      expect(input.read()).toBe(0);
      expect(await h.waitUntil(() => edges.length === 1, 2000)).toBe(true);
      const seenAt = h.clock.monotonicNs();
      expect(edges[0]!.level).toBe(1);
      expect(edges[0]!.atNs >= start).toBe(true);
      expect(seenAt - edges[0]!.atNs >= 39_000_000n).toBe(true);
      expect(input.read()).toBe(1);
      let sentinel = false;
      h.clock.setTimeout(() => {
        sentinel = true;
      }, 60);
      await h.waitUntil(() => sentinel, 1000);
      expect(edges).toHaveLength(1);
      await input.close();
      await h.dispose();
    });

    it('stops delivering after unsubscribe and after close; close is idempotent', async () => {
      const h = await create();
      await h.drive(0);
      const input = await h.open();
      const kept = record(input);
      const dropped: Level[] = [];
      const unsubscribe = input.onEdge((level) => dropped.push(level));
      unsubscribe();
      unsubscribe();
      await h.drive(1);
      expect(await h.waitUntil(() => kept.length === 1, 1000)).toBe(true);
      await input.close();
      await input.close();
      await h.drive(0);
      const other = await h.open();
      const witness = record(other);
      await h.drive(1);
      expect(await h.waitUntil(() => witness.length === 1, 1000)).toBe(true);
      expect(kept).toHaveLength(1);
      expect(dropped).toEqual([]);
      expect(() => input.read()).toThrow(PortClosedError);
      expect(() => input.onEdge(() => {})).toThrow(PortClosedError);
      await other.close();
      await h.dispose();
    });

    it('refuses bad options, naming the field and the fix', async () => {
      const h = await create();
      await expect(h.open({ debounceMs: -5 })).rejects.toThrow(HalConfigError);
      await expect(h.open({ debounceMs: -5 })).rejects.toThrow(/debounceMs.*Fix:/);
      await expect(h.open({ edge: 'sideways' as never })).rejects.toThrow(
        /edge.*'rising', 'falling' or 'both'/,
      );
      await h.dispose();
    });
  });
}

export function describeDigitalOutputContract(
  name: string,
  create: () => Promise<DigitalOutputHarness>,
): void {
  describe(`DigitalOutput contract: ${name}`, () => {
    it('is off at open unless told otherwise', async () => {
      const h = await create();
      const out = await h.open();
      expect(out.read()).toBe(0);
      expect(await h.physical()).toBe(0);
      await out.close();
      const on = await h.open({ initial: 1 });
      expect(on.read()).toBe(1);
      expect(await h.physical()).toBe(1);
      await on.close();
      await h.dispose();
    });

    it('drives the line and reads back what it wrote; active-low inverts the wire', async () => {
      const h = await create();
      const out = await h.open({ activeLow: true });
      let physical: Level | undefined;
      const watch = async (want: Level) => {
        const deadline = Date.now() + 2000;
        while (Date.now() < deadline) {
          physical = await h.physical();
          if (physical === want) return true;
          // Bench buses apply writes asynchronously; poll in real time, the clock is irrelevant here.
          await new Promise((r) => setTimeout(r, 2));
        }
        return false;
      };
      expect(await watch(1)).toBe(true);
      out.write(1);
      expect(out.read()).toBe(1);
      expect(await watch(0)).toBe(true);
      out.write(0);
      expect(out.read()).toBe(0);
      expect(await watch(1)).toBe(true);
      out.write(1);
      await out.close();
      // Closing releases the contact: logical 0, i.e. physical 1 when active-low.
      expect(await watch(1)).toBe(true);
      expect(out.read()).toBe(0);
      await h.dispose();
    });

    it('refuses a level other than 0 or 1 and any write after close', async () => {
      const h = await create();
      const out = await h.open();
      expect(() => out.write(2 as Level)).toThrow(HalConfigError);
      expect(() => out.write(2 as Level)).toThrow(/0 or 1/);
      await out.close();
      await out.close();
      expect(() => out.write(1)).toThrow(PortClosedError);
      await expect(h.open({ initial: 5 as Level })).rejects.toThrow(/initial.*0 or 1/);
      await h.dispose();
    });
  });
}

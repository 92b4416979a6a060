// The rt loop's own bounded event queue: a ring of preallocated records that the hot path fills
// field by field (no object per event). The loop's cycle turns them into agent records and hands
// them to the EventSink after the outputs have been driven; a full ring drops and counts.
import type { ArbiterCommandKind, IgnoreReason, Priority, ReleaseReason } from './arbiter.ts';
import type { RejectReason } from './checks.ts';

/** The arbiter's event commands, and the checks' rejections. */
export type RtEventType = 'rejected' | Exclude<ArbiterCommandKind, 'output'>;

export type FrameInput = 'radio' | 'udp';

/** One queued event. Fields an event type does not use keep whatever an earlier event left. */
export interface RtEventSlot {
  type: RtEventType;
  atMs: number;
  /** Approach index; -1 for a system fault and for events without an approach. */
  approach: number;
  vehicle: number;
  priority: Priority;
  reason: ReleaseReason | IgnoreReason | RejectReason | 'none';
  /** Fault text. */
  detail: string;
  input: FrameInput;
  /** Rejected frame: its vehicle id, inbound approach number and counter; -1 for a batch of `count` bad frames. */
  vehicleId: number;
  inbound: number;
  counter: number;
  count: number;
}

export class RtEventRing {
  private readonly slots: RtEventSlot[];
  private head = 0;
  private size = 0;
  /** Events dropped because the ring was full. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.slots = Array.from({ length: capacity }, () => ({
      type: 'ready' as RtEventType,
      atMs: 0,
      approach: -1,
      vehicle: -1,
      priority: 1 as Priority,
      reason: 'none' as RtEventSlot['reason'],
      detail: '',
      input: 'udp' as FrameInput,
      vehicleId: 0,
      inbound: 0,
      counter: 0,
      count: 0,
    }));
  }

  get length(): number {
    return this.size;
  }

  /**
   * The slot to fill for a new event (its `atMs` and fields are the caller's to set), or undefined
   * when full (the event is counted as dropped).
   */
  push(type: RtEventType): RtEventSlot | undefined {
    if (this.size >= this.capacity) {
      this.dropped++;
      return undefined;
    }
    const slot = this.slots[(this.head + this.size) % this.capacity]!;
    this.size++;
    slot.type = type;
    return slot;
  }

  /** The oldest event, still in the ring until `shift()`; undefined when empty. */
  peek(): RtEventSlot | undefined {
    return this.size === 0 ? undefined : this.slots[this.head];
  }

  shift(): void {
    if (this.size === 0) return;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }
}

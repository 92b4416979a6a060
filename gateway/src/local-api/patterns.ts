// Subscription filters: channel patterns (`device/point`, `*` matches any run of characters within
// its part) and event-type patterns (`alarm.*`). A channel key in the journal is `<device>.<point>`
// (no dot inside either part); flows see it as the topic `device/point`.

/** Characters a device name or point key may contain (config names are slugs, keys camelCase). */
const PART = /^[A-Za-z0-9_*-]+$/;
const EVENT_TYPE = /^[a-z0-9*][a-z0-9.*-]*$/;
export const MAX_PATTERN_LENGTH = 200;

export type PatternCheck = { ok: true; pattern: string } | { ok: false; message: string };

/** `device.point` → `device/point`; a key without a dot is its own topic. */
export function channelTopic(channel: string): string {
  const dot = channel.indexOf('.');
  return dot < 0 ? channel : `${channel.slice(0, dot)}/${channel.slice(dot + 1)}`;
}

/** `device/point` → `device.point` (the journal's key). */
export function topicChannel(topic: string): string {
  return topic.replace('/', '.');
}

/**
 * Checks a channel pattern and returns it in its canonical form: `*` alone means every channel,
 * `device` alone every point of that device, `device.point` is taken for `device/point`.
 */
export function checkChannelPattern(input: unknown): PatternCheck {
  if (typeof input !== 'string' || input.length === 0) {
    return { ok: false, message: 'expected a pattern like "main-meter/*" or "*/co2Ppm"' };
  }
  if (input.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `is ${input.length} characters; at most ${MAX_PATTERN_LENGTH}` };
  }
  let text = input.trim();
  if (!text.includes('/') && text.includes('.')) text = channelTopic(text);
  const parts = text.split('/');
  if (parts.length === 1) parts.push('*');
  if (parts.length !== 2) {
    return {
      ok: false,
      message: `"${input}" has ${parts.length - 1} slashes; write device/point, e.g. "main-meter/powerW"`,
    };
  }
  for (const part of parts) {
    if (!PART.test(part)) {
      return {
        ok: false,
        message: `"${input}": "${part}" may hold only letters, digits, - _ and * (e.g. "main-meter/energy*")`,
      };
    }
  }
  return { ok: true, pattern: parts.join('/') };
}

export function checkEventPattern(input: unknown): PatternCheck {
  if (typeof input !== 'string' || input.length === 0) {
    return {
      ok: false,
      message: 'expected an event type or pattern like "alarm.*" or "preemption.asserted"',
    };
  }
  if (input.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `is ${input.length} characters; at most ${MAX_PATTERN_LENGTH}` };
  }
  if (!EVENT_TYPE.test(input) || input.includes('..')) {
    return {
      ok: false,
      message: `"${input}" is not an event type pattern; use lower-case dotted words and *, e.g. "alarm.*"`,
    };
  }
  return { ok: true, pattern: input };
}

/** `*` matches any run of characters other than the slash between device and point. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}$`);
}

/**
 * A set of checked patterns compiled into one test. Results are remembered per key (channels and
 * event types are few and repeat on every reading), up to a bound so a stream of odd keys cannot
 * grow memory without end.
 */
export class PatternSet {
  readonly patterns: readonly string[];
  readonly #exact = new Set<string>();
  readonly #globs: RegExp[] = [];
  readonly #any: boolean;
  readonly #memo = new Map<string, boolean>();
  static readonly MEMO_LIMIT = 10_000;

  /** `keyOf` turns a matched key into the pattern's form (a channel key into its topic). */
  constructor(
    patterns: readonly string[],
    private readonly keyOf: (key: string) => string = (k) => k,
  ) {
    this.patterns = patterns;
    for (const p of patterns) {
      if (p.includes('*')) this.#globs.push(globRegExp(p));
      else this.#exact.add(p);
    }
    this.#any = patterns.includes('*') || patterns.includes('*/*');
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  matches(key: string): boolean {
    if (this.#any) return true;
    if (this.patterns.length === 0) return false;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const form = this.keyOf(key);
    const hit = this.#exact.has(form) || this.#globs.some((g) => g.test(form));
    if (this.#memo.size >= PatternSet.MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(key, hit);
    return hit;
  }
}

export const channelPatterns = (patterns: readonly string[]) => new PatternSet(patterns, channelTopic);
export const eventPatterns = (patterns: readonly string[]) => new PatternSet(patterns);

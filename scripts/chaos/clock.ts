// Wall-clock steps for the gateway's processes, as a bad NTP step or an RTC-less boot makes them:
// libfaketime (Debian package libfaketime) preloaded into each process reads its offset from a
// file per site, re-read at most once a second. Only CLOCK_REALTIME moves; the monotonic clocks
// that timers run on do not, as on a real machine.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The preload library, or null when libfaketime is not installed. */
export function findFaketime(): string | null {
  const roots = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];
  for (const root of roots) {
    const direct = join(root, 'faketime', 'libfaketime.so.1');
    if (existsSync(direct)) return direct;
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(root, e, 'faketime', 'libfaketime.so.1');
      if (existsSync(p)) return p;
    }
  }
  return null;
}

export class SiteClocks {
  readonly offsets = new Map<string, number>();
  /** (site, at, offsetS) for every step, so readings can be matched with the clock they were made by. */
  readonly steps: { site: string; atMs: number; offsetS: number }[] = [];

  constructor(
    private readonly dir: string,
    readonly library: string | null,
  ) {}

  file(site: string): string {
    return join(this.dir, `${site}.faketime`);
  }

  /** The environment a site's processes start with (empty without libfaketime). */
  env(site: string): Record<string, string> {
    if (!this.library) return {};
    if (!existsSync(this.file(site))) this.set(site, 0);
    return {
      LD_PRELOAD: this.library,
      FAKETIME_TIMESTAMP_FILE: this.file(site),
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  set(site: string, offsetS: number): void {
    writeFileSync(this.file(site), `${offsetS >= 0 ? '+' : ''}${offsetS}\n`);
    this.offsets.set(site, offsetS);
    this.steps.push({ site, atMs: Date.now(), offsetS });
  }

  offsetAt(site: string, atMs: number): number {
    let offset = 0;
    for (const s of this.steps) {
      if (s.atMs > atMs) break;
      if (s.site === site) offset = s.offsetS;
    }
    return offset;
  }
}

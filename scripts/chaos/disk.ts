// A gateway's data disk for chaos: a small tmpfs of its own (mounting needs root and CAP_SYS_ADMIN;
// without them the data stays on the machine's disk and the disk-full fault is left out of the
// schedule, which the report says). Filling writes one file until the filesystem says ENOSPC.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const FILLER = 'chaos-filler.bin';

/** Mounts a tmpfs of sizeMb at dir; false (with the reason) when this machine does not allow it. */
export function mountSmallDisk(dir: string, sizeMb: number): { ok: true } | { ok: false; reason: string } {
  mkdirSync(dir, { recursive: true });
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (r.status === 0) return { ok: true };
  return { ok: false, reason: (r.stderr || r.error?.message || `mount exited ${r.status}`).trim() };
}

export function unmountSmallDisk(dir: string): void {
  const r = spawnSync('umount', [dir], { encoding: 'utf8' });
  if (r.status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Fills the filesystem under dir up to its last block; returns the bytes written. */
export function fillDisk(dir: string): number {
  const fd = openSync(join(dir, FILLER), 'a');
  const chunk = Buffer.alloc(64 * 1024, 0xa5);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Top up the last partial chunk with smaller writes.
        for (let size = 32 * 1024; size >= 512; size /= 2) {
          try {
            for (;;) written += writeSync(fd, chunk, 0, size);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          }
        }
        return written;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function freeDisk(dir: string): void {
  rmSync(join(dir, FILLER), { force: true });
}

export function diskFreeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

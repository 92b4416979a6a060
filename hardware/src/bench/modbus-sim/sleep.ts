/** Resolve at `atMs` on the performance.now() time line (timers may fire a little late, never early). */
export function sleepUntil(atMs: number): Promise<void> {
  const wait = atMs - performance.now();
  if (wait <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      const left = atMs - performance.now();
      if (left <= 0) resolve();
      else setTimeout(check, Math.max(0, Math.ceil(left)));
    };
    setTimeout(check, Math.ceil(wait));
  });
}

// A stand-in for `brana-firmware rt|fieldbus` in the gateway's tests: it speaks the real IPC
// protocol through @brana/firmware's connectAgent. Readings carry value = their sequence number,
// so a test can count, by sequence, that each one reached the fleet exactly once.
// argv: <source> ; env: BRANA_AGENT_SOCKET, BRANA_CONFIG (optional), STAND_IN_COUNT (default:
// unlimited), STAND_IN_RATE (readings/s, default 1000), STAND_IN_BOOT_EPOCH.
import { readFileSync } from 'node:fs';
import { connectAgent } from '@brana/firmware';

const source = (process.argv[2] ?? 'fieldbus') as 'rt' | 'fieldbus';
const socketPath = process.env.BRANA_AGENT_SOCKET;
if (!socketPath) {
  console.error('stand-in: BRANA_AGENT_SOCKET is not set');
  process.exit(2);
}
let behaviour = 'normal';
if (process.env.BRANA_CONFIG) {
  const config = JSON.parse(readFileSync(process.env.BRANA_CONFIG, 'utf8')) as { name?: string };
  // Test configs choose how the stand-in behaves through their name.
  if (config.name === 'crash-on-start') process.exit(3);
  if (config.name === 'selftest-fails') behaviour = 'selftest-fails';
}
const count = Number(process.env.STAND_IN_COUNT ?? Number.POSITIVE_INFINITY);
const rate = Number(process.env.STAND_IN_RATE ?? 1000);
const link = connectAgent({
  socketPath,
  source,
  queueLimit: 1_000_000,
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  ...(process.env.STAND_IN_BOOT_EPOCH ? { bootEpoch: Number(process.env.STAND_IN_BOOT_EPOCH) } : {}),
});
if (behaviour === 'selftest-fails') {
  link.send({
    kind: 'event',
    type: 'preemption.fault',
    safety: true,
    atMs: Date.now(),
    data: { output: 'north', reason: 'readback stuck high' },
  });
}
let sent = 0;
const perTick = Math.max(1, Math.round(rate / 100));
const timer = setInterval(() => {
  for (let i = 0; i < perTick && sent < count; i++) {
    sent++;
    link.send({
      kind: 'reading',
      channel: `${source}.meter-1.energyKWh`,
      atMs: Date.now(),
      value: sent,
      quality: 'good',
    });
  }
  if (sent >= count) {
    clearInterval(timer);
    link.drained(120_000).then(
      () => {
        process.stdout.write(`done ${sent}\n`);
        if (process.env.STAND_IN_EXIT_WHEN_DONE === '1') link.close().then(() => process.exit(0));
      },
      (err) => console.error(`stand-in: ${(err as Error).message}`),
    );
  }
}, 10);
process.on('SIGTERM', () => {
  clearInterval(timer);
  link.close().then(() => process.exit(0));
});

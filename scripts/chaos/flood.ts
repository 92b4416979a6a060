// The priority-input flood of a chaos run, as its own process (started and killed by traffic.ts):
// UDP frames at --per-s to the intersection gateway's rt process, a third each of
//  - frames signed by keys nobody trusts (cheap to reject),
//  - frames that claim a trusted ambulance's key hint but carry a wrong signature (costly to reject),
//  - frames signed by a compromised transit key, valid and fresh, cycling the vehicle id they claim,
//    half of them inside an approach's corridor (the attack of issue 19 §1).
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeSignedFrame, keyHintOf } from '@brana/hardware';
import { approachPoint } from '../start/configs.ts';
import { counterNow } from '../start/vehicles.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'per-s': { type: 'string' },
    keys: { type: 'string' },
    intersection: { type: 'string' },
  },
});
const port = Number(values.port);
const perS = Number(values['per-s']);
const keys = JSON.parse(readFileSync(String(values.keys), 'utf8')) as {
  privateKeyPem: string;
  trustedPublicKey: string;
};
const x = JSON.parse(String(values.intersection)) as {
  id: number;
  center: { lat: number; lon: number };
  approaches: { number: number; headingDeg: number }[];
};
const transit = createPrivateKey(keys.privateKeyPem);
const trustedHint = keyHintOf(keys.trustedPublicKey);
const strangers: KeyObject[] = Array.from({ length: 8 }, () => generateKeyPairSync('ed25519').privateKey);
const socket = createSocket('udp4');
let counter = counterNow() + 1_000_000;
let vehicleId = 1;
let n = 0;

function frame(): Buffer {
  const a = x.approaches[n % x.approaches.length]!;
  const inCorridor = n % 2 === 0;
  const at = approachPoint(x.center, inCorridor ? a.headingDeg : a.headingDeg + 90, inCorridor ? 150 : 2000);
  const kind = n % 3;
  n++;
  vehicleId = (vehicleId % 60_000) + 1;
  const fields = {
    type: 'request' as const,
    role: kind === 2 ? ('transit' as const) : ('ambulance' as const),
    importance: kind === 2 ? 4 : 14,
    inbound: a.number,
    outbound: 0,
    requestId: 1,
    counter: counter++,
    intersectionId: x.id,
    vehicleId: kind === 2 ? 2000 + vehicleId : 600 + (vehicleId % 50),
    etaS: 12,
    latDeg: at.latDeg,
    lonDeg: at.lonDeg,
    headingDeg: a.headingDeg,
    speedMps: 10,
    generatedMs: Date.now(),
  };
  if (kind === 0) return encodeSignedFrame(fields, strangers[n % strangers.length]!);
  if (kind === 1)
    return encodeSignedFrame({ ...fields, keyHint: trustedHint }, strangers[n % strangers.length]!);
  return encodeSignedFrame(fields, transit);
}

// Sent in 10 ms slices; a slice that could not be sent in time is not made up later.
const perSlice = Math.max(1, Math.round(perS / 100));
setInterval(() => {
  for (let i = 0; i < perSlice; i++) socket.send(frame(), port, '127.0.0.1', () => undefined);
}, 10);
process.on('SIGTERM', () => process.exit(0));

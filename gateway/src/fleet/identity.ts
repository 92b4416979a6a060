// The gateway's identity: an Ed25519 key made on the device (it never leaves the data directory)
// and, after enrolment, the gateway id and the pinned server key.
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import {
  ENROL_PATH,
  type EnrolRequest,
  enrolResponseSchema,
  generateEd25519KeyPair,
  PROTOCOL_VERSION,
  parseWire,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyOf,
} from '@brana/protocol';
import { EnrolmentError, StateFileError } from '../errors.ts';
import { readJsonFile, readTextFile, writeFileAtomic } from '../state/index.ts';

export const AGENT_VERSION = '0.1.0';

export interface Enrolment {
  gatewayId: string;
  serverUrl: string;
  /** Pinned at enrolment: every session and desired config must be signed with it. */
  serverPublicKey: string;
  enrolledAt: string;
}

export interface Identity {
  privateKey: KeyObject;
  publicKey: string;
  enrolment: Enrolment | undefined;
}

const keyFile = (dataDir: string) => join(dataDir, 'identity', 'gateway-key.pem');
const enrolmentFile = (dataDir: string) => join(dataDir, 'identity', 'enrolment.json');

/** Loads the device key, making one on first use; loads the enrolment if there is one. */
export function loadIdentity(dataDir: string): Identity {
  const file = keyFile(dataDir);
  let privateKey: KeyObject;
  const pem = readTextFile(file, 'gateway key');
  if (pem === undefined) {
    privateKey = generateEd25519KeyPair().privateKey;
    writeFileAtomic(file, privateKeyToPem(privateKey));
  } else {
    try {
      privateKey = privateKeyFromPem(pem);
    } catch (err) {
      throw new StateFileError(
        file,
        (err as Error).message,
        'remove the file and enrol the gateway again with a new claim token',
        err,
      );
    }
  }
  const enrolment = readJsonFile<Enrolment>(enrolmentFile(dataDir), 'enrolment');
  if (
    enrolment !== undefined &&
    (typeof enrolment.gatewayId !== 'string' || typeof enrolment.serverPublicKey !== 'string')
  ) {
    throw new StateFileError(
      enrolmentFile(dataDir),
      'lacks gatewayId or serverPublicKey',
      'remove it and enrol again',
    );
  }
  return { privateKey, publicKey: publicKeyOf(privateKey), enrolment };
}

export interface EnrolOptions {
  dataDir: string;
  serverUrl: string;
  claimToken: string;
  hostname?: string;
  fetch?: typeof fetch;
}

/** Enrols with a single-use claim token and pins the server's key. */
export async function enrol(options: EnrolOptions): Promise<Enrolment> {
  const identity = loadIdentity(options.dataDir);
  const base = options.serverUrl.replace(/\/$/, '');
  const body: EnrolRequest = {
    protocol: PROTOCOL_VERSION,
    claimToken: options.claimToken,
    publicKey: identity.publicKey,
    agentVersion: AGENT_VERSION,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  };
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(base + ENROL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new EnrolmentError(
      `cannot reach ${base} (${(err as Error).message})`,
      'check the server URL and the network, then run enrol again',
      { retryable: true, cause: err },
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 300);
    try {
      const j = JSON.parse(text) as { message?: string; code?: string };
      if (j.message) detail = `${j.code ?? res.status}: ${j.message}`;
    } catch {
      // not JSON: quote the start of the body
    }
    throw new EnrolmentError(
      `the server refused the claim token (HTTP ${res.status}, ${detail})`,
      res.status >= 500
        ? 'retry later'
        : 'ask the fleet operator for a new claim token (they are single use and expire)',
      { retryable: res.status >= 500 },
    );
  }
  const parsed = parseWire(enrolResponseSchema, text);
  if (!parsed.ok) {
    const i = parsed.issues[0];
    throw new EnrolmentError(
      `the server's answer is not an enrolment response (${i?.path}: ${i?.message})`,
      'check that --server points at a Brána fleet server',
    );
  }
  const enrolment: Enrolment = {
    gatewayId: parsed.value.gatewayId,
    serverUrl: base,
    serverPublicKey: parsed.value.serverPublicKey,
    enrolledAt: new Date().toISOString(),
  };
  writeFileAtomic(enrolmentFile(options.dataDir), `${JSON.stringify(enrolment, null, 2)}\n`);
  return enrolment;
}

// Flow credentials (passwords, API keys of nodes) travel sealed: a config carries them in
// nodeRed.credentials as one AES-256-GCM payload whose key is wrapped for each gateway that runs
// the config, to that gateway's X25519 credentials key (ECDH with a fresh key per recipient,
// HKDF-SHA256). Only the gateway can open them; the agent hands them to Node-RED through the admin
// API, and Node-RED keeps them encrypted with its credentialSecret. See gateway/README.md.
//
// sealCredentials is here for the fleet side and the tests; the gateway only opens.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import type { SealedCredentials } from '@brana/firmware';
import { GatewayError, StateFileError } from '../errors.ts';
import { readTextFile, writeFileAtomic } from '../state/index.ts';

const ALG = 'X25519-HKDF-SHA256-A256GCM';
const PAYLOAD_AAD = Buffer.from('brana flow credentials v1');
const WRAP_INFO = Buffer.from('brana flow credentials v1 wrap');
/** Largest payload opened (the schema bounds the ciphertext to about 1 MB too). */
const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Node id → that node's credential fields, as Node-RED's POST /flows takes them. */
export type FlowCredentials = Record<string, Record<string, string | number | boolean>>;

export interface CredentialsKey {
  privateKey: KeyObject;
  /** Raw X25519 public key, base64url (43 characters): what the fleet seals to. */
  publicKey: string;
  /** First 16 bytes of SHA-256 of the raw public key, base64url: names this gateway in an envelope. */
  keyId: string;
}

export class CredentialsError extends GatewayError {
  constructor(problem: string, fix: string) {
    super(`nodeRed.credentials: ${problem}. Fix: ${fix}`, { code: 'FLOW_CREDENTIALS' });
  }
}

export function keyIdOf(rawPublicKey: string): string {
  return createHash('sha256')
    .update(Buffer.from(rawPublicKey, 'base64url'))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

function rawPublicKeyOf(key: KeyObject): string {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an X25519 key');
  return jwk.x;
}

function publicKeyFromRaw(raw: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw }, format: 'jwk' });
}

/** Loads the gateway's credentials key, making it on first use (mode 0600, atomic write). */
export function loadCredentialsKey(file: string): CredentialsKey {
  const pem = readTextFile(file, 'flow credentials key');
  let privateKey: KeyObject;
  if (pem === undefined) {
    privateKey = generateKeyPairSync('x25519').privateKey;
    writeFileAtomic(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  } else {
    try {
      privateKey = createPrivateKey(pem);
    } catch (err) {
      throw new StateFileError(
        file,
        'the flow credentials key is not a PEM private key',
        'restore it from a backup; without it the config must be sealed again for this gateway',
        err,
      );
    }
    if (privateKey.asymmetricKeyType !== 'x25519') {
      throw new StateFileError(
        file,
        `the flow credentials key is ${privateKey.asymmetricKeyType}, not X25519`,
        'restore the right file',
      );
    }
  }
  const publicKey = rawPublicKeyOf(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

function kekFor(shared: Buffer, epk: string, recipient: string): Buffer {
  const salt = Buffer.concat([Buffer.from(epk, 'base64url'), Buffer.from(recipient, 'base64url')]);
  return Buffer.from(hkdfSync('sha256', shared, salt, WRAP_INFO, 32));
}

/** Seals `credentials` for the gateways whose raw X25519 public keys are given. */
export function sealCredentials(
  credentials: FlowCredentials,
  recipients: readonly string[],
): SealedCredentials {
  if (recipients.length === 0) throw new Error('sealCredentials: no recipients');
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(PAYLOAD_AAD);
  const ct = Buffer.concat([c.update(JSON.stringify(credentials), 'utf8'), c.final(), c.getAuthTag()]);
  return {
    v: 1,
    alg: ALG,
    recipients: recipients.map((recipient) => {
      const eph = generateKeyPairSync('x25519');
      const epk = rawPublicKeyOf(eph.publicKey);
      const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyFromRaw(recipient) });
      const kid = keyIdOf(recipient);
      const wiv = randomBytes(12);
      const w = createCipheriv('aes-256-gcm', kekFor(shared, epk, recipient), wiv);
      w.setAAD(Buffer.from(kid));
      const wrapped = Buffer.concat([wiv, w.update(key), w.final(), w.getAuthTag()]);
      return { kid, epk, wrapped: wrapped.toString('base64url') };
    }),
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
  };
}

/** Opens an envelope with this gateway's key. Errors never contain any part of the payload. */
export function openCredentials(sealed: SealedCredentials, key: CredentialsKey): FlowCredentials {
  const mine = sealed.recipients.find((r) => r.kid === key.keyId);
  if (!mine) {
    throw new CredentialsError(
      `they are not sealed for this gateway (its key id is ${key.keyId}; the envelope has ${sealed.recipients.length} other recipient(s))`,
      `seal them again including this gateway's credentials key (brana-gateway node-red public-key)`,
    );
  }
  let contentKey: Buffer;
  try {
    const shared = diffieHellman({ privateKey: key.privateKey, publicKey: publicKeyFromRaw(mine.epk) });
    const w = Buffer.from(mine.wrapped, 'base64url');
    const d = createDecipheriv('aes-256-gcm', kekFor(shared, mine.epk, key.publicKey), w.subarray(0, 12));
    d.setAAD(Buffer.from(mine.kid));
    d.setAuthTag(w.subarray(44, 60));
    contentKey = Buffer.concat([d.update(w.subarray(12, 44)), d.final()]);
  } catch {
    throw new CredentialsError(
      'the key wrapped for this gateway does not open with its key (sealed for an older key, or altered)',
      "seal them again for this gateway's current credentials key",
    );
  }
  let text: string;
  try {
    const ct = Buffer.from(sealed.ct, 'base64url');
    if (ct.length - 16 > MAX_PAYLOAD_BYTES) throw new Error('too large');
    const d = createDecipheriv('aes-256-gcm', contentKey, Buffer.from(sealed.iv, 'base64url'));
    d.setAAD(PAYLOAD_AAD);
    d.setAuthTag(ct.subarray(ct.length - 16));
    text = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString('utf8');
  } catch {
    throw new CredentialsError(
      'the sealed payload does not decrypt (altered or truncated)',
      'seal the credentials again',
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new CredentialsError(
      'the opened payload is not JSON',
      'seal a { <node id>: { <field>: value } } object',
    );
  }
  return checkPayload(payload);
}

function checkPayload(payload: unknown): FlowCredentials {
  const isObject = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(payload)) {
    throw new CredentialsError(
      'the opened payload is not an object of nodes',
      'seal a { <node id>: { <field>: value } } object',
    );
  }
  for (const [id, fields] of Object.entries(payload)) {
    const ok =
      isObject(fields) &&
      Object.values(fields).every(
        (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
      );
    if (!ok) {
      throw new CredentialsError(
        `the credentials of node "${id}" are not flat fields`,
        'give each node an object of text, number or true/false fields',
      );
    }
  }
  return payload as FlowCredentials;
}

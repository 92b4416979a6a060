// Ed25519 keys and signatures as they travel on the wire.
// Encoding (fixed for the whole protocol): a public key is the raw 32-byte key in base64url without
// padding (the JWK "x" member, RFC 8037); a signature is the raw 64 bytes in base64url. Private keys
// never travel; they are stored as PKCS#8 PEM.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export class KeyFormatError extends Error {
  readonly code = 'key-format';
  constructor(message: string) {
    super(message);
    this.name = 'KeyFormatError';
  }
}

export interface Ed25519KeyPair {
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  privateKey: KeyObject;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKeyToBase64url(publicKey), privateKey };
}

export function publicKeyToBase64url(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new KeyFormatError('not an Ed25519 key; generate keys with generateEd25519KeyPair()');
  }
  return jwk.x;
}

/** Decodes a base64url raw public key; throws KeyFormatError naming what is wrong. */
export function publicKeyFromBase64url(encoded: string): KeyObject {
  const bytes = decodeBase64url(encoded, 32, 'public key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new KeyFormatError(`private key is not a PKCS#8 PEM (${(cause as Error).message}); regenerate it`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(`private key is ${key.asymmetricKeyType}, expected ed25519`);
  }
  return key;
}

/** The base64url public key that belongs to a private key. */
export function publicKeyOf(privateKey: KeyObject): string {
  return publicKeyToBase64url(createPublicKey(privateKey));
}

export function decodeBase64url(encoded: string, expectedBytes: number, what: string): Buffer {
  if (!BASE64URL.test(encoded)) {
    throw new KeyFormatError(`${what} is not base64url (only A-Z a-z 0-9 - _ and no padding)`);
  }
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length !== expectedBytes) {
    throw new KeyFormatError(`${what} decodes to ${bytes.length} bytes, expected ${expectedBytes}`);
  }
  return bytes;
}

/** Ed25519 signature (base64url) over the canonical JSON of a value. */
export function signCanonical(value: unknown, privateKey: KeyObject): string {
  return sign(null, Buffer.from(canonicalJson(value), 'utf8'), privateKey).toString('base64url');
}

/** True when `signature` is a valid Ed25519 signature over canonicalJson(value); never throws. */
export function verifyCanonical(value: unknown, signature: string, publicKey: KeyObject | string): boolean {
  try {
    const key = typeof publicKey === 'string' ? publicKeyFromBase64url(publicKey) : publicKey;
    const sig = decodeBase64url(signature, 64, 'signature');
    return verify(null, Buffer.from(canonicalJson(value), 'utf8'), key, sig);
  } catch {
    return false;
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

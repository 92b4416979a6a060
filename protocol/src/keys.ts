// Ed25519 keys and signatures as they travel on the wire.
// Encoding (fixed for the whole protocol): a public key is the raw 32-byte key in base64url without
// padding (@brana/hardware's key helper, the one encoding every part of Brána uses); a signature is
// the raw 64 bytes in base64url. Private keys never travel; they are stored as PKCS#8 PEM.
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import {
  decodeBase64url,
  KeyFormatError,
  publicKeyFromBase64url,
  publicKeyToBase64url,
} from '@brana/hardware';
import { canonicalJson } from './canonical-json.ts';

export { decodeBase64url, KeyFormatError, publicKeyFromBase64url, publicKeyToBase64url };

export interface Ed25519KeyPair {
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  privateKey: KeyObject;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKeyToBase64url(publicKey), privateKey };
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new KeyFormatError(
      `private key is not a PKCS#8 PEM (${(cause as Error).message}); regenerate it`,
      cause,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(`private key is ${key.asymmetricKeyType}, expected ed25519`);
  }
  return key;
}

/** The base64url public key that belongs to a private key. */
export function publicKeyOf(privateKey: KeyObject): string {
  return publicKeyToBase64url(privateKey);
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

// Raw Ed25519 public keys in base64url ⇄ node:crypto KeyObjects. Malformed input is a
// KeyFormatError that names what is wrong (alphabet, length), never a bare crypto error.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { HardwareError } from '../errors.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export class KeyFormatError extends HardwareError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'key-format', cause });
  }
}

/** The raw 32-byte public key of an Ed25519 KeyObject (public, or private: its public half), base64url. */
export function publicKeyToBase64url(key: KeyObject): string {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new KeyFormatError('not an Ed25519 key; make keys with generateKeyPairSync("ed25519")');
  }
  return jwk.x;
}

/** Decodes a base64url raw public key; throws KeyFormatError naming what is wrong. */
export function publicKeyFromBase64url(encoded: string): KeyObject {
  const bytes = decodeBase64url(encoded, 32, 'Ed25519 public key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
}

/** Exactly `expectedBytes` bytes from base64url text, or a KeyFormatError naming `what`. */
export function decodeBase64url(encoded: string, expectedBytes: number, what: string): Buffer {
  if (!BASE64URL.test(encoded)) {
    throw new KeyFormatError(`${what} is not base64url (only A-Z a-z 0-9 - _ and no padding)`);
  }
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length !== expectedBytes) {
    throw new KeyFormatError(
      `${what} decodes to ${bytes.length} bytes, expected ${expectedBytes} (${Math.ceil((expectedBytes * 4) / 3)} base64url characters)`,
    );
  }
  return bytes;
}

// Ed25519 signing of priority-request frames with node:crypto. Public keys travel in the gateway
// config as the 32 raw key bytes in base64url; the frame carries the first 8 of them as a key hint.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { publicKeyToBase64url } from '../keys/index.ts';
import {
  FRAME_BYTES,
  KEY_HINT_BYTES,
  type PriorityRequestFields,
  SIGNATURE_BYTES,
  SIGNATURE_OFFSET,
  SIGNED_END,
  SIGNED_START,
  sealFrame,
  writeFrameFields,
} from './frame.ts';

export interface VehicleKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The 32 raw public key bytes, base64url without padding: what the gateway config lists. */
  publicKeyB64u: string;
  /** The first 8 raw public key bytes: what frames carry. */
  keyHint: Uint8Array;
}

export function generateVehicleKey(): VehicleKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return vehicleKeyFromPrivate(privateKey);
}

export function vehicleKeyFromPrivate(privateKey: KeyObject): VehicleKeyPair {
  const publicKey = createPublicKey(privateKey);
  const publicKeyB64u = publicKeyToBase64url(publicKey);
  return { privateKey, publicKey, publicKeyB64u, keyHint: keyHintOf(publicKeyB64u) };
}

/** A vehicle key from its 32-byte raw private seed in base64url (for key files and fixtures). */
export function vehicleKeyFromSeed(seedB64u: string): VehicleKeyPair {
  const seed = Buffer.from(seedB64u, 'base64url');
  if (seed.length !== 32) throw new Error('an Ed25519 private seed is 32 bytes in base64url');
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 section 7): fixed 16-byte prefix + seed.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return vehicleKeyFromPrivate(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

// The one Ed25519 public-key encoding of Brána (../keys), under the names this module has used.
export {
  publicKeyFromBase64url as publicKeyFromB64u,
  publicKeyToBase64url as rawPublicKeyB64u,
} from '../keys/index.ts';

export function keyHintOf(publicKeyB64u: string): Uint8Array {
  return new Uint8Array(Buffer.from(publicKeyB64u, 'base64url').subarray(0, KEY_HINT_BYTES));
}

/** Encodes, signs and seals one frame. `fields.keyHint` is taken from `key` when left empty. */
export function encodeSignedFrame(
  fields: Omit<PriorityRequestFields, 'keyHint'> & { keyHint?: Uint8Array },
  privateKey: KeyObject,
): Buffer {
  const out = Buffer.alloc(FRAME_BYTES);
  const hint = fields.keyHint ?? keyHintOf(publicKeyToBase64url(privateKey));
  writeFrameFields({ ...fields, keyHint: hint }, out);
  const signature = sign(null, out.subarray(SIGNED_START, SIGNED_END), privateKey);
  sealFrame(out, signature);
  return out;
}

/** Checks the Ed25519 signature of the frame at `buf[offset..]` against `publicKey`. */
export function verifyFrameSignature(buf: Buffer, offset: number, publicKey: KeyObject): boolean {
  return verify(
    null,
    buf.subarray(offset + SIGNED_START, offset + SIGNED_END),
    publicKey,
    buf.subarray(offset + SIGNATURE_OFFSET, offset + SIGNATURE_OFFSET + SIGNATURE_BYTES),
  );
}

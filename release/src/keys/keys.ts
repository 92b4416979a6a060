// The release key pair. The private half is made once, kept offline (a signing laptop, a hardware
// token's export), never on a build server or a gateway; gateways and the fleet server hold only
// the public half: one line of base64url (raw 32-byte Ed25519 key), the encoding of every Brána key.
import type { KeyObject } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { generateEd25519KeyPair, privateKeyFromPem, privateKeyToPem, publicKeySchema } from '@brana/protocol';
import { KeyFileError } from '../errors.ts';
import { releaseKeyId } from '../manifest/manifest.ts';

export interface KeygenResult {
  privateKeyFile: string;
  publicKeyFile: string;
  publicKey: string;
  keyId: string;
}

/** Makes `<base>.pem` (0600) and `<base>.pub`; refuses to replace either. */
export function keygen(base: string): KeygenResult {
  const privateKeyFile = `${base}.pem`;
  const publicKeyFile = `${base}.pub`;
  for (const f of [privateKeyFile, publicKeyFile]) {
    if (existsSync(f)) {
      throw new KeyFileError(
        f,
        'already exists',
        'choose another name; a release key is never overwritten (gateways trust the old one)',
      );
    }
  }
  const pair = generateEd25519KeyPair();
  writeNew(privateKeyFile, privateKeyToPem(pair.privateKey), 0o600);
  writeNew(publicKeyFile, `${pair.publicKey}\n`, 0o644);
  return { privateKeyFile, publicKeyFile, publicKey: pair.publicKey, keyId: releaseKeyId(pair.publicKey) };
}

function writeNew(file: string, text: string, mode: number): void {
  // 'wx': fails if the file appeared since the check above.
  const fd = openSync(file, 'wx', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function loadPrivateKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(
      file,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'pass the private key made by `brana-release keygen` (<name>.pem)',
      err,
    );
  }
  try {
    return privateKeyFromPem(pem);
  } catch (err) {
    throw new KeyFileError(
      file,
      `is not an Ed25519 private key (${(err as Error).message})`,
      'pass the .pem made by `brana-release keygen`, not the .pub',
      err,
    );
  }
}

/** A public key given as the key itself (43 base64url characters) or a file holding it. */
export function loadPublicKey(keyOrFile: string): string {
  if (publicKeySchema.safeParse(keyOrFile).success) return keyOrFile;
  let text: string;
  try {
    text = readFileSync(keyOrFile, 'utf8').trim();
  } catch (err) {
    throw new KeyFileError(
      keyOrFile,
      `is neither a public key nor a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'pass the .pub made by `brana-release keygen` or its one line of base64url',
      err,
    );
  }
  if (text.includes('PRIVATE KEY')) {
    throw new KeyFileError(
      keyOrFile,
      'is a private key',
      'pass the public half (<name>.pub); the .pem stays offline',
    );
  }
  if (!publicKeySchema.safeParse(text).success) {
    throw new KeyFileError(
      keyOrFile,
      'does not hold one Ed25519 public key (43 base64url characters)',
      'pass the .pub made by `brana-release keygen`',
    );
  }
  return text;
}

// Loads the server key from the database, making and storing one on first start.
import type { KeyObject } from 'node:crypto';
import { generateEd25519KeyPair, privateKeyFromPem, privateKeyToPem, publicKeyOf } from '@brana/protocol';
import { eq } from 'drizzle-orm';
import { type FleetDb, schema } from '../db/index.ts';

export interface ServerKey {
  privateKey: KeyObject;
  /** Raw public key, base64url (what gateways pin). */
  publicKey: string;
}

export function loadServerKey(db: FleetDb, now = Date.now()): ServerKey {
  const { serverKeys } = schema;
  const row = db.select().from(serverKeys).where(eq(serverKeys.id, 'default')).get();
  if (row) {
    const privateKey = privateKeyFromPem(row.privateKeyPem);
    return { privateKey, publicKey: publicKeyOf(privateKey) };
  }
  const kp = generateEd25519KeyPair();
  db.insert(serverKeys)
    .values({
      id: 'default',
      privateKeyPem: privateKeyToPem(kp.privateKey),
      publicKey: kp.publicKey,
      createdAt: now,
    })
    .run();
  return kp;
}

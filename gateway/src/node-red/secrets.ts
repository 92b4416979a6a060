// The secrets the agent keeps for Node-RED, made on first start and kept on the gateway (mode 0600,
// atomic writes): Node-RED's credentialSecret (it encrypts flows_cred.json), the operator's editor
// password, and the agent's own admin API token. Node-RED is given only what it needs: the secret,
// and hashes of the password (scrypt) and of the token (SHA-256) in admin.json.
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readTextFile, writeFileAtomic } from '../state/index.ts';
import type { NodeRedPaths } from './paths.ts';

/** The editor user operators log in as. */
export const EDITOR_USER = 'admin';

// scrypt cost: ~50 ms per login on a Pi 4, 16 MiB of memory.
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

export interface NodeRedSecrets {
  credentialSecret: string;
  agentToken: string;
  adminPassword: string;
}

export interface AdminFile {
  agentTokenSha256: string;
  users: {
    username: string;
    permissions: '*' | 'read';
    scrypt: { salt: string; hash: string; N: number; r: number; p: number };
  }[];
}

/** Reads the secrets, making any that are missing; rewrites admin.json from them. */
export function ensureSecrets(paths: NodeRedPaths): NodeRedSecrets {
  const secrets: NodeRedSecrets = {
    credentialSecret: readOrMake(paths.credentialSecretFile, () => randomBytes(32).toString('hex')),
    agentToken: readOrMake(paths.agentTokenFile, () => randomBytes(32).toString('base64url')),
    // 20 characters an operator can type from a phone screen: ~119 bits.
    adminPassword: readOrMake(paths.adminPasswordFile, () => randomBytes(15).toString('base64url')),
  };
  const admin = adminFileFor(secrets, readAdmin(paths.adminFile));
  writeFileAtomic(paths.adminFile, `${JSON.stringify(admin, null, 2)}\n`);
  return secrets;
}

/**
 * admin.json for `secrets`. The password hash is kept when it still matches (a fresh salt at every
 * start would change the file, and with it Node-RED's settings, for nothing).
 */
export function adminFileFor(secrets: NodeRedSecrets, previous: AdminFile | undefined): AdminFile {
  const old = previous?.users.find((u) => u.username === EDITOR_USER)?.scrypt;
  const scrypt =
    old && passwordMatches(secrets.adminPassword, old) ? old : hashPassword(secrets.adminPassword);
  return {
    agentTokenSha256: createHash('sha256').update(secrets.agentToken).digest('hex'),
    users: [{ username: EDITOR_USER, permissions: '*', scrypt }],
  };
}

export function hashPassword(password: string): AdminFile['users'][number]['scrypt'] {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, SCRYPT);
  return { salt: salt.toString('base64'), hash: hash.toString('base64'), ...SCRYPT };
}

export function passwordMatches(password: string, s: AdminFile['users'][number]['scrypt']): boolean {
  const expected = Buffer.from(s.hash, 'base64');
  const got = scryptSync(password, Buffer.from(s.salt, 'base64'), expected.length, {
    N: s.N,
    r: s.r,
    p: s.p,
  });
  return got.equals(expected);
}

function readAdmin(file: string): AdminFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AdminFile;
  } catch {
    return undefined;
  }
}

function readOrMake(file: string, make: () => string): string {
  const text = readTextFile(file, 'Node-RED secret')?.trim();
  if (text) return text;
  const value = make();
  writeFileAtomic(file, `${value}\n`);
  return value;
}

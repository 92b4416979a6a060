// Bearer tokens of the local API. A token is 32 random bytes (base64url after "brana_"); only its
// SHA-256 is stored. A presented token is hashed and compared with every stored hash in constant
// time, so neither the answer's timing nor an early exit tells how much of a guess was right.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { writeFileAtomic } from '../state/index.ts';

export const SCOPES = ['read', 'relay', 'alarm'] as const;
export type Scope = (typeof SCOPES)[number];

const TOKEN_PREFIX = 'brana_';
/** Longer presented strings are refused before hashing (a header can be large). */
const MAX_TOKEN_LENGTH = 200;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface TokenInfo {
  name: string;
  scopes: Scope[];
  createdMs: number;
}

export type TokenCheck =
  | { ok: true; name: string; scopes: ReadonlySet<Scope> }
  | { ok: false; reason: 'missing' | 'unknown' };

interface Held {
  name: string;
  scopes: ReadonlySet<Scope>;
  hash: Buffer;
  createdMs: number;
}

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export class TokenStore {
  readonly #db: Database.Database;
  #held: Held[] = [];
  #version = -1;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#load();
  }

  /** Tokens minted by another process on the same file (a technician's CLI) count at once. */
  #refresh(): void {
    const v = this.#db.pragma('data_version', { simple: true }) as number;
    if (v !== this.#version) this.#load();
  }

  /**
   * Mints a token for `name` (replacing that name's earlier token) and returns it in clear; this
   * is the only time it exists outside the caller.
   */
  issue(name: string, scopes: readonly Scope[], nowMs = Date.now()): string {
    if (!NAME.test(name)) {
      throw new RangeError(`token name "${name}" must be 1-64 of a-z 0-9 . _ - (e.g. "node-red")`);
    }
    const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (bad.length > 0 || scopes.length === 0) {
      throw new RangeError(`token scopes must be some of ${SCOPES.join(', ')}; got ${scopes.join(', ')}`);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.#db
      .prepare('INSERT OR REPLACE INTO tokens (name, scopes, hash, created_ms) VALUES (?, ?, ?, ?)')
      .run(name, [...new Set(scopes)].join(','), hashOf(token), nowMs);
    this.#load();
    return token;
  }

  /** Mints a token and writes it to `path` (mode 0600, atomically) for a process that reads it. */
  issueFile(path: string, name: string, scopes: readonly Scope[]): void {
    writeFileAtomic(path, `${this.issue(name, scopes)}\n`, 0o600);
  }

  revoke(name: string): boolean {
    const changed = this.#db.prepare('DELETE FROM tokens WHERE name = ?').run(name).changes > 0;
    this.#load();
    return changed;
  }

  list(): TokenInfo[] {
    return this.#held.map((h) => ({ name: h.name, scopes: [...h.scopes], createdMs: h.createdMs }));
  }

  /** Checks a presented token. Every stored hash is compared, whatever matched before. */
  verify(presented: string | undefined): TokenCheck {
    if (presented === undefined || presented === '') return { ok: false, reason: 'missing' };
    if (presented.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'unknown' };
    this.#refresh();
    const hash = hashOf(presented);
    let found: Held | undefined;
    for (const h of this.#held) {
      if (timingSafeEqual(hash, h.hash) && found === undefined) found = h;
    }
    return found ? { ok: true, name: found.name, scopes: found.scopes } : { ok: false, reason: 'unknown' };
  }

  #load(): void {
    this.#version = this.#db.pragma('data_version', { simple: true }) as number;
    const rows = this.#db
      .prepare('SELECT name, scopes, hash, created_ms FROM tokens ORDER BY name')
      .all() as {
      name: string;
      scopes: string;
      hash: Buffer;
      created_ms: number;
    }[];
    this.#held = rows.map((r) => ({
      name: r.name,
      scopes: new Set(
        r.scopes.split(',').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
      ),
      hash: r.hash,
      createdMs: r.created_ms,
    }));
  }
}

/** `Authorization: Bearer <token>` → the token; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

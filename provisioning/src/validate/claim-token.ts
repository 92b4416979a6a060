import { InvalidInputError } from '../errors.ts';

// A claim token as the fleet server makes it (fleet-server/src/devices/claims.ts): "brc_" and 24
// random bytes in base64url without padding, 32 characters. The token itself is a secret: errors
// and logs show only its first characters.

export const CLAIM_TOKEN_PATTERN = /^brc_[A-Za-z0-9_-]{32}$/;

export function isClaimToken(token: string): boolean {
  return CLAIM_TOKEN_PATTERN.test(token);
}

/** The first characters of a secret, enough to tell two apart, never enough to use one. */
export function redact(secret: string, keep = 8): string {
  return secret.length <= keep ? '…' : `${secret.slice(0, keep)}…`;
}

export function parseClaimToken(token: string, where = '--claim'): string {
  const t = token.trim();
  if (!isClaimToken(t)) {
    const shape = t.startsWith('brc_') ? `${t.length} characters long` : 'does not start with "brc_"';
    throw new InvalidInputError(
      where,
      `"${redact(t, 6)}" is not a claim token (${shape}; a token is "brc_" and 32 base64url characters)`,
      'copy the whole token brana-provision claim or the console printed; an API token (brt_…) is not a claim token',
    );
  }
  return t;
}

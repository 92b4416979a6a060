// Checks for what goes onto the card besides host name, URL and token: board, SSH public keys,
// Wi-Fi credentials, the install source. Pure; each failure names its flag and the fix.
import type { BoardProfile } from '@brana/hardware';
import { InvalidInputError } from '../errors.ts';

/** Short board names (the gateway config's hardware.board) and the hardware board profile ids. */
export const BOARD_PROFILE_IDS = {
  pi4b: 'raspberry-pi-4b',
  pi5: 'raspberry-pi-5',
  cm4: 'raspberry-pi-cm4',
} as const;
export type BoardName = keyof typeof BOARD_PROFILE_IDS;

/** The board profile for a short name; only boards that have a profile in @brana/hardware are known. */
export function resolveBoard(
  name: string,
  boards: ReadonlyMap<string, BoardProfile>,
): { name: BoardName; profile: BoardProfile } {
  const known = (Object.keys(BOARD_PROFILE_IDS) as BoardName[]).filter((b) =>
    boards.has(BOARD_PROFILE_IDS[b]),
  );
  const key = name.toLowerCase() as BoardName;
  const profile = key in BOARD_PROFILE_IDS ? boards.get(BOARD_PROFILE_IDS[key]) : undefined;
  if (!profile) {
    throw new InvalidInputError(
      '--board',
      `"${name}" is not a known board`,
      `use one of: ${known.join(', ')}`,
    );
  }
  return { name: key, profile };
}

const KEY_TYPES =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/** The public keys in an authorized_keys-style file (comments and blank lines skipped). */
export function parseSshPublicKeys(text: string, file: string): string[] {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new InvalidInputError(
      '--ssh-key',
      `${file} is a PRIVATE key`,
      `pass the public key (${file.endsWith('.pub') ? 'the matching .pub file' : `${file}.pub`}); a private key never leaves the laptop`,
    );
  }
  const keys: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [type, blob] = line.split(/\s+/);
    if (!type || !KEY_TYPES.test(type) || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
      throw new InvalidInputError(
        `--ssh-key ${file}:${i + 1}`,
        'is not an OpenSSH public key line',
        'use a line like "ssh-ed25519 AAAA… you@laptop" (ssh-keygen -t ed25519 makes one in ~/.ssh/id_ed25519.pub)',
      );
    }
    keys.push(line);
  }
  if (keys.length === 0) {
    throw new InvalidInputError(
      '--ssh-key',
      `${file} holds no public key`,
      'pass a .pub file from ssh-keygen',
    );
  }
  return keys;
}

export interface Wifi {
  ssid: string;
  psk: string;
  /** ISO 3166 alpha-2 regulatory domain; the radio stays off on Raspberry Pi OS without one. */
  country: string;
}

/** Checks SSID, passphrase (8-63 printable ASCII, or 64 hex digits) and country. */
export function checkWifi(ssid: string, pskFileText: string, country: string): Wifi {
  const bytes = Buffer.byteLength(ssid, 'utf8');
  if (bytes < 1 || bytes > 32) {
    throw new InvalidInputError('--wifi-ssid', `is ${bytes} bytes`, 'an SSID is 1 to 32 bytes');
  }
  // Only the first line: an editor's trailing newline is not part of the passphrase.
  const psk = pskFileText.split(/\r?\n/)[0] ?? '';
  const ascii = /^[\x20-\x7e]{8,63}$/.test(psk);
  const hex = /^[0-9a-fA-F]{64}$/.test(psk);
  if (!ascii && !hex) {
    throw new InvalidInputError(
      '--wifi-psk-file',
      `the first line is not a WPA passphrase (${psk.length} characters)`,
      'put the passphrase (8-63 printable ASCII characters, or 64 hex digits) alone on the first line',
    );
  }
  const c = country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(c)) {
    throw new InvalidInputError(
      '--wifi-country',
      `"${country}" is not a country code`,
      'use two letters, e.g. CZ',
    );
  }
  return { ssid, psk, country: c };
}

/** Where the first boot fetches Brána: a git URL (optionally #branch-or-tag) or an https release .tar.gz. */
export interface InstallSource {
  kind: 'git' | 'tarball';
  url: string;
  ref?: string;
  sha256?: string;
}

export function parseInstallSource(text: string, sha256?: string): InstallSource {
  const fix = 'give a git URL (https://…/brana.git#v1.2) or an https URL of a release .tar.gz';
  const [url, ref] = text.split('#', 2) as [string, string | undefined];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError('--source', `"${text}" is not a URL`, fix);
  }
  if (u.protocol !== 'https:') {
    throw new InvalidInputError(
      '--source',
      `${u.protocol} is not https`,
      `${fix}; the gateway must fetch its software over https`,
    );
  }
  if (/[\s'"`$\\;|&<>]/.test(text)) {
    throw new InvalidInputError('--source', 'contains spaces, quotes or shell characters', fix);
  }
  const tarball = /\.(tar\.gz|tgz)$/.test(u.pathname);
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(sha256)) {
    throw new InvalidInputError(
      '--source-sha256',
      'is not a SHA-256 in hex',
      'give the 64 hex digits sha256sum prints',
    );
  }
  if (sha256 !== undefined && !tarball) {
    throw new InvalidInputError(
      '--source-sha256',
      'applies to a release .tar.gz only',
      'drop it for a git source, or pin the git ref',
    );
  }
  if (tarball && ref)
    throw new InvalidInputError('--source', 'a release .tar.gz takes no #ref', 'drop the #… part');
  return {
    kind: tarball ? 'tarball' : 'git',
    url,
    ...(ref ? { ref } : {}),
    ...(sha256 ? { sha256: sha256.toLowerCase() } : {}),
  };
}

/** Linux user names as useradd accepts them by default. */
export function checkUserName(name: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name) || name === 'root' || name === 'brana') {
    throw new InvalidInputError(
      '--user',
      `"${name}" cannot be the login user`,
      'use a lower-case name of up to 32 letters, digits, "_" or "-" (not root, not brana: that is the service account)',
    );
  }
  return name;
}

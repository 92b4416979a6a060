// `brana-provision sd-card`: validate every input first, then write the boot files. Nothing is
// written when anything is wrong, and no existing file is replaced without `force`.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { loadBoards } from '@brana/hardware';
import { FileExistsError, InvalidInputError } from '../errors.ts';
import { parseClaimToken, parseHostname, parseServerUrl } from '../validate/index.ts';
import { agentConfig, type BootFile, bootFiles } from './boot-files.ts';
import { checkUserName, checkWifi, parseInstallSource, parseSshPublicKeys, resolveBoard } from './inputs.ts';

export interface SdCardOptions {
  bootDir: string;
  server: string;
  claim: string;
  hostname: string;
  board?: string;
  sshKeyFile?: string;
  wifiSsid?: string;
  wifiPskFile?: string;
  wifiCountry?: string;
  user?: string;
  timezone?: string;
  source?: string;
  sourceSha256?: string;
  allowHttp?: boolean;
  force?: boolean;
  /** Write into a directory that has no config.txt / cmdline.txt (not a Pi boot partition). */
  anyDir?: boolean;
  now?: Date;
}

export interface SdCardResult {
  files: { path: string; bytes: number; mode: number; secret: boolean }[];
  hostname: string;
  board: string;
  /** The agent config inside user-data, for the caller to check (never printed: it holds the token). */
  agentConfig: ReturnType<typeof agentConfig>;
}

function readInputFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(
      flag,
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'give the path of an existing file',
    );
  }
}

/** Everything checked, nothing written: the files that would go onto the card. */
export function planSdCard(o: SdCardOptions): { files: BootFile[]; input: Parameters<typeof bootFiles>[0] } {
  const serverUrl = parseServerUrl(o.server, '--server', { allowHttp: o.allowHttp ?? false });
  const claimToken = parseClaimToken(o.claim, '--claim');
  const hostname = parseHostname(o.hostname, '--hostname');
  const board = resolveBoard(o.board ?? 'pi4b', loadBoards());
  const sshKeys = o.sshKeyFile
    ? parseSshPublicKeys(readInputFile(o.sshKeyFile, '--ssh-key'), o.sshKeyFile)
    : [];
  if ((o.wifiSsid === undefined) !== (o.wifiPskFile === undefined)) {
    throw new InvalidInputError(
      o.wifiSsid === undefined ? '--wifi-ssid' : '--wifi-psk-file',
      'Wi-Fi needs both the network name and the passphrase file',
      'pass --wifi-ssid <name> and --wifi-psk-file <file>, or neither for Ethernet only',
    );
  }
  const wifi =
    o.wifiSsid !== undefined && o.wifiPskFile !== undefined
      ? checkWifi(o.wifiSsid, readInputFile(o.wifiPskFile, '--wifi-psk-file'), o.wifiCountry ?? 'CZ')
      : undefined;
  const user = checkUserName(o.user ?? 'technik');
  const timezone = o.timezone ?? 'Europe/Prague';
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+){0,2}$/.test(timezone)) {
    throw new InvalidInputError(
      '--timezone',
      `"${timezone}" is not a time zone name`,
      'use an IANA name such as Europe/Prague',
    );
  }
  if (o.source === undefined || o.source === '') {
    throw new InvalidInputError(
      '--source',
      'no install source for Brána',
      'pass --source <git URL[#tag]> or <https URL of a release .tar.gz>, or set BRANA_SOURCE',
    );
  }
  const source = parseInstallSource(o.source, o.sourceSha256);
  const now = o.now ?? new Date();
  const input = {
    serverUrl,
    claimToken,
    hostname,
    board: board.name,
    boardProfileId: board.profile.id,
    user,
    sshKeys,
    ...(wifi ? { wifi } : {}),
    timezone,
    source,
    instanceId: `brana-${hostname.split('.')[0]}-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`,
    writtenAt: now.toISOString(),
  };
  return { files: bootFiles(input), input };
}

/** Writes each file through a temporary name and a rename, so a pulled card never holds half a file. */
function writeFileAtomic(path: string, content: string, mode: number): void {
  const tmp = `${path}.brana-tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeSdCard(o: SdCardOptions, progress: (line: string) => void = () => {}): SdCardResult {
  let isDir = false;
  try {
    isDir = statSync(o.bootDir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) {
    throw new InvalidInputError(
      '<boot-dir>',
      `${o.bootDir} is not a directory`,
      'mount the card and give its boot partition (bootfs), e.g. /media/$USER/bootfs',
    );
  }
  if (
    !o.anyDir &&
    !existsSync(join(o.bootDir, 'config.txt')) &&
    !existsSync(join(o.bootDir, 'cmdline.txt'))
  ) {
    throw new InvalidInputError(
      '<boot-dir>',
      `${o.bootDir} has no config.txt or cmdline.txt, so it is not a Raspberry Pi boot partition`,
      'give the mounted bootfs partition of the flashed card, or pass --any-dir to write there anyway',
    );
  }
  const { files, input } = planSdCard(o);
  const paths = files.map((f) => join(o.bootDir, f.name));
  if (!o.force) {
    const existing = paths.find((p) => existsSync(p));
    if (existing) throw new FileExistsError(existing);
  }
  files.forEach((f, i) => {
    writeFileAtomic(paths[i]!, f.content, f.mode);
    progress(
      `wrote ${paths[i]} (${Buffer.byteLength(f.content)} bytes${f.secret ? ', 0600: holds a secret' : ''})`,
    );
  });
  return {
    files: files.map((f, i) => ({
      path: paths[i]!,
      bytes: Buffer.byteLength(f.content),
      mode: f.mode,
      secret: f.secret,
    })),
    hostname: input.hostname,
    board: input.boardProfileId,
    agentConfig: agentConfig(input),
  };
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_FORMAT, LOCK_FILE, openDataFolder, STAMP_FILE } from './data-folder.ts';
import { StartError } from './errors.ts';
import { parseStartOptions, usageExitCode } from './options.ts';
import { assertPortFree } from './ports.ts';

const quiet = { writeOut: () => {}, writeErr: () => {} };

describe('options', () => {
  it('has defaults and reads BRANA_DATA', () => {
    const o = parseStartOptions([], {}, quiet);
    expect(o).toMatchObject({
      data: '.brana',
      port: 8080,
      gatewayPort: 8180,
      speed: 1,
      buildings: 2,
      view: true,
    });
    expect(parseStartOptions([], { BRANA_DATA: '/tmp/x' }, quiet).data).toBe('/tmp/x');
    expect(parseStartOptions(['--data', '/tmp/y'], { BRANA_DATA: '/tmp/x' }, quiet).data).toBe('/tmp/y');
  });

  it('parses every option', () => {
    const o = parseStartOptions(
      [
        '-p',
        '0',
        '--gateway-port',
        '9000',
        '--speed',
        '96',
        '--buildings',
        '4',
        '--no-view',
        '--ambulance-every',
        '20',
      ],
      {},
      quiet,
    );
    expect(o).toMatchObject({
      port: 0,
      gatewayPort: 9000,
      speed: 96,
      buildings: 4,
      view: false,
      ambulanceEveryS: 20,
    });
  });

  it.each([
    [['--port', '70000'], /--port must be a whole number from 0 to 65535, got "70000"/],
    [['--speed', 'fast'], /--speed must be a number .* got "fast"/],
    [['--buildings', '2.5'], /--buildings must be a whole number/],
    [['--colour'], /unknown option '--colour'/],
    [['extra'], /too many arguments|excess/i],
  ])('refuses %j with a usage error (exit code 2)', (args, message) => {
    let err: unknown;
    let printed = '';
    try {
      parseStartOptions(args, {}, { writeOut: () => {}, writeErr: (s) => (printed += s) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommanderError);
    expect(usageExitCode(err as CommanderError)).toBe(2);
    expect(`${(err as Error).message}${printed}`).toMatch(message);
  });

  it('--help lists speed, buildings, ports and the data folder', () => {
    let out = '';
    let err: unknown;
    try {
      parseStartOptions(['--help'], {}, { writeOut: (s) => (out += s), writeErr: () => {} });
    } catch (e) {
      err = e;
    }
    expect(usageExitCode(err as CommanderError)).toBe(0);
    for (const flag of ['--speed', '--buildings', '--port', '--gateway-port', '--data', 'BRANA_DATA'])
      expect(out).toContain(flag);
  });
});

describe('data folder', () => {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'brana-start-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('stamps a new folder, and a second open of the same folder is not fresh', () => {
    const root = join(temp(), 'data');
    const a = openDataFolder(root, 'brana 0.1.0');
    expect(a.fresh).toBe(true);
    expect(JSON.parse(readFileSync(join(root, STAMP_FILE), 'utf8')).format).toBe(DATA_FORMAT);
    a.release();
    const b = openDataFolder(root, 'brana 0.1.0');
    expect(b.fresh).toBe(false);
    expect(b.fleetDb).toBe(join(root, 'fleet', 'fleet.db'));
    b.release();
  });

  it('refuses a folder from another data format, naming the way out', () => {
    const root = temp();
    writeFileSync(
      join(root, STAMP_FILE),
      JSON.stringify({ format: DATA_FORMAT + 1, software: 'brana 9.0.0' }),
    );
    expect(() => openDataFolder(root, 'brana 0.1.0')).toThrow(
      /belongs to a newer version \(brana 9\.0\.0, data format 2; this is format 1\)\. Fix: .*--data/,
    );
    writeFileSync(join(root, STAMP_FILE), JSON.stringify({ format: 0, software: 'brana 0.0.1' }));
    expect(() => openDataFolder(root, 'brana 0.1.0')).toThrow(/an older version/);
    writeFileSync(join(root, STAMP_FILE), '{ nope');
    expect(() => openDataFolder(root, 'brana 0.1.0')).toThrow(/not valid JSON/);
  });

  it('refuses an unstamped folder that holds our folders, but adopts one with only bench files', () => {
    const root = temp();
    mkdirSync(join(root, 'fleet'));
    expect(() => openDataFolder(root, 'brana 0.1.0')).toThrow(StartError);
    const other = temp();
    mkdirSync(join(other, 'bench'));
    const f = openDataFolder(other, 'brana 0.1.0');
    expect(f.fresh).toBe(true);
    f.release();
  });

  it('a running start holds the folder; a stale lock is taken over', () => {
    const root = temp();
    const a = openDataFolder(root, 'brana 0.1.0');
    // Our own pid counts as "us"; a live foreign pid (the parent) counts as another start.
    writeFileSync(join(root, LOCK_FILE), `${process.ppid}\n`);
    expect(() => openDataFolder(root, 'brana 0.1.0')).toThrow(/in use by another npm start \(process \d+\)/);
    writeFileSync(join(root, LOCK_FILE), '999999999\n');
    const b = openDataFolder(root, 'brana 0.1.0');
    expect(readFileSync(join(root, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    b.release();
    a.release();
  });
});

describe('ports', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  it('passes a free port and names the flag for a taken one', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await expect(assertPortFree('127.0.0.1', port, 'fleet server', '--port')).rejects.toThrow(
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 \\(fleet server\\) is taken.*Fix: .*--port ${port + 1}`),
    );
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    await expect(assertPortFree('127.0.0.1', port, 'fleet server', '--port')).resolves.toBeUndefined();
    await expect(assertPortFree('127.0.0.1', 0, 'fleet server', '--port')).resolves.toBeUndefined();
  });
});

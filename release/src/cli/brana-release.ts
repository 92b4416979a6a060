// brana-release: make, sign and check gateway software releases. Errors are one line with the fix,
// never a stack trace; exit codes: 0 ok, 1 failed (a check found problems, I/O), 2 bad usage or input.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { BUILD_DEFAULT_PLATFORM, buildNative, buildRelease, UNSIGNED_MANIFEST } from '../build/index.ts';
import { ReleaseError, UsageError } from '../errors.ts';
import { keygen, loadPrivateKey, loadPublicKey } from '../keys/keys.ts';
import {
  checkReleaseFiles,
  describeFileProblem,
  manifestText,
  PLATFORMS,
  type Platform,
  releaseManifestSchema,
  signManifest,
  verifySignedManifest,
} from '../manifest/index.ts';
import { serveReleases } from '../serve/server.ts';

const PROGRAM = 'brana-release';

function fail(err: unknown): never {
  if (err instanceof ReleaseError) {
    process.stderr.write(`${PROGRAM}: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  const e = err as { code?: string; message?: string };
  process.stderr.write(`${PROGRAM}: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}\n`);
  process.exit(1);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const program = new Command(PROGRAM)
  .description('Brána gateway releases: build from the checkout, sign with the offline release key, verify')
  .version('0.1.0')
  // `build --version` is the release's version, not this program's.
  .enablePositionalOptions()
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`${PROGRAM}: ${s.replace(/^error: /, '')}`) });

program
  .command('keygen')
  .description('make an Ed25519 release key pair: <name>.pem (private, keep it offline) and <name>.pub')
  .argument('<name>', 'file name without extension, e.g. keys/brana-release-2026')
  .action((name: string) => {
    const k = keygen(name);
    process.stdout.write(
      `${k.privateKeyFile}  private key (0600): keep it offline, never on a build server or a gateway\n` +
        `${k.publicKeyFile}  public key ${k.publicKey} (key id ${k.keyId}): give it to gateways (update.releaseKeys) and the fleet server\n`,
    );
  });

program
  .command('build')
  .description('build a release directory from this checkout: bundles, run-time modules, units, manifest')
  .requiredOption('--version <version>', 'release version, e.g. 1.4.0 (names the directory and the URLs)')
  .addOption(
    new Option('--platform <platform>', 'the gateways it is for')
      .choices(PLATFORMS)
      .default(BUILD_DEFAULT_PLATFORM),
  )
  .option('--out <dir>', 'release directory to make (must not exist; default ./brana-<version>-<platform>)')
  .option('--key <file>', 'sign at once with this private key (else run `sign` on the machine holding it)')
  .option('--native-from <dir>', 'node_modules with native modules built on or for the platform')
  .option('--root <dir>', 'checkout root', '.')
  .addHelpText(
    'after',
    '\nExamples:\n  brana-release build --version 1.4.0 --platform linux-x64 --key keys/release.pem\n  brana-release build --version 1.4.0 --platform linux-arm64 --native-from ../arm64/node_modules\n',
  )
  .action(
    async (o: {
      version: string;
      platform: Platform;
      out?: string;
      key?: string;
      nativeFrom?: string;
      root: string;
    }) => {
      const key = o.key ? loadPrivateKey(o.key) : undefined;
      const started = Date.now();
      const r = await buildRelease({
        root: o.root,
        version: o.version,
        platform: o.platform,
        out: o.out ?? `brana-${o.version}-${o.platform}`,
        ...(key ? { key } : {}),
        ...(o.nativeFrom ? { nativeFrom: o.nativeFrom } : {}),
        progress: (line) => process.stderr.write(`${PROGRAM}: ${line}\n`),
      });
      for (const note of r.notes) process.stderr.write(`${PROGRAM}: note: ${note}\n`);
      for (const s of r.skipped) process.stderr.write(`${PROGRAM}: left out ${s.name}: ${s.why}\n`);
      process.stdout.write(
        `${r.dir}: release ${r.manifest.version} for ${r.manifest.platform}, ${r.manifest.files.length} files, ${mb(r.totalBytes)}, ` +
          `node ${r.manifest.node}, ${r.signed ? `signed (key ${r.signed.keyId})` : `unsigned (${UNSIGNED_MANIFEST}; run brana-release sign)`}, ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    },
  );

program
  .command('native')
  .description(
    'compile the modules a release builds on install (better-sqlite3, epoll) for a platform, for build --native-from',
  )
  .addOption(new Option('--platform <platform>', 'target platform').choices(PLATFORMS).default('linux-arm64'))
  .requiredOption('--out <dir>', 'where to put the node_modules tree')
  .option('--root <dir>', 'checkout root', '.')
  .option('--jobs <n>', 'parallel compiler jobs', '2')
  .addHelpText(
    'after',
    '\nNeeds the target tool chain (Debian: apt-get install g++-aarch64-linux-gnu) and Node.js headers.\nExample:\n  brana-release native --platform linux-arm64 --out ../native-arm64\n  brana-release build --version 1.4.0 --platform linux-arm64 --native-from ../native-arm64/node_modules\n',
  )
  .action((o: { platform: Platform; out: string; root: string; jobs: string }) => {
    const r = buildNative({
      root: o.root,
      platform: o.platform,
      out: o.out,
      jobs: Math.max(1, Number(o.jobs) || 2),
      progress: (line) => process.stderr.write(`${PROGRAM}: ${line}\n`),
    });
    for (const b of r.built)
      process.stdout.write(
        `${b.binary}  ${b.name}@${b.version} for ${o.platform} (${b.seconds.toFixed(0)} s)\n`,
      );
    process.stdout.write(`pass --native-from ${r.nodeModules} to build\n`);
  });

program
  .command('sign')
  .description('sign a built release: checks every file against its manifest, then writes manifest.json')
  .argument('<dir>', 'release directory made by build')
  .requiredOption('--key <file>', 'the private release key (<name>.pem)')
  .action(async (dir: string, o: { key: string }) => {
    const key = loadPrivateKey(o.key);
    const unsignedFile = join(dir, UNSIGNED_MANIFEST);
    if (!existsSync(unsignedFile)) {
      throw new UsageError(
        `${unsignedFile} does not exist${existsSync(join(dir, 'manifest.json')) ? ' (the release is signed already)' : ''}`,
        'pass a directory made by `brana-release build` without --key',
      );
    }
    const parsed = releaseManifestSchema.safeParse(JSON.parse(readFileSync(unsignedFile, 'utf8')));
    if (!parsed.success) {
      throw new UsageError(`${unsignedFile}: ${parsed.error.issues[0]?.message}`, 'build the release again');
    }
    const problems = await checkReleaseFiles(dir, parsed.data, { extra: [UNSIGNED_MANIFEST] });
    if (problems.length > 0) {
      throw new ReleaseError(
        'file-mismatch',
        `${dir}: ${problems.length} file(s) differ from the manifest (${problems.slice(0, 3).map(describeFileProblem).join('; ')}). Fix: do not sign it; build the release again`,
      );
    }
    const signed = signManifest(parsed.data, key);
    writeFileSync(join(dir, 'manifest.json'), manifestText(signed));
    rmSync(unsignedFile);
    process.stdout.write(`${dir}: release ${parsed.data.version} signed with key ${signed.keyId}\n`);
  });

program
  .command('verify')
  .description(
    'check a release: the manifest signature against trusted keys and, for a directory, every file',
  )
  .argument('<path>', 'a release directory or its manifest.json')
  .requiredOption('--key <keyOrFile...>', 'trusted release public key(s): the .pub file or the key itself')
  .option('--json', 'print the result as JSON')
  .action(async (path: string, o: { key: string[]; json?: boolean }) => {
    const keys = o.key.map(loadPublicKey);
    const isDir = existsSync(join(path, 'manifest.json'));
    const file = isDir ? join(path, 'manifest.json') : path;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(
        `${file} cannot be read (${(err as NodeJS.ErrnoException).code})`,
        'pass a release directory or its manifest.json',
      );
    }
    const v = verifySignedManifest(text, keys);
    if (!v.ok) {
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ ok: false, reason: v.reason, where: v.where, message: v.message })}\n`,
        );
      throw new ReleaseError(
        `manifest-${v.reason}`,
        `${file}: ${v.where}: ${v.message}. Fix: ${v.reason === 'unknown-key' ? 'pass the public key it was signed with (--key)' : 'do not install it; rebuild and sign the release'}`,
      );
    }
    const problems = isDir ? await checkReleaseFiles(resolve(path), v.manifest) : [];
    const m = v.manifest;
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: problems.length === 0, version: m.version, platform: m.platform, node: m.node, keyId: v.signed.keyId, files: m.files.length, problems: problems.map(describeFileProblem) })}\n`,
      );
    } else {
      process.stdout.write(
        `release ${m.version} for ${m.platform}, node ${m.node}, config schema ${m.configSchema.min}-${m.configSchema.max}, ` +
          `built ${m.createdAt} from ${m.source.commit.slice(0, 12)}${m.source.dirty ? ' (dirty tree)' : ''}; signature ok (key ${v.signed.keyId}); ` +
          `${isDir ? `${m.files.length} files ${problems.length === 0 ? 'ok' : `, ${problems.length} problem(s)`}` : 'files not checked (manifest only)'}\n`,
      );
      for (const p of problems) process.stdout.write(`  ${describeFileProblem(p)}\n`);
    }
    if (problems.length > 0) process.exit(1);
  });

program
  .command('serve')
  .description(
    'serve releases over HTTP the way the fleet server does (a site without a fleet link, a bench)',
  )
  .argument('<dir...>', 'signed release directories')
  .option('--port <port>', 'TCP port (0 picks one)', '8480')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action(async (dirs: string[], o: { port: string; host: string }) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port ${o.port} is not a TCP port`, 'pass 0..65535');
    for (const d of dirs) {
      if (!existsSync(join(d, 'manifest.json')))
        throw new UsageError(`${d} has no manifest.json`, 'build and sign the release first');
    }
    const server = await serveReleases({ dirs, port, host: o.host });
    for (const r of server.releases()) {
      process.stdout.write(`serving ${r.version} for ${r.platform} (${r.files} files, ${mb(r.bytes)})\n`);
    }
    process.stdout.write(
      `${server.url}/releases/<version>/manifest?platform=<platform>, ${server.url}/releases/files/<sha256>\n`,
    );
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  fail(err);
}

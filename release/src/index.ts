// @brana/release: signed software releases for gateways. What gateways and the fleet server need
// to trust a release (manifest, signature, files); the build tool itself is behind the CLI.
export {
  BuildError,
  KeyFileError,
  ManifestError,
  ReleaseError,
  ReleaseFileError,
  UsageError,
} from './errors.ts';
export { keygen, loadPrivateKey, loadPublicKey } from './keys/keys.ts';
export * from './manifest/index.ts';
export {
  type ReleaseServer,
  type ReleaseServerOptions,
  type ReleaseServerStats,
  type ServedRelease,
  serveReleases,
} from './serve/server.ts';

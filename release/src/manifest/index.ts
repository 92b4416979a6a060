// The release manifest and everything needed to trust one: its schema, signing and verification,
// the platform and Node.js checks, and a release directory's files against it.
export {
  checkReleaseFiles,
  describeFileProblem,
  digestFile,
  type FileDigest,
  type FileProblem,
  listFiles,
} from './files.ts';
export {
  MANIFEST_LIMITS,
  manifestDigest,
  manifestText,
  RELEASE_MANIFEST_KIND,
  type ReleaseFile,
  type ReleaseManifest,
  releaseFileSchema,
  releaseKeyId,
  releaseManifestSchema,
  releasePathProblem,
  releaseVersionSchema,
  type SignedManifest,
  signedManifestSchema,
  signManifest,
  type VerifyManifestResult,
  verifySignedManifest,
} from './manifest.ts';
export {
  compareNodeVersions,
  nodeRangeFromEngines,
  nodeSatisfies,
  parseNodeRange,
  parseNodeVersion,
} from './node-range.ts';
export {
  type ElfPlatform,
  elfPlatform,
  hostPlatform,
  isPlatform,
  PLATFORMS,
  type Platform,
} from './platform.ts';

// Building a release from the checkout (used by the CLI; gateways never import it).
import { hostPlatform, type Platform } from '../manifest/platform.ts';

export { type BuildOptions, type BuildResult, buildRelease, UNSIGNED_MANIFEST } from './build.ts';
export { BUNDLES, INSTALL_ROOT } from './contents.ts';
export { buildNative, type NativeOptions, type NativeResult } from './native.ts';

/** The platform of this machine, else the Pi's. */
export const BUILD_DEFAULT_PLATFORM: Platform = hostPlatform() ?? 'linux-arm64';

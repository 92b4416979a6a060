// `--server` of the commands that talk to (or point a gateway at) the fleet server.
import { InvalidInputError } from '../errors.ts';

/** The fleet server URL from --server, else $BRANA_FLEET_URL; a one-line error naming both when neither is set. */
export function serverFlag(server: string | undefined): string {
  const url = server ?? process.env.BRANA_FLEET_URL;
  if (!url)
    throw new InvalidInputError('--server', 'missing', 'pass --server <fleet URL> or set BRANA_FLEET_URL');
  return url;
}

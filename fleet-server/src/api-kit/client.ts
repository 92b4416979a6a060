// Who a request comes from, as rate limits count it.
import { getConnInfo } from '@hono/node-server/conninfo';

/** The client's IP address; 'local' where there is no socket (app.request() in tests). */
export function clientKey(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'local';
  }
}

// Port checks before anything starts, so a taken port is one clear line, not a half-started region.
import { createServer } from 'node:net';
import { StartError } from './errors.ts';

/** Resolves when host:port can be bound right now; throws PORT_IN_USE naming the option to change. */
export async function assertPortFree(host: string, port: number, what: string, flag: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      server.close();
      if (err.code === 'EADDRINUSE') {
        reject(
          new StartError(
            'PORT_IN_USE',
            `port ${port} on ${host} (${what}) is taken, perhaps by another npm start. Fix: stop that program, or pick another port with ${flag} ${port === 65535 ? port - 1 : port + 1}`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new StartError(
            'PORT_IN_USE',
            `port ${port} on ${host} (${what}) needs privileges. Fix: use a port above 1023 with ${flag}`,
          ),
        );
      } else {
        reject(
          new StartError(
            'BAD_OPTION',
            `cannot listen on ${host}:${port} (${what}): ${err.code ?? err.message}. Fix: check --host`,
          ),
        );
      }
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePort()));
  });
}

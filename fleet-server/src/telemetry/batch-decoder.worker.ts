// The telemetry decoder's worker thread (see batch-decoder.ts): one body in, one result out, in
// the order they came. decodeTelemetry does not throw; should it ever, this thread dies and the
// event loop decodes what it held (never a body whose signature was not checked).
import { parentPort } from 'node:worker_threads';
import { type DecodeRequest, decodeTelemetry, transferList } from './batch-decoder.ts';

const port = parentPort!;
port.on('message', (m: DecodeRequest) => {
  const decoded = decodeTelemetry(m.body, m.shape, m.signature);
  port.postMessage({ id: m.id, decoded }, transferList(decoded));
});
port.postMessage({ ready: true });

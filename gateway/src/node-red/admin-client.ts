// Node-RED's admin HTTP API as the agent uses it: read and deploy flows (API v2, full deploys)
// and list the node types the runtime loaded. Authenticated with the agent's bearer token
// (settings' adminAuth.tokens); every call has a deadline.
import type { FlowNode } from '@brana/firmware';
import { NodeRedError } from '../errors.ts';

export interface DeployedFlows {
  flows: FlowNode[];
  rev: string;
}

export interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  version?: string;
  err?: string;
}

export class NodeRedAdmin {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, token: string, timeoutMs = 15_000) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  async flows(): Promise<DeployedFlows> {
    return (await this.#call('GET', '/flows')) as DeployedFlows;
  }

  /** Replaces every flow (a full deploy); `credentials` by node id replace those nodes' credentials. */
  async deploy(
    flows: readonly FlowNode[],
    credentials?: Record<string, Record<string, unknown>>,
  ): Promise<string> {
    const body = { flows, ...(credentials && Object.keys(credentials).length > 0 ? { credentials } : {}) };
    const r = (await this.#call('POST', '/flows', body, { 'Node-RED-Deployment-Type': 'full' })) as {
      rev?: unknown;
    };
    if (typeof r.rev !== 'string') {
      throw new NodeRedError('the deploy answer has no revision', 'check that the Node-RED version is 4.1');
    }
    return r.rev;
  }

  async nodeSets(): Promise<NodeSet[]> {
    return (await this.#call('GET', '/nodes')) as NodeSet[];
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: {
          Authorization: `Bearer ${this.#token}`,
          Accept: 'application/json',
          'Node-RED-API-Version': 'v2',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new NodeRedError(
        `${method} ${path} did not answer (${(err as Error).message})`,
        'wait for Node-RED to start; see its log lines',
        { code: 'NODE_RED_UNREACHABLE', cause: err },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { message?: unknown };
        if (typeof j.message === 'string') message = j.message;
      } catch {
        // Not JSON: keep the start of the text.
      }
      throw new NodeRedError(
        `${method} ${path} answered ${res.status}${message ? ` (${message})` : ''}`,
        res.status === 401
          ? 'the agent token does not match admin.json; restart the agent so that it writes both again'
          : 'see Node-RED’s log lines',
        { code: res.status === 401 ? 'NODE_RED_AUTH' : 'NODE_RED_ADMIN', retryable: res.status >= 500 },
      );
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new NodeRedError(`${method} ${path} answered no JSON`, 'check that Node-RED is 4.1', {
        cause: err,
      });
    }
  }
}

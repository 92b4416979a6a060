// Rollouts over the API: list, one with its stages, its per-gateway states, start one, and pause,
// resume or abort it.
import { z } from 'zod';
import { ApiRouter } from '../api-kit/index.ts';
import { TAG } from '../devices/index.ts';
import type { RolloutService } from './service.ts';

const id = z.string().min(1).max(200);

export function rolloutsApi(deps: { rollouts: RolloutService }): ApiRouter {
  const { rollouts } = deps;
  const api = new ApiRouter()
    .route(
      {
        method: 'get',
        path: '/rollouts',
        summary: 'Rollouts, newest first',
        tag: 'config',
        access: 'viewer',
      },
      () => rollouts.list(),
    )
    .route(
      {
        method: 'get',
        path: '/rollouts/:id',
        summary: 'One rollout with its stages',
        tag: 'config',
        access: 'viewer',
      },
      (c) => rollouts.get(c.req.param('id')!),
    )
    .route(
      {
        method: 'get',
        path: '/rollouts/:id/targets',
        summary: 'Per-gateway state of a rollout',
        tag: 'config',
        access: 'viewer',
      },
      (c) => rollouts.targets(c.req.param('id')!),
    )
    .route(
      {
        method: 'post',
        path: '/rollouts',
        summary: 'Start a staged rollout of a config version to a group or a tag',
        tag: 'config',
        access: 'fleetOperator',
        body: z.strictObject({
          configVersion: z.number().int().positive(),
          target: z.union([z.strictObject({ group: id }), z.strictObject({ tag: TAG })]),
          stages: z.array(z.number().int()).min(1).max(10).optional(),
          maxFailureShare: z.number().min(0).max(1).optional(),
        }),
      },
      (_c, { body, actor }) => rollouts.create(body, actor),
    );
  for (const command of ['pause', 'resume', 'abort'] as const) {
    api.route(
      {
        method: 'post',
        path: `/rollouts/:id/${command}`,
        summary: `${command[0]!.toUpperCase()}${command.slice(1)} a rollout`,
        tag: 'config',
        access: 'fleetOperator',
      },
      (c, { actor }) => rollouts.command(c.req.param('id')!, command, actor),
    );
  }
  return api;
}

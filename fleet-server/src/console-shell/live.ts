// Live updates for open pages over Server-Sent Events: a gateway page gets its new readings as they
// arrive; other pages get a "refresh" event when something they show changed (the client script
// then reloads only the page's live regions). One EventSource per open page, no polling.
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { FleetBus, FleetBusEvents } from '../core/index.ts';
import { type ConsoleEnv, guard, parseQuery } from './kit.tsx';

const liveQuery = z.strictObject({
  gateway: z.string().min(1).max(200).optional(),
  rollout: z.string().min(1).max(200).optional(),
  site: z.string().min(1).max(200).optional(),
  fleet: z.literal('1').optional(),
});

export function registerLive(
  app: Hono<ConsoleEnv>,
  base: string,
  deps: { bus: FleetBus; siteOf(gatewayId: string): string | null },
): void {
  const { bus, siteOf } = deps;
  app.get(
    `${base}/live`,
    guard('viewer', (c) => {
      const q = parseQuery(c, liveQuery);
      return streamSSE(c, async (stream) => {
        let id = 0;
        const send = (event: string, data: unknown) => {
          void stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) }).catch(() => {});
        };
        const onTelemetry = (e: FleetBusEvents['telemetry'][0]) => {
          if (q.gateway && e.gatewayId === q.gateway) {
            // Only the newest reading of each channel in the batch matters to a live table.
            const latest = new Map<
              string,
              { channel: string; ts: number; value: number | null; quality: string }
            >();
            for (const r of e.readings) {
              const prev = latest.get(r.channel);
              if (!prev || r.ts >= prev.ts)
                latest.set(r.channel, { channel: r.channel, ts: r.ts, value: r.value, quality: r.quality });
            }
            if (latest.size > 0) send('readings', [...latest.values()]);
            if (e.events.length > 0) send('refresh', { reason: 'events' });
          }
          if (q.site && e.events.length > 0 && siteOf(e.gatewayId) === q.site)
            send('refresh', { reason: 'events' });
        };
        const onGateway = (e: FleetBusEvents['gateway'][0]) => {
          if (q.fleet || e.gatewayId === q.gateway) send('refresh', { reason: 'gateway' });
        };
        const onApply = (e: FleetBusEvents['apply'][0]) => {
          if (q.fleet || e.gatewayId === q.gateway) send('refresh', { reason: 'apply' });
        };
        const onRollout = (e: FleetBusEvents['rollout'][0]) => {
          if (q.rollout === e.rolloutId || q.rollout === 'all') send('refresh', { reason: 'rollout' });
        };
        bus.on('telemetry', onTelemetry);
        bus.on('gateway', onGateway);
        bus.on('apply', onApply);
        bus.on('rollout', onRollout);
        let open = true;
        let wake = () => {};
        stream.onAbort(() => {
          open = false;
          wake();
        });
        send('hello', { ok: true });
        try {
          // Keep the stream open; a comment every 15 s keeps proxies from closing an idle one.
          while (open && !stream.aborted && !stream.closed) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 15_000);
              timer.unref();
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            if (open) await stream.write(': keep-alive\n\n');
          }
        } finally {
          bus.off('telemetry', onTelemetry);
          bus.off('gateway', onGateway);
          bus.off('apply', onApply);
          bus.off('rollout', onRollout);
        }
      });
    }),
  );
}

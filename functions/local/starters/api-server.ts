/**
 * Every API on one HTTP server, routed to the hono apps as API Gateway routes them: on 127.0.0.1, or on the
 * address given for a LAN (`SMSPASS_LISTEN`).
 */
import type { Logger } from '../../adapters/log.ts';
import { serveApi } from '../../http/node-server.ts';
import { routeByFunction } from '../http-router.ts';
import { type Part, startPart } from './part.ts';

export interface ApiServer extends Part {
  url: string;
}

export function startApiServer(options: {
  apps: Parameters<typeof routeByFunction>[0];
  port: number;
  host?: string | undefined;
  log: Logger;
}): Promise<ApiServer> {
  return startPart(options.log, async (stops) => {
    const { server, port } = await serveApi({
      fetch: routeByFunction(options.apps),
      port: options.port,
      hostname: options.host ?? '127.0.0.1',
    });
    stops.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
    );
    const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
    return { url: `http://${host}:${port}` };
  });
}

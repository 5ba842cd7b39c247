import http from 'node:http';
import type { Config } from '../config.js';
import { problem } from '../shared/errors.js';

/**
 * What holds the port while an instance waits for its stores at start-up: `/health/live`
 * answers 200 (the process is fine: do not restart it), everything else 503 UNAVAILABLE, so
 * `/health/ready` tells a load balancer to send nothing yet. server.ts hands the port to the
 * app once the stores are up.
 */
export async function listenStandIn(config: Readonly<Config>): Promise<http.Server> {
  const notReady = JSON.stringify(
    problem('UNAVAILABLE', 'The instance is starting: its stores are not reachable yet'),
  );
  const server = http.createServer((request, response) => {
    if (request.url === '/health/live') {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{"status":"ok"}');
      return;
    }
    response.writeHead(503, {
      'content-type': 'application/problem+json; charset=utf-8',
      'retry-after': '1',
    });
    response.end(notReady);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

/** Stops listening and drops every connection (the stand-in has nothing worth finishing). */
export function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

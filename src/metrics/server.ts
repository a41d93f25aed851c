/**
 * The metrics endpoint of a bin with `metrics_port` set: `/metrics` in the Prometheus text format
 * (prom-client's registry) and `/healthz`, 200 or 503 with a one-line JSON reason.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError, errorCode } from '../errors.js';
import type { Health } from './health.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: Health;
}): Promise<MetricsServer> {
  const { registry, health } = options;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    if (path === '/healthz') {
      const report = health.report();
      response
        .writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ status: report.ok ? 'ok' : 'unhealthy', reason: report.reason })}\n`);
      return;
    }
    response.writeHead(404).end();
  });
  // Scrapes must never keep the process alive after its work is done.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new ConfigError(`config field 'metrics_port': cannot serve on port ${options.port} (${errorCode(error) ?? error.message})`)),
    );
    // No host: every interface, IPv6 and IPv4 where the machine has both (Node's default).
    if (options.host === undefined) server.listen(options.port, () => resolve());
    else server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

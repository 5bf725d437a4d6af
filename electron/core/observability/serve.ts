import type { Core } from '../core.js';
import { isLoopback, type HttpRoute, type RunningServer, type ServerOptions } from '../transport/server.js';
import { appVersion } from './index.js';
import { metricsRoute, parseMetricsFlags, startMetricsListener, type MetricsListener } from './prometheus/endpoint.js';
import { MetricsExporter } from './prometheus/exporter.js';

/**
 * What `novacron serve` adds for observability, kept out of the command itself: the
 * /metrics route, the optional separate metrics address, the drivers watched for the
 * event log, and the server's tokens registered as secrets.
 */
export interface ServeObservability {
  routes: HttpRoute[];
  onDenied: NonNullable<ServerOptions['onDenied']>;
  /** Call once the main server listens: starts the metrics listener, says what to print. */
  started(server: RunningServer, tls: ServerOptions['tls']): Promise<{ out: string[]; err: string[] }>;
  close(): Promise<void>;
}

/** Validates the flags first, so a bad one fails before anything listens. */
export async function prepareServeObservability(core: Core, flags: { listen?: string; tokenFile?: string }): Promise<ServeObservability> {
  const opts = await parseMetricsFlags(flags);
  core.obs.secrets.add(opts.scrapeToken);
  const exporter = new MetricsExporter(core.drivers, core.obs.events, core.obs.log, {
    version: appVersion(),
    eventLogWriteErrors: () => core.obs.recorder.writeErrors,
  });
  await exporter.start();
  const watching = core.obs.watchDrivers(core.events);
  let listener: MetricsListener | undefined;
  const log = core.obs.log;
  return {
    routes: [metricsRoute(exporter, opts.scrapeToken)],
    // The address and the path only: a query string may carry a token.
    onDenied: (req, url, why) => log.warn({ addr: req.socket.remoteAddress, path: url.pathname, why }, 'request refused'),
    async started(server, tls) {
      core.obs.secrets.add(server.token);
      log.info({ url: server.url, tls: tls !== undefined, metricsListen: opts.listen ? `${opts.listen.host}:${opts.listen.port}` : undefined, scrapeTokenFile: opts.tokenFile }, 'serving');
      const err = opts.warnings.map((w) => `novacron: warning: ${w}`);
      if (opts.listen && !isLoopback(opts.listen.host)) {
        err.push(`novacron: warning: metrics on ${opts.listen.host}: anyone who can reach it needs a token to scrape${tls ? '' : ', and without --tls-cert that token crosses the network in clear text'}`);
      }
      if (opts.listen) {
        listener = await startMetricsListener({
          ...opts.listen,
          exporter,
          tokens: [server.token, ...(opts.scrapeToken ? [opts.scrapeToken] : [])],
          ...(tls ? { tls } : {}),
          onDenied: (addr, path) => log.warn({ addr, path, listener: 'metrics' }, 'request refused'),
        });
      }
      const where = listener ? listener.url : `${server.url}metrics`;
      const out = [`Metrics: ${where} (${opts.scrapeToken ? `the scrape token in ${opts.tokenFile} or the server token` : 'the server token'}, as Authorization: Bearer)`];
      return { out, err };
    },
    async close() {
      watching.dispose();
      await listener?.close();
    },
  };
}

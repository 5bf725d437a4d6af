import { rendererDir } from '../../core/base/app-root.js';
import { NovaError } from '../../core/base/errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopback, startServer } from '../../core/transport/server.js';
import { prepareServeObservability } from '../../core/observability/serve.js';
import { intFlag, parse } from '../args.js';
import { VncPolicy } from '../../core/control-room/vnc-policy.js';
import type { Command } from '../context.js';
import { onStopSignal } from '../stop-signals.js';

export const DEFAULT_PORT = 7420;

/** `serve`: the headless web mode. Loopback by default; the URL it prints carries the token. */
export const serve: Command = async (argv, ctx) => {
  const { values } = parse(
    argv,
    {
      host: { type: 'string' },
      port: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'metrics-listen': { type: 'string' },
      'metrics-token-file': { type: 'string' },
      'vnc-allow': { type: 'string' },
    },
    { min: 0, max: 0, names: '' },
  );
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const port = intFlag(values.port, 'port') ?? DEFAULT_PORT;
  if (port < 0 || port > 65535) throw new NovaError('INVALID_ARGUMENT', `--port: must be 0…65535, got ${port}`, { field: 'port' });
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new NovaError('INVALID_ARGUMENT', `${cert ? '--tls-key' : '--tls-cert'}: give both --tls-cert and --tls-key`, { field: cert ? 'tls-key' : 'tls-cert' });
  }
  // Saved VNC connections reach other machines through this server: only the networks the operator names.
  const vncAllow = values['vnc-allow'] as string | undefined;
  if (vncAllow !== undefined) ctx.core.vnc.allowHeadless(VncPolicy.parse(vncAllow));
  const staticDir = rendererDir();
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new NovaError('UNAVAILABLE', `the UI is not built (${staticDir} is missing): run \`npm run build\``);
  }
  // NovaCron's token comes from the environment only in tests and scripts that start it; never from a flag, which `ps` shows.
  const token = process.env.NOVACRON_TOKEN || undefined;
  const tls = cert && key ? { certFile: cert, keyFile: key } : undefined;
  const obs = await prepareServeObservability(ctx.core, {
    ...(values['metrics-listen'] !== undefined ? { listen: values['metrics-listen'] as string } : {}),
    ...(values['metrics-token-file'] !== undefined ? { tokenFile: values['metrics-token-file'] as string } : {}),
  });
  const server = await startServer({
    router: ctx.core.router,
    host,
    port,
    staticDir,
    wsRoutes: [ctx.core.consoles.wsRoute()],
    ...(token ? { token } : {}),
    ...(tls ? { tls } : {}),
    routes: obs.routes,
    onDenied: obs.onDenied,
  }).catch((e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new NovaError('CONFLICT', `--port: ${host}:${port} is already in use`, { field: 'port' });
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new NovaError('INVALID_ARGUMENT', `--host: cannot listen on '${host}'`, { field: 'host' });
    throw e;
  });
  if (!isLoopback(host)) {
    ctx.io.err(`novacron: warning: listening on ${host}: anyone who can reach this address and has the token controls this machine's workloads${cert ? '' : '; without --tls-cert the token crosses the network in clear text'}`);
  }
  const said = await obs.started(server, tls).catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  said.err.forEach((l) => ctx.io.err(l));
  said.out.forEach((l) => ctx.io.out(l));
  ctx.io.out(`NovaCron is serving on ${server.url}`);
  ctx.io.out(`Open: ${server.loginUrl}`);
  await new Promise<void>((resolve) => {
    onStopSignal(() => obs.close().then(() => server.close()).then(resolve));
  });
  return 0;
};

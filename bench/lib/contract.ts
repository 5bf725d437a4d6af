import type { NovaClient } from '../../shared/contract/client.js';
import { rendererDir } from '../../electron/core/base/app-root.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { startServer } from '../../electron/core/transport/server.js';
import { wsClient } from '../../tests/helpers/ws-client.js';
import type { BenchContext } from './context.js';
import { sleep } from './measure.js';

export interface Contract {
  core: Core;
  /** The router through an in-process client: the desktop app's path minus Electron's IPC. */
  inproc: NovaClient;
  /** The same router over the headless server's WebSocket, as the page in a browser reaches it. */
  ws: NovaClient;
  env: NodeJS.ProcessEnv;
  home: string;
  /** The headless server: http://127.0.0.1:PORT/ and its token. */
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * A real core on a private data dir, set up as the app's own is (`novacron serve`, the
 * desktop shell: it watches its drivers for the event log from the start) and reachable
 * both ways the UI reaches it.
 */
export async function openContract(ctx: BenchContext, env: NodeJS.ProcessEnv = {}, staticDir = rendererDir()): Promise<Contract> {
  const t = ctx.tempHome();
  Object.assign(t.env, env);
  const core = await Core.open({ env: t.env, role: 'headless' });
  // As `novacron serve` and the desktop app do: the drivers' watchers run whether or not a page is open,
  // so every figure pays for them, and is measured once they have made their first pass.
  const watching = core.obs.watchDrivers(core.events);
  await core.drivers.available();
  await sleep(500);
  const server = await startServer({ router: core.router, host: '127.0.0.1', port: 0, staticDir, wsRoutes: [core.consoles.wsRoute()] });
  const ws = await wsClient(`ws://127.0.0.1:${server.port}/ws`, { Authorization: `Bearer ${server.token}` });
  return {
    core,
    inproc: inprocClient(core.router, 'test'),
    ws: ws.client,
    env: t.env,
    home: t.home,
    url: server.url,
    token: server.token,
    async close() {
      ws.close();
      await server.close();
      watching.dispose();
      core.dispose();
      t.cleanup();
    },
  };
}

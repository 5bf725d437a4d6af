import { type NovaClient } from '../../shared/contract/client.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { tempHome } from './home.js';

/** A real core on a private data dir, with a client that goes through the router like the UI does. */
export async function openTestCore(prefix?: string): Promise<{ core: Core; client: NovaClient; home: string; env: NodeJS.ProcessEnv; close(): void }> {
  const t = tempHome(prefix);
  const core = await Core.open({ env: t.env });
  return {
    core,
    client: inprocClient(core.router, 'test'),
    home: t.home,
    env: t.env,
    close() {
      core.dispose();
      t.cleanup();
    },
  };
}

/** Wait until a condition holds, polling; fails with the last value seen. */
export async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { type NovaClient } from '../../shared/contract/client.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { tempHome } from './home.js';

/** A real core on a private data dir, with a client that goes through the router like the UI does. */
export async function openTestCore(prefix?: string): Promise<{ core: Core; client: NovaClient; home: string; env: NodeJS.ProcessEnv; close(): Promise<void> }> {
  const t = tempHome(prefix);
  const core = await Core.open({ env: t.env });
  const client = inprocClient(core.router, 'test');
  return {
    core,
    client,
    home: t.home,
    env: t.env,
    async close() {
      await purge(client, t.home);
      core.dispose();
      t.cleanup();
    },
  };
}

/** Drivers whose workloads live in the data dir itself; engine-backed ones are shared between suites (libvirt: see purge). */
const DATA_DIR_DRIVERS = new Set(['process', 'kvm']);

/**
 * Force-delete the workloads that live in a data dir before the dir goes: a VM or
 * process whose files vanish from under it would run on, orphaned, and load the machine
 * every other suite shares. Engine-backed workloads (Docker, containerd) are left to the
 * suites that made them: the engine is shared, and another suite's may be listed too.
 */
export async function purge(client: NovaClient, home: string): Promise<void> {
  const { workloads } = await client.call('workloads.list', {}).catch(() => ({ workloads: [] }));
  // libvirt domains live in the shared daemon: only those this data dir defined (their folder is in it) are its own.
  const ownDomains = await Promise.all(
    workloads
      .filter((w) => w.driver === 'libvirt' && w.managed)
      .map(async (w) => {
        const d = await client.call('workloads.inspect', { id: w.id }).catch(() => undefined);
        return typeof d?.runtime.dir === 'string' && d.runtime.dir.startsWith(`${home}/`) ? w : undefined;
      }),
  );
  await Promise.all(
    [...workloads.filter((w) => DATA_DIR_DRIVERS.has(w.driver)), ...ownDomains.filter((w) => w !== undefined)]
      .map((w) =>
        client.call('workloads.delete', { id: w.id, force: true }).catch((e: unknown) => {
          console.warn(`purge of ${home}: ${w.id}: ${(e as Error).message}`);
        }),
      ),
  );
}

/** purge() for a data dir the test does not hold a core for (a server's, an Electron app's). */
export async function purgeHome(env: NodeJS.ProcessEnv): Promise<void> {
  const core = await Core.open({ env });
  try {
    await purge(inprocClient(core.router, 'test'), env.NOVACRON_HOME ?? '');
  } finally {
    core.dispose();
  }
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

import type { NovaClient } from '../../shared/contract/client.js';
import type { LogLine, TerminalEvent } from '../../shared/model.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { busyboxArchive } from './oci-archive.js';
import { removeNamespace, testNamespace } from './containerd.js';
import { tempHome } from './home.js';

export const BUSYBOX = 'novacron-test/busybox:latest';

/**
 * A real core whose containerd drivers work in a namespace of the test's own, with the
 * busybox test image imported (unless told not to). close() removes the namespace.
 */
export async function openContainerdCore(what: string, opts: { importImage?: boolean } = {}) {
  const namespace = testNamespace(what);
  const t = tempHome(`nc-${what}-`);
  const env = { ...t.env, NOVACRON_CONTAINERD_NAMESPACE: namespace };
  const core = await Core.open({ env });
  const client = inprocClient(core.router, 'test');
  if (opts.importImage !== false) {
    await client.call('images.import', { driver: 'containerd', file: busyboxArchive('docker'), name: BUSYBOX });
  }
  return {
    core,
    client,
    namespace,
    home: t.home,
    env,
    close() {
      core.dispose();
      removeNamespace(namespace);
      t.cleanup();
    },
  };
}

/** Run a command in a workload's terminal stream and collect what it prints until it exits. */
export function execIn(client: NovaClient, id: string, command: string[], input?: string): Promise<{ out: string; code?: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let session: string | undefined;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`exec ${command.join(' ')} did not end; output so far: ${JSON.stringify(out)}`));
    }, 30_000);
    const stop = client.subscribe('terminal', { id, command, cols: 100, rows: 30 }, {
      event: (e: TerminalEvent) => {
        if (e.type === 'ready') {
          session = e.session;
          if (input !== undefined) void client.call('terminal.input', { session: session!, data: input });
        }
        if (e.type === 'data') out += e.data ?? '';
        if (e.type === 'exit') {
          clearTimeout(timer);
          resolve({ out, ...(e.code !== undefined ? { code: e.code } : {}) });
        }
      },
      error: (err) => {
        clearTimeout(timer);
        reject(new Error(`${err.code}: ${err.message}`));
      },
    });
  });
}

/** Log lines so far (no follow). */
export function logsOf(client: NovaClient, id: string): Promise<LogLine[]> {
  return new Promise((resolve, reject) => {
    const lines: LogLine[] = [];
    client.subscribe('logs', { id, follow: false }, {
      event: (l) => lines.push(l),
      end: () => resolve(lines),
      error: (e) => reject(new Error(e.message)),
    });
  });
}

// The desktop app's core, run the way electron/shell/main.ts runs it (role desktop, the
// drivers watched for the event log, the console proxy on loopback, a window subscribed
// to events), in a plain Node process: the Electron binary is absent here, and the shell
// adds nothing but the window. Calls arrive one JSON line each on stdin, as the IPC
// handlers would pass them to the router; answers leave on stdout. The fault suites
// kill -9 it mid-call.
import { createInterface } from 'node:readline';
import { Core } from '../../electron/core/core.js';

const core = await Core.open({ role: 'desktop' });
const watching = core.obs.watchDrivers(core.events);
await core.consoles.startStandalone('127.0.0.1', 0);
const window = core.router.subscribe('events', {}, { event: () => undefined }, { origin: 'desktop', client: 'ipc-1' });
process.stdout.write('ready\n');

createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, method, input } = JSON.parse(line) as { id: number; method: string; input: unknown };
  void core.router.call(method, input, { origin: 'desktop', client: 'ipc-1' }).then((r) => process.stdout.write(`${JSON.stringify({ id, r })}\n`));
});
process.stdin.once('end', () => {
  window.dispose();
  watching.dispose();
  core.dispose();
});

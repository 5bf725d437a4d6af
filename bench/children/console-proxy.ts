import { createInterface } from 'node:readline';
import { ConsoleProxy } from '../../electron/core/services/console-proxy.js';
import type { Driver } from '../../electron/core/drivers/driver.js';
import type { DriverManager } from '../../electron/core/drivers/manager.js';

/**
 * NovaCron's console proxy alone in a process (as in the desktop app: 127.0.0.1, a random
 * port, one-time tickets), so its CPU time can be read from /proc like websockify's. Its
 * "VM" is a console endpoint at the TCP port named on stdin; for each line `PORT` it
 * prints the ws:// URL of a fresh ticket.
 */
let port = 0;
const driver = { console: async () => ({ kind: 'tcp' as const, host: '127.0.0.1', port }) } as unknown as Driver;
const drivers = { require: async () => driver } as unknown as DriverManager;
const proxy = new ConsoleProxy(drivers);
await proxy.startStandalone();
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  port = Number(line.trim());
  void proxy.open('kvm:bench', 'desktop').then((t) => process.stdout.write(`${t.url}\n`));
});
rl.on('close', () => {
  proxy.dispose();
  process.exit(0);
});
process.stdout.write('ready\n');

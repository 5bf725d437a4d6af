// A separate process appending to an event log as fast as it can: the kill -9 and
// concurrency tests run two of these against one state dir. Bundled by the test with esbuild.
import { EventLog } from '../../electron/core/observability/event-log.js';

const [stateDir, tag, countArg, maxBytesArg] = process.argv.slice(2);
const log = new EventLog(stateDir!, () => 'test-host', (l) => l, { maxBytes: Number(maxBytesArg), keep: 400 });
const count = Number(countArg);
process.stdout.write('ready\n');
for (let i = 0; i < count; i++) {
  log.append({ kind: 'operation', origin: 'test', method: 'workloads.start', op: `${tag}-${i}`, result: 'ok', durationMs: i, target: `${tag}:${i}`, name: 'x'.repeat(i % 300) });
}
log.dispose();
process.stdout.write('done\n');

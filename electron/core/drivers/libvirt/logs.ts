import { homedir } from 'node:os';
import { join } from 'node:path';
import { driverError } from '../../base/errors.js';
import { DisposableStore, type Disposable } from '../../base/lifecycle.js';
import { tailFile } from '../../base/tail.js';
import type { LogSink } from '../driver.js';
import type { Lv } from './context.js';
import { D } from './virsh.js';

/**
 * Where libvirt's QEMU writes its own messages for a domain: the system daemon's log
 * folder, or a session daemon's cache. Root's qemu:///session is served by the system
 * daemon, so root always reads the system folder.
 */
export function qemuLogPath(uri: string, name: string): string {
  const session = /\/session\b/.test(uri) && process.getuid?.() !== 0;
  const dir = session ? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'libvirt', 'qemu', 'log') : '/var/log/libvirt/qemu';
  return join(dir, `${name}.log`);
}

/** The serial log as stdout (domains with a `<log file>` on their serial port, as NovaCron's have), QEMU's log as stderr. */
export function domainLogs(lv: Lv, local: string, opts: { follow: boolean; tail?: number }, sink: LogSink): Disposable {
  const out = new DisposableStore();
  const run = async () => {
    if (!lv.local) throw driverError(D, 'NOT_SUPPORTED', `the logs of a domain on ${lv.uri} are files on that host`);
    const facts = await lv.domains.factsOf(lv.domains.check(local));
    const files: ['stdout' | 'stderr', string][] = [];
    if (facts.serialLog) files.push(['stdout', facts.serialLog]);
    files.push(['stderr', qemuLogPath(lv.uri, facts.name)]);
    let ended = 0;
    for (const [stream, file] of files) {
      out.add(
        tailFile(
          file,
          { follow: opts.follow, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) },
          (lines) => lines.forEach((line) => sink.line({ stream, line: line.replace(/\r$/, '') })),
          () => {
            if (++ended === files.length) sink.end();
          },
          (e) => sink.error(e),
        ),
      );
    }
  };
  run().catch((e: unknown) => sink.error(e));
  return out;
}

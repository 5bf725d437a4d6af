import { randomUUID } from 'node:crypto';
import { EXIT_CODES, type ErrorData } from '../../shared/errors.js';
import { toErrorData } from '../core/base/errors.js';
import { Core } from '../core/core.js';
import { inprocClient } from '../core/transport/inproc.js';
import type { CliContext, Command } from './context.js';
import { config } from './commands/config.js';
import { diag } from './commands/diag.js';
import { drivers } from './commands/drivers.js';
import { events } from './commands/events.js';
import { images } from './commands/images.js';
import { serve } from './commands/serve.js';
import { terminal } from './commands/terminal.js';
import { revert, snapshot, snapshotRm, snapshots } from './commands/snapshots.js';
import { convert, create, inspect, logs, ls, migrate, rm, scale, simple, stats, stop } from './commands/workloads.js';

export const COMMANDS: Record<string, Command> = {
  drivers,
  ls,
  create,
  start: simple('workloads.start'),
  stop,
  restart: simple('workloads.restart'),
  pause: simple('workloads.pause'),
  resume: simple('workloads.resume'),
  rm,
  inspect,
  stats,
  logs,
  scale,
  snapshot,
  snapshots,
  revert,
  'snapshot-rm': snapshotRm,
  migrate,
  convert,
  images,
  terminal,
  config,
  events,
  diag,
  serve,
};

export const USAGE = `novacron — virtual machines, containers and processes from one place

Usage: novacron COMMAND [flags]   (every command takes --json)

  drivers [--refresh]                   the capability matrix
  ls [--driver D]                       every workload
  create --driver D --name N [flags]    create (see: novacron create --driver D --help)
  start|stop|restart|pause|resume ID    lifecycle (stop --force, --timeout SEC)
  rm ID [--force]                       delete (a running one only with --force)
  inspect ID                            configuration and runtime details
  stats ID                              one metrics sample
  logs ID [--follow] [--tail N]         output
  terminal ID [--cmd C --arg A…]        a TTY in it (exec; /bin/sh by default)
  scale ID [--memory MB] [--cpus N]     change resources
  snapshot ID --name S · snapshots ID · revert ID S · snapshot-rm ID S
  migrate ID --to TARGET
  convert ID --to DRIVER [--name N]     a stopped kvm VM into a libvirt domain, or back
  images ls|import|pull|rm --driver D … images (import FILE --name REF, pull REF)
  config [set KEY VALUE | unset KEY]    settings
  events [--follow] [--limit N] [--since 10m] [--workload ID] [--origin O] [--kind K] [--errors]
                                        the event log (operations, state changes, notices)
  diag [--out PATH] [--events N] [--log-lines N]
                                        write a diagnostics bundle (tar.gz) to attach to a bug report
  serve [--host H] [--port P] [--metrics-listen HOST:PORT] [--metrics-token-file FILE] [--vnc-allow CIDR,…]
                                        the web UI (headless mode) and /metrics for Prometheus

ID is a full id (process:3f9c…) or a workload's name.
Data: $NOVACRON_HOME (default ~/.local/share/novacron). Exit codes: 0 ok, 2 invalid argument,
3 not found, 4 not supported, 5 unavailable, 6 conflict, 1 other.`;

/** The usage lines about one command, read from USAGE so no command's help is written twice. */
export function helpFor(name: string): string {
  const lines = USAGE.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // `\u00b7` (the ` · ` between commands) rather than the character: the CLI bundle stays ASCII, which loads faster (bin/load-cached.mjs).
    const names = line.trim().split(/\s{2,}/)[0]!.split(/ \u00b7 /).map((part) => part.split(' ')[0]!.split('|'));
    if (!/^ {2}\S/.test(line) || !names.some((n) => n.includes(name))) continue;
    out.push(`novacron ${line.trim()}`);
    // A command whose description did not fit sits on the next, deeper-indented line.
    while (/^ {20,}\S/.test(lines[i + 1] ?? '')) out.push(`    ${lines[++i]!.trim()}`);
  }
  return out.length ? `Usage:\n${out.map((l) => `  ${l}`).join('\n')}` : USAGE;
}

/** Run the CLI; returns the exit code. Errors print as one line: `novacron: CODE: message`. */
export async function main(argv: string[], io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  const fail = (e: ErrorData) => {
    io.err(`novacron: ${e.code}: ${e.message}`);
    return EXIT_CODES[e.code];
  };
  if (!command) return fail({ code: 'INVALID_ARGUMENT', message: `command: '${name}' is not a novacron command (see novacron --help)` });
  // Help needs no core; `create --driver D --help` is answered by create, which knows the driver's flags.
  const dashDash = rest.indexOf('--');
  const flags = dashDash < 0 ? rest : rest.slice(0, dashDash);
  if (name !== 'create' && (flags.includes('--help') || flags.includes('-h'))) {
    io.out(helpFor(name));
    return 0;
  }
  let core: Core | undefined;
  try {
    core = await Core.open({ role: name === 'serve' ? 'headless' : 'cli' });
    const ctx: CliContext = { client: inprocClient(core.router, 'cli'), core, io, op: randomUUID() };
    const cancel = () => {
      void ctx.client.call('operations.cancel', { op: ctx.op });
    };
    process.once('SIGINT', cancel);
    try {
      return await command(rest, ctx);
    } finally {
      process.off('SIGINT', cancel);
    }
  } catch (e) {
    return fail(toErrorData(e));
  } finally {
    // The CLI exits right after: what its command left running (a lease's release) lands first.
    await core?.settle();
    core?.dispose();
  }
}

import { execa } from 'execa';
import type { ErrorCode } from '../../../../shared/errors.js';
import { NovaError, driverError } from '../../base/errors.js';
import { run } from '../../base/run.js';

export const D = 'libvirt';

/**
 * How virsh's error words map to our codes: data, not branches, first match wins. virsh
 * prints "error: <what failed>" lines, the last of which is libvirt's own reason; the
 * message we keep is all of them, so the admin reads libvirt's words.
 */
const ERROR_MAP: [RegExp, ErrorCode][] = [
  [/failed to connect to the hypervisor|Failed to connect socket|Connection refused|unable to connect to server|Cannot recv data|End of file while reading data/i, 'UNAVAILABLE'],
  [/authentication (failed|unavailable)|Permission denied|access denied|system bus connection|polkit/i, 'UNAVAILABLE'],
  [/failed to get domain|Domain not found|no domain with matching/i, 'NOT_FOUND'],
  [/snapshot not found|failed to get snapshot|no domain snapshot with matching/i, 'NOT_FOUND'],
  [/operation aborted|canceled by client|cancelled by client/i, 'CANCELLED'],
  [/Timed out during operation|cannot acquire state change lock/i, 'TIMEOUT'],
  [/already exists|is already (running|active)|domain is already|Requested operation is not valid|not running|domain is not|Unsafe migration|Attempt to migrate guest to the same host/i, 'CONFLICT'],
  [/unsupported configuration|Operation not supported|this function is not supported|not supported by/i, 'NOT_SUPPORTED'],
  [/XML error|invalid argument|XML document failed to validate|unknown (command|option)|expected syntax|Cannot access storage file|No such file or directory/i, 'INVALID_ARGUMENT'],
];

/** The error lines virsh printed, as one message. */
export function virshMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.replace(/^error:\s*/, ''));
  return [...new Set(lines)].join(': ') || 'virsh failed without a message';
}

export function classify(message: string): ErrorCode {
  for (const [re, code] of ERROR_MAP) if (re.test(message)) return code;
  return 'INTERNAL';
}

export class VirshError extends NovaError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly raw: string,
  ) {
    super(code, `${D}: ${message}`, { driver: D });
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Milliseconds; 0 for none (a migration runs as long as it takes). */
  timeoutMs?: number;
  /** Bytes for virsh's stdin (`define /dev/stdin`). */
  input?: string;
}

const SPAWN_OPTS = { reject: false, env: { LC_ALL: 'C' }, stdin: 'ignore', buffer: false } as const;

/** What callers have always read (execa's default): the output without its last line break. */
const withoutFinalNewline = (s: string) => s.replace(/\r?\n$/, '');

/** Which virsh subcommands ran, for tests that check a listing is bulk, not one call per domain. */
export type CallCounts = Map<string, number>;

/**
 * virsh against one connection, always with an argument array: a name or path is one
 * argv element and never parsed by a shell or by virsh's own command-string syntax.
 * LC_ALL=C keeps its messages and number formats the ones we parse.
 */
export class Virsh {
  readonly calls: CallCounts = new Map();

  constructor(
    readonly uri: string,
    readonly binary = 'virsh',
  ) {}

  private argv(args: string[]): string[] {
    return ['--quiet', '--connect', this.uri, ...args];
  }

  /** Run one command; stdout on success, a NovaError carrying virsh's words otherwise. */
  async run(args: string[], opts: RunOptions = {}): Promise<string> {
    this.calls.set(args[0]!, (this.calls.get(args[0]!) ?? 0) + 1);
    // One listener on the caller's signal per call in flight, removed when the call ends: a
    // listing that runs a dozen calls under one signal must not pile listeners onto it.
    const outer = opts.signal;
    outer?.throwIfAborted();
    const own = new AbortController();
    const onAbort = () => own.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let r;
    try {
      // Node's spawn, not execa: detection and every listing run several virsh at once, and
      // execa's per-call machinery doubled their CPU on the CLI's critical path.
      r = await run(this.binary, this.argv(args), {
        env: { ...process.env, LC_ALL: 'C' },
        timeoutMs: opts.timeoutMs ?? 60_000,
        signal: own.signal,
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      });
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
    if (r.cancelled) throw new NovaError('CANCELLED', `${D}: virsh ${args[0]}: cancelled`, { driver: D });
    if (r.timedOut) throw driverError(D, 'TIMEOUT', `virsh ${args[0]} did not answer within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)}s`);
    if (r.failureCode === 'ENOENT') throw driverError(D, 'UNAVAILABLE', `${this.binary} is not installed (Debian: libvirt-clients)`);
    if (r.exitCode !== 0) {
      const stderr = withoutFinalNewline(r.stderr);
      const msg = virshMessage(stderr || r.failure || `virsh ${args[0]} ended by ${r.signal ?? 'an unknown cause'}`);
      throw new VirshError(classify(msg), msg, stderr);
    }
    return withoutFinalNewline(r.stdout);
  }

  /** A long-running virsh (event --loop): the child, for the caller to own. */
  spawn(args: string[]) {
    this.calls.set(args[0]!, (this.calls.get(args[0]!) ?? 0) + 1);
    return execa(this.binary, this.argv(args), SPAWN_OPTS);
  }

  get remote(): boolean {
    return isRemoteUri(this.uri);
  }
}

/**
 * A connection is local when it names no host: qemu:///system, qemu:///session,
 * qemu+unix:///system. Files NovaCron makes (disks, logs, sockets) only make sense there.
 */
export function isRemoteUri(uri: string): boolean {
  const m = /^[a-z0-9+]+:\/\/([^/?#]*)/i.exec(uri);
  if (!m) return false;
  const authority = m[1]!.replace(/^[^@]*@/, '');
  return authority !== '';
}

/** The host part of a URI (for a migration's data stream), without user or port. */
export function uriHost(uri: string): string | undefined {
  const m = /^[a-z0-9+]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)/i.exec(uri);
  return m?.[1];
}

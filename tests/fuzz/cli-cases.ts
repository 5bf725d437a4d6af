import fc from 'fast-check';
import { CREATE_FLAGS } from '../../electron/cli/create-flags/index.js';
import { CONFIG_KEY_NAMES } from '../../shared/config.js';
import { DRIVER_IDS } from '../../shared/ids.js';

/**
 * Every CLI command with the flags it reads (electron/cli/commands/*), and every create
 * flag of every driver (electron/cli/create-flags/*, read from CREATE_FLAGS itself). The
 * fuzzer builds argv from this table and counts which flags it tried; a test checks the
 * table names exactly the CLI's commands, so a new command cannot be left out.
 */
export interface CommandShape {
  flags: string[];
  bools?: string[];
  /** How many positionals it takes at most (more are tried too). */
  args: number;
  subs?: string[];
  /** Runs in a child process: it serves or attaches to a TTY until stopped. */
  child?: boolean;
}

export const CLI_TABLE: Record<string, CommandShape> = {
  drivers: { flags: [], bools: ['refresh'], args: 0 },
  ls: { flags: ['driver'], args: 0 },
  create: { flags: ['driver', 'name'], args: 0 },
  start: { flags: [], args: 1 },
  stop: { flags: ['timeout'], bools: ['force'], args: 1 },
  restart: { flags: [], args: 1 },
  pause: { flags: [], args: 1 },
  resume: { flags: [], args: 1 },
  rm: { flags: [], bools: ['force'], args: 1 },
  inspect: { flags: [], args: 1 },
  stats: { flags: [], args: 1 },
  // --follow never returns: logs and events are fuzzed without it.
  logs: { flags: ['tail'], args: 1 },
  scale: { flags: ['memory', 'cpus'], args: 1 },
  snapshot: { flags: ['name'], args: 1 },
  snapshots: { flags: [], args: 1 },
  revert: { flags: [], args: 2 },
  'snapshot-rm': { flags: [], args: 2 },
  migrate: { flags: ['to'], args: 1 },
  convert: { flags: ['to'], args: 1 },
  images: { flags: ['driver', 'name'], args: 1, subs: ['ls', 'import', 'pull', 'rm'] },
  config: { flags: [], args: 2, subs: ['get', 'set', 'unset'] },
  events: { flags: ['limit', 'since', 'until', 'workload', 'driver', 'origin', 'kind', 'grep'], bools: ['errors'], args: 0 },
  diag: { flags: ['out', 'events', 'log-lines'], args: 0 },
  terminal: { flags: ['cmd', 'arg'], args: 1, child: true },
  serve: { flags: ['host', 'port', 'tls-cert', 'tls-key', 'metrics-listen', 'metrics-token-file'], args: 0, child: true },
};

const COMMON_BOOLS = ['json', 'help'];
const CREATORS = Object.keys(CREATE_FLAGS) as (keyof typeof CREATE_FLAGS)[];

/** Every flag the CLI reads, as `command --flag` (create flags as `create --driver D --flag`). */
export function allFlags(): string[] {
  const out: string[] = [];
  for (const [cmd, s] of Object.entries(CLI_TABLE)) for (const f of [...s.flags, ...(s.bools ?? []), ...COMMON_BOOLS]) out.push(`${cmd} --${f}`);
  for (const d of CREATORS) for (const f of Object.keys(CREATE_FLAGS[d]!.options)) out.push(`create --driver ${d} --${f}`);
  return out;
}

/** Values a flag gets: hostile ones mostly, plausible ones sometimes (so validation further in is reached). */
const plausible = ['1', '0', '-1', '300', '64', '1.5', '1e9', '99999999999999999999', 'NaN', 'true', 'tcg', 'user', 'none', 'ro', 'local', 'bridge', '127.0.0.1', '0', '2222:22', '/tmp', '10m', 'x=y', 'A=1', 'busybox:latest'];

export interface CliCase {
  argv: string[];
  /** The flags it used, for the coverage figure. */
  flags: string[];
  child: boolean;
}

export function cliCaseArb(strings: string[], workloads: string[]): fc.Arbitrary<CliCase> {
  const short = strings.filter((s) => s.length < 4096);
  const value = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...short) }, { weight: 2, arbitrary: fc.constantFrom(...plausible) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
  const positional = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...workloads, ...DRIVER_IDS, ...CONFIG_KEY_NAMES) }, { weight: 3, arbitrary: value });
  const flagUse = (cmd: string, names: string[], bools: string[]) =>
    fc.oneof(
      ...(names.length ? [fc.tuple(fc.constantFrom(...names), value, fc.boolean()).map(([f, v, eq]) => ({ f, argv: eq ? [`--${f}=${v}`] : [`--${f}`, v] }))] : []),
      fc.constantFrom(...bools, ...COMMON_BOOLS).map((f) => ({ f, argv: [`--${f}`] })),
      // A flag of some other command, or none at all: the parser must refuse it by name.
      { weight: 1, arbitrary: fc.constantFrom('--bogus', '-x', '--', '---', '--driver=', '--=x').map((f) => ({ f: '', argv: [f] })) },
    ).map((u) => ({ ...u, key: !u.f ? '' : cmd.startsWith('create') && (u.f === 'name' || COMMON_BOOLS.includes(u.f)) ? `create --${u.f}` : `${cmd} --${u.f}` }));

  // create carries most of the flags (every driver's): it gets a larger share of the cases.
  const command = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...Object.keys(CLI_TABLE)) }, { weight: 2, arbitrary: fc.constant('create') });
  return command.chain((cmd) => {
    const s = CLI_TABLE[cmd]!;
    if (cmd === 'create') {
      return fc.constantFrom(...CREATORS, 'libvirt', 'bogus').chain((d) => {
        const own = Object.entries(CREATE_FLAGS[d as keyof typeof CREATE_FLAGS]?.options ?? {});
        const names = [...own.filter(([, o]) => o.type === 'string').map(([k]) => k), 'name'];
        const bools = own.filter(([, o]) => o.type === 'boolean').map(([k]) => k);
        return fc.array(flagUse(`create --driver ${d}`, names, bools), { maxLength: 10 }).map((uses) => ({
          argv: ['create', '--driver', d, ...uses.flatMap((u) => u.argv)],
          flags: [`create --driver`, ...uses.map((u) => u.key)].filter(Boolean),
          child: false,
        }));
      });
    }
    const sub = s.subs ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...s.subs) }, { weight: 1, arbitrary: value }).map((x) => [x]) : fc.constant([] as string[]);
    return fc
      .tuple(sub, fc.array(positional, { maxLength: s.args + 1 }), fc.array(flagUse(cmd, s.flags, s.bools ?? []), { maxLength: 5 }))
      .map(([subArgv, pos, uses]) => ({
        argv: [cmd, ...subArgv, ...pos, ...uses.flatMap((u) => u.argv)],
        flags: uses.map((u) => u.key).filter(Boolean),
        child: s.child === true,
      }));
  });
}

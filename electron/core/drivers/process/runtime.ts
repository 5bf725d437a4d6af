import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import type { ExitInfo, WorkloadState } from '../../../../shared/model.js';
import { driverError, invalid } from '../../base/errors.js';
import { PendingExits } from '../../base/pending-exits.js';
import { bootTime, CLK_TCK, isSameProcess, readStat, readStatSync } from '../../base/procfs.js';
import type { ProcessDefinition, ProcessExitRecord, ProcessRunState, ProcessStore } from './store.js';

/** The environment a process starts with: a clean base plus what the admin set. Never ours: it may hold tokens. */
export function baseEnv(spec: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/',
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...spec,
  };
}

/** An absolute, existing, executable program for `cmd`, looked up on PATH when it is a bare name. */
export async function resolveCommand(cmd: string, env: Record<string, string>): Promise<string> {
  const check = async (p: string) => {
    const st = await stat(p).catch(() => undefined);
    if (!st?.isFile()) return false;
    return access(p, constants.X_OK).then(() => true, () => false);
  };
  if (isAbsolute(cmd)) {
    const st = await stat(cmd).catch(() => undefined);
    if (!st) throw invalid('cmd', `${cmd} does not exist`, 'process');
    if (!st.isFile()) throw invalid('cmd', `${cmd} is not a file`, 'process');
    if (!(await check(cmd))) throw invalid('cmd', `${cmd} is not executable`, 'process');
    return cmd;
  }
  if (cmd.includes('/')) throw invalid('cmd', 'must be an absolute path or a program name found on PATH', 'process');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, cmd);
    if (await check(p)) return p;
  }
  throw invalid('cmd', `'${cmd}' was not found on PATH`, 'process');
}

export interface Observed {
  state: WorkloadState;
  /** When dead: how it ended, as well as we know. */
  exit?: ExitInfo;
  pid?: number;
  /** The run state this answer is based on (a program found by its spawn nonce is in it). */
  run: ProcessRunState;
}

/** The environment variable a spawned program carries its spawn nonce in (see ProcessRunState.spawning): a random value, nothing of NovaCron's own. */
export const SPAWN_ENV = 'NC_SPAWN';

/** The live process whose environment holds this spawn nonce, if any: a scan of /proc, done only while a spawn is unaccounted for. */
export async function findSpawned(nonce: string): Promise<{ pid: number; startTicks: number } | undefined> {
  const needle = `${SPAWN_ENV}=${nonce}\0`;
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const env = await readFile(`/proc/${name}/environ`, 'latin1').catch(() => '');
    if (!env.includes(needle)) continue;
    const st = await readStat(Number(name));
    if (st && st.state !== 'Z' && st.state !== 'X') return { pid: st.pid, startTicks: st.startTicks };
  }
  return undefined;
}

/**
 * A NovaCron killed between spawning a program and recording its pid leaves a running
 * process nobody knows of. Find it by its nonce and record it (the start completed), or,
 * once the attempt is clearly over, forget it (the start never happened).
 */
async function adoptSpawned(store: Pick<ProcessStore, 'writeRunState'>, def: ProcessDefinition, run: ProcessRunState): Promise<ProcessRunState> {
  const s = run.spawning!;
  const found = await findSpawned(s.nonce);
  const { spawning: _s, ...rest } = run;
  if (found) {
    const adopted: ProcessRunState = { pid: found.pid, startTicks: found.startTicks, startedAt: s.at };
    await store.writeRunState(def.id, adopted);
    return adopted;
  }
  if (Date.now() - Date.parse(s.at) > 60_000) {
    await store.writeRunState(def.id, rest);
    return rest;
  }
  return run;
}

/** The true state of a process workload: its pid is checked together with its start time. */
export async function observe(
  store: Pick<ProcessStore, 'exitRecord' | 'writeRunState'>,
  def: ProcessDefinition,
  given: ProcessRunState,
  exit?: ProcessExitRecord,
): Promise<Observed> {
  const run = given.spawning ? await adoptSpawned(store, def, given) : given;
  if (run.pid === undefined || run.startTicks === undefined) {
    return { state: 'stopped', run };
  }
  // Synchronous: /proc never blocks, and the watcher asks this of every workload every second.
  const st = readStatSync(run.pid);
  const alive = st !== undefined && st.startTicks === run.startTicks && st.state !== 'Z' && st.state !== 'X';
  if (alive) return { state: st.state === 'T' ? 'paused' : 'running', pid: run.pid, run };
  if (run.stoppedByUs) return { state: 'stopped', run };
  if (!exit) await exitRecords.settled(run.pid);
  const rec = exit ?? (await store.exitRecord(def.id));
  if (rec && rec.pid === run.pid && rec.startTicks === run.startTicks) {
    const { pid: _pid, startTicks: _st, ...exit } = rec;
    return { state: rec.code === 0 ? 'exited' : 'crashed', exit, run };
  }
  return { state: 'exited', exit: { reason: 'exit status unknown: no NovaCron process was watching when it ended' }, run };
}

/** The exit records of the programs this process started, until written: see PendingExits. */
const exitRecords = new PendingExits();

/**
 * Start the program detached, in its own process group, with stdout/stderr appended to its log files.
 * onExit writes its exit record; observe waits for that write when it finds the program gone.
 */
export async function spawnDetached(
  store: ProcessStore,
  def: ProcessDefinition,
  nonce: string,
  onExit: (rec: ProcessExitRecord) => Promise<unknown>,
): Promise<{ pid: number; startTicks: number }> {
  if (def.cwd) {
    const st = await stat(def.cwd).catch(() => undefined);
    if (!st?.isDirectory()) throw invalid('cwd', `${def.cwd} is not a directory`, 'process');
  }
  const child = execa(def.cmd, def.args, {
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: { file: store.file(def.id, 'stdout.log'), append: true },
    stderr: { file: store.file(def.id, 'stderr.log'), append: true },
    env: { ...baseEnv(def.env), [SPAWN_ENV]: nonce },
    extendEnv: false,
    ...(def.cwd ? { cwd: def.cwd } : {}),
  });
  const pid = child.pid;
  if (pid === undefined) {
    const r = await child;
    throw driverError('process', 'INVALID_ARGUMENT', `cannot start ${def.cmd}: ${r.message}`);
  }
  child.unref();
  const st = await readStat(pid);
  if (!st) {
    const r = await child;
    throw driverError('process', 'INTERNAL', `${def.name}: ${def.cmd} ended at once (${r.signal ?? `exit ${r.exitCode}`})`);
  }
  // While this NovaCron process lives it is the parent and learns the exit status.
  const recorded = child.then((r) => {
    const signal = r.signal ?? undefined;
    const code = r.exitCode ?? undefined;
    return onExit({
      pid,
      startTicks: st.startTicks,
      ...(code !== undefined ? { code } : {}),
      ...(signal ? { signal } : {}),
      reason: signal ? `killed by ${signal}` : `exited with status ${code}`,
      at: new Date().toISOString(),
    });
  });
  exitRecords.track(pid, recorded);
  return { pid, startTicks: st.startTicks };
}

/** Signal the process group, but only if the group leader is still the process we started. */
export async function signalGroup(pid: number, startTicks: number, signal: NodeJS.Signals): Promise<boolean> {
  if (!(await isSameProcess(pid, startTicks))) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export function startedAtOf(startTicks: number): string {
  return new Date(bootTime() + (startTicks * 1000) / CLK_TCK).toISOString();
}

import { readFileSync } from 'node:fs';
import { isNodeError } from './errors.js';

/**
 * Readers of /proc/<pid>. A pid alone is not an identity (the kernel reuses them), so
 * every check of "is this still our process" compares the start time as well.
 */
export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, T (stopped), t, Z (zombie), X … */
  state: string;
  ppid: number;
  pgrp: number;
  utimeTicks: number;
  stimeTicks: number;
  /** Clock ticks after boot: with the pid, a process identity that survives pid reuse. */
  startTicks: number;
  rssPages: number;
}

/** The fields of /proc/<pid>/stat we read, counted from the state (0) after the comm. */
const PPID = 1, PGRP = 2, UTIME = 11, STIME = 12, START = 19, RSS = 21;
/** Reused by every parse (it is synchronous). */
const num = new Float64Array(RSS + 1);

export function parseStat(text: string): ProcStat {
  // comm is in parentheses and may itself hold spaces and ')': split at the last ')'.
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  // The numbers are read in place, not split out: this runs every second for every watched process
  // and VM, and a split made a string of each of the 50-odd fields, to read seven.
  const at = close + 2;
  let field = 0;
  let n = 0;
  let neg = false;
  for (let i = at + 2; i <= text.length && field < RSS; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c === 32 || c === 10) {
      field++;
      num[field] = neg ? -n : n;
      n = 0;
      neg = false;
    } else if (c === 45) neg = true;
    else n = n * 10 + (c - 48);
  }
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: text[at] ?? '?',
    ppid: field >= PPID ? num[PPID]! : NaN,
    pgrp: field >= PGRP ? num[PGRP]! : NaN,
    utimeTicks: field >= UTIME ? num[UTIME]! : NaN,
    stimeTicks: field >= STIME ? num[STIME]! : NaN,
    startTicks: field >= START ? num[START]! : NaN,
    rssPages: field >= RSS ? num[RSS]! : NaN,
  };
}

/**
 * /proc is generated in memory and never blocks, and these are read every second for
 * every watched workload: read synchronously, one syscall burst instead of four trips
 * through the thread pool (some 10–30 times less CPU). The async forms stay for callers.
 */
export async function readStat(pid: number): Promise<ProcStat | undefined> {
  return readStatSync(pid);
}

export function readStatSync(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (e) {
    if (isNodeError(e, 'ENOENT') || isNodeError(e, 'ESRCH')) return undefined;
    throw e;
  }
}

/** True when pid is alive (not a zombie) and started at startTicks. */
export async function isSameProcess(pid: number, startTicks: number): Promise<boolean> {
  const st = await readStat(pid);
  return st !== undefined && st.startTicks === startTicks && st.state !== 'Z' && st.state !== 'X';
}

/**
 * Whether that process (pid + start ticks, so a reused pid does not count) is gone within
 * ms. Polled: a process that is not our child gives no exit event to wait on.
 */
export async function waitGone(pid: number, startTicks: number, ms: number, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (!(await isSameProcess(pid, startTicks))) return true;
    if (Date.now() >= until || signal?.aborted) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function readProcIo(pid: number): Promise<{ readBytes: number; writeBytes: number } | undefined> {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { readBytes: get('read_bytes'), writeBytes: get('write_bytes') };
  } catch (e) {
    // /proc/<pid>/io is root-or-owner only; a missing counter is not an error.
    if (isNodeError(e, 'ENOENT') || isNodeError(e, 'EACCES') || isNodeError(e, 'ESRCH')) return undefined;
    throw e;
  }
}

/** Clock ticks per second: 100 on every Linux architecture we run on. */
export const CLK_TCK = 100;
export const PAGE_SIZE = 4096;

let bootTimeMs: number | undefined;
/** Wall-clock time of boot, to turn start ticks into a date. */
export function bootTime(): number {
  if (bootTimeMs === undefined) {
    const text = readFileSync('/proc/stat', 'utf8');
    bootTimeMs = Number(/^btime (\d+)$/m.exec(text)?.[1] ?? 0) * 1000;
  }
  return bootTimeMs;
}

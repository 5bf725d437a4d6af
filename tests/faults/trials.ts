import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { WorkloadInfo } from '../../shared/model.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { launch, VICTIMS, type Op, type VictimKind } from './victims.js';
import type { World } from './world.js';

/** `npm run soak` (SOAK=1): 50 trials per operation and driver; `npm test`: one, each with a different victim. */
export const SOAK = process.env.SOAK === '1';
/** Trials per operation and driver (FAULT_TRIALS overrides, for a developer chasing one). */
export const TRIALS = Number(process.env.FAULT_TRIALS) || (SOAK ? 50 : 1);

export type Outcome = 'completed' | 'as before';
/** An outcome, or what went wrong in words. */
export type Verdict = Outcome | (string & { readonly problem?: never });

/** One operation of one driver, killed mid-way over and over. */
export interface TrialSpec<B> {
  driver: string;
  op: 'create' | 'start' | 'snapshot' | 'migrate' | 'delete';
  /** Bring about what the operation needs (a stopped VM, a running one…); say what it looked like. */
  prepare(n: number, client: NovaClient): Promise<{ op: Op; before: B }>;
  /** From the settled world: did the operation complete, or is everything as before? Anything else is a problem (a string). */
  outcome(world: World, before: B, client: NovaClient): Promise<Verdict>;
  /** Tidy up for the next trial. */
  reset(world: World, before: B, client: NovaClient): Promise<void>;
}

export interface OpFigures {
  driver: string;
  op: string;
  trials: number;
  completed: number;
  asBefore: number;
  /** The victim answered before the kill landed: the operation was over already. */
  answeredFirst: number;
  byVictim: Record<VictimKind, number>;
  killAtMs: { min: number; max: number };
  /** Whatever was lost, orphaned, doubled, corrupt or untrue: must stay empty. */
  problems: string[];
}

export interface TrialEnv {
  env: NodeJS.ProcessEnv;
  /** How the world is read after a fault: by a fresh core on the same data dir, the next NovaCron to look. */
  observe(client: NovaClient): Promise<World>;
  /** Milliseconds the CLI takes to reach its operation. */
  cliStartup: number;
}

const lookup = (w: World, id: string): WorkloadInfo | undefined => w.workloads.find((x) => x.id === id);
export { lookup };

/** A core of its own on the data dir, as the next NovaCron to start would open it. */
export async function withFreshCore<T>(env: NodeJS.ProcessEnv, fn: (client: NovaClient) => Promise<T>): Promise<T> {
  const core = await Core.open({ env, role: 'test' });
  try {
    return await fn(inprocClient(core.router, 'test'));
  } finally {
    core.dispose();
  }
}

/**
 * Time the operation once, undisturbed, so kills can be spread over its whole length;
 * then run the trials: a victim (CLI, headless server, desktop core, in turn) is handed
 * the operation and killed with SIGKILL at a random moment inside it; a fresh core looks
 * at what is left until it is sound, and the outcome must be "completed" or "as before".
 */
export async function runTrials<B>(spec: TrialSpec<B>, count: number, t: TrialEnv, offset = 0): Promise<OpFigures> {
  const fig: OpFigures = { driver: spec.driver, op: spec.op, trials: 0, completed: 0, asBefore: 0, answeredFirst: 0, byVictim: { cli: 0, headless: 0, desktop: 0 }, killAtMs: { min: Infinity, max: 0 }, problems: [] };
  // How long the operation takes in a fresh victim of each kind (its first call pays for loading and detecting drivers), timed uncut once.
  const durations = new Map<VictimKind, number>();
  const durationIn = async (kind: VictimKind) => {
    const known = durations.get(kind);
    if (known !== undefined) return known;
    const { op, before } = await withFreshCore(t.env, (client) => spec.prepare(-1, client));
    const victim = await launch(kind, t.env, op);
    await victim.answer;
    const ms = Date.now() - victim.sentAt - (kind === 'cli' ? t.cliStartup : 0);
    await victim.kill();
    await withFreshCore(t.env, async (client) => spec.reset(await t.observe(client), before, client));
    durations.set(kind, Math.max(ms, 5));
    return Math.max(ms, 5);
  };
  for (let n = 0; n < count; n++) {
    const kind = VICTIMS[(n + offset) % VICTIMS.length]!;
    const duration = await durationIn(kind);
    const { op, before } = await withFreshCore(t.env, (client) => spec.prepare(n, client));
    const victim = await launch(kind, t.env, op);
    let answered = false;
    void victim.answer.then(() => (answered = true));
    const delay = Math.round(Math.random() * duration * 1.2) + (kind === 'cli' ? t.cliStartup : 0);
    await new Promise((r) => setTimeout(r, Math.max(0, victim.sentAt + delay - Date.now())));
    const answeredFirst = answered;
    await victim.kill();
    fig.trials++;
    fig.byVictim[kind]++;
    if (answeredFirst) fig.answeredFirst++;
    fig.killAtMs.min = Math.min(fig.killAtMs.min, delay);
    fig.killAtMs.max = Math.max(fig.killAtMs.max, delay);
    await withFreshCore(t.env, async (client) => {
      // What a fault left may take a moment to be reconciled (a QEMU found by its pidfile, a migration finished by QEMU itself): look until sound.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const world = await t.observe(client);
        const verdict = await spec.outcome(world, before, client);
        const decided = verdict === 'completed' || verdict === 'as before';
        const problems = [...world.problems, ...(decided ? [] : [verdict])];
        if (problems.length === 0 || Date.now() > deadline) {
          if (verdict === 'completed') fig.completed++;
          if (verdict === 'as before') fig.asBefore++;
          for (const p of problems) fig.problems.push(`#${n} ${kind} killed at ${delay} ms: ${p}`);
          await whileBusy(() => spec.reset(world, before, client));
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    });
  }
  return fig;
}

/**
 * The clean-up between trials may meet a lock still held: a live process's operation
 * finishing, or the lock dir of an older NovaCron that a kill left without its owner (it
 * counts as "being taken" for a few seconds, base/lock.ts). It waits that out, as an
 * admin's retry would.
 */
async function whileBusy(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: string }).code !== 'CONFLICT' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function describeFigures(f: OpFigures): string {
  return (
    `${f.driver} ${f.op}: ${f.trials} kills (cli ${f.byVictim.cli}, headless ${f.byVictim.headless}, desktop ${f.byVictim.desktop}; ` +
    `at ${f.killAtMs.min === Infinity ? '-' : f.killAtMs.min}–${f.killAtMs.max} ms) → ${f.completed} completed, ${f.asBefore} as before ` +
    `(${f.answeredFirst} had answered first) · lost/orphaned/doubled/corrupt/untrue: ${f.problems.length}`
  );
}

/** Whether a process still runs (a zombie, waiting to be reaped by its parent, does not). */
export const isAlive = (pid: number): boolean => existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/**
 * One test per operation: TRIALS kills inside it, its figures kept for the suite's
 * summary, and nothing lost, orphaned, doubled or corrupt. The suite's TrialEnv is made in
 * its beforeAll, hence a getter.
 */
export function trialTests(specs: TrialSpec<never>[], env: () => TrialEnv, figures: OpFigures[], what: string, timeoutMs: number): void {
  for (const [i, spec] of specs.entries()) {
    it(`${spec.op}: completed or as before, ${what}`, async () => {
      const f = await runTrials(spec as TrialSpec<unknown>, TRIALS, env(), i);
      figures.push(f);
      expect(f.problems).toEqual([]);
      expect(f.completed + f.asBefore).toBe(f.trials);
    }, SOAK ? timeoutMs * 20 : timeoutMs);
  }
}

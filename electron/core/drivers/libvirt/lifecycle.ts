import { mkdir, rm } from 'node:fs/promises';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { invalid, NovaError } from '../../base/errors.js';
import type { OpContext, StopOptions } from '../driver.js';
import { what, type Lv } from './context.js';
import type { DomainFacts } from './domxml.js';
import { D } from './virsh.js';

/** `virsh domstate`: "running", "paused", "shut off", "in shutdown", "crashed", "pmsuspended". */
export async function domstate(lv: Lv, uuid: string, signal?: AbortSignal): Promise<string> {
  return (await lv.virsh.run(['domstate', uuid], signal ? { signal } : {})).trim();
}

const ACTIVE = new Set(['running', 'paused', 'in shutdown', 'pmsuspended', 'blocked', 'idle']);
export const isActiveState = (s: string) => ACTIVE.has(s);

/** Load a domain's facts and run fn under its lock. */
export async function onDomain<T>(lv: Lv, local: string, op: string, ctx: OpContext, fn: (f: DomainFacts) => Promise<T>): Promise<T> {
  const uuid = lv.domains.check(local);
  const facts = await lv.domains.factsOf(uuid, ctx.signal);
  return lv.withLock(uuid, `${op} by ${ctx.origin}`, what(facts), () => fn(facts));
}

export async function start(lv: Lv, local: string, ctx: OpContext): Promise<WorkloadInfo> {
  return onDomain(lv, local, 'start', ctx, async (f) => {
    // The serial log and the VNC socket of a domain NovaCron made live in its folder: QEMU will not make it.
    if (lv.owns(f)) await mkdir(lv.dirOf(f.uuid), { recursive: true, mode: 0o700 });
    ctx.progress({ label: `starting ${what(f)}`, done: 0, total: 1, unit: 'steps' });
    await lv.virsh.run(['start', f.uuid], { signal: ctx.signal });
    lv.domains.forget(f.uuid); // the live XML has the pty and the VNC port
    ctx.progress({ label: `${what(f)} started`, done: 1, total: 1, unit: 'steps' });
    return lv.domains.info(f.uuid, ctx.signal);
  });
}

/** Graceful: resume if paused, ACPI power button, wait, then destroy after the timeout. Force: destroy now. */
export async function stopNow(lv: Lv, f: DomainFacts, opts: StopOptions, ctx: OpContext): Promise<void> {
  let state = await domstate(lv, f.uuid, ctx.signal);
  if (!isActiveState(state)) return;
  if (!opts.force) {
    // A paused guest cannot hear the power button.
    if (state === 'paused') await lv.virsh.run(['resume', f.uuid], { signal: ctx.signal });
    await lv.virsh.run(['shutdown', f.uuid, '--mode', 'acpi'], { signal: ctx.signal });
    ctx.progress({ label: 'ACPI power button pressed', done: 0, total: opts.timeoutSec, unit: 'steps' });
    const deadline = Date.now() + opts.timeoutSec * 1000;
    let tick = 0;
    while (Date.now() < deadline) {
      if (ctx.signal.aborted) throw new NovaError('CANCELLED', `${D}: stop of ${what(f)} cancelled: it may still be shutting down`, { driver: D });
      await new Promise((r) => setTimeout(r, 200));
      state = await domstate(lv, f.uuid);
      if (!isActiveState(state)) return;
      if (++tick % 5 === 0) ctx.progress({ label: 'waiting for the guest to power off', done: tick / 5, total: opts.timeoutSec, unit: 'steps' });
    }
    ctx.progress({ label: `the guest did not power off within ${opts.timeoutSec}s: destroying it`, done: opts.timeoutSec, total: opts.timeoutSec, unit: 'steps' });
  }
  try {
    await lv.virsh.run(['destroy', f.uuid], { signal: ctx.signal });
  } catch (e) {
    // It may have powered off between our last look and the destroy.
    if (isActiveState(await domstate(lv, f.uuid))) throw e;
  }
}

export async function stop(lv: Lv, local: string, opts: StopOptions, ctx: OpContext): Promise<WorkloadInfo> {
  return onDomain(lv, local, 'stop', ctx, async (f) => {
    await stopNow(lv, f, opts, ctx);
    return lv.domains.info(f.uuid, ctx.signal);
  });
}

/**
 * One command on a domain. libvirt checks the state itself, atomically, and its refusal
 * ("domain is not running") comes back as CONFLICT in its own words: no look first,
 * which over qemu+ssh:// would cost a round trip.
 */
async function simple(lv: Lv, local: string, op: string, args: (uuid: string) => string[], ctx: OpContext): Promise<WorkloadInfo> {
  return onDomain(lv, local, op, ctx, async (f) => {
    await lv.virsh.run(args(f.uuid), { signal: ctx.signal });
    return lv.domains.info(f.uuid, ctx.signal);
  });
}

/** A reboot the guest carries out (ACPI), as `virsh reboot` does; libvirt restarts QEMU's guest when it has shut down. */
export const reboot = (lv: Lv, local: string, ctx: OpContext) => simple(lv, local, 'reboot', (u) => ['reboot', u, '--mode', 'acpi'], ctx);
export const suspend = (lv: Lv, local: string, ctx: OpContext) => simple(lv, local, 'pause', (u) => ['suspend', u], ctx);
export const resume = (lv: Lv, local: string, ctx: OpContext) => simple(lv, local, 'resume', (u) => ['resume', u], ctx);

/**
 * Undefine. An admin's domain is precious: only with force (the UI's confirmation sends it),
 * and a running one is destroyed first. Snapshot metadata and a managed save go with it
 * (libvirt refuses otherwise); disk images stay, except those in the folder NovaCron made
 * for a domain it defined itself.
 */
export async function remove(lv: Lv, local: string, opts: { force: boolean }, ctx: OpContext): Promise<void> {
  if (!opts.force) throw invalid('force', 'undefining a libvirt domain needs force (it removes the definition an admin may rely on): confirm it with --force', D);
  await onDomain(lv, local, 'delete', ctx, async (f) => {
    await stopNow(lv, f, { force: true, timeoutSec: 0 }, ctx);
    const args = ['undefine', f.uuid, '--snapshots-metadata', '--managed-save', ...(f.hasNvram ? ['--nvram'] : [])];
    try {
      await lv.virsh.run(args, { signal: ctx.signal });
    } catch (e) {
      // A transient domain is gone once destroyed: nothing left to undefine.
      if ((e as NovaError).code !== 'NOT_FOUND' && !/transient/.test((e as Error).message)) throw e;
    }
    lv.domains.forget(f.uuid);
    if (lv.owns(f)) await rm(lv.dirOf(f.uuid), { recursive: true, force: true });
  });
}

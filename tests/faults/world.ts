import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { NovaClient } from '../../shared/contract/client.js';
import type { WorkloadInfo } from '../../shared/model.js';

/**
 * What is true after a fault, checked against what NovaCron says. A fresh core (the next
 * NovaCron process to look) lists the workloads; every definition file must parse; every
 * VM listed running must have exactly one QEMU and every other none; every QEMU of this
 * data dir must belong to a listed VM; likewise for the suite's processes and containers.
 */
export interface World {
  workloads: WorkloadInfo[];
  problems: string[];
}

/** What base/fsx.ts writeFileAtomic writes before its rename. */
const TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;
const HEX12 = /^[0-9a-f]{12}$/;

/** Every definition, state and exit file of the process and kvm stores parses, and names its own id. */
export function fileProblems(home: string): string[] {
  const out: string[] = [];
  for (const store of ['vms', 'processes']) {
    const base = join(home, store);
    if (!existsSync(base)) continue;
    for (const id of readdirSync(base).filter((n) => HEX12.test(n))) {
      for (const f of ['definition.json', 'state.json', 'exit.json']) {
        const p = join(base, id, f);
        if (!existsSync(p)) {
          if (f === 'definition.json') out.push(`${store}/${id}: no definition.json`);
          continue;
        }
        try {
          const v = JSON.parse(readFileSync(p, 'utf8')) as { id?: unknown; name?: unknown };
          if (f === 'definition.json' && (v.id !== id || typeof v.name !== 'string')) out.push(`${store}/${id}/${f}: names ${String(v.id)}`);
        } catch (e) {
          out.push(`${store}/${id}/${f} is corrupt: ${(e as Error).message}`);
        }
      }
    }
    const names = join(base, '.names');
    if (existsSync(names)) {
      // A kill mid-write leaves the temp file (`.NAME.<hex>.tmp`), never a claim: claims are renamed into
      // place whole, and the store sweeps such temp files a minute later (they may belong to a live write until then).
      for (const n of readdirSync(names).filter((x) => !TEMP.test(x))) {
        const claim = readFileSync(join(names, n), 'utf8').trim();
        if (!HEX12.test(claim)) out.push(`${store}/.names/${n} is corrupt: '${claim.slice(0, 40)}'`);
      }
    }
  }
  const placements = join(home, 'container', 'placements.json');
  if (existsSync(placements)) {
    try {
      JSON.parse(readFileSync(placements, 'utf8'));
    } catch (e) {
      out.push(`container/placements.json is corrupt: ${(e as Error).message}`);
    }
  }
  return out;
}

interface Proc {
  pid: number;
  comm: string;
  argv: string[];
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (/\) [ZX] /.test(stat)) continue;
      out.push({ pid: Number(p), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Live QEMUs of this data dir, by VM id (QEMU's comm is nc-<id>; its disks live under the data dir). */
export function qemusOf(home: string): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const p of processes()) {
    if (!p.comm.startsWith('nc-') || !p.argv[0]?.includes('qemu') || !p.argv.some((a) => a.includes(`${home}/`))) continue;
    const id = p.comm.slice(3);
    by.set(id, [...(by.get(id) ?? []), p.pid]);
  }
  return by;
}

/** Live processes running `sleep <marker>`: the suite gives every process workload its own marker argument. */
export function sleepersWith(prefix: string): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const p of processes()) {
    const arg = p.argv[1] ?? '';
    if (!p.argv[0]?.endsWith('sleep') || !arg.startsWith(prefix)) continue;
    by.set(arg, [...(by.get(arg) ?? []), p.pid]);
  }
  return by;
}

const live = (w: WorkloadInfo) => w.state === 'running' || w.state === 'paused';

export async function observeWorld(
  client: NovaClient,
  home: string,
  opts: { sleepPrefix?: string; engines?: Docker[]; containerPrefix?: string } = {},
): Promise<World> {
  const problems = fileProblems(home);
  const { workloads, errors } = await client.call('workloads.list', {});
  for (const e of errors) if (e.driver === 'kvm' || e.driver === 'process' || (opts.engines && e.driver === 'container')) problems.push(`list: ${e.driver}: ${e.message}`);

  const qemus = qemusOf(home);
  for (const w of workloads.filter((x) => x.driver === 'kvm')) {
    const local = w.id.slice(4);
    const pids = qemus.get(local) ?? [];
    qemus.delete(local);
    if (pids.length > 1) problems.push(`${w.name}: ${pids.length} QEMUs (${pids.join(', ')})`);
    if (live(w)) {
      if (pids.length === 0) problems.push(`${w.name}: listed ${w.state} but no QEMU runs it`);
      const pid = (await client.call('workloads.inspect', { id: w.id })).runtime.pid;
      if (pids.length === 1 && pid !== pids[0]) problems.push(`${w.name}: listed with pid ${String(pid)}, QEMU is ${pids[0]}`);
    } else if (pids.length) problems.push(`${w.name}: listed ${w.state} but QEMU ${pids.join(', ')} runs it`);
  }
  for (const [id, pids] of qemus) problems.push(`QEMU ${pids.join(', ')} (nc-${id}) runs a VM NovaCron does not list: orphaned`);

  if (opts.sleepPrefix) {
    const sleepers = sleepersWith(opts.sleepPrefix);
    for (const w of workloads.filter((x) => x.driver === 'process')) {
      const d = await client.call('workloads.inspect', { id: w.id });
      const marker = String((d.config.args as string[] | undefined)?.[0] ?? '');
      const pids = sleepers.get(marker) ?? [];
      sleepers.delete(marker);
      if (pids.length > 1) problems.push(`${w.name}: ${pids.length} processes (${pids.join(', ')})`);
      if (live(w) && (pids.length !== 1 || d.runtime.pid !== pids[0])) problems.push(`${w.name}: listed ${w.state} (pid ${String(d.runtime.pid)}) but its processes are [${pids.join(', ')}]`);
      if (!live(w) && pids.length) problems.push(`${w.name}: listed ${w.state} but pid ${pids.join(', ')} runs it`);
    }
    for (const [marker, pids] of sleepers) problems.push(`process ${pids.join(', ')} (sleep ${marker}) belongs to no listed workload: orphaned`);
  }

  if (opts.engines && opts.containerPrefix) {
    const listed = new Map(workloads.filter((x) => x.driver === 'container' && x.name.startsWith(opts.containerPrefix!)).map((w) => [w.id.slice('container:'.length), w]));
    const found = new Map<string, { state: string }[]>();
    for (const d of opts.engines) {
      for (const c of await d.listContainers({ all: true, filters: { label: ['io.novacron.id'] } })) {
        if (!c.Names.some((n) => n.slice(1).startsWith(opts.containerPrefix!))) continue;
        const local = c.Labels['io.novacron.id']!;
        found.set(local, [...(found.get(local) ?? []), { state: c.State }]);
      }
    }
    for (const [local, w] of listed) {
      const cs = found.get(local) ?? [];
      found.delete(local);
      if (cs.length !== 1) problems.push(`${w.name}: ${cs.length} containers carry its id`);
      else if ((cs[0]!.state === 'running') !== (w.state === 'running')) problems.push(`${w.name}: listed ${w.state}, the engine says ${cs[0]!.state}`);
    }
    for (const [local, cs] of found) problems.push(`container ${local} (${cs.length}) is on an engine but NovaCron does not list it: lost`);
  }
  return { workloads, problems };
}

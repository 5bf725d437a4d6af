import { constants } from 'node:os';
import type { SandboxRuntime } from '../../../../shared/drivers/containerd.js';
import { workloadId } from '../../../../shared/ids.js';
import type { ExitInfo, WorkloadDetail, WorkloadInfo, WorkloadState } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import { bootTime, CLK_TCK, readStat } from '../../base/procfs.js';
import { isNotFound } from './api/client.js';
import { decodeAny, parseJsonAny } from './api/codec.js';
import type { Container, Process } from './api/messages.js';
import { DEFINITION_EXTENSION, LABEL, isoOf, localOf, parseLocal, type Family, type Target } from './context.js';
import { stdioFiles } from './stdio.js';
import { runtimeOf } from './runtimes.js';
import type { OciSpec, RunFields } from './spec.js';

/** What the admin asked for, kept by containerd as an extension of the container record. */
export interface Definition extends RunFields {
  version: 1;
  image: string;
  labels: Record<string, string>;
  runtime: SandboxRuntime;
}

export const definitionOf = (c: Container) => parseJsonAny<Definition>(c.extensions?.[DEFINITION_EXTENSION]);

/** Whose a container is: this driver's, the other containerd-family driver's, or nobody's (made by ctr, Docker, k8s). */
export function ownerOf(f: Family, t: Target, c: Container): 'mine' | 'sibling' | 'unmanaged' {
  const d = c.labels[LABEL.driver];
  if (t.own && d === f.profile.id) return 'mine';
  if (t.own && d !== undefined) return 'sibling';
  return 'unmanaged';
}

const SIGNALS = Object.fromEntries(Object.entries(constants.signals).map(([name, n]) => [n, name])) as Record<number, string>;

export function exitOf(status: number, at?: string): ExitInfo {
  if (status > 128 && SIGNALS[status - 128]) {
    const signal = SIGNALS[status - 128]!;
    return { code: status, signal, reason: `killed by ${signal} (exit status ${status})`, ...(at ? { at } : {}) };
  }
  return { code: status, reason: `exited with status ${status}`, ...(at ? { at } : {}) };
}

export function stateOf(c: Container, task: Process | undefined): { state: WorkloadState; exit?: ExitInfo } {
  if (!task) return { state: 'stopped' };
  switch (task.status) {
    case 'CREATED':
      return { state: 'creating' };
    case 'RUNNING':
      return { state: 'running' };
    case 'PAUSED':
    case 'PAUSING':
      return { state: 'paused' };
    case 'STOPPED': {
      if (c.labels[LABEL.stopRequested]) return { state: 'stopped' };
      const exit = exitOf(task.exit_status, isoOf(task.exited_at));
      return { state: task.exit_status === 0 ? 'exited' : 'crashed', exit };
    }
    default:
      return { state: 'unknown' };
  }
}

/** When the task's process started, from /proc (containerd does not record it). */
async function startedAtOf(pid: number): Promise<string | undefined> {
  if (!pid) return undefined;
  const st = await readStat(pid).catch(() => undefined);
  return st ? new Date(bootTime() + (st.startTicks * 1000) / CLK_TCK).toISOString() : undefined;
}

export function sandboxOf(f: Family, c: Container): string {
  const mine = c.labels[LABEL.runtime];
  if (mine) return mine;
  const opts = decodeAny<{ binary_name?: string }>(c.runtime?.options);
  return runtimeOf(c.runtime?.name, opts?.value.binary_name, f.kataRuntimeName);
}

export async function toInfo(f: Family, t: Target, c: Container, task: Process | undefined): Promise<WorkloadInfo> {
  const { state, exit } = stateOf(c, task);
  const def = definitionOf(c);
  const spec = def ? undefined : parseJsonAny<OciSpec>(c.spec);
  const cmd = def ? [def.cmd, ...def.args].filter(Boolean).join(' ') : (spec?.process?.args ?? []).join(' ');
  const startedAt = state === 'running' || state === 'paused' ? await startedAtOf(task?.pid ?? 0) : undefined;
  const createdAt = isoOf(c.created_at);
  return {
    id: workloadId(f.profile.id, localOf(f, t.namespace, c.id)),
    driver: f.profile.id,
    name: t.own ? c.id : `${t.namespace}/${c.id}`,
    state,
    managed: ownerOf(f, t, c) === 'mine',
    ...(createdAt ? { createdAt } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(exit && (state === 'crashed' || state === 'exited') ? { exit } : {}),
    summary: `${c.image || 'no image'}${cmd ? ` · ${cmd}` : ''}`.slice(0, 200),
    runtime: sandboxOf(f, c),
  };
}

export async function findContainer(f: Family, t: Target, signal?: AbortSignal): Promise<Container | undefined> {
  try {
    const { container } = await f.client.call('containers.Get', { id: t.id }, { namespace: t.namespace, ...(signal ? { signal } : {}) });
    return container ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function getContainer(f: Family, t: Target, signal?: AbortSignal): Promise<Container> {
  const c = await findContainer(f, t, signal);
  if (!c) throw driverError(f.profile.id, 'NOT_FOUND', `no container '${t.id}' in containerd namespace ${t.namespace}`);
  return c;
}

export async function getTask(f: Family, t: Target, signal?: AbortSignal): Promise<Process | undefined> {
  try {
    return (await f.client.call('tasks.Get', { container_id: t.id }, { namespace: t.namespace, ...(signal ? { signal } : {}) })).process ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A container this driver shows (its own, or another namespace's read-only), with its task. */
export async function observe(f: Family, local: string, signal?: AbortSignal): Promise<{ t: Target; c: Container; task: Process | undefined }> {
  const t = parseLocal(f, local);
  if (!t.own && !f.profile.listsOtherNamespaces) throw driverError(f.profile.id, 'NOT_FOUND', `no ${f.profile.name} workload '${local}'`);
  // Two independent reads, at once; a task without its container answers NOT_FOUND, and the container's error wins.
  const [c, task] = await Promise.all([getContainer(f, t, signal), getTask(f, t, signal)]);
  if (ownerOf(f, t, c) === 'sibling') throw driverError(f.profile.id, 'NOT_FOUND', `'${t.id}' belongs to the ${c.labels[LABEL.driver]} driver`);
  return { t, c, task };
}

/** The same, for operations that change it: only what this driver created. */
export async function observeOwn(f: Family, local: string, signal?: AbortSignal) {
  const o = await observe(f, local, signal);
  if (ownerOf(f, o.t, o.c) !== 'mine') {
    throw driverError(f.profile.id, 'NOT_SUPPORTED', `'${local}' was not created by NovaCron (namespace ${o.t.namespace}): it is shown read-only`);
  }
  return o;
}

async function listNamespace(f: Family, namespace: string, signal: AbortSignal): Promise<WorkloadInfo[]> {
  const [{ containers }, { tasks }] = await Promise.all([
    f.client.call('containers.List', {}, { namespace, signal }),
    f.client.call('tasks.List', {}, { namespace, signal }),
  ]);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const t = (id: string): Target => ({ namespace, id, own: namespace === f.client.namespace });
  const shown = containers.filter((c) => {
    const o = ownerOf(f, t(c.id), c);
    return o === 'mine' || (o === 'unmanaged' && f.profile.listsOtherNamespaces);
  });
  return Promise.all(shown.map((c) => toInfo(f, t(c.id), c, byId.get(c.id))));
}

export async function listWorkloads(f: Family, signal: AbortSignal): Promise<WorkloadInfo[]> {
  const namespaces = f.profile.listsOtherNamespaces
    ? (await f.client.call('namespaces.List', {}, { signal })).namespaces.map((n) => n.name)
    : [f.client.namespace];
  if (!namespaces.includes(f.client.namespace)) namespaces.push(f.client.namespace);
  const lists = await Promise.all(
    namespaces.map((ns) =>
      listNamespace(f, ns, signal).catch((e: unknown) => {
        // A namespace deleted between the two calls is simply gone; anything else is an error.
        if (isNotFound(e)) return [];
        throw e;
      }),
    ),
  );
  return lists.flat().sort((a, b) => Number(b.managed) - Number(a.managed) || a.name.localeCompare(b.name));
}

export async function inspectWorkload(f: Family, local: string, signal: AbortSignal): Promise<WorkloadDetail> {
  const { t, c, task } = await observe(f, local, signal);
  const info = await toInfo(f, t, c, task);
  const def = definitionOf(c);
  const spec = parseJsonAny<OciSpec>(c.spec);
  const files = stdioFiles(f, t, task?.stdout);
  const config: Record<string, unknown> = def
    ? { ...def }
    : { image: c.image, args: spec?.process?.args ?? [], env: spec?.process?.env ?? [], labels: c.labels };
  return {
    info,
    config,
    runtime: {
      namespace: t.namespace,
      container_id: c.id,
      image: c.image,
      runtime: c.runtime?.name ?? null,
      sandbox: sandboxOf(f, c),
      snapshotter: c.snapshotter,
      snapshot_key: c.snapshot_key,
      snapshot: c.labels[LABEL.snapshot] ?? null,
      task_status: task?.status ?? 'no task',
      pid: task && task.status !== 'STOPPED' ? task.pid : null,
      exit_status: task?.status === 'STOPPED' ? task.exit_status : null,
      cgroups_path: spec?.linux?.cgroupsPath ?? null,
      stdout_log: files?.stdout ?? null,
      stderr_log: files?.stderr ?? null,
    },
  };
}

import { constants } from 'node:os';
import type Dockerode from 'dockerode';
import { workloadId } from '../../../../shared/ids.js';
import type { ExitInfo, WorkloadInfo, WorkloadState } from '../../../../shared/model.js';
import { D } from './errors.js';
import { isManaged, LABEL, localIdOf } from './labels.js';

type Inspect = Dockerode.ContainerInspectInfo;

const NEVER = '0001-01-01T00:00:00Z';
const time = (t: string | undefined) => (t && t !== NEVER ? t : undefined);

const SIGNALS: Record<number, string> = Object.fromEntries(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * How a container that is not running ended, in our words. Docker does not record who
 * stopped a container, so the signals `docker stop` sends (TERM, then KILL) read as
 * "stopped"; anything else that is not a clean exit is a crash.
 */
export function exitOf(s: Inspect['State']): { state: WorkloadState; exit?: ExitInfo } {
  const at = time(s.FinishedAt);
  const base = at ? { at } : {};
  const code = s.ExitCode;
  if (s.OOMKilled) return { state: 'crashed', exit: { ...base, code, signal: 'SIGKILL', reason: 'killed: out of memory (OOM)' } };
  if (s.Error) return { state: 'crashed', exit: { ...base, code, reason: s.Error } };
  if (s.Status === 'dead') return { state: 'crashed', exit: { ...base, code, reason: 'the engine marks it dead' } };
  if (code === 0) return { state: 'exited', exit: { ...base, code, reason: 'exited with status 0' } };
  const signal = code > 128 ? SIGNALS[code - 128] : undefined;
  if (signal === 'SIGTERM' || signal === 'SIGKILL') return { state: 'stopped', exit: { ...base, code, signal, reason: `stopped (${signal})` } };
  if (signal) return { state: 'crashed', exit: { ...base, code, signal, reason: `killed by ${signal}` } };
  return { state: 'crashed', exit: { ...base, code, reason: `exited with status ${code}` } };
}

export function stateOf(s: Inspect['State']): { state: WorkloadState; exit?: ExitInfo } {
  switch (s.Status) {
    case 'created':
      return { state: 'stopped' };
    case 'running':
      return { state: s.Paused ? 'paused' : 'running' };
    case 'paused':
      return { state: 'paused' };
    case 'restarting':
      // Between two runs of a restart policy: it will be running again in a moment.
      return { state: 'running' };
    case 'removing':
      return { state: 'unknown' };
    default:
      return exitOf(s);
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** What a row's summary is made of: a container's inspect, or a create body with its image's defaults. */
interface SummarySource {
  Config: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null; Labels?: Record<string, string> | null; Image?: string };
  HostConfig: { Memory?: number; NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; CpuShares?: number };
}

const words = (v: string[] | string | null | undefined) => (Array.isArray(v) ? v : v ? [v] : []);

export function summaryOf(c: SummarySource): string {
  const cmd = [...words(c.Config.Entrypoint), ...words(c.Config.Cmd)].join(' ');
  const labels = c.Config.Labels ?? {};
  // A reverted container runs from a snapshot image: name what it was made from, and which snapshot.
  const image = labels[LABEL.image] ?? c.Config.Image;
  const parts = [labels[LABEL.revertedTo] ? `${image} (snapshot ${labels[LABEL.revertedTo]})` : image, cmd || undefined];
  const h = c.HostConfig;
  if (h.Memory) parts.push(mib(h.Memory));
  if (h.NanoCpus) parts.push(`${h.NanoCpus / 1e9} CPU`);
  else if (h.CpuQuota && h.CpuQuota > 0) parts.push(`${Math.round((h.CpuQuota / (h.CpuPeriod || 100_000)) * 100) / 100} CPU`);
  if (h.CpuShares && h.CpuShares !== 1024) parts.push(`${h.CpuShares} shares`);
  return parts.filter(Boolean).join(' · ').slice(0, 240);
}

/** One row of the inventory, from the engine's full view of the container. */
export function infoOf(c: Inspect, engineLabel?: string): WorkloadInfo {
  const { state, exit } = stateOf(c.State);
  const labels = c.Config.Labels ?? {};
  const active = state === 'running' || state === 'paused';
  const runtime = c.HostConfig.Runtime && c.HostConfig.Runtime !== 'runc' ? c.HostConfig.Runtime : undefined;
  return {
    id: workloadId(D, localIdOf({ Id: c.Id, Labels: labels })),
    driver: D,
    name: c.Name.replace(/^\//, ''),
    state,
    managed: isManaged(labels),
    createdAt: c.Created,
    ...(active && time(c.State.StartedAt) ? { startedAt: c.State.StartedAt } : {}),
    ...(exit && !active ? { exit } : {}),
    summary: engineLabel ? `${summaryOf(c)} · on ${engineLabel}` : summaryOf(c),
    ...(runtime ? { runtime } : {}),
  };
}

/**
 * The row of a container just created and not started, from the create body and its image's
 * defaults, merged as the engine merges them: the entrypoint asked (an empty one clears the
 * image's) or the image's; the command asked, or the image's when no entrypoint was. A
 * created container has not run: nothing else in the row comes from the engine but its
 * created time, which is left out rather than guessed (the next read or engine event has it).
 */
export function createdInfoOf(body: Dockerode.ContainerCreateOptions, image: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null }): WorkloadInfo {
  const entrypointAsked = body.Entrypoint !== undefined && body.Entrypoint !== null;
  const ownEntrypoint = words(body.Entrypoint).length > 0;
  const labels = body.Labels ?? {};
  const runtime = body.HostConfig?.Runtime && body.HostConfig.Runtime !== 'runc' ? body.HostConfig.Runtime : undefined;
  return {
    id: workloadId(D, localIdOf({ Id: '', Labels: labels })),
    driver: D,
    name: body.name ?? '',
    state: 'stopped',
    managed: isManaged(labels),
    summary: summaryOf({
      Config: {
        Entrypoint: entrypointAsked ? body.Entrypoint : image.Entrypoint,
        Cmd: words(body.Cmd).length > 0 || ownEntrypoint ? body.Cmd : image.Cmd,
        Labels: labels,
        ...(body.Image ? { Image: body.Image } : {}),
      },
      HostConfig: body.HostConfig ?? {},
    }),
    ...(runtime ? { runtime } : {}),
  };
}

import { mkdir, open, stat } from 'node:fs/promises';
import { arch, platform, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CAPABILITIES } from '../../../../shared/capabilities.js';
import type { DriverInfo } from '../../../../shared/capabilities.js';
import { CONFIG_KEYS, CONFIG_KEY_NAMES } from '../../../../shared/config.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import type { DiagnosticsResult, EventRecord } from '../../../../shared/observability.js';
import { confinedPath } from '../../base/confine.js';
import { NovaError, isNodeError } from '../../base/errors.js';
import { writeFileAtomic } from '../../base/fsx.js';
import type { Paths } from '../../base/paths.js';
import type { LoadedConfig } from '../../config/config.js';
import { logFiles, readLinesBackward, type RotatingFile } from '../jsonl.js';
import { redactValues } from '../secrets.js';
import { tarGz, type TarEntry } from './tar.js';

/** What goes into a bundle; gathered by the core (observability/methods.ts). */
export interface DiagSources {
  version: string;
  role: string;
  paths: Paths;
  config: LoadedConfig;
  drivers: DriverInfo[];
  workloads: { workloads: WorkloadInfo[]; errors: { driver: string; code: string; message: string }[] };
  events: EventRecord[];
  logFile: RotatingFile;
  logLines: number;
  env: NodeJS.ProcessEnv;
  scrub: (text: string) => string;
}

/** Environment variables worth showing: NovaCron's own and the engines'. Values of secret ones are hidden. */
const ENV_SHOWN = /^(NOVACRON_|XDG_|DOCKER_|CONTAINERD_|LIBVIRT_|DISPLAY$|WAYLAND_DISPLAY$|ELECTRON_)/;

async function lastLogLines(file: RotatingFile, n: number): Promise<string[]> {
  const out: string[] = [];
  if (n <= 0) return out;
  for await (const line of readLinesBackward(file)) {
    out.push(line);
    if (out.length >= n) break;
  }
  return out.reverse();
}

function matrixText(drivers: DriverInfo[]): string {
  const lines: string[] = [];
  for (const d of drivers) {
    lines.push(`${d.id} (${d.name}): ${d.available ? `available, version ${d.version ?? 'unknown'}` : `unavailable: ${d.reason ?? ''}`}`);
    for (const [k, v] of Object.entries(d.details ?? {})) lines.push(`  ${k}: ${v}`);
    for (const c of CAPABILITIES) {
      const s = d.capabilities[c];
      lines.push(`  ${s.available ? '✓' : '✗'} ${c}${s.available ? '' : `: ${s.reason ?? ''}`}`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function bundleEntries(src: DiagSources): Promise<TarEntry[]> {
  const config = redactValues(src.config.config);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(src.env)) {
    if (v === undefined || !ENV_SHOWN.test(k)) continue;
    env[k] = v;
  }
  const manifest = {
    created: new Date().toISOString(),
    novacron: src.version,
    role: src.role,
    pid: process.pid,
    versions: process.versions,
    os: { platform: platform(), release: release(), arch: arch() },
    paths: src.paths,
    events: src.events.length,
  };
  const logs = await lastLogLines(src.logFile, src.logLines);
  const entries: TarEntry[] = [
    { name: 'manifest.json', data: JSON.stringify(manifest, null, 2) },
    { name: 'drivers.json', data: JSON.stringify(src.drivers, null, 2) },
    { name: 'capabilities.txt', data: matrixText(src.drivers) },
    {
      name: 'config.json',
      data: JSON.stringify(
        {
          file: src.config.file,
          values: config,
          sources: src.config.sources,
          environmentOverrides: Object.fromEntries(CONFIG_KEY_NAMES.filter((k) => src.config.sources[k] === 'env').map((k) => [k, CONFIG_KEYS[k].env])),
          environment: redactValues(env),
        },
        null,
        2,
      ),
    },
    { name: 'workloads.json', data: JSON.stringify(src.workloads, null, 2) },
    { name: 'events.jsonl', data: src.events.map((e) => JSON.stringify(e)).join('\n') + (src.events.length ? '\n' : '') },
    { name: 'novacron.log', data: logs.join('\n') + (logs.length ? '\n' : '') },
    { name: 'log-files.txt', data: logFiles(src.logFile).join('\n') + '\n' },
  ];
  // Last line of defence: no entry leaves with a secret this process knows.
  return entries.map((e) => ({ ...e, data: src.scrub(typeof e.data === 'string' ? e.data : e.data.toString('utf8')) }));
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * Write the bundle: into `<data dir>/diagnostics/` by default, or where `out` says (a
 * directory, or a new file) inside the data dir: the contract is open to the renderer,
 * which must never get to create files elsewhere. An existing file is never overwritten.
 */
export async function writeBundle(src: DiagSources, out: string | undefined, host: string): Promise<DiagnosticsResult> {
  const entries = await bundleEntries(src);
  const data = tarGz(entries);
  const name = `novacron-diag-${host}-${stamp()}.tar.gz`;
  let file: string;
  if (out === undefined) {
    const dir = join(src.paths.home, 'diagnostics');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    file = join(dir, name);
    await writeFileAtomic(file, data);
  } else {
    const target = await confinedPath(src.paths.home, resolve(out), 'out');
    const isDir = await stat(target).then((s) => s.isDirectory(), () => false);
    file = isDir ? join(target, name) : target;
    const parent = dirname(file);
    const parentOk = await stat(parent).then((s) => s.isDirectory(), () => false);
    if (!parentOk) throw new NovaError('INVALID_ARGUMENT', `out: ${parent} is not a directory`, { field: 'out' });
    let fh;
    try {
      fh = await open(file, 'wx', 0o600);
    } catch (e) {
      if (isNodeError(e, 'EEXIST')) throw new NovaError('CONFLICT', `out: ${file} exists; NovaCron does not overwrite it`, { field: 'out' });
      if (isNodeError(e, 'EACCES')) throw new NovaError('INVALID_ARGUMENT', `out: cannot write ${basename(file)} in ${parent}: permission denied`, { field: 'out' });
      throw e;
    }
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  }
  return { file, bytes: data.length, entries: entries.map((e) => e.name) };
}

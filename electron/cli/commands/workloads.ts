import type { MethodInput, MethodName, MethodOutput } from '../../../shared/contract/index.js';
import { methods } from '../../../shared/contract/index.js';
import { isDriverId } from '../../../shared/ids.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { NovaError } from '../../core/base/errors.js';
import { intFlag, numFlag, parse, resolveWorkload } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { CREATE_FLAGS } from '../create-flags/index.js';
import { ago, bytes, table } from '../format.js';

/** Call a method, showing the progress of a long one on stderr. */
export async function callWithProgress<M extends MethodName>(ctx: CliContext, m: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const long = 'long' in methods[m] && methods[m].long === true;
  const showing = long && process.stderr.isTTY;
  const stop = showing
    ? ctx.client.subscribe('events', {}, {
        event: (e) => {
          if (e.type === 'progress' && e.progress.op === ctx.op) {
            const p = e.progress;
            const pct = p.total ? ` ${Math.round((p.done / p.total) * 100)}%` : '';
            process.stderr.write(`\r\x1b[K${p.label}${pct}`);
          }
        },
      })
    : undefined;
  try {
    return await ctx.client.call(m, input, { op: ctx.op });
  } finally {
    stop?.();
    if (showing) process.stderr.write('\r\x1b[K');
  }
}

const row = (w: WorkloadInfo) => [w.id, w.name, w.driver, w.state + (w.managed ? '' : ' (unmanaged)'), ago(w.startedAt), w.summary];

export const ls: Command = async (argv, ctx) => {
  const { values } = parse(argv, { driver: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const driver = values.driver as string | undefined;
  if (driver !== undefined && !isDriverId(driver)) {
    throw new NovaError('INVALID_ARGUMENT', `--driver: '${driver}' is not a driver`, { field: 'driver' });
  }
  const r = await ctx.client.call('workloads.list', driver ? { driver } : {});
  if (values.json) ctx.io.out(JSON.stringify(r, null, 2));
  else {
    ctx.io.out(table(r.workloads.map(row), ['ID', 'NAME', 'DRIVER', 'STATE', 'UP', 'WHAT']));
    for (const e of r.errors) ctx.io.err(`novacron: ${e.code}: ${e.message}`);
  }
  return 0;
};

export const create: Command = async (argv, ctx) => {
  // The driver decides which flags exist: read it first, leniently, then parse strictly.
  const di = argv.findIndex((a) => a === '--driver' || a.startsWith('--driver='));
  const driver = di < 0 ? undefined : argv[di]!.includes('=') ? argv[di]!.slice(9) : argv[di + 1];
  if (!driver) throw new NovaError('INVALID_ARGUMENT', '--driver: is required (kvm, container, containerd, kata-containers, process, libvirt)', { field: 'driver' });
  if (!isDriverId(driver)) throw new NovaError('INVALID_ARGUMENT', `--driver: '${driver}' is not a driver`, { field: 'driver' });
  // A driver that cannot create here says why, before its flags are even read.
  const info = (await ctx.client.call('drivers.list', {})).find((d) => d.id === driver)!;
  if (!info.available) throw new NovaError('UNAVAILABLE', `${driver}: ${info.reason ?? 'unavailable'}`, { driver });
  const cap = info.capabilities.create;
  if (!cap.available) throw new NovaError('NOT_SUPPORTED', `${driver}: create: ${cap.reason ?? 'not supported'}`, { driver });
  const flags = CREATE_FLAGS[driver];
  if (!flags) throw new NovaError('NOT_SUPPORTED', `${driver}: the CLI has no create flags for this driver yet`, { driver });
  const { values } = parse(argv, { driver: { type: 'string' }, name: { type: 'string' }, ...flags.options }, { min: 0, max: 0, names: '' });
  if (values.help) {
    ctx.io.out(`novacron create --driver ${driver} --name NAME ${flags.usage}`);
    return 0;
  }
  const spec = { driver, ...(values.name !== undefined ? { name: values.name } : {}), ...flags.toSpec(values) };
  const w = await callWithProgress(ctx, 'workloads.create', spec as MethodInput<'workloads.create'>);
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : w.id);
  return 0;
};

/** start, pause, resume, restart: an id in, the new state out. */
export const simple =
  (m: 'workloads.start' | 'workloads.pause' | 'workloads.resume' | 'workloads.restart'): Command =>
  async (argv, ctx) => {
    const { values, positionals } = parse(argv, {}, { min: 1, max: 1, names: 'ID' });
    const id = await resolveWorkload(ctx.client, positionals[0]!);
    const w = await callWithProgress(ctx, m, { id });
    ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} ${w.state}`);
    return 0;
  };

export const stop: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { force: { type: 'boolean' }, timeout: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  const id = await resolveWorkload(ctx.client, positionals[0]!);
  const timeoutSec = intFlag(values.timeout, 'timeout');
  const w = await callWithProgress(ctx, 'workloads.stop', {
    id,
    ...(values.force ? { force: true } : {}),
    ...(timeoutSec !== undefined ? { timeoutSec } : {}),
  });
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} ${w.state}`);
  return 0;
};

export const rm: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { force: { type: 'boolean', short: 'f' } }, { min: 1, max: 1, names: 'ID' });
  const id = await resolveWorkload(ctx.client, positionals[0]!);
  const r = await callWithProgress(ctx, 'workloads.delete', { id, ...(values.force ? { force: true } : {}) });
  ctx.io.out(values.json ? JSON.stringify(r) : `${r.id} deleted`);
  return 0;
};

export const inspect: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, {}, { min: 1, max: 1, names: 'ID' });
  const d = await ctx.client.call('workloads.inspect', { id: await resolveWorkload(ctx.client, positionals[0]!) });
  if (values.json) ctx.io.out(JSON.stringify(d, null, 2));
  else {
    const lines = [
      `${d.info.name} (${d.info.id})`,
      `  state:    ${d.info.state}${d.info.exit ? ` — ${d.info.exit.reason}` : ''}`,
      `  driver:   ${d.info.driver}${d.info.runtime ? ` (${d.info.runtime})` : ''}`,
      `  created:  ${d.info.createdAt ?? '-'}`,
      '  config:',
      ...Object.entries(d.config).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      '  runtime:',
      ...Object.entries(d.runtime).map(([k, v]) => `    ${k}: ${v ?? '-'}`),
    ];
    ctx.io.out(lines.join('\n'));
  }
  return 0;
};

export const stats: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, {}, { min: 1, max: 1, names: 'ID' });
  const s = await ctx.client.call('workloads.stats', { id: await resolveWorkload(ctx.client, positionals[0]!) });
  if (values.json) ctx.io.out(JSON.stringify(s, null, 2));
  else {
    ctx.io.out(
      table(
        [[`${s.cpuPercent.toFixed(1)}%`, `${bytes(s.memoryBytes)} / ${bytes(s.memoryLimitBytes)}`, `${bytes(s.diskReadBytes)} / ${bytes(s.diskWriteBytes)}`, `${bytes(s.netRxBytes)} / ${bytes(s.netTxBytes)}`, s.source ?? '-']],
        ['CPU', 'MEM / LIMIT', 'DISK R / W', 'NET RX / TX', 'SOURCE'],
      ),
    );
  }
  return 0;
};

export const scale: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { memory: { type: 'string' }, cpus: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  const memoryMB = intFlag(values.memory, 'memory');
  const cpus = numFlag(values.cpus, 'cpus');
  const w = await ctx.client.call('workloads.scale', {
    id: await resolveWorkload(ctx.client, positionals[0]!),
    ...(memoryMB !== undefined ? { memoryMB } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
  });
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} ${w.summary}`);
  return 0;
};

export const migrate: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { to: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  if (values.to === undefined) throw new NovaError('INVALID_ARGUMENT', '--to: is required', { field: 'to' });
  const w = await callWithProgress(ctx, 'workloads.migrate', { id: await resolveWorkload(ctx.client, positionals[0]!), to: String(values.to) });
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} ${w.state}`);
  return 0;
};

/** Import/export between drivers: `convert web --to libvirt`, `convert libvirt:UUID --to kvm`. */
export const convert: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { to: { type: 'string' }, name: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  if (values.to === undefined) throw new NovaError('INVALID_ARGUMENT', '--to: is required (the driver to turn it into: libvirt or kvm)', { field: 'to' });
  const to = String(values.to);
  if (!isDriverId(to)) throw new NovaError('INVALID_ARGUMENT', `--to: '${to}' is not a driver`, { field: 'to' });
  const w = await callWithProgress(ctx, 'workloads.convert', {
    id: await resolveWorkload(ctx.client, positionals[0]!),
    to,
    ...(values.name !== undefined ? { name: String(values.name) } : {}),
  });
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} ${w.state}`);
  return 0;
};

export const logs: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  const id = await resolveWorkload(ctx.client, positionals[0]!);
  const tail = intFlag(values.tail, 'tail');
  return new Promise<number>((resolve, reject) => {
    const stop = ctx.client.subscribe('logs', { id, follow: values.follow === true, ...(tail !== undefined ? { tail } : {}) }, {
      event: (l) => (values.json ? ctx.io.out(JSON.stringify(l)) : l.stream === 'stderr' ? ctx.io.err(l.line) : ctx.io.out(l.line)),
      error: (e) => {
        stop();
        reject(new NovaError(e.code, e.message));
      },
      end: () => {
        stop();
        resolve(0);
      },
    });
  });
};

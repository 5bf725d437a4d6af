import { NovaError } from '../../core/base/errors.js';
import { bytes, table } from '../format.js';
import { parse, resolveWorkload } from '../args.js';
import type { Command } from '../context.js';
import { callWithProgress } from './workloads.js';

export const snapshot: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { name: { type: 'string' } }, { min: 1, max: 1, names: 'ID' });
  if (values.name === undefined) throw new NovaError('INVALID_ARGUMENT', '--name: is required', { field: 'name' });
  const s = await callWithProgress(ctx, 'snapshots.create', { id: await resolveWorkload(ctx.client, positionals[0]!), name: String(values.name) });
  ctx.io.out(values.json ? JSON.stringify(s, null, 2) : `snapshot ${s.name} taken`);
  return 0;
};

export const snapshots: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, {}, { min: 1, max: 1, names: 'ID' });
  const list = await ctx.client.call('snapshots.list', { id: await resolveWorkload(ctx.client, positionals[0]!) });
  ctx.io.out(values.json ? JSON.stringify(list, null, 2) : table(list.map((s) => [s.name, s.kind ?? '-', s.createdAt ?? '-', bytes(s.sizeBytes)]), ['NAME', 'KIND', 'CREATED', 'SIZE']));
  return 0;
};

export const revert: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, {}, { min: 2, max: 2, names: 'ID SNAPSHOT' });
  const w = await callWithProgress(ctx, 'snapshots.revert', { id: await resolveWorkload(ctx.client, positionals[0]!), name: positionals[1]! });
  ctx.io.out(values.json ? JSON.stringify(w, null, 2) : `${w.id} reverted to ${positionals[1]} (${w.state})`);
  return 0;
};

export const snapshotRm: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, {}, { min: 2, max: 2, names: 'ID SNAPSHOT' });
  const r = await ctx.client.call('snapshots.delete', { id: await resolveWorkload(ctx.client, positionals[0]!), name: positionals[1]! });
  ctx.io.out(values.json ? JSON.stringify(r) : `snapshot ${r.name} deleted`);
  return 0;
};
